package ws

import "strconv"

// MessageType is the type of a WebSocket data message. The values are the
// frame opcodes, as coder/websocket numbers them.
type MessageType int

// Message types.
const (
	// MessageText is a UTF-8 text message.
	MessageText MessageType = 1
	// MessageBinary is a binary message.
	MessageBinary MessageType = 2
)

// String returns "text" or "binary".
func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// CloseError is the end of a connection by a close frame from the peer,
// with its code and reason.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	s := "ws: closed by peer with code " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// DialError is a connection that failed to open in the browser, which
// tells a page nothing more than that (the reason is only in the console).
// Natively Dial returns coder/websocket's own errors, which say more.
type DialError struct {
	Msg   string
	Cause error // why the socket ended, if it reported anything; may be nil
}

// Error implements error.
func (e *DialError) Error() string {
	if e.Cause != nil {
		return "ws: " + e.Msg + ": " + e.Cause.Error()
	}
	return "ws: " + e.Msg
}

// Unwrap returns the cause.
func (e *DialError) Unwrap() error { return e.Cause }

// maxReason is the longest close reason a close frame can carry (125
// bytes of payload less the 2-byte code).
const maxReason = 123

// trimReason cuts a close reason to what a close frame can carry, at a
// UTF-8 boundary so that the browser does not throw on it.
func trimReason(reason string) string {
	if len(reason) <= maxReason {
		return reason
	}
	n := maxReason
	for n > 0 && reason[n]&0xc0 == 0x80 { // a continuation byte: back up to its rune's start
		n--
	}
	return reason[:n]
}
