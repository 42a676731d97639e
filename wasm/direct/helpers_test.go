//go:build !js

package direct_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
	"github.com/fieldrelay/fieldrelay/wasm/direct"
)

// patience bounds every wait. It is a deadline for failure, never a delay:
// tests go on as soon as what they wait for happens.
const patience = 10 * time.Second

const (
	display = proglovesim.DefaultDisplaySerial // MDMR000000064, a MARK Display
	mark2   = proglovesim.DefaultMarkSerial    // M2MR111100928, a MARK 2 without display
	gateway = proglovesim.DefaultGateway       // PGGW000000058
)

// startSim arms the leak check and starts a simulated Insight Mobile app
// on 127.0.0.1 that scans only when told to. It returns the simulator and
// its ws:// URL.
func startSim(t *testing.T, cfg proglovesim.Config) (*proglovesim.Simulator, string) {
	t.Helper()
	leaktest.Check(t)
	cfg.ScanEvery = -1 // tests scan what they need
	sim := proglovesim.New(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}

// testOptions has short backoffs; the rest is the defaults.
func testOptions() *direct.Options {
	return &direct.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
}

// dial connects a session to url and waits until the simulator has its
// connection, so that what the simulator broadcasts next reaches it. The
// session is closed at the end of the test.
func dial(t *testing.T, sim *proglovesim.Simulator, url string, opts *direct.Options) *direct.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := direct.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := sim.WaitClients(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return s
}

// subscribe subscribes with the Events channel.
func subscribe(t *testing.T, s *direct.Session, pattern string, latest bool) *direct.Subscription {
	t.Helper()
	sub, err := s.Subscribe(context.Background(), pattern, &direct.SubscribeOptions{Latest: latest})
	if err != nil {
		t.Fatalf("Subscribe %s: %v", pattern, err)
	}
	return sub
}

// next returns the subscription's next event.
func next(t *testing.T, sub *direct.Subscription, what string) direct.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatalf("%s: waiting for %s: subscription ended: %v", sub.Pattern(), what, sub.Err())
		}
		return ev
	case <-ctx.Done():
		t.Fatalf("%s: no %s within %v", sub.Pattern(), what, patience)
	}
	panic("unreachable")
}

// until reads events until one satisfies pred and returns it with every
// event read before it.
func until(t *testing.T, sub *direct.Subscription, what string, pred func(direct.Event) bool) (direct.Event, []direct.Event) {
	t.Helper()
	var before []direct.Event
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("%s: waiting for %s: subscription ended: %v", sub.Pattern(), what, sub.Err())
			}
			if pred(ev) {
				return ev, before
			}
			before = append(before, ev)
		case <-ctx.Done():
			t.Fatalf("%s: no %s within %v; got%s", sub.Pattern(), what, patience, summary(before))
		}
	}
}

func summary(evs []direct.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "\n\t%d %s %s latest=%v", ev.Position.Offset, ev.Channel, ev.Kind, ev.Latest)
	}
	return b.String()
}

// quiet checks that the subscription has nothing waiting. It only looks
// at what has already arrived, so call it after an event that the app
// sent later than the ones that must not arrive.
func quiet(t *testing.T, sub *direct.Subscription) {
	t.Helper()
	select {
	case ev := <-sub.Events():
		t.Fatalf("%s: unexpected event %d %s %s", sub.Pattern(), ev.Position.Offset, ev.Channel, ev.Kind)
	default:
	}
}

// stateLog records OnState calls.
type stateLog struct {
	ch chan stateChange
}

type stateChange struct {
	state direct.State
	err   error
}

func newStateLog() *stateLog { return &stateLog{ch: make(chan stateChange, 256)} }

func (l *stateLog) on(s direct.State, err error) { l.ch <- stateChange{s, err} }

// until waits for the state and returns its cause.
func (l *stateLog) until(t *testing.T, want direct.State) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var seen []string
	for {
		select {
		case c := <-l.ch:
			if c.state == want {
				return c.err
			}
			seen = append(seen, c.state.String())
		case <-ctx.Done():
			t.Fatalf("no state %s within %v; saw %v", want, patience, seen)
		}
	}
}

// errorLog records OnError calls.
type errorLog struct {
	mu    sync.Mutex
	kinds []string
	errs  []error
}

func (l *errorLog) on(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kinds = append(l.kinds, kind)
	l.errs = append(l.errs, err)
}

func (l *errorLog) get() ([]string, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.kinds...), append([]error(nil), l.errs...)
}

// eventually polls cond until it holds, failing after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, patience)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
