package direct

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/wasm/client"
	"github.com/fieldrelay/fieldrelay/wasm/internal/ws"
)

// State is the state of a session's link to the app: wasm/client's type,
// so that a page shows both alike. A session starts Connecting; after that
// it moves between Connected, Reconnecting (the link dropped; the cause is
// passed to OnState) and Connecting until it is Closed (by Close), which
// is final.
type State = client.State

// The states, as wasm/client names them.
const (
	Connecting   = client.Connecting
	Connected    = client.Connected
	Reconnecting = client.Reconnecting
	Closed       = client.Closed
)

// DefaultLink is the link name of a session whose Options.Link is empty.
const DefaultLink = "direct"

// Defaults of Options, those of the relay's connector for the same server
// (relay/connector/proglovemobile).
const (
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultCommandTimeout = 2 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 5 * time.Second
	DefaultMaxMessage     = 64 << 10
)

// closeGrace bounds Close's wait for the app's close frame.
const closeGrace = 2 * time.Second

// Options configure a session. A nil *Options, and every zero field, mean
// the defaults given in the fields' comments.
type Options struct {
	// Link names the link in the events' Meta.Link and in its status
	// channel, link/<Link>/status. Default DefaultLink ("direct"); give it
	// the relay's link name to make events look alike on both paths.
	Link string
	// MinBackoff and MaxBackoff bound the wait between connection attempts:
	// before attempt n (counting from 0, reset by a connection that
	// carried a good message or stayed up for MaxBackoff) the session
	// sleeps a uniformly random time
	// in (0, min(MaxBackoff, MinBackoff·2ⁿ)] ("full jitter"). Defaults
	// 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// CommandTimeout is how long a command waits for an errors event
	// naming it; silence that long is success, as the Streams API has no
	// positive acknowledgement. Default 2s.
	CommandTimeout time.Duration
	// DialTimeout bounds each connection attempt. Default 10s.
	DialTimeout time.Duration
	// WriteTimeout bounds sending one command. Default 5s.
	WriteTimeout time.Duration
	// MaxMessage is the largest message from the app accepted, in bytes;
	// larger ones are counted as "oversize" and dropped, and the link
	// stays up. Default 64 KiB.
	MaxMessage int64
	// SkipGatewayState stops the session from sending gateway_state! after
	// each connect to learn which scanners are connected (Insight Mobile
	// need not support it; scanner_state events say the same over time).
	SkipGatewayState bool
	// RawEvents leaves Event.Value nil: events keep only their msgp Data,
	// for consumers that decode it themselves (the browser bridge).
	RawEvents bool
	// OnState, if set, is called on every change of state with its cause:
	// the error that ended the link for Reconnecting, nil otherwise. It is
	// called from the session's goroutine (or, for Closed, from Close) and
	// must not block.
	OnState func(State, error)
	// OnError, if set, is called for every message from the app that was
	// dropped as bad input, with its kind (a proglove.ErrorKind label,
	// "binary" or "oversize") and the error. It is called from the
	// session's goroutine and must not block.
	OnError func(kind string, err error)
}

