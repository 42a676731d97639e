//go:build !js

package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

// Faults between a real relay and the client, injected by the fault proxy
// in between: what the client itself must notice, and why it says it
// reconnected. (relay/node's fault tests cover the whole path: the
// relay's side, commands at the device, restarts.) Every wait is bounded;
// nothing asserts a duration, the durations logged are figures.

// faultWait bounds every wait of these tests: a real relay under -race on
// a busy machine is slower than the fake one.
const faultWait = 30 * time.Second

type faultEnv struct {
	t     *testing.T
	relay *node.Node
	proxy *faultproxy.Proxy
	tok   string
	fcnt  uint32
}

// startFaultEnv runs a relay announcing the ping interval ping and
// dropping sessions whose pong is pongTimeout late, and a fault proxy in
// front of it.
func startFaultEnv(t *testing.T, ping, pongTimeout time.Duration) *faultEnv {
	t.Helper()
	leaktest.Check(t)
	n, err := node.Start(node.Config{
		Listen: "127.0.0.1:0", Secret: "s",
		PingInterval: node.Duration(ping), PongTimeout: node.Duration(pongTimeout),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		n.Shutdown()
	})
	tok, err := n.Auth.Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}, Command: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &faultEnv{t: t, relay: n, proxy: p, tok: tok}
}

// stateLog records every OnState call with its time.
type stateLog struct {
	mu      sync.Mutex
	changes []timedState
	more    chan struct{}
}

type timedState struct {
	s   State
	err error
	at  time.Time
}

func newStateLog() *stateLog { return &stateLog{more: make(chan struct{}, 1)} }

func (l *stateLog) on(s State, err error) {
	l.mu.Lock()
	l.changes = append(l.changes, timedState{s, err, time.Now()})
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
}

// since waits until n changes to s have happened at or after t0, and
// returns them.
func (l *stateLog) since(t *testing.T, t0 time.Time, s State, n int) []timedState {
	t.Helper()
	deadline := time.After(faultWait)
	for {
		var got []timedState
		l.mu.Lock()
		for _, c := range l.changes {
			if c.s == s && !c.at.Before(t0) {
				got = append(got, c)
			}
		}
		l.mu.Unlock()
		if len(got) >= n {
			return got[:n]
		}
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("timed out waiting for %d changes to %s (%d so far)", n, s, len(got))
		}
	}
}

