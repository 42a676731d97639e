// Types of @fieldrelay/client (index.js). Hand-written: keep in step with
// index.js, and the event shapes with proto/event's json tags.

export { Codes, shouldReconnect } from './codes.js';

/** Event kinds (proto/event). */
export declare const Kinds: {
  readonly UPLINK: 'lora.uplink';
  readonly JOIN: 'lora.join';
  readonly GATEWAY: 'lora.gateway';
  readonly DOWNLINK: 'lora.downlink';
  readonly LORA_OTHER: 'lora.other';
  readonly LINK_STATUS: 'link.status';
  readonly SCAN: 'scanner.scan';
  readonly SCANNER_STATE: 'scanner.state';
  readonly SCANNER_BUTTON: 'scanner.button';
  readonly SCANNER_ERROR: 'scanner.error';
  readonly SCANNER_GATEWAY: 'scanner.gateway';
  readonly SCANNER_OTHER: 'scanner.other';
  readonly CLOUD_SCAN: 'scanner.cloud_scan';
  readonly CLOUD_EVENT: 'scanner.cloud_event';
  readonly POS: 'pos.event';
  readonly TRACKER_STATE: 'gps.state';
  readonly TRACKER_SUBSCRIPTION: 'gps.subscription';
  readonly TRACKER_LIFECYCLE: 'gps.lifecycle';
  readonly GPS_OTHER: 'gps.other';
};

/** Command kinds (proto/event). */
export declare const Commands: {
  readonly LORA_DOWNLINK: 'lora.downlink';
  readonly SCANNER_FEEDBACK: 'scanner.feedback';
  readonly SCANNER_DISPLAY: 'scanner.display';
  readonly SCANNER_TRIGGER_BLOCK: 'scanner.trigger_block';
  readonly SCANNER_GATEWAY_STATE: 'scanner.gateway_state';
};

/** An error from the relay or the client; code is one of Codes. */
export declare class FieldRelayError extends Error {
  constructor(code: number, message: string);
  readonly name: 'FieldRelayError';
  readonly code: number;
}

export interface InitOptions {
  /** Where fieldrelay.wasm is; default: next to index.js. */
  wasmURL?: string | URL;
  /** An already compiled fieldrelay.wasm (wasmURL is then unused). */
  wasmModule?: WebAssembly.Module;
}

/**
 * Loads and starts fieldrelay.wasm (compiled while it downloads), once:
 * concurrent calls share one promise, a failed load may be retried.
 * connect calls it with no options.
 */
export declare function init(options?: InitOptions): Promise<void>;

export interface ConnectOptions {
  /** The token (JWT), unless getToken is given. */
  token?: string;
  /**
   * Gives a token: called for every connection attempt (so a reconnect
   * after TOKEN_EXPIRED gets a fresh one) and before the token expires,
   * to refresh it without reconnecting.
   */
  getToken?: () => string | Promise<string>;
  /** A label for the relay's logs, e.g. "my-app/1.2". */
  name?: string;
  /** Bound of connect, in ms; default 30 000. */
  connectTimeout?: number;
  /** Bound of command and subscribe (and of each connection attempt), in ms; default 30 000. */
  commandTimeout?: number;
  /** Bounds of the wait between connection attempts, in ms (full jitter); defaults 250 and 10 000. */
  minBackoff?: number;
  maxBackoff?: number;
}

/**
 * Connects to the relay (ws://host/v1/ws; a relative or http(s) URL is
 * resolved against the page) and resolves once it accepted the
 * connection, retrying with backoff until connectTimeout. From then on
 * the client reconnects by itself, and on the page's online and
 * visibilitychange events checks its link at once.
 */
export declare function connect(url: string | URL, options?: ConnectOptions): Promise<Client>;

export interface DirectOptions {
  /** The link name in events' meta and the status channel link/<link>/status; default "direct". */
  link?: string;
  /** Bound of connect, in ms; default 30 000. */
  connectTimeout?: number;
  /**
   * How long a command waits for the app's error event before it counts
   * as delivered (the Streams API acknowledges nothing else), in ms;
   * default 2 000.
   */
  commandTimeout?: number;
  /** Bounds of the wait between connection attempts, in ms (full jitter). */
  minBackoff?: number;
  maxBackoff?: number;
}

