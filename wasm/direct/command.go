package direct

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/wasm/internal/ws"
)

// ErrClosed is returned by calls on a session, or one of its
// subscriptions, that has been closed.
var ErrClosed = errors.New("direct: closed")

// ReplyError is a command that failed, with the code the relay would have
// answered for the same outcome (package codes):
//
//   - codes.BadRequest: the target is not a channel, or the body is not a
//     valid command of its kind (the message names the rule); nothing
//     was sent.
//   - codes.NotFound: the kind and target are not a scanner command the
//     app serves (scanner/<serial>/cmd, scanner/gateway/<gateway>/cmd).
//   - codes.Unavailable: the link to the app is down; nothing was sent.
//   - codes.DeviceRejected: the app answered with an errors event;
//     Message is "<error_code>: <error_message>".
//   - codes.UnknownOutcome: the link dropped after the command was sent
//     and before the app's silence confirmed it; it may or may not have run.
//   - codes.Timeout: the caller's deadline passed first; the error also
//     matches context.DeadlineExceeded.
type ReplyError struct {
	Code    codes.Code
	Message string

	cause error
}

// Error implements error.
func (e *ReplyError) Error() string {
	s := "direct: " + describe(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the local cause, if any (context.DeadlineExceeded for
// timeouts).
func (e *ReplyError) Unwrap() error { return e.cause }

// describe names a code with its number, e.g. "DEVICE_REJECTED (502)".
func describe(c codes.Code) string {
	n := strconv.Itoa(int(c))
	if name := c.String(); name != n {
		return name + " (" + n + ")"
	}
	return n
}

// Reply is the outcome of a successful command.
type Reply struct {
	// Data is the msgp encoding of an event.ScannerCommandResult, as the
	// relay's reply carries it.
	Data []byte
	// EventID is the event_id the command was sent with.
	EventID string
	// Answered is true when the app answered positively (a gateway_state
	// for event.CmdScannerGatewayState); false means success was inferred
	// from the app's silence for Options.CommandTimeout.
	Answered bool
}

// pending is a command sent and not yet settled. Exactly one outcome is
// delivered to done (buffered) unless the command gives up first.
type pending struct {
	done  chan outcome
	probe bool // the session's own gateway_state!, which nobody waits for
}

type outcome struct {
	rejected *event.ScannerError // the app's errors event
	answered bool                // gateway_state! answered
	dropped  bool                // the link went down first
	closed   bool                // the session was closed
}

// settleLocked delivers an errors or gateway_state event to the command
// it answers, if one is waiting. It reports whether the event should not
// be published: an errors event answering the session's own
// gateway_state!.
func (s *Session) settleLocked(v event.Event) (swallow bool) {
	var ref string
	var out outcome
	switch e := v.(type) {
	case *event.ScannerError:
		ref, out.rejected = e.Reference, e
	case *event.ScannerGateway:
		ref, out.answered = e.Reference, true
	default:
		return false
	}
	if ref == "" {
		return false
	}
	p := s.pending[ref]
	if p == nil {
		return false
	}
	delete(s.pending, ref)
	p.done <- out
	return p.probe && out.rejected != nil
}

// Command sends a scanner command to the app and waits for its outcome,
// settled as the relay's connector settles it. target is the channel the
// command is for: scanner/<serial>/cmd for event.CmdScannerFeedback,
// CmdScannerDisplay and CmdScannerTriggerBlock, scanner/gateway/<any>/cmd
// for CmdScannerGatewayState. body is the kind's body
// (*event.ScannerFeedback, …), or anything whose msgp encoding is one
// (msgp.Raw), or nil for a zero body.
//
// The body is validated as the protocol notes state before anything is
// sent, then sent with a fresh event_id to the scanner's serial as the app
// spells it (the channel level is lower case). The first of these settles
// it: an errors event naming it (DeviceRejected), for gateway_state! the
// gateway_state answering it (success, Answered), Options.CommandTimeout
// of silence (success: the app acknowledges nothing else), the link
// dropping (UnknownOutcome), ctx ending (Timeout, or ctx.Err() if
// cancelled). Failures are [*ReplyError]s (see its codes); a closed
// session gives [ErrClosed].
func (s *Session) Command(ctx context.Context, target, kind string, body msgp.Marshaler) (Reply, error) {
	if err := channel.Valid(target); err != nil {
		return Reply{}, &ReplyError{Code: codes.BadRequest, Message: "target: " + err.Error()}
	}
	if kind == "" {
		return Reply{}, &ReplyError{Code: codes.BadRequest, Message: "command needs a kind"}
	}
	level, err := proglove.TargetLevel(kind, target)
	if err != nil {
		return Reply{}, &ReplyError{Code: codes.NotFound, Message: "no link serves " + kind + " on " + target + " (" + err.Error() + ")"}
	}
	cmd, err := commandBody(kind, body)
	if err != nil {
		return Reply{}, err
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Reply{}, ErrClosed
	}
	serial := s.roster.Serial(level)
	s.mu.Unlock()
	frame, id, err := proglove.CommandFrame(serial, cmd, "", time.Now())
	if err != nil {
		return Reply{}, &ReplyError{Code: codes.BadRequest, Message: err.Error()}
	}

	p := &pending{done: make(chan outcome, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Reply{}, ErrClosed
	}
	c := s.conn
	if c != nil {
		s.pending[id] = p
	}
	s.mu.Unlock()
	if c == nil {
		return Reply{}, &ReplyError{Code: codes.Unavailable, Message: "link " + s.opts.Link + " is not connected; nothing was sent"}
	}
	forget := func() {
		s.mu.Lock()
		if s.pending[id] == p {
			delete(s.pending, id)
		}
		s.mu.Unlock()
	}
	// The write has its own deadline: a caller giving up mid-write must not
	// cut the link (coder/websocket closes a connection whose write is
	// cancelled).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.WriteTimeout)
	err = c.Write(wctx, ws.MessageText, frame)
	cancel()
	if err != nil {
		forget()
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return Reply{}, ErrClosed
		}
		return Reply{}, &ReplyError{Code: codes.UnknownOutcome, Message: "link dropped while sending; the app may or may not have received it", cause: err}
	}
	timer := time.NewTimer(s.opts.CommandTimeout)
	defer timer.Stop()
	select {
	case out := <-p.done:
		return settled(id, out)
	case <-timer.C:
		forget()
		select {
		case out := <-p.done: // settled as the timer fired
			return settled(id, out)
		default:
		}
		return ok(id, false), nil
	case <-ctx.Done():
		forget()
		if err := ctx.Err(); err != context.DeadlineExceeded {
			return Reply{}, err
		}
		return Reply{}, &ReplyError{Code: codes.Timeout, Message: "command deadline passed before the app's silence confirmed it; it may or may not have run", cause: ctx.Err()}
	}
}

// settled turns an outcome into Command's result.
func settled(id string, out outcome) (Reply, error) {
	switch {
	case out.rejected != nil:
		return Reply{}, &ReplyError{Code: codes.DeviceRejected, Message: out.rejected.Code + ": " + out.rejected.Message}
	case out.answered:
		return ok(id, true), nil
	case out.closed:
		return Reply{}, ErrClosed
	}
	return Reply{}, &ReplyError{Code: codes.UnknownOutcome, Message: "link dropped before the app's silence confirmed the command; it may or may not have run"}
}

func ok(id string, answered bool) Reply {
	data, _ := (&event.ScannerCommandResult{EventID: id, Answered: answered}).MarshalMsg(nil)
	return Reply{Data: data, EventID: id, Answered: answered}
}

// commandBody turns body into the kind's command body the way it would
// reach the relay's connector: encoded with msgp and decoded as the kind's
// type, so that direct mode accepts exactly what the relay accepts. nil
// (or a msgpack nil) is the zero body.
func commandBody(kind string, body msgp.Marshaler) (event.Command, error) {
	cmd := event.NewCommand(kind)
	if cmd == nil {
		return nil, &ReplyError{Code: codes.BadRequest, Message: "unknown command kind " + kind}
	}
	if body == nil {
		return cmd, nil
	}
	raw, err := body.MarshalMsg(nil)
	if err != nil {
		return nil, &encodeError{err}
	}
	if len(raw) == 0 || len(raw) == 1 && raw[0] == 0xc0 { // msgpack nil: the relay decodes it as no body
		return cmd, nil
	}
	if _, err := cmd.UnmarshalMsg(raw); err != nil {
		return nil, &ReplyError{Code: codes.BadRequest, Message: "body is not a " + kind + ": " + err.Error()}
	}
	return cmd, nil
}

// encodeError is a command body that failed to encode.
type encodeError struct{ err error }

func (e *encodeError) Error() string {
	return "direct: failed to encode command body: " + e.err.Error()
}
func (e *encodeError) Unwrap() error { return e.err }
