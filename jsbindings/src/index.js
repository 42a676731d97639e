// @fieldrelay/client: fieldrelay's browser client. The session logic
// (connect, token refresh, subscriptions with recovery, gap detection,
// reconnect, command timeouts) is Go, compiled to fieldrelay.wasm, which
// exposes globalThis.__fieldrelay (described in bridge.d.ts); this module
// loads it and wraps it in the API of index.d.ts. No dependencies, no
// bundler: plain ES modules next to fieldrelay.wasm and wasm_exec.js.

import { Codes, shouldReconnect } from './codes.js';

export { Codes, shouldReconnect };

/** Event kinds (proto/event). */
export const Kinds = Object.freeze({
  UPLINK: 'lora.uplink',
  JOIN: 'lora.join',
  GATEWAY: 'lora.gateway',
  DOWNLINK: 'lora.downlink',
  LORA_OTHER: 'lora.other',
  LINK_STATUS: 'link.status',
  SCAN: 'scanner.scan',
  SCANNER_STATE: 'scanner.state',
  SCANNER_BUTTON: 'scanner.button',
  SCANNER_ERROR: 'scanner.error',
  SCANNER_GATEWAY: 'scanner.gateway',
  SCANNER_OTHER: 'scanner.other',
  CLOUD_SCAN: 'scanner.cloud_scan',
  CLOUD_EVENT: 'scanner.cloud_event',
  POS: 'pos.event',
  TRACKER_STATE: 'gps.state',
  TRACKER_SUBSCRIPTION: 'gps.subscription',
  TRACKER_LIFECYCLE: 'gps.lifecycle',
  GPS_OTHER: 'gps.other',
});

/** Command kinds (proto/event). */
export const Commands = Object.freeze({
  LORA_DOWNLINK: 'lora.downlink',
  SCANNER_FEEDBACK: 'scanner.feedback',
  SCANNER_DISPLAY: 'scanner.display',
  SCANNER_TRIGGER_BLOCK: 'scanner.trigger_block',
  SCANNER_GATEWAY_STATE: 'scanner.gateway_state',
});

/** The interface version of fieldrelay.wasm this module speaks. */
const BRIDGE_VERSION = 1;

// Methods the module calls on its own objects, out of the public API.
const attach = Symbol('attach');
const setState = Symbol('setState');
const emit = Symbol('emit');
const onBatch = Symbol('batch');
const onSubscribed = Symbol('subscribed');
const onEnd = Symbol('end');
const ended = Symbol('ended');

