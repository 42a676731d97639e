package hub

import (
	"context"
	"errors"
	"sync"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/broker"
)

// tenant is one tenant's live state in the hub.
type tenant struct {
	h    *Hub
	name string

	mu         sync.Mutex
	epoch      string
	dispatched uint64 // offset of the last entry delivered to sessions
	root       node
	sessions   map[*Session]struct{}
	subjects   map[string]int // sessions per token subject
	commands   *bucket        // the tenant's command rate

	cancel context.CancelFunc
}

// sub is one subscription of a session.
type sub struct {
	id      uint32
	pattern string
	sess    *Session
}

func newTenant(h *Hub, name string, tail broker.Position) *tenant {
	return &tenant{h: h, name: name, epoch: tail.Epoch, dispatched: tail.Offset,
		sessions: make(map[*Session]struct{}), subjects: make(map[string]int),
		commands: newBucket(h.cfg.CommandRate, h.cfg.CommandBurst)}
}

// start runs the follower. Called with the shard lock held.
func (t *tenant) start() {
	ctx, cancel := context.WithCancel(t.h.ctx)
	t.cancel = cancel
	t.h.spawn(func() { t.follow(ctx) })
}

func (t *tenant) stop() { t.cancel() }

// follow reads the tenant's log and dispatches it, until ctx ends. If the
// broker cannot continue without a gap, every session is told to
// reconnect and recover (codes.Resync) and following restarts at the tail.
func (t *tenant) follow(ctx context.Context) {
	b := t.h.cfg.Broker
	for {
		t.mu.Lock()
		epoch, after := t.epoch, t.dispatched
		t.mu.Unlock()
		err := b.Follow(ctx, t.name, epoch, after, t.dispatch)
		if ctx.Err() != nil || errors.Is(err, broker.ErrClosed) {
			return
		}
		t.h.log.Warn("tenant log follower lost its place; resyncing sessions", "tenant", t.name, "err", err)
		t.h.stats.Resyncs.Add(1)
		tail, terr := b.Tail(ctx, t.name)
		if terr != nil {
			return
		}
		t.mu.Lock()
		victims := make([]*Session, 0, len(t.sessions))
		for s := range t.sessions {
			victims = append(victims, s)
		}
		t.epoch, t.dispatched = tail.Epoch, tail.Offset
		t.mu.Unlock()
		for _, s := range victims {
			s.Close(codes.Resync, "relay lost its place in the log")
		}
	}
}

// dispatch delivers a batch of entries: each is encoded once and the same
// bytes are queued to every session with a matching subscription.
func (t *tenant) dispatch(entries []*broker.Entry) error {
	frames := make([][]byte, len(entries))
	for i, e := range entries {
		b, err := t.encodeEvent(nil, e, 0, false)
		if err != nil {
			return err
		}
		frames[i] = b
	}
	var slow []*Session
	t.mu.Lock()
	for i, e := range entries {
		if e.Offset <= t.dispatched {
			continue // already delivered (a restarted follow may overlap)
		}
		f := frames[i]
		stamp := e.Offset
		n := 0
		t.root.match(e.Channel, func(sb *sub) {
			s := sb.sess
			if s.stamp == stamp { // another of its subscriptions matched
				return
			}
			s.stamp = stamp
			if !s.enqueue(f, false) {
				slow = append(slow, s)
			}
			n++
		})
		t.dispatched = e.Offset
		t.h.stats.Deliveries.Add(uint64(n))
	}
	t.mu.Unlock()
	t.h.stats.Dispatched.Add(uint64(len(entries)))
	for _, s := range slow {
		t.h.stats.SlowClosed.Add(1)
		s.Close(codes.Slow, "client queue overflow")
	}
	return nil
}

func (t *tenant) encodeEvent(dst []byte, e *broker.Entry, sub uint32, latest bool) ([]byte, error) {
	ev := proto.Event{Channel: e.Channel, Offset: e.Offset, Prev: e.Prev, Kind: e.Kind, Data: e.Data, Sub: sub, Latest: latest}
	return t.h.cfg.Codec.AppendFrame(dst, &ev)
}

// subscribe registers sb (replacing the session's subscription with the
// same id) and queues Subscribed followed by any replayed or latest-value
// events, atomically with respect to dispatch.
func (t *tenant) subscribe(ctx context.Context, s *Session, f *proto.Subscribe) error {
	b := t.h.cfg.Broker
	t.mu.Lock()
	defer t.mu.Unlock()
	tail := t.dispatched
	var replay []*broker.Entry
	recovered := false
	if f.Recover && f.Epoch != "" {
		if f.Epoch == t.epoch && f.Offset <= tail {
			err := b.Read(ctx, t.name, t.epoch, f.Offset, tail, func(e *broker.Entry) error {
				if channel.Match(f.Pattern, e.Channel) {
					replay = append(replay, e)
				}
				return nil
			})
			recovered = err == nil
			if err != nil && !errors.Is(err, broker.ErrUnrecoverable) {
				return err
			}
		}
		if recovered {
			t.h.stats.Recovered.Add(1)
			t.h.stats.Replayed.Add(uint64(len(replay)))
		} else {
			replay = nil
			t.h.stats.NotRecovered.Add(1)
		}
	}
	latest := false
	if f.Latest && !recovered {
		latest = true
		err := b.Latest(ctx, t.name, f.Pattern, tail, func(e *broker.Entry) error {
			replay = append(replay, e)
			return nil
		})
		if err != nil {
			return err
		}
	}

	sb := &sub{id: f.Sub, pattern: f.Pattern, sess: s}
	s.mu.Lock()
	if old := s.subs[f.Sub]; old != nil {
		t.root.remove(old.pattern, old)
	}
	s.subs[f.Sub] = sb
	s.mu.Unlock()
	t.root.insert(f.Pattern, sb)

	n := uint32(0)
	if recovered {
		n = uint32(len(replay))
	}
	ack := proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: t.epoch, Offset: tail, Recovered: recovered, Replayed: n}
	out, err := t.h.cfg.Codec.AppendFrame(nil, &ack)
	if err != nil {
		return err
	}
	s.enqueue(out, true)
	for _, e := range replay {
		fr, err := t.encodeEvent(nil, e, f.Sub, latest)
		if err != nil {
			return err
		}
		s.enqueue(fr, true)
	}
	return nil
}

// unsubscribe removes the session's subscription id; it reports whether
// there was one.
func (t *tenant) unsubscribe(s *Session, id uint32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.mu.Lock()
	sb := s.subs[id]
	delete(s.subs, id)
	s.mu.Unlock()
	if sb == nil {
		return false
	}
	t.root.remove(sb.pattern, sb)
	return true
}