// resolve checks o and fills in the defaults.
func resolve(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Link == "" {
		o.Link = DefaultLink
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"MinBackoff", &o.MinBackoff, DefaultMinBackoff},
		{"MaxBackoff", &o.MaxBackoff, DefaultMaxBackoff},
		{"CommandTimeout", &o.CommandTimeout, DefaultCommandTimeout},
		{"DialTimeout", &o.DialTimeout, DefaultDialTimeout},
		{"WriteTimeout", &o.WriteTimeout, DefaultWriteTimeout},
	} {
		if *d.v < 0 {
			return o, errors.New("direct: " + d.name + " must not be negative, got " + d.v.String())
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.MinBackoff > o.MaxBackoff {
		return o, errors.New("direct: MinBackoff " + o.MinBackoff.String() + " is above MaxBackoff " + o.MaxBackoff.String())
	}
	if o.MaxMessage < 0 {
		return o, errors.New("direct: MaxMessage must not be negative, got " + strconv.FormatInt(o.MaxMessage, 10))
	}
	if o.MaxMessage == 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	return o, nil
}

// Stats counts what a session has done since Dial.
type Stats struct {
	// Reconnects counts connections established after the first.
	Reconnects uint64
	// Events counts events published in the session's log: normalised
	// messages, derived scanner states and link statuses.
	Events uint64
	// Delivered counts events handed to subscriptions (once per
	// subscription), Latest values included.
	Delivered uint64
	// BadInput counts messages from the app dropped as bad input, and
	// BadInputKinds the same by kind (proglove.ErrorKind labels, "binary",
	// "oversize"). The map is a copy.
	BadInput      uint64
	BadInputKinds map[string]uint64
}

// Session is a direct-mode session with one Insight Mobile app. It
// reconnects by itself until Close. Its methods are safe for concurrent
// use.
type Session struct {
	url   string
	opts  Options
	epoch string

	// ctx ends when the session is closed; it bounds everything the
	// session's goroutine does.
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when the session's goroutine (run) has returned.
	done      chan struct{}
	closeOnce sync.Once
	// inCallback is set while a user callback runs, so that Close called
	// from one does not wait for the goroutine running it.
	inCallback atomic.Bool
	// pokes holds a request to end a backoff at once (ws.WatchPage).
	pokes chan struct{}

	state atomic.Int32
	stats struct {
		reconnects, events, delivered, bad atomic.Uint64
	}

	// mu guards the fields below and every Subscription's state. Lock
	// order: a Subscription's dmu, then mu. Nothing blocking (writes,
	// channel sends, callbacks) happens under mu.
	mu       sync.Mutex
	closed   bool
	lastErr  error    // why the last attempt or connection ended
	conn     *ws.Conn // the current connection, nil while down
	pending  map[string]*pending
	roster   proglove.Roster
	subs     map[uint32]*Subscription
	nextSub  uint32
	offset   uint64            // the last offset given
	prev     map[string]uint64 // channel → offset of its last event
	latest   map[string]Event  // retained channel → its last event
	badKinds map[string]uint64
	status   event.LinkStatus // the last link status published
}

// Dial checks url (ws://<host>:<port>, the port in [1024, 65536):
// proglove.ValidateURL) and opts, connects to the app, and returns once
// the WebSocket is open. Until then it retries with backoff until ctx is
// done; the error then names the last attempt's failure too.
//
// After Dial returns the session reconnects by itself whenever the link
// drops, until Close. ctx only bounds Dial itself.
func Dial(ctx context.Context, url string, opts *Options) (*Session, error) {
	if err := proglove.ValidateURL(url); err != nil {
		return nil, fmt.Errorf("direct: %w", err)
	}
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	s := &Session{
		url:      url,
		opts:     o,
		epoch:    proglove.NewEventID(),
		done:     make(chan struct{}),
		pokes:    make(chan struct{}, 1),
		pending:  make(map[string]*pending),
		subs:     make(map[uint32]*Subscription),
		prev:     make(map[string]uint64),
		latest:   make(map[string]Event),
		badKinds: make(map[string]uint64),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	first := make(chan struct{})
	go s.run(first)
	select {
	case <-first:
		return s, nil
	case <-ctx.Done():
		s.Close()
		s.mu.Lock()
		last := s.lastErr
		s.mu.Unlock()
		if last != nil {
			return nil, &connectError{ctx: ctx.Err(), last: last}
		}
		return nil, ctx.Err()
	}
}

// Epoch returns the session's epoch, the Epoch of every Position it gives.
func (s *Session) Epoch() string { return s.epoch }

// State returns the session's current state.
func (s *Session) State() State { return State(s.state.Load()) }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	st := Stats{
		Reconnects: s.stats.reconnects.Load(),
		Events:     s.stats.events.Load(),
		Delivered:  s.stats.delivered.Load(),
		BadInput:   s.stats.bad.Load(),
	}
	s.mu.Lock()
	st.BadInputKinds = make(map[string]uint64, len(s.badKinds))
	for k, n := range s.badKinds {
		st.BadInputKinds[k] = n
	}
	s.mu.Unlock()
	return st
}

// Scanners lists the serials of the scanners the session believes
// connected, sorted, as the app spells them.
func (s *Session) Scanners() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roster.Connected()
}

