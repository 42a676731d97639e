package client

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// State is the state of a client's connection to the relay.
type State int

// States. A client starts Connecting; after that it moves between
// Connected, Reconnecting and Connecting until it is Closed, which is final.
const (
	// Connecting: dialing the relay and waiting for Connected.
	Connecting State = iota
	// Connected: the relay accepted the connection.
	Connected
	// Reconnecting: the link dropped (the cause is passed to OnState); the
	// client waits out its backoff before Connecting again.
	Reconnecting
	// Closed: by Close, or by the relay with a terminal close code.
	Closed
)

// String returns the state's name in lower case.
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Options configure a client. A nil *Options means every default.
type Options struct {
	// Token authenticates the client in the Connect frame. Ignored when
	// GetToken is set.
	Token string
	// GetToken, if set, is called for every connection attempt (so a
	// reconnect after codes.TokenExpired gets a fresh token) and before the
	// token expires, to refresh it in-session. It is called from the
	// client's own goroutine with a context that ends when the client is
	// closed or the attempt gives up.
	GetToken func(ctx context.Context) (string, error)
	// Name labels the client in the relay's logs (app name and version).
	// Default: none.
	Name string
	// MinBackoff and MaxBackoff bound the wait between connection attempts:
	// before attempt n (counting from 0, reset by every Connected) the
	// client sleeps a uniformly random time in [0, min(MaxBackoff,
	// MinBackoff·2ⁿ)) ("full jitter"). Defaults: 250ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// CommandTimeout bounds how long Command and Subscribe wait, including
	// waiting for a connection, and how long one connection attempt may
	// take from dial to Connected. Default: 30s.
	CommandTimeout time.Duration
	// OnState, if set, is called on every change of state with its cause:
	// the error that ended the connection for Reconnecting, the
	// [*CloseError] (or nil after Close) for Closed, nil otherwise. It is
	// called from the client's goroutine (or, for Closed, from Close) and
	// must not block.
	OnState func(State, error)
	// RawEvents leaves Event.Value nil: events keep only their msgp Data,
	// for consumers that decode it themselves. The browser bridge does, to
	// transcode it straight to JavaScript. Default: false, Value is decoded.
	RawEvents bool
	// Log, if set, receives the client's log records: a level, a message
	// and key-value pairs, as log/slog takes them. It is called from the
	// client's goroutines and must not block. Default: discard. With
	// log/slog:
	//
	//	Log: func(l client.Level, msg string, args ...any) {
	//		logger.Log(context.Background(), slog.Level(l), msg, args...)
	//	},
	Log func(level Level, msg string, args ...any)
}

// Defaults of Options.
const (
	defaultMinBackoff     = 250 * time.Millisecond
	defaultMaxBackoff     = 10 * time.Second
	defaultCommandTimeout = 30 * time.Second
	// defaultPing is used when Connected gives no ping interval.
	defaultPing = 25 * time.Second
	// closeGrace bounds Close's wait for the relay's close frame.
	closeGrace = 2 * time.Second
)

// Stats counts what a client has done since Dial.
type Stats struct {
	// Reconnects counts connections established after the first.
	Reconnects uint64
	// Gaps counts events found missing while connected; each one made a
	// subscription recover.
	Gaps uint64
	// Delivered counts events handed to subscriptions.
	Delivered uint64
	// Duplicates counts events dropped because the subscription had
	// already been given their offset.
	Duplicates uint64
	// Lost counts events found missing that could not be recovered: on
	// a wildcard subscription, a missing event older than one already
	// delivered from another channel (delivering it would break offset
	// order). Each is logged at level Error.
	Lost uint64
	// Undecodable counts events of a known kind whose Data is not exactly
	// one msgpack value of the kind's type: they are delivered with a nil
	// Value and their Data, and each is logged at level Warn. Only events
	// the client decodes count (not with Options.RawEvents, nor in the
	// browser build).
	Undecodable uint64
}

// Client is a connection to a fieldrelay relay that reconnects by itself
// and keeps its subscriptions across reconnects. Its methods are safe for
// concurrent use.
type Client struct {
	url  string
	opts Options
	log  logger

	// ctx ends when the client is closed; it bounds everything the
	// client's goroutine does.
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when the client's goroutine (run) has returned.
	done      chan struct{}
	closeOnce sync.Once
	// inCallback is set while run calls a user callback, so that Close
	// called from a callback does not wait for run, which would deadlock.
	inCallback atomic.Bool

	state atomic.Int32
	stats struct {
		reconnects, gaps, delivered, duplicates, lost, undecodable atomic.Uint64
	}

	// mu guards the fields below and every Subscription's session fields.
	// Lock order: mu, then a Subscription's dmu. Nothing blocking (writes,
	// channel sends, callbacks) happens under mu.
	mu       sync.Mutex
	closed   bool
	closeErr error // ErrClosed or the terminal *CloseError
	lastErr  error // why the last connection attempt or connection ended
	conn     *conn // the current connection once Connected, else nil
	// wake is closed, and replaced, when conn or closed changes.
	wake    chan struct{}
	subs    map[uint32]*Subscription
	nextSub uint32
	// pokes holds a request to check the link at once (see poke).
	pokes       chan struct{}
	pokeTimeout time.Duration

	// epoch is the epoch of the tenant's log the client last heard of;
	// lastSeen holds, per channel, the greatest offset received in it.
	epoch    string
	lastSeen map[string]uint64
}

