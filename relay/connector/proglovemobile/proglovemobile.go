package proglovemobile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Protocol is the value of Meta.Protocol on this connector's events.
const Protocol = proglove.Protocol

// Link is a connection to one Insight Mobile app. It implements
// connector.Link.
//
// Lock order: Link.mu is a leaf; it is never held while writing to the
// socket or publishing.
type Link struct {
	cfg    Config
	log    *slog.Logger
	status *connector.Status
	bad    connector.BadInput

	mu      sync.Mutex
	conn    *websocket.Conn
	pending map[string]*pending // event_id → command awaiting its outcome
	roster  proglove.Roster
	warned  bool // the app refused gateway_state! once: logged
}

var _ connector.Link = (*Link)(nil)

// pending is a command sent and not yet settled. Exactly one outcome is
// delivered to done (buffered) unless the command gives up first.
type pending struct {
	done  chan outcome
	probe bool // the link's own gateway_state!, which nobody waits for
}

type outcome struct {
	rejected *proglove.ErrorEvent   // the gateway's errors event
	answer   *proglove.GatewayState // gateway_state! answered
	dropped  bool                   // the link went down first
}

// New checks cfg, fills in its defaults and returns a Link; Run connects
// it. The URL's port must be in [1024, 65536) (proglove.ValidateURL).
func New(cfg Config) (*Link, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, log: cfg.Logger, pending: make(map[string]*pending)}
	l.status = &connector.Status{Pub: cfg.Publisher, Link: cfg.Name, Protocol: Protocol, Logger: cfg.Logger}
	l.bad = connector.BadInput{Link: cfg.Name, Logger: cfg.Logger}
	return l, nil
}

// Name implements connector.Link.
func (l *Link) Name() string { return l.cfg.Name }

// BadInputCounts returns the malformed upstream messages dropped, by kind
// (proglove.ErrorKind labels, plus "oversize" and "binary").
func (l *Link) BadInputCounts() map[string]uint64 { return l.bad.Counts() }

// Status returns the link's last published state.
func (l *Link) Status() event.LinkStatus { return l.status.Current() }

// Scanners lists the serials of the scanners the link believes connected.
func (l *Link) Scanners() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.roster.Connected()
}

// Run implements connector.Link: it keeps the link up, reconnecting with
// backoff, until ctx ends.
func (l *Link) Run(ctx context.Context) error {
	bo := connector.Backoff{Min: l.cfg.MinBackoff, Max: l.cfg.MaxBackoff}
	for {
		l.status.Set(ctx, event.LinkConnecting, "", bo.Attempt(), 0)
		err := l.session(ctx, &bo)
		if ctx.Err() != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
		d := bo.Next()
		l.status.Set(ctx, event.LinkBackoff, connector.RedactError(err, l.cfg.URL), bo.Attempt(), d)
		if connector.Sleep(ctx, d) != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
	}
}

// errNoPong ends a session whose pings go unanswered.
var errNoPong = errors.New("no pong in time: the app is not answering")

// session dials once and serves the connection until it fails.
func (l *Link) session(ctx context.Context, bo *connector.Backoff) error {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	c, _, err := websocket.Dial(dctx, l.cfg.URL, nil)
	cancel()
	if err != nil {
		return err
	}
	// Oversize messages are read through and dropped (readMessage), so the
	// library's own limit, which would close the link, is off.
	c.SetReadLimit(-1)
	l.mu.Lock()
	l.conn = c
	l.mu.Unlock()
	defer l.drop(c)
	l.status.Set(ctx, event.LinkConnected, "", 0, 0)
	l.log.Info("proglove mobile link up", "link", l.cfg.Name, "url", connector.RedactURL(l.cfg.URL))

	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var healthy sync.Once
	reset := func() { healthy.Do(bo.Reset) } // the link works: the next outage's backoff starts afresh
	pingDone := make(chan struct{})
	var pingErr error
	go func() {
		defer close(pingDone)
		pingErr = l.pingLoop(cctx, c, reset)
	}()
	defer func() { <-pingDone }()
	defer stop()

	if !l.cfg.SkipGatewayState {
		// Scanners may have come and gone while the link was down: ask
		// which are connected before assuming anything (the Roster
		// reconciles when the answer comes).
		if err := l.probe(ctx, c); err != nil {
			return err
		}
	}
	for {
		typ, msg, err := l.readMessage(cctx, c)
		if err != nil {
			stop()
			<-pingDone
			if pingErr != nil {
				return pingErr
			}
			return err
		}
		if msg == nil {
			continue // skipped and counted
		}
		if typ != websocket.MessageText {
			l.bad.Note("binary", errors.New("binary frame: the Streams API sends text"))
			continue
		}
		if l.handle(ctx, msg) {
			reset()
		}
	}
}

