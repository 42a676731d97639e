// The npm package in headless Chromium, against real relays:
//
//   - `fieldrelay serve --dev` (its simulators, GET /dev/token, POST
//     /dev/drop) serves build/web, with test/page.html, which imports
//     /lib/fieldrelay/index.js as an app does; the tests drive the page
//     with page.evaluate: init, connect, subscribe (callback and async
//     iterator), command (ok, refused, invalid, timed out), reconnect and
//     recovery, close; and time from page load to the first event.
//   - jsbindings/test/burstrelay publishes bursts of uplinks faster than a
//     page can take them, for the throughput figure (events/s decoded and
//     delivered to an onEvents callback), printed with the in-page figure
//     of __benchmark (decoding and delivery without relay or network). No
//     threshold is asserted on a wall clock.
//
//   node --test jsbindings/test/browser.test.mjs
//
// Needs Go, /usr/bin/chromium (or $CHROMIUM; .ci/install-browser.sh) and
// playwright-core (npm ci); skips without them. Runs .ci/build-web.sh when
// build/web is missing or older than the sources. Every process it starts
// runs in its own process group and is killed at the end; every wait is
// bounded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  skipReason, ensureBuilt, start, stopAll, within, launchChromium, STEP_TIMEOUT,
} from './harness.mjs';

const BURST = 100_000;

// ------------------------------------------------------------ the tests

