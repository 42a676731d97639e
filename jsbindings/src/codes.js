// Generated from proto/codes.Table by `go generate ./proto/codes`. DO NOT EDIT.

/** Close and error codes, as in proto/codes. */
export const Codes = Object.freeze({
  OK: 0,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TIMEOUT: 408,
  CONFLICT: 409,
  TOO_LARGE: 413,
  LIMIT_EXCEEDED: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  DEVICE_REJECTED: 502,
  UNAVAILABLE: 503,
  UNKNOWN_OUTCOME: 504,
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
  SERVER_FAULT: 1011,
  SHUTDOWN: 4000,
  SLOW: 4001,
  PING_TIMEOUT: 4002,
  TOKEN_EXPIRED: 4003,
  CONNECT_TIMEOUT: 4004,
  RESYNC: 4005,
  DROPPED: 4006,
  RATE_LIMITED: 4007,
  TOO_MANY_CONNECTIONS: 4008,
  PROTOCOL_ERROR: 4500,
  INVALID_TOKEN: 4501,
  UNSUPPORTED_VERSION: 4502,
  TENANT_FORBIDDEN: 4503,
});

/**
 * Whether a client closed with this code should reconnect (the range
 * contract of docs/codes.md).
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code) {
  if (code === 1000) return false;
  if ([1002, 1003, 1007, 1008, 1009, 1010].includes(code)) return false;
  if (code >= 1001 && code < 4000) return true;
  return code >= 4000 && code < 4500;
}
