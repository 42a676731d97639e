package direct

import (
	"context"
	"sync"

	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/event"
)

// Position is a place in a session's event log: an offset within the
// session's epoch. The epoch is a fresh random id per Dial; offsets count
// the session's events from 1.
type Position struct {
	Epoch  string
	Offset uint64
}

// Event is one event delivered to a subscription; the same shape as
// wasm/client's Event.
type Event struct {
	// Channel is the channel the event was published on.
	Channel string
	// Position is the event's place in the session's log.
	Position Position
	// Prev is the offset of the previous event on the same channel (0 if
	// none).
	Prev uint64
	// Kind names the event's type (see package event).
	Kind string
	// Data is the msgp encoding of the typed event. It is shared by every
	// subscription the event is delivered to: do not modify it.
	Data []byte
	// Value is the typed event, or nil with Options.RawEvents. It is
	// shared like Data: do not modify it.
	Value event.Event
	// Latest marks the last known value of a state channel, delivered on
	// subscribe when SubscribeOptions.Latest asked for it. It is older than
	// the subscription, and does not move its Position.
	Latest bool
	// Replayed is always false: direct mode keeps no history to replay.
	// It is here so that code written for the relay client reads alike.
	Replayed bool
}

// SubscribeOptions configure a subscription. A nil *SubscribeOptions means
// every default.
type SubscribeOptions struct {
	// Latest asks for the last known value of every matching state channel
	// (retained kinds: scanner.state, scanner.gateway, link.status) before
	// any new event, in offset order, marked Latest.
	Latest bool
	// OnEvents, if set, receives the subscription's events instead of the
	// Events channel: once per frame from the app with all of that frame's
	// events for this subscription, in order, from the session's goroutine
	// (and once from Subscribe itself with the Latest values). While it
	// runs nothing else is read, so it must not wait for Command (start a
	// goroutine). The slice is the callback's to keep.
	OnEvents func([]Event)
	// Buffer is the capacity of the Events channel (at least the number of
	// Latest values). When it is full the session stops reading from the
	// app until the subscriber catches up. Default 1024.
	Buffer int
}

const defaultBuffer = 1024

// Subscription is a subscription to every channel that a pattern matches.
// It lives across reconnects until Unsubscribe or Session.Close.
type Subscription struct {
	s        *Session
	id       uint32
	pattern  string
	onEvents func([]Event)

	events chan Event    // nil with OnEvents
	done   chan struct{} // closed when the subscription ends

	// Guarded by Session.mu.
	ended bool
	err   error // why it ended

	// dmu serializes deliveries (and their order) and sends on events
	// with closing it.
	dmu          sync.Mutex
	eventsClosed bool

	// hmu guards handed: the position of the last event handed over.
	hmu    sync.Mutex
	handed Position
}

// Subscribe subscribes to every channel that pattern matches (MQTT-style
// wildcards: '+' one level, '#' the rest). It returns at once: the
// session holds no subscriptions at the app, which sends everything. With
// SubscribeOptions.Latest the last value of each matching state channel is
// delivered first. ctx is unused today and kept for symmetry with
// wasm/client.
//
// A closed session returns [ErrClosed].
func (s *Session) Subscribe(ctx context.Context, pattern string, opts *SubscribeOptions) (*Subscription, error) {
	if err := channel.ValidPattern(pattern); err != nil {
		return nil, err
	}
	var o SubscribeOptions
	if opts != nil {
		o = *opts
	}
	sub := &Subscription{s: s, pattern: pattern, onEvents: o.OnEvents, done: make(chan struct{})}

	// Holding dmu from registration until the Latest values are handed
	// over keeps every event the session publishes meanwhile behind them.
	sub.dmu.Lock()
	defer sub.dmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	var latest []Event
	if o.Latest {
		for ch, ev := range s.latest {
			if channel.Match(pattern, ch) {
				ev.Latest = true
				latest = append(latest, ev)
			}
		}
		sortByOffset(latest)
	}
	if o.OnEvents == nil {
		n := o.Buffer
		if n <= 0 {
			n = defaultBuffer
		}
		// Room for every Latest value, so that handing them over below
		// never waits for a subscriber that does not have the
		// subscription yet.
		sub.events = make(chan Event, max(n, len(latest)))
	}
	s.nextSub++
	sub.id = s.nextSub
	sub.handed = Position{Epoch: s.epoch, Offset: s.offset}
	s.subs[sub.id] = sub
	s.mu.Unlock()

	if len(latest) > 0 {
		s.stats.delivered.Add(uint64(len(latest)))
		if sub.onEvents != nil {
			s.callback(func() { sub.onEvents(latest) })
		} else {
			for _, ev := range latest {
				sub.events <- ev
			}
		}
	}
	return sub, nil
}

