package client

import (
	"context"
	"sync"

	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// Position is a place in a tenant's event log: an offset within an epoch.
// Offsets grow within an epoch; a new epoch (the relay lost its log) starts
// them again.
type Position struct {
	Epoch  string
	Offset uint64
}

// Event is one event delivered to a subscription.
type Event struct {
	// Channel is the channel the event was published on.
	Channel string
	// Position is the event's place in the log. Save it to resume with
	// SubscribeOptions.Since after a restart.
	Position Position
	// Prev is the offset of the previous event on the same channel (0 if
	// none).
	Prev uint64
	// Kind names the event's type (see package event).
	Kind string
	// Data is the msgp encoding of the typed event. It is shared by every
	// subscription the event is delivered to: do not modify it.
	Data []byte
	// Value is Data decoded, or nil if this version does not know Kind,
	// if Data does not decode as Kind's type (see Stats.Undecodable), if
	// Options.RawEvents is set, or in the browser build, which leaves
	// decoding to JavaScript (see type Value).
	Value Value
	// Latest marks the last known value of a state channel, sent on
	// subscribe when SubscribeOptions.Latest asked for it. It may be older
	// than events already delivered, and does not move Position.
	Latest bool
	// Replayed marks an event the relay replayed to recover what the
	// subscription missed (after a reconnect, a gap, or from Since).
	Replayed bool
}

// SubscribedInfo describes one confirmation of a subscription by the relay.
type SubscribedInfo struct {
	// Position is where the subscription stands: the last event given to
	// it, or the point it starts from.
	Position Position
	// Recovered reports that the relay replays everything the subscription
	// missed since Position (Replayed events follow). After a reconnect
	// false means events were lost: the relay no longer had them, or its
	// log changed epoch; the subscription continues from Position.
	Recovered bool
	// Replayed is the number of events the relay replays.
	Replayed int
	// Resumed is false for the first confirmation and true for later ones
	// (after a reconnect or a recovery from a gap).
	Resumed bool
}

// SubscribeOptions configure a subscription. A nil *SubscribeOptions means
// every default.
type SubscribeOptions struct {
	// Recover asks the relay to replay the events published after Since.
	// A non-nil Since implies it; without Since it has no effect. (Every
	// subscription recovers after reconnects and gaps regardless.)
	Recover bool
	// Since resumes the subscription from a known position, e.g. the
	// Position of the last event processed before a page reload. Default:
	// none, the subscription starts live.
	Since *Position
	// Latest asks for the last known value of every matching state
	// channel when the subscription starts, or resumes without recovery.
	Latest bool
	// OnEvents, if set, receives the subscription's events instead of the
	// Events channel: once per WebSocket message read from the relay,
	// with all of that message's events for this subscription, in order.
	// It is called from the client's read loop: while it runs nothing else
	// is read, so it must not wait for Subscribe or Command (start a
	// goroutine). The slice is the callback's to keep.
	OnEvents func([]Event)
	// OnSubscribed, if set, is called every time the relay confirms the
	// subscription, including after each reconnect and gap recovery,
	// before the events that follow the confirmation. It is called from the
	// read loop, like OnEvents.
	OnSubscribed func(SubscribedInfo)
	// Buffer is the capacity of the Events channel. When it is full the
	// read loop waits, which slows down the whole connection: the relay
	// may then close it as slow, and the client reconnects and recovers.
	// Default: 1024.
	Buffer int
}

const defaultBuffer = 1024

// subState is where a subscription stands on the current connection.
type subState uint8

const (
	subPending    subState = iota // Subscribe sent (or to be sent), no Subscribed yet
	subActive                     // confirmed: events are delivered
	subRecovering                 // a gap was found; re-Subscribe sent, live events held back
	subEnded                      // unsubscribed, refused or closed
)

// Subscription is a subscription to every channel that a pattern matches.
// It lives across reconnects until Unsubscribe or Client.Close.
type Subscription struct {
	c            *Client
	id           uint32
	pattern      string
	latest       bool
	onEvents     func([]Event)
	onSubscribed func(SubscribedInfo)

	events chan Event    // nil with OnEvents
	done   chan struct{} // closed when the subscription ends
	ready  chan struct{} // closed at the first Subscribed, or when it ends

	// Guarded by Client.mu.
	state     subState
	confirmed bool   // a Subscribed was received
	err       error  // why it ended
	epoch     string // of the last Subscribed (or Since)
	pos       uint64 // offset of the last event given to it
	from      uint64 // offset it became live from, on this connection
	req       uint32 // of the Subscribe sent on reqConn
	reqConn   *conn  // the connection the last Subscribe went on

	// dmu serializes sends on events with closing it.
	dmu          sync.Mutex
	eventsClosed bool

	// hmu guards handed: the position of the last event handed over.
	hmu    sync.Mutex
	handed Position
}

// Subscribe subscribes to every channel that pattern matches (MQTT-style
// wildcards: '+' one level, '#' the rest) and returns once the relay has
// confirmed it. If the client is not connected it waits for a connection.
// The wait is bounded by ctx and Options.CommandTimeout.
//
// A subscription the relay refuses ends with a [*ReplyError]. The
// subscription is resumed after every reconnect, recovering the events it
// missed.
func (c *Client) Subscribe(ctx context.Context, pattern string, opts *SubscribeOptions) (*Subscription, error) {
	if err := channel.ValidPattern(pattern); err != nil {
		return nil, err
	}
	var o SubscribeOptions
	if opts != nil {
		o = *opts
	}
	s := &Subscription{
		c:            c,
		pattern:      pattern,
		latest:       o.Latest,
		onEvents:     o.OnEvents,
		onSubscribed: o.OnSubscribed,
		done:         make(chan struct{}),
		ready:        make(chan struct{}),
	}
	if o.OnEvents == nil {
		n := o.Buffer
		if n <= 0 {
			n = defaultBuffer
		}
		s.events = make(chan Event, n)
	}
	if o.Since != nil && o.Since.Epoch != "" {
		s.epoch, s.pos = o.Since.Epoch, o.Since.Offset
		s.handed = *o.Since
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.CommandTimeout)
	defer cancel()

	c.mu.Lock()
	if c.closed {
		err := c.closeErr
		c.mu.Unlock()
		return nil, err
	}
	c.nextSub++
	s.id = c.nextSub
	c.subs[s.id] = s
	cn := c.conn
	var f wire.Frame
	if cn != nil {
		f = c.subscribeFrameLocked(cn, s)
	}
	c.mu.Unlock()
	if f != nil {
		// An error drops the link; the next connection subscribes again.
		cn.writeFrames([]wire.Frame{f}, c.opts.CommandTimeout)
	}

	select {
	case <-s.ready:
	case <-ctx.Done():
	}
	c.mu.Lock()
	ok, err := s.confirmed, s.err
	c.mu.Unlock()
	switch {
	case ok:
		return s, nil
	case err != nil:
		return nil, err
	}
	s.Unsubscribe(context.WithoutCancel(ctx))
	return nil, waitError(ctx, "no subscribed from the relay in time")
}

// waitError turns the end of ctx into a Timeout ReplyError if a deadline
// passed, or into ctx.Err() if the caller cancelled.
func waitError(ctx context.Context, msg string) error {
	err := ctx.Err()
	if err == context.DeadlineExceeded {
		return &ReplyError{Code: codes.Timeout, Message: msg, cause: err}
	}
	return err
}

// subscribeFrameLocked makes the Subscribe that (re)starts s on cn: a
// recovery from where s stands if it has a position.
func (c *Client) subscribeFrameLocked(cn *conn, s *Subscription) wire.Frame {
	req := cn.nextReq()
	s.req, s.reqConn = req, cn
	if s.state != subRecovering {
		s.state = subPending
	}
	cn.pending[req] = pending{sub: s}
	f := &wire.Subscribe{Req: req, Sub: s.id, Pattern: s.pattern, Latest: s.latest}
	if s.epoch != "" {
		f.Recover, f.Epoch, f.Offset = true, s.epoch, s.pos
	}
	return f
}

// disconnectedLocked marks s to be subscribed again on the next connection.
func (s *Subscription) disconnectedLocked() {
	if s.state != subEnded {
		s.state = subPending
		s.reqConn = nil
	}
}

// endLocked ends s with err (nil for Unsubscribe). The caller removes it
// from Client.subs and calls closeEvents without Client.mu.
func (s *Subscription) endLocked(err error) {
	if s.state == subEnded {
		return
	}
	s.state = subEnded
	s.err = err
	close(s.done)
	if !s.confirmed {
		close(s.ready)
	}
}

// closeEvents closes the Events channel once no send is in progress.
func (s *Subscription) closeEvents() {
	if s.events == nil {
		return
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if !s.eventsClosed {
		s.eventsClosed = true
		close(s.events)
	}
}

// deliver hands evs to the subscriber and returns how many it took.
// Position and Stats are updated before an event is handed over, so that a
// subscriber reading them after receiving it sees it counted.
func (s *Subscription) deliver(c *Client, evs []Event) {
	if s.onEvents != nil {
		select {
		case <-s.done:
			return
		default:
		}
		s.handOver(evs)
		c.stats.delivered.Add(uint64(len(evs)))
		c.callback(func() { s.onEvents(evs) })
		return
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if s.eventsClosed {
		return
	}
	for i := range evs {
		prev := s.handOver(evs[i : i+1])
		c.stats.delivered.Add(1)
		select {
		case s.events <- evs[i]:
		case <-s.done:
			s.hmu.Lock()
			s.handed = prev
			s.hmu.Unlock()
			c.stats.delivered.Add(^uint64(0))
			return
		}
	}
}

// handOver records the position of the last non-Latest event of evs and
// returns the previous one.
func (s *Subscription) handOver(evs []Event) Position {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	prev := s.handed
	for i := len(evs) - 1; i >= 0; i-- {
		if !evs[i].Latest {
			s.handed = evs[i].Position
			break
		}
	}
	return prev
}

// Events returns the channel the subscription's events arrive on, in
// offset order, each offset at most once. It is closed when the
// subscription ends (see Err). It is nil if SubscribeOptions.OnEvents is
// set.
func (s *Subscription) Events() <-chan Event { return s.events }

// Position returns the position of the last event handed to the subscriber
// (sent on Events or passed to OnEvents), or of the point the subscription
// started from if none was yet. An event still in the Events buffer counts
// as handed: to resume after a restart, save the Position of the last
// event you processed instead.
func (s *Subscription) Position() Position {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	return s.handed
}

// Done returns a channel that is closed when the subscription ends: by
// Unsubscribe, by Client.Close, or by the relay refusing it on a reconnect
// (see Err). With SubscribeOptions.OnEvents it is how a subscriber learns
// of the end.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Pattern returns the subscription's pattern.
func (s *Subscription) Pattern() string { return s.pattern }

// Err returns why the subscription ended: nil while it is active or after
// Unsubscribe, [ErrClosed] (or the relay's terminal [*CloseError]) after
// the client closed, a [*ReplyError] if the relay refused it on a
// reconnect.
func (s *Subscription) Err() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.err
}

// Unsubscribe ends the subscription: no event is delivered after it
// returns (except from an OnEvents call already running) and the Events
// channel is closed. It tells the relay without waiting for its answer, so
// it may be called from OnEvents. It is idempotent; ctx is unused today
// and kept for symmetry with the other calls.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	c := s.c
	c.mu.Lock()
	if s.state == subEnded {
		c.mu.Unlock()
		return nil
	}
	delete(c.subs, s.id)
	cn := s.reqConn
	s.endLocked(nil)
	var f wire.Frame
	if cn != nil && cn == c.conn {
		req := cn.nextReq()
		cn.pending[req] = pending{what: "unsubscribe"}
		f = &wire.Unsubscribe{Req: req, Sub: s.id}
	}
	c.mu.Unlock()
	s.closeEvents()
	if f != nil {
		// A failed write drops the link, and the relay forgets the
		// subscription with it.
		cn.writeFrames([]wire.Frame{f}, c.opts.CommandTimeout)
	}
	return nil
}
