package client

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// TestSequenceAcrossReconnects drives a subscription through random
// reconnects (abrupt drops, close codes), replays that repeat what was
// already delivered, live duplicates and events lost in transit, and checks
// that it sees every offset exactly once, in increasing order, and that each
// resubscription asks for exactly what it missed.
func TestSequenceAcrossReconnects(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) { testSequence(t, seed) })
	}
}

func testSequence(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	const pattern = "a/+"
	chans := []string{"a/1", "a/2", "a/3", "b/1"}
	log := &relayLog{last: make(map[string]uint64)}

	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, _ := subscribe(t, c, fc, pattern, nil, "e1", 0)
	col := collect(sub)

	var batch []proto.Frame
	flush := func() {
		if len(batch) > 0 {
			fc.send(t, batch...)
			batch = nil
		}
	}
	// expectPos is the last offset the client was given: where it must
	// resume from.
	var expectPos uint64
	// answer answers a recovering Subscribe with the log after from
	// (which a careless relay may set too early).
	answer := func(why string, careless bool) {
		t.Helper()
		f := expect[*proto.Subscribe](t, fc)
		if !f.Recover || f.Epoch != "e1" || f.Offset != expectPos || f.Pattern != pattern {
			t.Fatalf("%s: Subscribe %+v, want recovery from e1/%d", why, *f, expectPos)
		}
		from := f.Offset
		if careless && from > 0 && rng.IntN(3) == 0 {
			from -= uint64(rng.IntN(int(from))) + 1
		}
		replay := log.replay(pattern, from, f.Sub)
		batch = append(batch, &proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: log.head(), Recovered: true, Replayed: uint32(len(replay))})
		batch = append(batch, replay...)
		expectPos = log.lastMatching(pattern)
	}

	skips := 0
	for round := range 8 {
		if round > 0 {
			for range rng.IntN(4) {
				log.publish(chans[rng.IntN(len(chans))]) // while the client is away
			}
			fc = r.accept(t)
			fc.handshake(t, nil)
			answer("reconnect", true)
			if rng.IntN(2) == 0 {
				flush()
			}
		}
		for range 10 + rng.IntN(20) {
			ch := chans[rng.IntN(len(chans))]
			e := log.publish(ch)
			matches := channel.Match(pattern, ch)
			if matches && rng.IntN(8) == 0 {
				// e is lost in transit; its successor on the same channel
				// names it, so the client must notice and recover.
				skips++
				batch = append(batch, log.publish(ch))
				flush()
				answer("gap", false)
				continue
			}
			batch = append(batch, e)
			if rng.IntN(6) == 0 {
				batch = append(batch, e)
			}
			if matches {
				expectPos = e.Offset
			}
			if rng.IntN(3) == 0 {
				flush()
			}
		}
		flush()
		switch rng.IntN(3) {
		case 0:
			col.waitFor(t, expectPos)
			fc.drop()
		case 1:
			fc.closeWith(t, codes.Slow, "slow", false)
		case 2:
			fc.closeWith(t, codes.Shutdown, "restart", true)
		}
	}
	fc = r.accept(t)
	fc.handshake(t, nil)
	answer("last reconnect", true)
	flush()
	col.waitFor(t, expectPos)

	want := log.matching(pattern)
	got := col.offsets()
	if !equal(got, want) {
		t.Fatalf("offsets delivered:\n%v\nwant every matching offset once, in order:\n%v", got, want)
	}
	if s := c.Stats(); s.Gaps != uint64(skips) || s.Lost != 0 || s.Reconnects != 8 {
		t.Errorf("Stats() = %+v, want %d gaps, none lost, 8 reconnects", s, skips)
	}
}

// relayLog is the fake relay's ordered log of one tenant.
type relayLog struct {
	events []*proto.Event
	last   map[string]uint64
}

func (l *relayLog) publish(ch string) *proto.Event {
	off := uint64(len(l.events) + 1)
	e := evFrame(ch, off, l.last[ch])
	l.last[ch] = off
	l.events = append(l.events, e)
	return e
}

func (l *relayLog) head() uint64 { return uint64(len(l.events)) }

// replay returns the events after offset that match pattern, addressed to
// subscription sub.
func (l *relayLog) replay(pattern string, offset uint64, sub uint32) []proto.Frame {
	var out []proto.Frame
	for _, e := range l.events[offset:] {
		if channel.Match(pattern, e.Channel) {
			ev := *e
			ev.Sub = sub
			out = append(out, &ev)
		}
	}
	return out
}

func (l *relayLog) matching(pattern string) []uint64 {
	var out []uint64
	for _, e := range l.events {
		if channel.Match(pattern, e.Channel) {
			out = append(out, e.Offset)
		}
	}
	return out
}

func (l *relayLog) lastMatching(pattern string) uint64 {
	m := l.matching(pattern)
	if len(m) == 0 {
		return 0
	}
	return m[len(m)-1]
}

// collector reads a subscription's Events channel as an application would.
type collector struct {
	mu      sync.Mutex
	got     []uint64
	changed chan struct{}
}

func collect(s *Subscription) *collector {
	col := &collector{changed: make(chan struct{}, 1)}
	go func() {
		for ev := range s.Events() {
			col.mu.Lock()
			col.got = append(col.got, ev.Position.Offset)
			col.mu.Unlock()
			select {
			case col.changed <- struct{}{}:
			default:
			}
		}
	}()
	return col
}

func (col *collector) offsets() []uint64 {
	col.mu.Lock()
	defer col.mu.Unlock()
	return append([]uint64(nil), col.got...)
}

// waitFor waits until the last offset collected is at least off.
func (col *collector) waitFor(t *testing.T, off uint64) {
	t.Helper()
	deadline := time.After(wait)
	for {
		col.mu.Lock()
		n := len(col.got)
		done := off == 0 || (n > 0 && col.got[n-1] >= off)
		col.mu.Unlock()
		if done {
			return
		}
		select {
		case <-col.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for offset %d; got %v", off, col.offsets())
		}
	}
}