// dial connects through the proxy, reporting states to st.
func (e *faultEnv) dial(st *stateLog, opts *Options) *Client {
	e.t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.Token, opts.OnState, opts.Log = e.tok, st.on, testLog()
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), faultWait)
	defer cancel()
	c, err := Dial(ctx, "ws://"+e.proxy.Addr()+"/v1/ws", opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// publish appends n uplinks to tenant acme's log and returns the offset
// of the last.
func (e *faultEnv) publish(n int) uint64 {
	e.t.Helper()
	var last uint64
	for range n {
		e.fcnt++
		up := event.Uplink{Meta: event.Meta{Link: "test", Protocol: "resiot"}, AppEUI: "a1", DevEUI: "d1", Port: 2, Payload: []byte{byte(e.fcnt)}, FCnt: e.fcnt}
		data, err := up.MarshalMsg(nil)
		if err != nil {
			e.t.Fatal(err)
		}
		pos, err := e.relay.Broker.Publish(context.Background(), "acme", broker.Message{Channel: event.LoRaChannel("a1", "d1", "up"), Kind: event.KindUplink, Data: data})
		if err != nil {
			e.t.Fatal(err)
		}
		last = pos.Offset
	}
	return last
}

// faultSub is a subscription to everything, recorded.
type faultSub struct {
	mu     sync.Mutex
	events []Event
	infos  chan SubscribedInfo
	more   chan struct{}
}

func subscribeAll(t *testing.T, c *Client) *faultSub {
	t.Helper()
	s := &faultSub{infos: make(chan SubscribedInfo, 64), more: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), faultWait)
	defer cancel()
	_, err := c.Subscribe(ctx, "#", &SubscribeOptions{
		OnSubscribed: func(i SubscribedInfo) { s.infos <- i },
		OnEvents: func(evs []Event) {
			s.mu.Lock()
			s.events = append(s.events, evs...)
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	recvWithin(t, s.infos, "the subscription")
	return s
}

// recvWithin is recv with these tests' bound.
func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(faultWait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// until waits until the subscription has received offset last, then
// checks that it received every offset from first to last exactly once,
// in order.
func (s *faultSub) until(t *testing.T, first, last uint64) {
	t.Helper()
	deadline := time.After(faultWait)
	for {
		s.mu.Lock()
		n := len(s.events)
		done := n > 0 && s.events[n-1].Position.Offset >= last
		s.mu.Unlock()
		if done {
			break
		}
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("timed out waiting for offset %d (%d events)", last, n)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if uint64(len(s.events)) != last-first+1 {
		t.Errorf("received %d events, want offsets %d to %d", len(s.events), first, last)
	}
	for i, ev := range s.events {
		if ev.Position.Offset != first+uint64(i) {
			t.Fatalf("event %d has offset %d, want %d", i, ev.Position.Offset, first+uint64(i))
		}
	}
}

// TestDeadLinkNoticedByPingDeadline: the link dies without a close, either
// half-open (bytes vanish) or frozen (nothing moves, nothing is lost); the
// relay is slow to notice (20 s). The client notices by its own deadline,
// two ping intervals without a message, says so (errDeadLink), reconnects
// (the proxy lets new connections through) and recovers exactly what was
// published meanwhile.
func TestDeadLinkNoticedByPingDeadline(t *testing.T) {
	for _, fault := range []string{"half-open", "frozen"} {
		t.Run(fault, func(t *testing.T) {
			const ping = 500 * time.Millisecond
			e := startFaultEnv(t, ping, 20*time.Second)
			st := newStateLog()
			c := e.dial(st, nil)
			s := subscribeAll(t, c)
			first := e.publish(2) - 1
			s.until(t, first, first+1)

			if fault == "half-open" {
				e.proxy.On(faultproxy.Current).Stall(faultproxy.Both, true)
			} else {
				e.proxy.On(faultproxy.Current).Pause(faultproxy.Both, true)
			}
			start := time.Now()
			last := e.publish(3)
			dead := st.since(t, start, Reconnecting, 1)[0]
			if !errors.Is(dead.err, errDeadLink) {
				t.Fatalf("OnState(reconnecting, %v), want the ping deadline (%v)", dead.err, errDeadLink)
			}
			st.since(t, start, Connected, 1)
			if i := recvWithin(t, s.infos, "the resubscription"); !i.Recovered || !i.Resumed || i.Replayed != 3 {
				t.Fatalf("resubscription %+v, want 3 recovered", i)
			}
			last = max(last, e.publish(1))
			s.until(t, first, last)
			if got := c.Stats(); got.Reconnects != 1 || got.Duplicates != 0 || got.Lost != 0 || got.Gaps != 0 {
				t.Errorf("stats %+v", got)
			}
			t.Logf("%s link noticed after %v (ping interval %v: deadline %v)", fault, dead.at.Sub(start).Round(time.Millisecond), ping, 2*ping)
		})
	}
}

// TestHandshakeIntoBlackHoleRetries: after a cut, every new connection
// goes into a black hole (TCP connects, nothing comes back). Each attempt
// gives up at CommandTimeout, and the client keeps trying with backoff
// rather than hanging; once the network is back it connects and recovers.
func TestHandshakeIntoBlackHoleRetries(t *testing.T) {
	e := startFaultEnv(t, time.Second, 20*time.Second)
	st := newStateLog()
	c := e.dial(st, &Options{CommandTimeout: time.Second})
	s := subscribeAll(t, c)
	first := e.publish(1)
	s.until(t, first, first)

	e.proxy.On(faultproxy.Future).Stall(faultproxy.Both, true)
	accepted := e.proxy.Accepted()
	cut := time.Now()
	e.proxy.Cut()
	// The cut, then three attempts into the black hole.
	for i, sc := range st.since(t, cut, Reconnecting, 4)[1:] {
		if !errors.Is(sc.err, context.DeadlineExceeded) {
			t.Fatalf("attempt %d into the black hole ended with %v, want its deadline", i, sc.err)
		}
	}
	if got := e.proxy.Accepted() - accepted; got < 3 {
		t.Fatalf("%d attempts reached the proxy, want 3 at least", got)
	}
	last := e.publish(2)
	lifted := time.Now()
	e.proxy.On(faultproxy.Future).Clear()
	st.since(t, lifted, Connected, 1)
	if i := recvWithin(t, s.infos, "the resubscription"); !i.Recovered || i.Replayed != 2 {
		t.Fatalf("resubscription %+v, want 2 recovered", i)
	}
	s.until(t, first, last)
}

// TestCommandOnHalfOpenLinkIsUnknownOutcome: the relay's answers stop
// arriving after the client sent a command; the client's ping deadline
// drops the link, and the command is reported of unknown outcome, because
// the link was lost before its reply (errLinkLost), not as a success nor
// as a timeout.
func TestCommandOnHalfOpenLinkIsUnknownOutcome(t *testing.T) {
	// A ping interval long enough that the link cannot be found dead
	// between the stall and the command's write.
	e := startFaultEnv(t, time.Second, 20*time.Second)
	st := newStateLog()
	c := e.dial(st, &Options{CommandTimeout: faultWait})
	stalled := time.Now()
	e.proxy.On(faultproxy.Current).Stall(faultproxy.Down, true)
	_, err := c.Command(context.Background(), "lora/a1/d1/down", event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 1, Payload: []byte{1}})
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != codes.UnknownOutcome || !errors.Is(err, errLinkLost) {
		t.Fatalf("command over a half-open link: %v, want UNKNOWN_OUTCOME for a lost link", err)
	}
	if n := e.relay.Hub.Stats().Commands.Load(); n != 1 {
		t.Fatalf("the relay took %d commands, want the one sent", n)
	}
	if sc := st.since(t, stalled, Reconnecting, 1)[0]; !errors.Is(sc.err, errDeadLink) {
		t.Errorf("OnState(reconnecting, %v), want the ping deadline", sc.err)
	}
}
