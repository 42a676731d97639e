package codes

//go:generate go run ./gen -docs ../../docs/codes.md -js ../../jsbindings/src/codes.js

// Code is a reply or close code.
type Code uint16

// Reply codes.
const (
	OK             Code = 0
	BadRequest     Code = 400 // malformed or invalid request fields
	Unauthorized   Code = 401 // token rejected by Refresh
	Forbidden      Code = 403 // the token's patterns do not allow it
	NotFound       Code = 404 // no upstream link serves the command's target
	Timeout        Code = 408 // no reply from the device side in time
	Conflict       Code = 409 // a command with this ID is still in flight
	TooLarge       Code = 413 // command body over the limit
	LimitExceeded  Code = 429 // subscriptions, pending commands or rate over the limit
	Internal       Code = 500 // a relay fault
	DeviceRejected Code = 502 // the vendor refused the command (message carries its details)
	Unavailable    Code = 503 // the upstream link is down; nothing was sent
	UnknownOutcome Code = 504 // sent, but the link dropped before the vendor answered
	NotImplemented Code = 501 // command kind not supported by the target's protocol
)

// Close codes, standard WebSocket ones the relay uses or clients see.
const (
	Normal      Code = 1000
	GoingAway   Code = 1001
	Abnormal    Code = 1006 // never sent: the link dropped without a close frame
	MessageSize Code = 1009 // inbound message over Limits.MaxMessage
	ServerFault Code = 1011
)

// Close codes: reconnect.
const (
	Shutdown       Code = 4000 // the relay is restarting or draining
	Slow           Code = 4001 // the client's queue overflowed; reconnect and recover
	PingTimeout    Code = 4002 // no pong / no frame within the deadline
	TokenExpired   Code = 4003 // the token expired without Refresh; get a new one
	ConnectTimeout Code = 4004 // no Connect frame in time
	Resync         Code = 4005 // the relay lost its place in the log; resubscribe and recover
	Dropped        Code = 4006 // an operator dropped the connection; reconnect and recover
	RateLimited    Code = 4007 // frames faster than the per-connection rate; reconnect and slow down
	TooManyConns   Code = 4008 // the tenant or the token's subject is at its connection limit
)

// Close codes: terminal.
const (
	ProtocolError      Code = 4500 // malformed frame or frame out of order
	InvalidToken       Code = 4501 // missing, malformed, forged or not yet valid token
	UnsupportedVersion Code = 4502 // subprotocol not offered or not supported
	TenantForbidden    Code = 4503 // token names no usable tenant
)

// Info describes one code.
type Info struct {
	Code      Code
	Name      string // stable identifier, also the TypeScript constant name
	Reconnect bool   // close codes only: whether a client should reconnect
	Close     bool   // a close code (else a reply code)
	Doc       string
}

// Table lists every code fieldrelay defines, in numeric order.
var Table = []Info{
	{OK, "OK", false, false, "success"},
	{BadRequest, "BAD_REQUEST", false, false, "malformed or invalid request fields"},
	{Unauthorized, "UNAUTHORIZED", false, false, "Refresh carried a token that does not verify or names another tenant or subject"},
	{Forbidden, "FORBIDDEN", false, false, "the token's subscribe or command patterns do not allow this channel"},
	{NotFound, "NOT_FOUND", false, false, "no upstream link of the tenant serves the command's target"},
	{Timeout, "TIMEOUT", false, false, "the device side did not answer in time; the command may or may not have run"},
	{Conflict, "CONFLICT", false, false, "a command with this ID is already in flight"},
	{TooLarge, "TOO_LARGE", false, false, "command body over the limit"},
	{LimitExceeded, "LIMIT_EXCEEDED", false, false, "subscriptions, pending commands or command rate over the limit"},
	{Internal, "INTERNAL", false, false, "a relay fault"},
	{NotImplemented, "NOT_IMPLEMENTED", false, false, "the target's protocol has no such command kind"},
	{DeviceRejected, "DEVICE_REJECTED", false, false, "the vendor refused the command; the message carries the vendor's details"},
	{Unavailable, "UNAVAILABLE", false, false, "the upstream link is down; nothing was sent"},
	{UnknownOutcome, "UNKNOWN_OUTCOME", false, false, "the command was sent but the link dropped before the vendor answered"},
	{Normal, "NORMAL", false, true, "the client closed the connection"},
	{GoingAway, "GOING_AWAY", true, true, "an endpoint is going away"},
	{Abnormal, "ABNORMAL", true, true, "the link dropped without a close frame (never sent)"},
	{MessageSize, "MESSAGE_TOO_BIG", false, true, "an inbound message exceeded Limits.MaxMessage"},
	{ServerFault, "SERVER_FAULT", true, true, "unexpected relay condition"},
	{Shutdown, "SHUTDOWN", true, true, "the relay is restarting or draining; reconnect and resume"},
	{Slow, "SLOW", true, true, "the client read too slowly and its queue overflowed; reconnect and recover"},
	{PingTimeout, "PING_TIMEOUT", true, true, "no pong or frame within the ping deadline"},
	{TokenExpired, "TOKEN_EXPIRED", true, true, "the token expired without a Refresh; reconnect with a new token"},
	{ConnectTimeout, "CONNECT_TIMEOUT", true, true, "no Connect frame arrived in time"},
	{Resync, "RESYNC", true, true, "the relay lost its place in the tenant's log; reconnect and recover"},
	{Dropped, "DROPPED", true, true, "an operator dropped the connection (e.g. POST /dev/drop); reconnect and recover"},
	{RateLimited, "RATE_LIMITED", true, true, "the client sent frames faster than the relay's per-connection rate; reconnect (with backoff) and recover"},
	{TooManyConns, "TOO_MANY_CONNECTIONS", true, true, "the tenant, or the token's subject, has as many connections as the relay allows; retry with backoff"},
	{ProtocolError, "PROTOCOL_ERROR", false, true, "malformed frame, unknown frame type or frame out of order"},
	{InvalidToken, "INVALID_TOKEN", false, true, "missing, malformed, forged, expired or not yet valid token at Connect"},
	{UnsupportedVersion, "UNSUPPORTED_VERSION", false, true, "the WebSocket subprotocol was not " + "fieldrelay.v1+msgpack"},
	{TenantForbidden, "TENANT_FORBIDDEN", false, true, "the token names no tenant this relay serves"},
}

// Lookup returns the table entry of c and whether there is one.
func Lookup(c Code) (Info, bool) {
	for _, in := range Table {
		if in.Code == c {
			return in, true
		}
	}
	return Info{}, false
}

// String returns the code's name, or its number.
func (c Code) String() string {
	if in, ok := Lookup(c); ok {
		return in.Name
	}
	return itoa(uint16(c))
}

// IsClose reports whether c is in the close-code range.
func (c Code) IsClose() bool { return c >= 1000 }

// Reconnect applies the range contract: whether a client that was closed
// with c should reconnect. It holds for codes not in the table too.
func (c Code) Reconnect() bool {
	switch {
	case c == Normal:
		return false
	case c == 1002 || c == 1003 || c == 1007 || c == 1008 || c == 1009 || c == 1010:
		return false
	case c >= 1001 && c < 4000:
		return true
	case c >= 4000 && c < 4500:
		return true
	}
	return false
}

func itoa(v uint16) string {
	var b [5]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