/**
 * Connects straight to ProGlove Insight Mobile's Streams API server
 * (ws://localhost:PORT on the device that runs the app, port in
 * [1024, 65536)), with no relay: for hybrid apps and WebViews on that
 * device. The Client is the same as connect's: the same event kinds,
 * channels and values as through the relay, and the scanner commands
 * (Commands.SCANNER_*). Positions are this session's own (a fresh epoch
 * per connectDirect), so `recover` and `since` have nothing to resume
 * across sessions.
 *
 * Direct mode lives in fieldrelay-direct.wasm (the ProGlove codec adds
 * some 500 KB of gzip that relay users should not pay for): if init() has not
 * run yet, connectDirect loads it from next to this module; a page that
 * called init() itself must have given it that file.
 */
export declare function connectDirect(url: string | URL, options?: DirectOptions): Promise<Client>;

export type State = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A place in the tenant's event log. */
export interface Position {
  epoch: string;
  offset: number;
}

/** A confirmation of a subscription by the relay. */
export interface SubscribedInfo extends Position {
  pattern: string;
  /** The relay replays everything missed since the position (replayed events follow). */
  recovered: boolean;
  replayed: number;
  /** False for the first confirmation, true after a reconnect or a gap. */
  resumed: boolean;
}

export interface Stats {
  reconnects: number;
  gaps: number;
  delivered: number;
  duplicates: number;
  lost: number;
}

/** What every event value keeps of its origin. Times are Unix µs. */
export interface Meta {
  link: string;
  protocol: string;
  id?: string;
  time: number;
  received: number;
  /** The upstream message, verbatim. */
  raw: Uint8Array;
}

export interface Uplink {
  meta: Meta;
  appEUI: string;
  devEUI: string;
  port: number;
  payload: Uint8Array;
  fcnt: number;
  /** dBm */
  rssi: number;
  /** dB */
  snr: number;
  sf: number;
  /** MHz */
  frequency: number;
  /** kHz */
  bandwidth: number;
  channel: number;
  gateways: string[];
  adr: boolean;
  duplicate: boolean;
  connector: string;
  extra?: Record<string, string>;
}

export interface Join {
  meta: Meta;
  appEUI: string;
  devEUI: string;
  gateways: string[];
  connector: string;
}

export interface GatewayAlive {
  meta: Meta;
  gateway: string;
  connector: string;
}

export interface Downlink {
  meta: Meta;
  appEUI: string;
  devEUI: string;
  port: number;
  payload: Uint8Array;
  reference: string;
  command?: string;
  confirmed: boolean;
  connector: string;
}

export interface LoRaOther {
  meta: Meta;
  type: string;
  appEUI?: string;
  devEUI?: string;
}

export interface LinkStatus {
  meta: Meta;
  state: 'connecting' | 'connected' | 'backing_off' | 'failed' | 'stopped';
  reason?: string;
  attempt?: number;
  retryMs?: number;
}

/** The value types of the kinds typed here; others are OtherValue. */
export interface EventValues {
  'lora.uplink': Uplink;
  'lora.join': Join;
  'lora.gateway': GatewayAlive;
  'lora.downlink': Downlink;
  'lora.other': LoRaOther;
  'link.status': LinkStatus;
}

/** The value of a kind not typed here: the Go type's json names. */
export interface OtherValue {
  meta: Meta;
  [property: string]: unknown;
}

export type EventValue = EventValues[keyof EventValues] | OtherValue;

/**
 * One event. Its []byte fields are Uint8Arrays: views into one buffer per
 * batch, to be copied (slice()) by code that keeps one and wants it alone.
 */
export interface FieldRelayEvent<V = EventValue> {
  channel: string;
  epoch: string;
  offset: number;
  /** The offset of the previous event on the same channel (0 if none). */
  prev: number;
  kind: string;
  /** The last known value of a state channel, sent on subscribe (latest: true); older than the position. */
  latest: boolean;
  /** Replayed to recover what the subscription missed. */
  replayed: boolean;
  /** The event, or null for a kind this version does not know or data that does not decode as its kind. */
  value: V | null;
  /** The raw msgpack of an event whose value is null. */
  data?: Uint8Array;
}

