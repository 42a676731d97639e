// Generated from proto/codes.Table by `go generate ./proto/codes`. DO NOT EDIT.

/** Close and error codes, as in proto/codes. */
export declare const Codes: {
  /** success */
  readonly OK: 0;
  /** malformed or invalid request fields */
  readonly BAD_REQUEST: 400;
  /** Refresh carried a token that does not verify or names another tenant or subject */
  readonly UNAUTHORIZED: 401;
  /** the token's subscribe or command patterns do not allow this channel */
  readonly FORBIDDEN: 403;
  /** no upstream link of the tenant serves the command's target */
  readonly NOT_FOUND: 404;
  /** the device side did not answer in time; the command may or may not have run */
  readonly TIMEOUT: 408;
  /** a command with this ID is already in flight */
  readonly CONFLICT: 409;
  /** command body over the limit */
  readonly TOO_LARGE: 413;
  /** subscriptions, pending commands or command rate over the limit */
  readonly LIMIT_EXCEEDED: 429;
  /** a relay fault */
  readonly INTERNAL: 500;
  /** the target's protocol has no such command kind */
  readonly NOT_IMPLEMENTED: 501;
  /** the vendor refused the command; the message carries the vendor's details */
  readonly DEVICE_REJECTED: 502;
  /** the upstream link is down; nothing was sent */
  readonly UNAVAILABLE: 503;
  /** the command was sent but the link dropped before the vendor answered */
  readonly UNKNOWN_OUTCOME: 504;
  /** the client closed the connection */
  readonly NORMAL: 1000;
  /** an endpoint is going away */
  readonly GOING_AWAY: 1001;
  /** the link dropped without a close frame (never sent) */
  readonly ABNORMAL: 1006;
  /** an inbound message exceeded Limits.MaxMessage */
  readonly MESSAGE_TOO_BIG: 1009;
  /** unexpected relay condition */
  readonly SERVER_FAULT: 1011;
  /** the relay is restarting or draining; reconnect and resume */
  readonly SHUTDOWN: 4000;
  /** the client read too slowly and its queue overflowed; reconnect and recover */
  readonly SLOW: 4001;
  /** no pong or frame within the ping deadline */
  readonly PING_TIMEOUT: 4002;
  /** the token expired without a Refresh; reconnect with a new token */
  readonly TOKEN_EXPIRED: 4003;
  /** no Connect frame arrived in time */
  readonly CONNECT_TIMEOUT: 4004;
  /** the relay lost its place in the tenant's log; reconnect and recover */
  readonly RESYNC: 4005;
  /** an operator dropped the connection (e.g. POST /dev/drop); reconnect and recover */
  readonly DROPPED: 4006;
  /** the client sent frames faster than the relay's per-connection rate; reconnect (with backoff) and recover */
  readonly RATE_LIMITED: 4007;
  /** the tenant, or the token's subject, has as many connections as the relay allows; retry with backoff */
  readonly TOO_MANY_CONNECTIONS: 4008;
  /** malformed frame, unknown frame type or frame out of order */
  readonly PROTOCOL_ERROR: 4500;
  /** missing, malformed, forged, expired or not yet valid token at Connect */
  readonly INVALID_TOKEN: 4501;
  /** the WebSocket subprotocol was not fieldrelay.v1+msgpack */
  readonly UNSUPPORTED_VERSION: 4502;
  /** the token names no tenant this relay serves */
  readonly TENANT_FORBIDDEN: 4503;
};

/** Whether a client closed with this code should reconnect. */
export declare function shouldReconnect(code: number): boolean;
