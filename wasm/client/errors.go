package client

import (
	"errors"
	"strconv"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// ErrClosed is returned by calls on a client, or one of its subscriptions,
// that has been closed: by [Client.Close], or by the relay with a terminal
// close code (then the error is a [*CloseError], which also matches
// ErrClosed with errors.Is).
var ErrClosed = errors.New("client: closed")

// CloseError is a close of the connection by the relay, with the WebSocket
// close code (or the code of the Disconnect frame that preceded it).
//
// A terminal close (codes.Code.Reconnect reports false) is returned by
// [Dial], passed to Options.OnState with [Closed], and returned by later
// calls; such an error also matches [ErrClosed]. A close that asks for a
// reconnect is only passed to OnState with [Reconnecting].
type CloseError struct {
	Code   codes.Code
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	s := "client: closed by relay: " + describe(e.Code)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether a terminal close matches target [ErrClosed].
func (e *CloseError) Is(target error) bool {
	return target == ErrClosed && !e.Code.Reconnect()
}

// ReplyError is a request that failed: the relay answered with a non-zero
// reply code, or the client gave up for the relay. Codes the client uses
// on its own:
//
//   - codes.UnknownOutcome: the link dropped after the command was written
//     and before its reply; the command may or may not have run.
//   - codes.Timeout: no reply before the deadline (Options.CommandTimeout
//     or the caller's context); the error also matches
//     context.DeadlineExceeded.
type ReplyError struct {
	Code    codes.Code
	Message string

	cause error
}

// Error implements error.
func (e *ReplyError) Error() string {
	s := "client: " + describe(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the local cause, if any (context.DeadlineExceeded for
// local timeouts).
func (e *ReplyError) Unwrap() error { return e.cause }

// describe names a code with its number, e.g. "INVALID_TOKEN (4501)".
func describe(c codes.Code) string {
	n := strconv.Itoa(int(c))
	if name := c.String(); name != n {
		return name + " (" + n + ")"
	}
	return n
}

// connectError is what Dial returns when its context ends before the
// first Connected: both the context's error and the last attempt's.
type connectError struct {
	ctx, last error
}

func (e *connectError) Error() string {
	return "client: failed to connect: " + e.ctx.Error() + " (last attempt: " + e.last.Error() + ")"
}

func (e *connectError) Unwrap() []error { return []error{e.ctx, e.last} }

// Internal causes of a connection's end, passed to OnState.
var (
	errDeadLink   = errors.New("client: no message from the relay within two ping intervals")
	errLinkLost   = errors.New("client: link lost before the reply")
	errNoProtocol = errors.New("client: relay did not select subprotocol " + wire.Subprotocol)
)