// Close closes the WebSocket with code 1000 and stops the session: its
// goroutine returns, every subscription ends (Events channels are closed),
// and commands waiting on the app fail with [ErrClosed]. Close is
// idempotent and returns nil.
//
// Called from a callback (OnEvents, OnState, OnError), Close cannot wait
// for the goroutine that runs the callback; that goroutine returns as soon
// as the callback does.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		c := s.conn
		subs := s.endAllLocked(ErrClosed)
		for id, p := range s.pending {
			p.done <- outcome{closed: true} // buffered; each pending gets one outcome
			delete(s.pending, id)
		}
		s.mu.Unlock()

		// Subscriptions' done channels are closed, so a read loop blocked
		// on a full Events channel lets go and can read the close frame.
		// An app that does not answer the close is cut after closeGrace:
		// ending the context drops the link.
		if c != nil {
			cut := time.AfterFunc(closeGrace, s.cancel)
			c.Close(1000, "")
			cut.Stop()
		}
		s.cancel()
		if !s.inCallback.Load() {
			<-s.done
		}
		for _, sub := range subs {
			sub.closeEvents()
		}
		s.setState(Closed, nil)
	})
	return nil
}

// run is the session's goroutine: it connects, reads, and reconnects with
// backoff until the session is closed. It closes first once the first
// connection is up.
func (s *Session) run(first chan<- struct{}) {
	defer close(s.done)
	defer ws.WatchPage(s.poke)()
	bo := backoff{min: s.opts.MinBackoff, max: s.opts.MaxBackoff}
	ever := false
	for {
		s.setStatus(event.LinkConnecting, "", bo.attempt, 0)
		err := s.connection(&bo, func() {
			if ever {
				s.stats.reconnects.Add(1)
			} else {
				ever = true
				close(first)
			}
		})
		if s.ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		s.setState(Reconnecting, err)
		d := bo.next()
		s.setStatus(event.LinkBackoff, err.Error(), bo.attempt, d)
		if !s.backoffSleep(d) {
			return
		}
		s.setState(Connecting, nil)
	}
}

// connection dials once and serves the connection until it ends, and
// returns why. It calls connected once the WebSocket is open.
func (s *Session) connection(bo *backoff, connected func()) error {
	dctx, cancel := context.WithTimeout(s.ctx, s.opts.DialTimeout)
	c, err := ws.Dial(dctx, s.url, nil)
	cancel()
	if err != nil {
		return err
	}
	// Messages up to the read limit are read whole; those over MaxMessage
	// are then dropped and counted, and the link stays up, as the
	// connector's. Only a message over the limit itself (far beyond
	// anything the app sends) drops the link.
	c.SetReadLimit(max(s.opts.MaxMessage+1, ws.DefaultReadLimit))

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.CloseNow()
		return ErrClosed
	}
	s.conn = c
	s.lastErr = nil
	s.mu.Unlock()
	select { // a poke from before this connection is stale
	case <-s.pokes:
	default:
	}
	since := time.Now()
	s.setState(Connected, nil)
	s.setStatus(event.LinkConnected, "", 0, 0)
	connected()

	err = s.serve(c, bo)

	c.CloseNow()
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	for id, p := range s.pending {
		p.done <- outcome{dropped: true} // buffered; each pending gets one outcome
		delete(s.pending, id)
	}
	s.mu.Unlock()
	if time.Since(since) >= s.opts.MaxBackoff {
		// A link that stayed up this long worked, even if the app had
		// nothing to say: the next outage's backoff starts afresh.
		bo.reset()
	}
	return err
}

var errBinary = errors.New("direct: binary frame: the Streams API sends text")

// serve sends the session's gateway_state! and reads until the link ends.
func (s *Session) serve(c *ws.Conn, bo *backoff) error {
	if !s.opts.SkipGatewayState {
		// Scanners may have come and gone while the link was down: ask
		// which are connected before assuming anything (the Roster
		// reconciles when the answer comes).
		if err := s.probe(c); err != nil {
			return err
		}
	}
	for {
		typ, msg, err := c.Read(s.ctx)
		if err != nil {
			return err
		}
		switch {
		case typ != ws.MessageText:
			s.bad("binary", errBinary)
		case int64(len(msg)) > s.opts.MaxMessage:
			s.bad("oversize", errors.New("direct: message of "+strconv.Itoa(len(msg))+
				" bytes, over MaxMessage "+strconv.FormatInt(s.opts.MaxMessage, 10)))
		default:
			if s.handle(msg) {
				bo.reset() // the link works: the next outage's backoff starts afresh
			}
		}
	}
}