// sortByOffset sorts events by offset. An insertion sort: there are few
// (one per state channel), and package sort or slices would add their
// generic code to the WebAssembly build.
func sortByOffset(evs []Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Position.Offset < evs[j-1].Position.Offset; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// Events returns the channel the subscription's events arrive on, in
// offset order. It is closed when the subscription ends (see Err). It is
// nil if SubscribeOptions.OnEvents is set.
func (sub *Subscription) Events() <-chan Event { return sub.events }

// Done returns a channel that is closed when the subscription ends: by
// Unsubscribe or by Session.Close.
func (sub *Subscription) Done() <-chan struct{} { return sub.done }

// Pattern returns the subscription's pattern.
func (sub *Subscription) Pattern() string { return sub.pattern }

// Position returns the position of the last event handed to the subscriber
// (sent on Events or passed to OnEvents; Latest values do not count), or
// the session's position when the subscription started if none was yet.
func (sub *Subscription) Position() Position {
	sub.hmu.Lock()
	defer sub.hmu.Unlock()
	return sub.handed
}

// Err returns why the subscription ended: nil while it is active or after
// Unsubscribe, [ErrClosed] after the session closed.
func (sub *Subscription) Err() error {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	return sub.err
}

// Unsubscribe ends the subscription: no event is delivered after it
// returns (except from an OnEvents call already running) and the Events
// channel is closed. It may be called from OnEvents, and is idempotent;
// ctx is unused and kept for symmetry with wasm/client.
func (sub *Subscription) Unsubscribe(ctx context.Context) error {
	s := sub.s
	s.mu.Lock()
	if sub.ended {
		s.mu.Unlock()
		return nil
	}
	delete(s.subs, sub.id)
	sub.endLocked(nil)
	s.mu.Unlock()
	sub.closeEvents()
	return nil
}

// endLocked ends sub with err (nil for Unsubscribe). The caller removes it
// from Session.subs and calls closeEvents without Session.mu.
func (sub *Subscription) endLocked(err error) {
	if sub.ended {
		return
	}
	sub.ended = true
	sub.err = err
	close(sub.done)
}

// closeEvents closes the Events channel once no send is in progress.
func (sub *Subscription) closeEvents() {
	if sub.events == nil {
		return
	}
	sub.dmu.Lock()
	defer sub.dmu.Unlock()
	if !sub.eventsClosed {
		sub.eventsClosed = true
		close(sub.events)
	}
}

// endAllLocked ends every subscription with err and returns them; their
// Events channels are still to be closed (closeEvents), without mu.
func (s *Session) endAllLocked(err error) []*Subscription {
	subs := make([]*Subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		sub.endLocked(err)
		subs = append(subs, sub)
	}
	clear(s.subs)
	return subs
}

// batch is what handling one frame produces: each subscription's events,
// in order, delivered after Session.mu is released.
type batch struct {
	order []*Subscription
	evs   map[*Subscription][]Event
}

func (b *batch) add(sub *Subscription, ev Event) {
	if b.evs == nil {
		b.evs = make(map[*Subscription][]Event)
	}
	if _, ok := b.evs[sub]; !ok {
		b.order = append(b.order, sub)
	}
	b.evs[sub] = append(b.evs[sub], ev)
}

// publishLocked gives ev the next position in the session's log, keeps it
// as its channel's latest value if its kind is retained, and adds it to b
// for every subscription whose pattern matches ch.
func (s *Session) publishLocked(ch string, v event.Event, b *batch) {
	data, err := v.MarshalMsg(nil)
	if err != nil {
		return // cannot happen: every event type encodes
	}
	s.offset++
	ev := Event{
		Channel:  ch,
		Position: Position{Epoch: s.epoch, Offset: s.offset},
		Prev:     s.prev[ch],
		Kind:     v.Kind(),
		Data:     data,
	}
	if !s.opts.RawEvents {
		ev.Value = v
	}
	s.prev[ch] = s.offset
	if event.Retained(ev.Kind) {
		s.latest[ch] = ev
	}
	s.stats.events.Add(1)
	for _, sub := range s.subs {
		if !sub.ended && channel.Match(sub.pattern, ch) {
			b.add(sub, ev)
		}
	}
}

// deliver hands a batch's events to their subscriptions, outside
// Session.mu. Only the session's goroutine calls it, so batches are
// delivered in the order they were made.
func (s *Session) deliver(b *batch) {
	for _, sub := range b.order {
		sub.deliver(s, b.evs[sub])
	}
}

// deliver hands evs to the subscriber. Position and Stats are updated
// before an event is handed over, so that a subscriber reading them after
// receiving it sees it counted.
func (sub *Subscription) deliver(s *Session, evs []Event) {
	sub.dmu.Lock()
	defer sub.dmu.Unlock()
	select {
	case <-sub.done:
		return
	default:
	}
	if sub.onEvents != nil {
		sub.handOver(evs[len(evs)-1].Position)
		s.stats.delivered.Add(uint64(len(evs)))
		s.callback(func() { sub.onEvents(evs) })
		return
	}
	if sub.eventsClosed {
		return
	}
	for _, ev := range evs {
		prev := sub.handOver(ev.Position)
		s.stats.delivered.Add(1)
		select {
		case sub.events <- ev:
		case <-sub.done:
			sub.handOver(prev)
			s.stats.delivered.Add(^uint64(0))
			return
		}
	}
}

// handOver records the position of the last event handed over and
// returns the previous one.
func (sub *Subscription) handOver(p Position) Position {
	sub.hmu.Lock()
	defer sub.hmu.Unlock()
	prev := sub.handed
	sub.handed = p
	return prev
}