describe('@fieldrelay/client in Chromium', { skip: skipReason || false, timeout: 15 * 60_000 }, () => {
  let dev; // the dev relay's base URL
  let burst; // {base, child, lines}
  let context; // the browser
  let browser;
  const pageErrors = [];

  async function openPage(url) {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(url, { timeout: STEP_TIMEOUT });
    await page.waitForFunction(() => window.pageReady === true, null, { timeout: STEP_TIMEOUT });
    return page;
  }

  before(async () => {
    ensureBuilt();
    const d = start(['go', 'run', './relay/cmd/fieldrelay', 'serve', '--dev', '--listen', '127.0.0.1:0',
      '--static', 'build/web', '--sim-every', '100ms', '--log-level', 'warn'], /fieldrelay relay listening on (http:\/\/\S+)/);
    const b = start(['go', 'run', './jsbindings/test/burstrelay', '-static', 'build/web'], /burstrelay listening on (http:\/\/\S+)/, { stdin: 'pipe' });
    [dev, burst] = await Promise.all([d.matched, b.matched.then((base) => ({ base, ...b }))]);
    browser = await launchChromium();
    context = browser.context;
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('delivers the first event soon after the page loads', async () => {
    const page = await openPage(`${dev}/test/page.html?auto`);
    await page.waitForFunction(() => window.firstEventMs !== undefined || window.autoError, null, { timeout: STEP_TIMEOUT });
    const r = await page.evaluate(() => ({
      ms: window.firstEventMs, error: window.autoError,
      ev: window.firstEvent && { channel: window.firstEvent.channel, kind: window.firstEvent.kind, latest: window.firstEvent.latest,
        raw: window.firstEvent.value?.meta?.raw instanceof Uint8Array },
    }));
    assert.equal(r.error, undefined);
    console.log(`time from page load (navigation start) to the first event: ${r.ms.toFixed(0)} ms (${r.ev.kind} on ${r.ev.channel}${r.ev.latest ? ', a latest value' : ''})`);
    assert.ok(r.ev.raw, 'meta.raw is a Uint8Array');
    await page.close();
  });

  it('connects, subscribes, commands and closes', async () => {
    const page = await openPage(`${dev}/test/page.html`);
    const r = await within(STEP_TIMEOUT, page.evaluate(async () => {
      const { init, connect, Kinds, Commands, Codes, FieldRelayError } = window.fr;
      const out = {};
      const waitFor = (pred, what, ms = 10_000) => new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error(`timed out: ${what}`)) : setTimeout(tick, 20));
        tick();
      });
      const code = async (p) => { try { await p; return 'resolved'; } catch (e) { return e instanceof FieldRelayError ? e.code : `not a FieldRelayError: ${e}`; } };

      const once = [init(), init()];
      out.sharedInit = once[0] === once[1];
      await Promise.all(once);

      const c = await connect('/v1/ws', { getToken: () => fetch('/dev/token').then((r) => r.text()), name: 'browser-test' });
      out.state = c.state;
      const infos = [];
      const offSubscribed = c.on('subscribed', (i) => infos.push(i));
      const batches = [];
      const sub = await c.subscribe('lora/+/+/up', { onEvents: (b) => batches.push(b) });
      await waitFor(() => batches.length > 0, 'an uplink batch');
      const ev = batches[0][0];
      const up = ev.value;
      out.event = {
        kind: ev.kind === Kinds.UPLINK, channel: ev.channel === `lora/${up.appEUI}/${up.devEUI}/up`,
        offset: ev.offset > 0 && typeof ev.epoch === 'string', payload: up.payload instanceof Uint8Array,
        raw: up.meta.raw instanceof Uint8Array && up.meta.raw.length > 0, rssi: typeof up.rssi === 'number',
        gateways: Array.isArray(up.gateways), flags: ev.latest === false && ev.replayed === false,
      };
      out.subscribed = infos.length === 1 && infos[0].pattern === 'lora/+/+/up' && !infos[0].resumed;
      offSubscribed();
      out.position = sub.position.offset >= ev.offset;

      const target = `lora/${up.appEUI}/${up.devEUI}/down`;
      const reply = await c.command(target, Commands.LORA_DOWNLINK, { port: 2, payload: new Uint8Array([1, 2, 3]), confirm: true });
      out.reply = typeof reply.data?.reference === 'string' && reply.data.reference.length > 0 && reply.raw instanceof Uint8Array;
      out.rejected = await code(c.command('lora/0000000000000000/0000000000000000/down', Commands.LORA_DOWNLINK, { port: 2, payload: [1] }));
      out.unknownKind = await code(c.command(target, 'no.such.kind', {}));
      out.badPort = await code(c.command(target, Commands.LORA_DOWNLINK, { port: 300, payload: [] }));
      out.badPattern = await code(c.subscribe('lora/#/up'));
      out.codes = { rejected: Codes.DEVICE_REJECTED, bad: Codes.BAD_REQUEST, normal: Codes.NORMAL, invalidToken: Codes.INVALID_TOKEN };
      out.stats = c.stats().delivered > 0;

      await sub.unsubscribe();
      const n = batches.length;
      await new Promise((r) => setTimeout(r, 300));
      out.quietAfterUnsubscribe = batches.length === n;

      out.invalidToken = await code(connect('/v1/ws', { token: 'not a token', connectTimeout: 5000 }));
      await c.close();
      out.closed = c.state;
      out.afterClose = await code(c.command(target, Commands.LORA_DOWNLINK, { port: 2, payload: [1] }));
      return out;
    }), 'the page');
    assert.equal(r.sharedInit, true, 'concurrent init() calls share one promise');
    assert.equal(r.state, 'connected');
    assert.deepEqual(r.event, { kind: true, channel: true, offset: true, payload: true, raw: true, rssi: true, gateways: true, flags: true });
    assert.ok(r.subscribed, 'one subscribed event');
    assert.ok(r.position, 'sub.position follows the events');
    assert.ok(r.reply, 'a downlink reply with its reference');
    assert.equal(r.rejected, r.codes.rejected, 'the simulator refuses an unknown device');
    assert.equal(r.unknownKind, r.codes.bad);
    assert.equal(r.badPort, r.codes.bad);
    assert.equal(r.badPattern, r.codes.bad);
    assert.ok(r.stats);
    assert.ok(r.quietAfterUnsubscribe, 'no batch after unsubscribe');
    assert.equal(r.invalidToken, r.codes.invalidToken, 'a terminal close rejects connect with its code');
    assert.equal(r.closed, 'closed');
    assert.equal(r.afterClose, r.codes.normal);
    await page.close();
  });

  it('is an async iterator', async () => {
    const page = await openPage(`${dev}/test/page.html`);
    const r = await within(STEP_TIMEOUT, page.evaluate(async () => {
      const c = await window.fr.connect('/v1/ws', { token: await (await fetch('/dev/token')).text() });
      const sub = await c.subscribe('lora/#', { latest: true, buffer: 4 });
      const offsets = [];
      for await (const ev of sub) {
        if (!ev.latest) offsets.push(ev.offset);
        if (offsets.length === 10) break; // unsubscribes
      }
      const after = await sub.next();
      const increasing = offsets.every((o, i) => i === 0 || o > offsets[i - 1]);
      await c.close();
      return { n: offsets.length, increasing, done: after.done, position: sub.position?.offset >= offsets[9] };
    }), 'the page');
    assert.deepEqual(r, { n: 10, increasing: true, done: true, position: true });
    await page.close();
  });

  it('reconnects and recovers after the relay drops the link; times out commands meanwhile', async () => {
    const page = await openPage(`${dev}/test/page.html`);
    const r = await within(60_000, page.evaluate(async () => {
      const { connect, Codes, FieldRelayError } = window.fr;
      const waitFor = (pred, what, ms = 15_000) => new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error(`timed out: ${what}`)) : setTimeout(tick, 20));
        tick();
      });
      // The token source can be held back, to keep the client from
      // reconnecting while a command waits.
      let hold = null;
      const getToken = async () => {
        if (hold) await hold.promise;
        return (await fetch('/dev/token')).text();
      };
      const c = await connect('/v1/ws', { getToken, commandTimeout: 500, minBackoff: 10, maxBackoff: 50 });
      const states = [];
      c.on('state', (s, e) => states.push([s, e?.code ?? null]));
      const infos = [];
      const events = [];
      // '#' sees every event of the tenant: its offsets must be consecutive.
      await c.subscribe('#', { onEvents: (b) => events.push(...b), onSubscribed: (i) => infos.push(i) });
      await waitFor(() => events.length >= 3, 'events before the drop');

      let release;
      hold = { promise: new Promise((r) => { release = r; }) };
      const dropped = await (await fetch('/dev/drop?tenant=demo', { method: 'POST' })).text();
      await waitFor(() => states.some(([s]) => s === 'reconnecting'), 'reconnecting');
      let timeout = null;
      try {
        await c.command('lora/0000000000000001/0000000000000002/down', 'lora.downlink', { port: 2, payload: [1] });
      } catch (e) {
        timeout = e instanceof FieldRelayError ? e.code : String(e);
      }
      const before = events.length;
      release();
      hold = null;
      await waitFor(() => c.state === 'connected' && infos.length >= 2, 'reconnected and resubscribed');
      await waitFor(() => events.length >= before + 3, 'events after the reconnect');
      // Offsets of '#' are consecutive: nothing lost, nothing twice.
      const offsets = events.filter((e) => !e.latest).map((e) => e.offset);
      const consecutive = offsets.every((o, i) => i === 0 || o === offsets[i - 1] + 1);
      const dropCode = states.find(([s]) => s === 'reconnecting')[1];
      const stats = c.stats();
      await c.close();
      return { dropped, timeout, codes: { TIMEOUT: Codes.TIMEOUT, DROPPED: Codes.DROPPED }, dropCode, resumed: infos[1].resumed,
        recovered: infos[1].recovered, replayed: infos[1].replayed, consecutive, reconnects: stats.reconnects, gaps: stats.gaps,
        offsets: consecutive ? [] : events.map((e) => `${e.offset}${e.replayed ? 'r' : ''}${e.latest ? 'l' : ''}`), infos };
    }), 'the page');
    console.log(`reconnect: ${r.dropped.trim()}; resumed, recovered=${r.recovered}, ${r.replayed} replayed`);
    assert.equal(r.timeout, r.codes.TIMEOUT, 'a command while reconnecting times out');
    assert.equal(r.dropCode, r.codes.DROPPED, 'the cause of reconnecting is the relay\'s close code');
    assert.equal(r.resumed, true);
    assert.equal(r.recovered, true, 'the relay replayed what was missed');
    assert.equal(r.consecutive, true, `no gap, no duplicate: ${r.offsets.join(' ')} ${JSON.stringify(r.infos)}`);
    assert.ok(r.reconnects >= 1);
    assert.equal(r.gaps, 0);
    await page.close();
  });

  it('measures throughput: events decoded and delivered to onEvents per second', async () => {
    const page = await openPage(`${burst.base}/test/page.html`);
    const inPage = [];
    for (let i = 0; i < 4; i++) {
      inPage.push(await within(120_000, page.evaluate(async () => {
        let bytes = 0;
        const r = await window.fr.__benchmark(100_000, 100, (batch) => { for (const ev of batch) bytes += ev.value.payload.length; });
        return { ...r, bytes };
      }), 'the in-page benchmark'));
    }
    const token = await (await fetch(`${burst.base}/dev/token`, { signal: AbortSignal.timeout(5_000) })).text();
    const relayed = [];
    for (let i = 0; i < 3; i++) {
      await within(STEP_TIMEOUT, page.evaluate(([n, t]) => window.startCount(n, t), [BURST, token]), 'subscribing');
      burst.child.stdin.write(`burst ${BURST}\n`);
      relayed.push(await within(180_000, page.evaluate(() => window.countResult), 'the burst'));
    }
    const rate = (r) => Math.round((r.events ?? r.count) / (r.ms / 1000));
    const fmt = (rs) => rs.map((r) => rate(r).toLocaleString('en')).join(', ');
    // The first runs include V8's tier-up of the wasm code.
    console.log(`throughput in page (decode + delivery, 100 uplinks a message, no relay): ${fmt(inPage)} events/s`);
    console.log(`throughput through the relay (burst of ${BURST} uplinks to one page): ${fmt(relayed)} events/s (${relayed.map((r) => r.batches).join(', ')} batches)`);
    console.log(`best: ${Math.max(...inPage.map(rate)).toLocaleString('en')} events/s in page, ${Math.max(...relayed.map(rate)).toLocaleString('en')} through the relay (budget 100,000)`);
    for (const r of inPage) assert.equal(r.bytes, 5 * r.events, 'every payload delivered');
    for (const r of relayed) assert.equal(r.count, BURST);
    await page.close();
  });

  it('left no error in the pages', () => {
    const unexpected = pageErrors.filter((e) => !/Failed to load resource.*404/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
