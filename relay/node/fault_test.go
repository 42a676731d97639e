package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Faults between the relay and a client, injected by the proxy in front
// of the relay. Short ping intervals make the deadlines short; every wait
// is bounded, nothing asserts a duration.

func startFast(t *testing.T) *env {
	return startWith(t, func(c *Config) {
		c.PingInterval = Duration(200 * time.Millisecond)
		c.PongTimeout = Duration(400 * time.Millisecond)
	})
}

// waitState waits for the client to report st.
func waitState(t *testing.T, states <-chan client.State, st client.State) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-states:
			if s == st {
				return
			}
		case <-deadline:
			t.Fatalf("client never reported %v", st)
		}
	}
}

// waitSessions waits until the relay counts n sessions.
func (e *env) waitSessions(n int64) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for e.node.Hub.Stats().Sessions.Load() != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("relay has %d sessions, want %d", e.node.Hub.Stats().Sessions.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectRecovered reads the resubscription's confirmation and then n
// replayed events following offset last, then one live event.
func expectRecovered(t *testing.T, e *env, s *client.Subscription, infos <-chan client.SubscribedInfo, last uint64, n int) {
	t.Helper()
	select {
	case info := <-infos:
		if !info.Recovered || info.Replayed != n {
			t.Fatalf("resubscribe: %+v, want recovered with %d replayed", info, n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no resubscription")
	}
	for i := range n {
		ev := next(t, s)
		if !ev.Replayed || ev.Position.Offset != last+uint64(i)+1 {
			t.Fatalf("replayed event %d: offset %d after %d (replayed=%v)", i, ev.Position.Offset, last, ev.Replayed)
		}
	}
	e.emitRx(1)
	if ev := next(t, s); ev.Replayed || ev.Position.Offset != last+uint64(n)+1 {
		t.Fatalf("live after recovery: %+v replayed=%v", ev.Position, ev.Replayed)
	}
}

// TestStalledLinkNoticedByBothSides: the link goes half-open (bytes sent
// either way vanish, nothing is closed, as when a phone loses the
// network). The client notices by its ping deadline and reconnects; the
// relay drops the dead session by its pong deadline and frees it; events
// published meanwhile are recovered exactly.
func TestStalledLinkNoticedByBothSides(t *testing.T) {
	e := startFast(t)
	states := make(chan client.State, 64)
	c := e.dial("acme", &client.Options{OnState: func(s client.State, _ error) { states <- s }})
	infos := make(chan client.SubscribedInfo, 4)
	s := subscribe(t, c, "lora/#", &client.SubscribeOptions{OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	<-infos
	e.emitRx(2)
	next(t, s)
	last := next(t, s).Position.Offset

	e.proxy.Stall(faultproxy.Both, true)
	const n = 5
	e.emitRx(n)
	waitState(t, states, client.Reconnecting)
	// The relay's side: the stalled session is dropped by its pong
	// deadline (the client's new attempts are stalled too, and go nowhere).
	e.waitSessions(0)
	e.proxy.Stall(faultproxy.Both, false)
	waitState(t, states, client.Connected)
	expectRecovered(t, e, s, infos, last, n)
	if st := c.Stats(); st.Duplicates != 0 || st.Lost != 0 || st.Gaps != 0 {
		t.Fatalf("client stats %+v", st)
	}
	e.waitSessions(1)
}

// TestCutMidFrameRecovers: the relay→client stream is cut in the middle
// of a message; the client reconnects and recovers what it had not
// received, whole.
func TestCutMidFrameRecovers(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	infos := make(chan client.SubscribedInfo, 4)
	s := subscribe(t, c, "lora/#", &client.SubscribeOptions{OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	<-infos
	e.emitRx(1)
	last := next(t, s).Position.Offset

	// The next uplink's message is some hundreds of bytes: 40 of them
	// pass, then the connection is cut.
	e.proxy.CutAfter(faultproxy.Down, 40)
	e.emitRx(1)
	expectRecovered(t, e, s, infos, last, 1)
}

// TestCommandLostWithLinkIsUnknownOutcome: a command whose link drops
// after it was sent and before its reply is reported as of unknown
// outcome, never as a success.
func TestCommandLostWithLinkIsUnknownOutcome(t *testing.T) {
	e := startFast(t)
	c := e.dial("acme", &client.Options{CommandTimeout: 20 * time.Second})
	// Stall the way back only: the command reaches the relay and the
	// network, its reply never reaches the client, which then drops the
	// link by its ping deadline.
	e.proxy.Stall(faultproxy.Down, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Command(ctx, "lora/006c3b194374ac7f/0732227a557d8679/down", event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 15, Payload: []byte("OFF")})
	var re *client.ReplyError
	if !errors.As(err, &re) || re.Code != codes.UnknownOutcome {
		t.Fatalf("command over a dying link: %v, want UNKNOWN_OUTCOME", err)
	}
	e.proxy.Stall(faultproxy.Down, false)
}

// TestFaultLoopReturnsToBaseline: cuts, reconnects and commands in flight,
// fifty times over; afterwards the relay holds no more sessions, queued
// bytes or pending commands than before.
func TestFaultLoopReturnsToBaseline(t *testing.T) {
	e := startFast(t)
	stats := e.node.Hub.Stats()
	c := e.dial("acme", &client.Options{CommandTimeout: 5 * time.Second})
	s := subscribe(t, c, "lora/#", &client.SubscribeOptions{Buffer: 4096})
	for range 50 {
		e.emitRx(5)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.Command(ctx, "lora/006c3b194374ac7f/0732227a557d8679/down", event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 15, Payload: []byte{1}})
		}()
		e.proxy.Cut()
	}
	// Drain what arrives, then close the client: everything it held at
	// the relay must go.
	for len(s.Events()) > 0 {
		<-s.Events()
	}
	c.Close()
	e.waitSessions(0)
	deadline := time.Now().Add(20 * time.Second)
	for stats.QueuedBytes.Load() != 0 || stats.PendingCommands.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queued bytes %d, pending commands %d after the loop", stats.QueuedBytes.Load(), stats.PendingCommands.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