export interface SubscribeOptions {
  /** Replay the events published after since (implied by since). */
  recover?: boolean;
  /** Resume from a position saved earlier (sub.position). */
  since?: Position;
  /** First the last known value of every matching state channel. */
  latest?: boolean;
  /**
   * Called once per WebSocket message with its events for this
   * subscription, in order. The array is the callback's to keep.
   */
  onEvents?: (events: FieldRelayEvent[]) => void;
  /** Every confirmation by the relay, also after reconnects and gaps. */
  onSubscribed?: (info: SubscribedInfo) => void;
  /**
   * How many events the async iterator holds before the connection waits
   * for the loop to catch up; default 1024.
   */
  buffer?: number;
}

/** The reply to a command: data is the result (null if unknown), raw its msgpack. */
export interface CommandReply<R = Record<string, unknown>> {
  data: R | null;
  raw: Uint8Array;
}

export interface LoRaDownlinkBody {
  /** 1–223 */
  port: number;
  payload: Uint8Array | ArrayBuffer | number[];
  confirm?: boolean;
  /** The network connector; default: the network chooses. */
  connector?: string;
}

export interface DownlinkResult {
  /** The reference the network echoes in the downlink's lora.downlink events. */
  reference: string;
}

/** A connection to the relay. */
export declare class Client {
  private constructor();
  /** The connection's state. */
  readonly state: State;
  /** Listens to changes of state (with their cause); returns a function that stops listening. */
  on(type: 'state', listener: (state: State, error?: FieldRelayError) => void): () => void;
  /** Errors no call waits for, e.g. a callback that threw. */
  on(type: 'error', listener: (error: FieldRelayError) => void): () => void;
  /** Every confirmation of every subscription. */
  on(type: 'subscribed', listener: (info: SubscribedInfo) => void): () => void;
  /**
   * Subscribes to every channel the pattern matches ('+' one level, '#'
   * the rest); resolves once the relay confirmed it. The subscription
   * lives across reconnects, recovering what it missed, until
   * unsubscribe or close.
   */
  subscribe(pattern: string, options?: SubscribeOptions): Promise<Subscription>;
  /**
   * Sends a command and resolves with the reply. Rejects with a
   * FieldRelayError: the relay's or device's refusal, TIMEOUT, or
   * UNKNOWN_OUTCOME when the link dropped before the reply (the command
   * may have run; it is not resent).
   */
  command(target: string, kind: 'lora.downlink', body: LoRaDownlinkBody): Promise<CommandReply<DownlinkResult>>;
  command(target: string, kind: string, body?: object): Promise<CommandReply>;
  /** Counters since connect. */
  stats(): Stats;
  /** Closes the connection and ends every subscription. Idempotent. */
  close(): Promise<void>;
}

/**
 * A subscription. Events go to options.onEvents and to the async
 * iterator: `for await (const ev of sub)`; leaving the loop unsubscribes.
 * Without onEvents the iterator gets every event from the start; with it,
 * from the moment the iteration starts. When the iterator's buffer is
 * full the whole connection waits for the loop.
 */
export declare class Subscription implements AsyncIterableIterator<FieldRelayEvent> {
  private constructor();
  readonly pattern: string;
  /** The position of the last event delivered, or where the subscription started; save it to resume with since. */
  readonly position: Position | null;
  /** Ends the subscription; no event is delivered after it resolves. */
  unsubscribe(): Promise<void>;
  /** The next event; done when the subscription ends (throws if the relay ended it with an error). */
  next(): Promise<IteratorResult<FieldRelayEvent, undefined>>;
  /** Unsubscribes (leaving a for await loop calls it). */
  return(): Promise<IteratorResult<FieldRelayEvent, undefined>>;
  [Symbol.asyncIterator](): Subscription;
}

/**
 * Measures decoding and delivery in this page, without relay or network:
 * count events, in messages of perMessage LoRa uplinks, through the
 * bridge and this module to onEvents. For benchmarks and tests.
 * @internal
 */
export declare function __benchmark(
  count: number,
  perMessage: number,
  onEvents: (events: FieldRelayEvent[]) => void,
): Promise<{ events: number; ms: number }>;