// Dial connects to the relay at url (ws:// or wss://) and returns once the
// relay has accepted the connection. Until then it retries with backoff
// (see Options.MinBackoff) until ctx is done or the relay closes with a
// terminal code, which Dial returns as a [*CloseError].
//
// After Dial returns, the client reconnects by itself in the background
// whenever the link drops, and resumes its subscriptions, until Close.
// ctx only bounds Dial itself.
func Dial(ctx context.Context, url string, opts *Options) (*Client, error) {
	c := newClient(url, opts)
	first := make(chan error, 1)
	go c.run(first)
	select {
	case err := <-first:
		if err != nil {
			<-c.done
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Close()
		select {
		case err := <-first:
			if err != nil {
				return nil, err
			}
		default:
		}
		c.mu.Lock()
		last := c.lastErr
		c.mu.Unlock()
		if last != nil {
			return nil, &connectError{ctx: ctx.Err(), last: last}
		}
		return nil, ctx.Err()
	}
}

func newClient(url string, opts *Options) *Client {
	c := &Client{
		url:   url,
		done:  make(chan struct{}),
		wake:  make(chan struct{}),
		pokes: make(chan struct{}, 1),

		pokeTimeout: pokeTimeout,
		subs:        make(map[uint32]*Subscription),
		lastSeen:    make(map[string]uint64),
	}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MinBackoff <= 0 {
		c.opts.MinBackoff = defaultMinBackoff
	}
	if c.opts.MaxBackoff <= 0 {
		c.opts.MaxBackoff = defaultMaxBackoff
	}
	if c.opts.MaxBackoff < c.opts.MinBackoff {
		c.opts.MaxBackoff = c.opts.MinBackoff
	}
	if c.opts.CommandTimeout <= 0 {
		c.opts.CommandTimeout = defaultCommandTimeout
	}
	c.log = logger{c.opts.Log}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// State returns the client's current state.
func (c *Client) State() State { return State(c.state.Load()) }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Reconnects:  c.stats.reconnects.Load(),
		Gaps:        c.stats.gaps.Load(),
		Delivered:   c.stats.delivered.Load(),
		Duplicates:  c.stats.duplicates.Load(),
		Lost:        c.stats.lost.Load(),
		Undecodable: c.stats.undecodable.Load(),
	}
}

// Close closes the connection with code 1000 and stops the client: every
// goroutine it started returns, every subscription's Events channel is
// closed, and calls waiting on the relay fail with [ErrClosed]. Close is
// idempotent and returns nil.
//
// Called from a callback (OnEvents, OnSubscribed, OnState), Close cannot
// wait for the goroutine that runs the callback; that goroutine returns as
// soon as the callback does.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		terminal := c.closed
		if !c.closed {
			c.closed = true
			c.closeErr = ErrClosed
		}
		cn := c.conn
		subs := c.endAllLocked(ErrClosed)
		if cn != nil {
			cn.failPendingLocked(ErrClosed)
		}
		c.wakeLocked()
		c.mu.Unlock()

		// Subscriptions' done channels are closed, so a read loop blocked
		// on a full Events channel lets go and can read the close frame.
		// A relay that does not answer the close (a half-open link) is cut
		// after closeGrace: ending the contexts drops the link.
		if cn != nil {
			cut := time.AfterFunc(closeGrace, c.cancel)
			cn.t.Close(codes.Normal, "")
			cut.Stop()
		}
		c.cancel()
		if !c.inCallback.Load() {
			<-c.done
		}
		for _, s := range subs {
			s.closeEvents()
		}
		if !terminal {
			c.setState(Closed, nil)
		}
	})
	return nil
}

// poke asks the client to check its link now rather than at the next
// ping: connected, it pings at once and drops the link if nothing arrives
// within pokeTimeout; waiting out a backoff, it dials at once. The browser
// build calls it when the page comes back online or becomes visible again,
// when a link may have died unnoticed (a sleeping tab's timers are
// throttled) or a backoff may be waiting for nothing. It never blocks.
func (c *Client) poke() {
	select {
	case c.pokes <- struct{}{}:
	default:
	}
}

// setState records a change of state and reports it to OnState. Closed is
// final.
func (c *Client) setState(s State, cause error) {
	for {
		old := c.state.Load()
		if State(old) == Closed || State(old) == s {
			return
		}
		if c.state.CompareAndSwap(old, int32(s)) {
			break
		}
	}
	if s == Reconnecting && cause != nil {
		c.log.Info("fieldrelay: connection lost", "err", cause)
	}
	if c.opts.OnState != nil {
		c.callback(func() { c.opts.OnState(s, cause) })
	}
}

// callback runs a user callback, marking it for Close.
func (c *Client) callback(fn func()) {
	nested := c.inCallback.Swap(true)
	defer c.inCallback.Store(nested)
	fn()
}

// wakeLocked wakes everything waiting for a change of connection.
func (c *Client) wakeLocked() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// waitConn returns the current connection, waiting for one until ctx is
// done or the client is closed.
func (c *Client) waitConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			err := c.closeErr
			c.mu.Unlock()
			return nil, err
		}
		cn, wake := c.conn, c.wake
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// endAllLocked ends every subscription with err and returns them; their
// Events channels are still to be closed (closeEvents), without mu.
func (c *Client) endAllLocked(err error) []*Subscription {
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		s.endLocked(err)
		subs = append(subs, s)
	}
	clear(c.subs)
	return subs
}

// terminate closes the client after a terminal close by the relay. It runs
// on the client's goroutine, which returns right after.
func (c *Client) terminate(err *CloseError) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closeErr = err
	subs := c.endAllLocked(err)
	c.wakeLocked()
	c.mu.Unlock()
	for _, s := range subs {
		s.closeEvents()
	}
	c.log.Warn("fieldrelay: closed by relay", "code", uint16(err.Code), "reason", err.Reason)
	c.setState(Closed, err)
	c.cancel()
}