// readMessage reads one message, reading through and dropping (nil msg) one
// over MaxMessage without holding it.
func (l *Link) readMessage(ctx context.Context, c *websocket.Conn) (websocket.MessageType, []byte, error) {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	msg, err := io.ReadAll(io.LimitReader(r, l.cfg.MaxMessage+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(msg)) > l.cfg.MaxMessage {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return 0, nil, err
		}
		l.bad.Note("oversize", fmt.Errorf("message of %d bytes, over max_message %d", int64(len(msg))+n, l.cfg.MaxMessage))
		return typ, nil, nil
	}
	return typ, msg, nil
}

// pingLoop pings every PingInterval and returns errNoPong, after cutting
// the connection, when a pong is late.
func (l *Link) pingLoop(ctx context.Context, c *websocket.Conn, healthy func()) error {
	t := time.NewTicker(l.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, l.cfg.PongTimeout)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn("proglove mobile link: no pong, dropping", "link", l.cfg.Name, "timeout", l.cfg.PongTimeout)
			c.CloseNow()
			return fmt.Errorf("%w (waited %v)", errNoPong, l.cfg.PongTimeout)
		}
		healthy()
	}
}

// probe sends the link's own gateway_state!.
func (l *Link) probe(ctx context.Context, c *websocket.Conn) error {
	frame, id, err := proglove.CommandFrame("", &event.ScannerGatewayState{}, "", time.Now())
	if err != nil {
		return err // cannot happen: the body has no fields
	}
	l.mu.Lock()
	l.pending[id] = &pending{probe: true, done: make(chan outcome, 1)}
	l.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, l.cfg.WriteTimeout)
	defer cancel()
	if err := c.Write(wctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("sending gateway_state!: %w", err)
	}
	return nil
}

// drop forgets the connection and settles every command waiting on it.
func (l *Link) drop(c *websocket.Conn) {
	c.CloseNow()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == c {
		l.conn = nil
	}
	for id, p := range l.pending {
		p.done <- outcome{dropped: true} // buffered, and each pending gets one outcome
		delete(l.pending, id)
	}
}

// handle processes one frame; it reports whether it held a good message.
func (l *Link) handle(ctx context.Context, frame []byte) bool {
	received := time.Now()
	good := false
	for _, msg := range proglove.Split(frame) {
		m, err := proglove.Decode(msg)
		if err != nil {
			l.bad.Note(proglove.ErrorKind(err), err)
			continue
		}
		outs, err := proglove.Normalize(m, l.cfg.Name, received)
		if err != nil {
			l.bad.Note(proglove.ErrorKind(err), err)
			continue
		}
		good = true
		if l.settle(m) {
			continue // an answer to the link's own gateway_state!, not news for browsers
		}
		l.mu.Lock()
		var derived []proglove.Out
		for _, o := range outs {
			derived = append(derived, l.roster.Observe(o)...)
		}
		l.mu.Unlock()
		for _, o := range append(outs, derived...) {
			if err := l.cfg.Publisher.Publish(ctx, o.Channel, o.Event); err != nil {
				l.log.Error("publish", "link", l.cfg.Name, "channel", o.Channel, "err", err)
			}
		}
	}
	return good
}

// settle delivers an errors or gateway_state event to the command it
// answers, if one is waiting. It reports whether the event should not be
// published: an errors event answering the link's own gateway_state!.
func (l *Link) settle(m proglove.Message) (swallow bool) {
	var ref string
	var out outcome
	switch m := m.(type) {
	case *proglove.ErrorEvent:
		ref, out.rejected = m.ReferenceID, m
	case *proglove.GatewayState:
		ref, out.answer = m.ReferenceID, m
	default:
		return false
	}
	if ref == "" {
		return false
	}
	l.mu.Lock()
	p := l.pending[ref]
	if p != nil {
		delete(l.pending, ref)
	}
	first := false
	if p != nil && p.probe && out.rejected != nil && !l.warned {
		l.warned, first = true, true
	}
	l.mu.Unlock()
	if p == nil {
		return false
	}
	p.done <- out
	if p.probe && out.rejected != nil {
		if first {
			l.log.Info("proglove mobile link: the app refuses gateway_state!; scanners become known from scanner_state events",
				"link", l.cfg.Name, "code", out.rejected.Code, "message", out.rejected.Message)
		}
		return true
	}
	return false
}

