// The surface of fieldrelay.wasm: globalThis.__fieldrelay, exactly as the
// Go program wasm/bridge defines it. index.js is its only intended user;
// apps use the API of index.d.ts. Keep this file in step with
// wasm/bridge/*.go.
//
// Conventions of the bridge:
// - Durations are milliseconds.
// - Promises reject with a BridgeError.
// - Synchronous methods cannot throw (Go cannot throw into JavaScript):
//   they return a BridgeError instead of their value on failure.
// - After close() resolves, the client's methods must not be called (their
//   Go functions are released; a call logs "call to released function"
//   and returns undefined); the same holds for a subscription's methods
//   once its onEnd has been called.

/** An Error with a code of Codes (codes.js). */
export interface BridgeError extends Error {
  readonly name: 'FieldRelayError';
  readonly code: number;
}

export type BridgeState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface BridgePosition {
  epoch: string;
  offset: number;
}

/**
 * A batch of events as one JSON text and one block of bytes; see
 * wasm/bridge/internal/batch for the format. Returning a thenable makes the
 * connection wait until it settles (backpressure).
 */
export type BatchCallback = (json: string, bytes: Uint8Array, count: number) => void | PromiseLike<unknown>;

export interface BridgeConnectOptions {
  /** The token (JWT), unless getToken is given. */
  token?: string;
  /** Called for every connection attempt and before the token expires. */
  getToken?: () => string | PromiseLike<string>;
  /** A label for the relay's logs. */
  name?: string;
  /** Every change of state, with its cause (null if none). */
  onState?: (state: BridgeState, error: BridgeError | null) => void;
  /** Errors no call waits for: a callback threw, a batch failed. */
  onError?: (error: BridgeError) => void;
  /** Backoff bounds between attempts; defaults 250 and 10 000. */
  minBackoff?: number;
  maxBackoff?: number;
  /** Bound of command, subscribe and each connection attempt; default 30 000. */
  commandTimeout?: number;
  /** Bound of connect itself; default 30 000. */
  connectTimeout?: number;
}

export interface BridgeDirectOptions {
  link?: string;
  onState?: (state: BridgeState, error: BridgeError | null) => void;
  /** Errors no call waits for, and messages from the app dropped as bad input. */
  onError?: (error: BridgeError) => void;
  minBackoff?: number;
  maxBackoff?: number;
  commandTimeout?: number;
  connectTimeout?: number;
}

export interface BridgeSubscribedInfo extends BridgePosition {
  recovered: boolean;
  replayed: number;
  resumed: boolean;
}

export interface BridgeSubscribeOptions {
  recover?: boolean;
  latest?: boolean;
  since?: BridgePosition;
  onBatch?: BatchCallback;
  onSubscribed?: (info: BridgeSubscribedInfo) => void;
  /** Once, when the subscription ends; error null after unsubscribe. */
  onEnd?: (error: BridgeError | null, position: BridgePosition) => void;
}

export interface BridgeSubscription {
  readonly pattern: string;
  unsubscribe(): Promise<null>;
  position(): BridgePosition | BridgeError;
}

export interface BridgeStats {
  reconnects: number;
  gaps: number;
  delivered: number;
  duplicates: number;
  lost: number;
}

export interface BridgeReply {
  /** The reply's data, msgpack. */
  raw: Uint8Array;
  /** The data as JSON (bytes as pairs at paths), or null for kinds whose result the bridge does not know. */
  data: null | { json: string; bytes: Uint8Array; paths: string[][] };
}

export interface BridgeClient {
  subscribe(pattern: string, options?: BridgeSubscribeOptions): Promise<BridgeSubscription>;
  command(target: string, kind: string, body: unknown): Promise<BridgeReply>;
  state(): BridgeState | BridgeError;
  stats(): BridgeStats | BridgeError;
  close(): Promise<null>;
}

export interface FieldRelayBridge {
  /** The bridge's interface version (1). */
  readonly version: number;
  /** Per event kind, where its []byte properties are (see batch.Paths). */
  readonly bytesPaths: { readonly [kind: string]: string[][] };
  connect(url: string, options?: BridgeConnectOptions): Promise<BridgeClient>;
  /**
   * Only in fieldrelay-direct.wasm: a session with ProGlove Insight
   * Mobile's Streams API server (wasm/bridge/direct.go). subscribe ignores
   * recover, rejects since, and never calls onSubscribed; stats adds
   * badInput (messages from the app dropped).
   */
  connectDirect?(url: string, options?: BridgeDirectOptions): Promise<BridgeClient>;
  /** Decodes and delivers count events without relay or network; resolves with the time in Go. */
  benchmark(count: number, perMessage: number, onBatch: BatchCallback): Promise<{ events: number; ms: number }>;
}

declare global {
  // eslint-disable-next-line no-var
  var __fieldrelay: FieldRelayBridge | undefined;
}