/** An error from the relay or the client, with a code of Codes. */
export class FieldRelayError extends Error {
  /**
   * @param {number} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'FieldRelayError';
    this.code = code;
  }
}

function toError(e) {
  if (e instanceof FieldRelayError) return e;
  if (e && typeof e.code === 'number') return new FieldRelayError(e.code, String(e.message));
  return new FieldRelayError(Codes.INTERNAL, String(e?.message ?? e));
}

// The bridge's synchronous methods return an Error instead of throwing
// (Go cannot throw into JavaScript).
function unwrap(v) {
  if (v instanceof Error) throw toError(v);
  return v;
}

// ------------------------------------------------------------------ init

let ready = null;

/**
 * Loads and starts fieldrelay.wasm, once: concurrent calls share one
 * promise, and a failed load can be retried.
 * @param {{wasmURL?: string | URL, wasmModule?: WebAssembly.Module}} [options]
 */
export function init(options = {}) {
  if (!ready) {
    ready = load(options).catch((e) => {
      ready = null;
      throw e;
    });
  }
  return ready;
}

async function load({ wasmURL, wasmModule } = {}) {
  if (!globalThis.__fieldrelay) {
    // wasm_exec.js (from the Go that built the wasm) defines globalThis.Go;
    // a page may have loaded it with a <script> already.
    if (typeof globalThis.Go !== 'function') await import('./wasm_exec.js');
    const go = new globalThis.Go();
    const instance = wasmModule
      ? await WebAssembly.instantiate(wasmModule, go.importObject)
      : await instantiate(wasmURL ?? new URL('./fieldrelay.wasm', import.meta.url), go.importObject);
    let exited = false;
    go.run(instance).finally(() => { exited = true; });
    // main() sets __fieldrelay before it blocks, normally within go.run's
    // first slice; wait a little in case it does not.
    for (let i = 0; !globalThis.__fieldrelay; i++) {
      if (exited || i >= 500) throw new FieldRelayError(Codes.INTERNAL, 'fieldrelay.wasm did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const v = globalThis.__fieldrelay.version;
  if (v !== BRIDGE_VERSION) {
    throw new FieldRelayError(Codes.INTERNAL, `fieldrelay.wasm speaks bridge version ${v}, this module ${BRIDGE_VERSION}: load matching files`);
  }
}

// instantiate compiles while downloading (instantiateStreaming), falling
// back to a plain download where streaming is unavailable or refused (a
// server that does not send Content-Type: application/wasm).
async function instantiate(url, imports) {
  url = url instanceof URL ? url : new URL(url, globalThis.location?.href ?? import.meta.url);
  if (url.protocol === 'file:') {
    // Node, for tests and tools: fetch does not read files there.
    const { readFile } = await import('node:fs/promises');
    return (await WebAssembly.instantiate(await readFile(url), imports)).instance;
  }
  if (typeof WebAssembly.instantiateStreaming === 'function') {
    try {
      return (await WebAssembly.instantiateStreaming(fetch(url), imports)).instance;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // a CompileError is final
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new FieldRelayError(Codes.NOT_FOUND, `fetching ${url}: HTTP ${res.status}`);
  return (await WebAssembly.instantiate(await res.arrayBuffer(), imports)).instance;
}

function bridge() {
  const b = globalThis.__fieldrelay;
  if (!b) throw new FieldRelayError(Codes.INTERNAL, 'call init() first');
  return b;
}

// ------------------------------------------------------------- events

// assemble turns a batch from the bridge (one JSON text, one block of
// bytes; see wasm/bridge/internal/batch) into event objects. Every []byte
// of an event is a pair [start, end] into bytes in the text; paths says
// where, per kind, and each pair becomes a Uint8Array (a view of bytes).
function assemble(json, bytes, paths) {
  const rows = JSON.parse(json);
  const out = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const value = r[6];
    const ev = {
      channel: r[0], epoch: r[1], offset: r[2], prev: r[3], kind: r[4],
      latest: (r[5] & 1) !== 0, replayed: (r[5] & 2) !== 0, value,
    };
    if (value === null) ev.data = bytes.subarray(r[7][0], r[7][1]);
    else {
      const ps = paths[r[4]];
      if (ps !== undefined) for (let j = 0; j < ps.length; j++) fix(value, ps[j], 0, bytes);
    }
    out[i] = ev;
  }
  return out;
}

// fix replaces the pair at path (names, '*' for every element) in obj.
function fix(obj, path, i, bytes) {
  if (obj === null || typeof obj !== 'object') return;
  const key = path[i];
  if (key === '*') {
    for (const k of Object.keys(obj)) step(obj, k, path, i, bytes);
  } else {
    step(obj, key, path, i, bytes);
  }
}

function step(obj, k, path, i, bytes) {
  const v = obj[k];
  if (i < path.length - 1) fix(v, path, i + 1, bytes);
  else if (Array.isArray(v)) obj[k] = bytes.subarray(v[0], v[1]);
}

/**
 * Measures decoding and delivery in this page, without relay or network:
 * `count` events in messages of `perMessage` LoRa uplinks go through the
 * bridge's decoding and this module's assembly to `onEvents`. Resolves
 * with `{events, ms}`. For benchmarks and tests.
 * @internal
 */
export async function __benchmark(count, perMessage, onEvents) {
  await init();
  const paths = bridge().bytesPaths;
  return bridge().benchmark(count, perMessage, (json, bytes) => onEvents(assemble(json, bytes, paths)));
}

// ------------------------------------------------------------ connect

/**
 * Connects to the relay and resolves once it has accepted the connection
 * (retrying with backoff until connectTimeout). From then on the client
 * reconnects by itself and resumes its subscriptions until close().
 * @param {string | URL} url ws(s)://host/v1/ws; a relative URL or http(s) is resolved against the page
 * @param {import('./index.d.ts').ConnectOptions} [options]
 * @returns {Promise<Client>}
 */
export async function connect(url, options = {}) {
  await init();
  const client = new Client();
  const { token, getToken, name, commandTimeout, connectTimeout, minBackoff, maxBackoff } = options;
  const handle = await bridge().connect(wsURL(url), {
    token, name, commandTimeout, connectTimeout, minBackoff, maxBackoff,
    getToken: getToken && (() => getToken()),
    onState: (state, err) => client[setState](state, err),
    onError: (err) => client[emit]('error', toError(err)),
  }).catch((e) => { throw toError(e); });
  client[attach](handle);
  return client;
}

/**
 * Connects straight to ProGlove Insight Mobile (ws://localhost:PORT), with
 * no relay; needs fieldrelay-direct.wasm. See index.d.ts.
 * @param {string | URL} url
 * @param {import('./index.d.ts').DirectOptions} [options]
 * @returns {Promise<Client>}
 */
export async function connectDirect(url, options = {}) {
  await init({ wasmURL: new URL('./fieldrelay-direct.wasm', import.meta.url) });
  const b = bridge();
  if (typeof b.connectDirect !== 'function') {
    throw new FieldRelayError(Codes.BAD_REQUEST, 'this fieldrelay.wasm has no direct mode: call init({ wasmURL }) with fieldrelay-direct.wasm');
  }
  const client = new Client();
  const { link, commandTimeout, connectTimeout, minBackoff, maxBackoff } = options;
  const handle = await b.connectDirect(String(url), {
    link, commandTimeout, connectTimeout, minBackoff, maxBackoff,
    onState: (state, err) => client[setState](state, err),
    onError: (err) => client[emit]('error', toError(err)),
  }).catch((e) => { throw toError(e); });
  client[attach](handle);
  return client;
}

function wsURL(url) {
  const base = globalThis.location?.href;
  const u = base ? new URL(String(url), base) : new URL(String(url));
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.href;
}

/** A connection to the relay; see index.d.ts. */
export class Client {
  #h = null;
  #state = 'connecting';
  #closed = false;
  #subs = new Set();
  #listeners = { state: new Set(), error: new Set(), subscribed: new Set() };

  [attach](handle) { this.#h = handle; }

  [setState](state, err) {
    this.#state = state;
    this[emit]('state', state, err ? toError(err) : undefined);
    // Closed by the relay (a terminal code): release the bridge's side.
    if (state === 'closed' && !this.#closed && this.#h) this.close().catch(() => {});
  }

  [emit](type, ...args) {
    for (const fn of this.#listeners[type]) {
      try {
        fn(...args);
      } catch (e) {
        if (type !== 'error') this[emit]('error', toError(e));
        else console.error('fieldrelay: an error listener threw', e);
      }
    }
  }

  /** The connection's state: 'connecting', 'connected', 'reconnecting' or 'closed'. */
  get state() {
    return this.#closed ? 'closed' : this.#state;
  }

  /**
   * Listens to 'state' (state, error?), 'error' (error) or 'subscribed'
   * (info) events; returns a function that stops listening.
   */
  on(type, fn) {
    const set = this.#listeners[type];
    if (!set) throw new TypeError(`unknown event type ${type}`);
    set.add(fn);
    return () => set.delete(fn);
  }

  #live() {
    if (this.#closed || !this.#h) throw new FieldRelayError(Codes.NORMAL, 'client: closed');
    return this.#h;
  }

  /**
   * Subscribes to every channel the pattern matches; resolves once the
   * relay confirmed it.
   * @returns {Promise<Subscription>}
   */
  async subscribe(pattern, options = {}) {
    const h = this.#live();
    const sub = new Subscription(this, pattern, options);
    const handle = await h.subscribe(pattern, {
      recover: options.recover, latest: options.latest, since: options.since,
      onBatch: (json, bytes) => sub[onBatch](json, bytes),
      onSubscribed: (info) => {
        const i = { pattern, ...info };
        sub[onSubscribed](i);
        this[emit]('subscribed', i);
      },
      onEnd: (err, position) => {
        this.#subs.delete(sub);
        sub[onEnd](err, position);
      },
    }).catch((e) => { throw toError(e); });
    sub[attach](handle);
    this.#subs.add(sub);
    return sub;
  }

  /**
   * Sends a command and resolves with the relay's reply: data is the
   * kind's result as an object (null if this version does not know the
   * kind's result), raw its msgpack encoding. Rejects with a
   * FieldRelayError on a refusal, a timeout (Codes.TIMEOUT) or a lost
   * link (Codes.UNKNOWN_OUTCOME).
   */
  async command(target, kind, body) {
    const h = this.#live();
    const r = await h.command(target, kind, body ?? {}).catch((e) => { throw toError(e); });
    let data = null;
    if (r.data) {
      data = JSON.parse(r.data.json);
      for (const p of r.data.paths) fix({ v: data }, ['v', ...p], 0, r.data.bytes);
    }
    return { data, raw: r.raw };
  }

  /** The client's counters since connect. */
  stats() {
    return unwrap(this.#live().stats());
  }

  /** Closes the connection and ends every subscription. Idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    const h = this.#h;
    if (!h) return;
    const all = [...this.#subs].map((s) => s[ended]);
    await h.close();
    // The bridge ends every subscription (onEnd) as the client closes.
    await Promise.all(all);
  }
}

/**
 * A subscription: a callback (options.onEvents) gets each batch, and the
 * object is an async iterator of events. See index.d.ts.
 */
export class Subscription {
  #client;
  #pattern;
  #h = null;
  #onEvents;
  #onSubscribed;
  #limit;
  #buffer = [];
  #head = 0;
  #iterating = false;
  #waiter = null; // resolves a pending next()
  #drain = null; // resolves the bridge's wait for room in the buffer
  #ended = false;
  #error = null;
  #position = null;
  #endedResolve;
  // Resolves when the subscription has ended.
  [ended] = new Promise((resolve) => { this.#endedResolve = resolve; });

  constructor(client, pattern, options) {
    this.#client = client;
    this.#pattern = pattern;
    this.#onEvents = options.onEvents;
    this.#onSubscribed = options.onSubscribed;
    this.#limit = options.buffer > 0 ? options.buffer : 1024;
    // Without a callback the events are for the iterator from the start.
    this.#iterating = typeof this.#onEvents !== 'function';
  }

  [attach](handle) { this.#h = handle; }

  /** The pattern subscribed to. */
  get pattern() { return this.#pattern; }

  /**
   * The position of the last event delivered (or where the subscription
   * started): pass it as `since` to resume after a reload.
   */
  get position() {
    if (this.#ended || !this.#h) return this.#position;
    return unwrap(this.#h.position());
  }

  /** Ends the subscription; no event is delivered after it resolves. */
  async unsubscribe() {
    if (this.#ended) return;
    if (this.#h) await this.#h.unsubscribe().catch((e) => { throw toError(e); });
  }

  [onSubscribed](info) {
    if (typeof this.#onSubscribed !== 'function') return;
    try {
      this.#onSubscribed(info);
    } catch (e) {
      this.#client[emit]('error', toError(e));
    }
  }

  // Called by the bridge once per message.
  [onBatch](json, bytes) {
    const events = assemble(json, bytes, globalThis.__fieldrelay.bytesPaths);
    if (typeof this.#onEvents === 'function') {
      try {
        this.#onEvents(events);
      } catch (e) {
        this.#client[emit]('error', toError(e));
      }
    }
    if (!this.#iterating) return undefined;
    for (const ev of events) this.#buffer.push(ev);
    this.#wake();
    if (this.#buffer.length - this.#head < this.#limit) return undefined;
    // Full: the connection waits until the loop catches up.
    return new Promise((resolve) => { this.#drain = resolve; });
  }

  [onEnd](err, position) {
    if (this.#ended) return;
    if (position) this.#position = position;
    this.#ended = true;
    this.#endedResolve();
    if (err && err.code !== Codes.NORMAL) this.#error = toError(err);
    this.#wake();
    this.#release();
  }

  #wake() {
    const w = this.#waiter;
    if (w) {
      this.#waiter = null;
      w();
    }
  }

  #release() {
    const d = this.#drain;
    if (d) {
      this.#drain = null;
      d();
    }
  }

  [Symbol.asyncIterator]() {
    this.#iterating = true;
    return this;
  }

  /** Async iterator: the next event. */
  async next() {
    this.#iterating = true;
    for (;;) {
      if (this.#head < this.#buffer.length) {
        const ev = this.#buffer[this.#head];
        this.#buffer[this.#head++] = undefined;
        if (this.#head === this.#buffer.length) {
          this.#buffer = [];
          this.#head = 0;
        }
        if (this.#buffer.length - this.#head < this.#limit / 2) this.#release();
        return { value: ev, done: false };
      }
      if (this.#ended) {
        if (this.#error) {
          const e = this.#error;
          this.#error = null;
          throw e;
        }
        return { value: undefined, done: true };
      }
      await new Promise((resolve) => { this.#waiter = resolve; });
    }
  }

  /** Async iterator: leaving a for await loop unsubscribes. */
  async return() {
    await this.unsubscribe();
    this.#buffer = [];
    this.#head = 0;
    return { value: undefined, done: true };
  }
}