// Serves implements connector.Link: the scanner command kinds to
// scanner/<serial>/cmd, and event.CmdScannerGatewayState to
// scanner/gateway/<gateway>/cmd.
func (l *Link) Serves(target, kind string) bool {
	_, err := proglove.TargetLevel(kind, target)
	return err == nil
}

// Command implements connector.Link. The command is validated (BadRequest
// naming the rule), sent with a fresh event_id, and settled by the first of:
// an errors event naming it (DeviceRejected, "<error_code>: <error_message>"),
// for gateway_state! the gateway_state answering it (OK, answered), the
// silence of CommandTimeout (OK: the Streams API acknowledges nothing
// else), the link dropping (UnknownOutcome) or ctx (Timeout).
func (l *Link) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	level, err := proglove.TargetLevel(req.Kind, req.Target)
	if err != nil {
		return hub.CommandResult{Code: codes.BadRequest, Message: err.Error()}
	}
	body := event.NewCommand(req.Kind)
	if body == nil {
		return hub.CommandResult{Code: codes.BadRequest, Message: "unknown command kind " + req.Kind}
	}
	if len(req.Body) > 0 {
		if _, err := body.UnmarshalMsg(req.Body); err != nil {
			return hub.CommandResult{Code: codes.BadRequest, Message: "body is not a " + req.Kind + ": " + err.Error()}
		}
	}
	l.mu.Lock()
	serial := l.roster.Serial(level)
	l.mu.Unlock()
	frame, id, err := proglove.CommandFrame(serial, body, "", time.Now())
	if err != nil {
		return hub.CommandResult{Code: codes.BadRequest, Message: err.Error()}
	}

	p := &pending{done: make(chan outcome, 1)}
	l.mu.Lock()
	c := l.conn
	if c != nil {
		l.pending[id] = p
	}
	l.mu.Unlock()
	if c == nil {
		return hub.CommandResult{Code: codes.Unavailable, Message: "link " + l.cfg.Name + " is not connected; nothing was sent"}
	}
	forget := func() {
		l.mu.Lock()
		if l.pending[id] == p {
			delete(l.pending, id)
		}
		l.mu.Unlock()
	}
	// The write has its own deadline: a caller giving up mid-write must not
	// cut the link (the library closes a connection whose write is cancelled).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.WriteTimeout)
	err = c.Write(wctx, websocket.MessageText, frame)
	cancel()
	if err != nil {
		forget()
		return hub.CommandResult{Code: codes.UnknownOutcome, Message: "link dropped while sending; the gateway may or may not have received it"}
	}
	timer := time.NewTimer(l.cfg.CommandTimeout)
	defer timer.Stop()
	select {
	case out := <-p.done:
		switch {
		case out.rejected != nil:
			return hub.CommandResult{Code: codes.DeviceRejected, Message: out.rejected.Code + ": " + out.rejected.Message}
		case out.answer != nil:
			return ok(id, true)
		default:
			return hub.CommandResult{Code: codes.UnknownOutcome, Message: "link dropped before the gateway's silence confirmed the command; it may or may not have run"}
		}
	case <-timer.C:
		forget()
		select {
		case out := <-p.done: // settled as the timer fired
			if out.rejected != nil {
				return hub.CommandResult{Code: codes.DeviceRejected, Message: out.rejected.Code + ": " + out.rejected.Message}
			}
		default:
		}
		return ok(id, false)
	case <-ctx.Done():
		forget()
		return hub.CommandResult{Code: codes.Timeout, Message: "command deadline passed before the gateway's silence confirmed it; it may or may not have run"}
	}
}

func ok(id string, answered bool) hub.CommandResult {
	data, _ := (&event.ScannerCommandResult{EventID: id, Answered: answered}).MarshalMsg(nil)
	return hub.CommandResult{Code: codes.OK, Data: data}
}