// probe sends the session's own gateway_state!.
func (s *Session) probe(c *ws.Conn) error {
	frame, id, err := proglove.CommandFrame("", &event.ScannerGatewayState{}, "", time.Now())
	if err != nil {
		return err // cannot happen: the body has no fields
	}
	s.mu.Lock()
	s.pending[id] = &pending{probe: true, done: make(chan outcome, 1)}
	s.mu.Unlock()
	wctx, cancel := context.WithTimeout(s.ctx, s.opts.WriteTimeout)
	defer cancel()
	if err := c.Write(wctx, ws.MessageText, frame); err != nil {
		return errors.New("direct: sending gateway_state!: " + err.Error())
	}
	return nil
}

// handle processes one text frame and reports whether it held a good
// message.
func (s *Session) handle(frame []byte) bool {
	outs, err := proglove.NormalizeFrame(frame, s.opts.Link, time.Now())
	if err != nil {
		// NormalizeFrame joins the errors of the frame's bad messages
		// (errors.Join): count each.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				s.bad(proglove.ErrorKind(e), e)
			}
		} else {
			s.bad(proglove.ErrorKind(err), err)
		}
	}
	if len(outs) == 0 {
		return false
	}
	var b batch
	s.mu.Lock()
	for _, o := range outs {
		if s.settleLocked(o.Event) {
			continue // the app refusing the session's own gateway_state!: not news
		}
		s.publishLocked(o.Channel, o.Event, &b)
		for _, d := range s.roster.Observe(o) {
			s.publishLocked(d.Channel, d.Event, &b)
		}
	}
	s.mu.Unlock()
	s.deliver(&b)
	return true
}

// bad counts one message dropped as bad input and reports it.
func (s *Session) bad(kind string, err error) {
	s.mu.Lock()
	s.badKinds[kind]++
	s.mu.Unlock()
	s.stats.bad.Add(1)
	if s.opts.OnError != nil {
		s.callback(func() { s.opts.OnError(kind, err) })
	}
}

// setStatus publishes the link's state on link/<Link>/status if it
// changed, as the connector does.
func (s *Session) setStatus(state, reason string, attempt uint32, retry time.Duration) {
	var b batch
	s.mu.Lock()
	if s.closed || s.status.State == state && s.status.Reason == reason && s.status.Attempt == attempt {
		s.mu.Unlock()
		return
	}
	now := time.Now().UnixMicro()
	st := &event.LinkStatus{
		Meta:    event.Meta{Link: s.opts.Link, Protocol: proglove.Protocol, Time: now, Received: now},
		State:   state,
		Reason:  reason,
		Attempt: attempt,
		RetryMS: retry.Milliseconds(),
	}
	s.status = *st
	s.publishLocked(event.LinkStatusChannel(s.opts.Link), st, &b)
	s.mu.Unlock()
	s.deliver(&b)
}

// poke ends a backoff at once. ws.WatchPage calls it when the page comes
// back online or visible. It never blocks.
func (s *Session) poke() {
	select {
	case s.pokes <- struct{}{}:
	default:
	}
}

// backoffSleep waits for d, or less if poked, and reports whether the
// session is still running.
func (s *Session) backoffSleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.pokes:
	case <-s.ctx.Done():
		return false
	}
	return true
}

// setState records a change of state and reports it to OnState. Closed is
// final.
func (s *Session) setState(st State, cause error) {
	for {
		old := s.state.Load()
		if State(old) == Closed || State(old) == st {
			return
		}
		if s.state.CompareAndSwap(old, int32(st)) {
			break
		}
	}
	if s.opts.OnState != nil {
		s.callback(func() { s.opts.OnState(st, cause) })
	}
}

// callback runs a user callback, marking it for Close.
func (s *Session) callback(fn func()) {
	nested := s.inCallback.Swap(true)
	defer s.inCallback.Store(nested)
	fn()
}

// backoff computes reconnect delays as the relay's connectors do: capped
// exponential with full jitter, delay in (0, min(max, min·2^attempt)].
type backoff struct {
	min, max time.Duration
	attempt  uint32
}

func (b *backoff) next() time.Duration {
	ceil := b.max
	if b.attempt < 30 {
		if c := b.min << b.attempt; c > 0 && c < b.max {
			ceil = c
		}
	}
	b.attempt++
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

func (b *backoff) reset() { b.attempt = 0 }

// connectError is what Dial returns when its context ends before the
// first connection: both the context's error and the last attempt's.
type connectError struct {
	ctx, last error
}

func (e *connectError) Error() string {
	return "direct: failed to connect: " + e.ctx.Error() + " (last attempt: " + e.last.Error() + ")"
}

func (e *connectError) Unwrap() []error { return []error{e.ctx, e.last} }
