package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	doshiiwire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector/resiotconn"
	"github.com/fieldrelay/fieldrelay/relay/sim/doshiisim"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Faults on the whole path, injected by fault proxies: one in front of the
// relay (clients connect through it) and, where a test needs it, one
// between the relay and a simulator. Short ping intervals make the
// deadlines short; every wait is bounded (the bounds are failure bounds,
// generous for a busy machine under -race), and nothing asserts a
// duration: the durations logged are figures, not checks.

// bound is how long a test waits for anything before failing.
const bound = 30 * time.Second

// waitUntil polls cond until it holds, or fails the test after bound.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recorder keeps everything one client and one subscription reported:
// events (through OnEvents, which never blocks the read loop),
// confirmations, and states with their causes.
type recorder struct {
	mu      sync.Mutex
	events  []client.Event
	infos   []client.SubscribedInfo
	states  []stateChange
	changed chan struct{}
}

type stateChange struct {
	state client.State
	err   error
	at    time.Time
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) note(fn func()) {
	r.mu.Lock()
	fn()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// options returns o (or new Options) reporting states to r.
func (r *recorder) options(o *client.Options) *client.Options {
	if o == nil {
		o = &client.Options{}
	}
	o.OnState = func(s client.State, err error) {
		r.note(func() { r.states = append(r.states, stateChange{s, err, time.Now()}) })
	}
	return o
}

func (r *recorder) subOptions() *client.SubscribeOptions {
	return &client.SubscribeOptions{
		OnEvents:     func(evs []client.Event) { r.note(func() { r.events = append(r.events, evs...) }) },
		OnSubscribed: func(i client.SubscribedInfo) { r.note(func() { r.infos = append(r.infos, i) }) },
	}
}

// waitFor waits until cond, called with r locked, holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(bound)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s (%d events, infos %+v, %d states)", what, len(r.events), r.infos, len(r.states))
		}
	}
}

// firstState returns the first change to st, and whether there was one.
// r must be locked.
func (r *recorder) firstState(st client.State) (stateChange, bool) {
	for _, sc := range r.states {
		if sc.state == st {
			return sc, true
		}
	}
	return stateChange{}, false
}

// count is the number of changes to st. r must be locked.
func (r *recorder) count(st client.State) int {
	n := 0
	for _, sc := range r.states {
		if sc.state == st {
			n++
		}
	}
	return n
}

// waitState waits for the first change to st and returns it.
func (r *recorder) waitState(t *testing.T, st client.State) stateChange {
	t.Helper()
	var sc stateChange
	r.waitFor(t, "state "+st.String(), func() bool {
		var ok bool
		sc, ok = r.firstState(st)
		return ok
	})
	return sc
}

// info returns confirmation i.
func (r *recorder) info(i int) client.SubscribedInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.infos[i]
}

// lastOffset is the offset of the last event received, 0 if none. r must
// be locked.
func (r *recorder) lastOffset() uint64 {
	if len(r.events) == 0 {
		return 0
	}
	return r.events[len(r.events)-1].Position.Offset
}

// checkExact checks that the subscription (to "#": every event of the
// tenant) received every offset from first to last exactly once, in order,
// and that the uplinks among them carry the frame counters want, in
// order: the contract, checked event by event and by content.
func (r *recorder) checkExact(t *testing.T, first, last uint64, want []uint32) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if uint64(len(r.events)) != last-first+1 {
		t.Errorf("received %d events, want offsets %d to %d (%d)", len(r.events), first, last, last-first+1)
	}
	var fcnts []uint32
	for i, ev := range r.events {
		if want := first + uint64(i); ev.Position.Offset != want {
			t.Fatalf("event %d has offset %d, want %d (lost, doubled or reordered)", i, ev.Position.Offset, want)
		}
		if up, ok := ev.Value.(*event.Uplink); ok {
			fcnts = append(fcnts, up.FCnt)
		}
	}
	if len(fcnts) != len(want) {
		t.Fatalf("received %d uplinks, want %d", len(fcnts), len(want))
	}
	for i := range want {
		if fcnts[i] != want[i] {
			t.Fatalf("uplink %d has frame counter %d, want %d", i, fcnts[i], want[i])
		}
	}
}

// seq returns the frame counters from..to.
func seq(from, to uint32) []uint32 {
	var s []uint32
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// publish appends count uplinks with frame counters first, first+1, … and
// payloads of size bytes straight to the tenant's log (for tests about the
// relay→client path, where the upstream is not the point), and returns
// the offset of the last.
func publish(t *testing.T, n *Node, tenant string, first uint32, count, size int) uint64 {
	t.Helper()
	var last uint64
	for i := range count {
		fcnt := first + uint32(i)
		payload := make([]byte, size)
		for j := range payload {
			payload[j] = byte(fcnt) + byte(j)
		}
		up := event.Uplink{Meta: event.Meta{Link: "test", Protocol: "resiot"}, AppEUI: "a1", DevEUI: "d1", Port: 2, Payload: payload, FCnt: fcnt}
		data, err := up.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		pos, err := n.Broker.Publish(context.Background(), tenant, broker.Message{Channel: event.LoRaChannel("a1", "d1", "up"), Kind: event.KindUplink, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		last = pos.Offset
	}
	return last
}

// gauges reads the relay's gauges from /metrics, as an operator would.
func gauges(t *testing.T, n *Node) map[string]int64 {
	t.Helper()
	resp, err := http.Get(n.BaseURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := make(map[string]int64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if x, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[strings.TrimPrefix(name, "fieldrelay_")] = x
		}
	}
	return out
}

// waitGauges waits until the relay's gauges in want have those values.
func waitGauges(t *testing.T, n *Node, want map[string]int64) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		got := gauges(t, n)
		ok := true
		for k, v := range want {
			if got[k] != v {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay gauges %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStalledLinkNoticedByBothSides: the link goes half-open, as when a
// phone loses the network: what the relay sends is not delivered and TCP
// pushes back on it, what the client sends vanishes, and neither side's
// close reaches the other. The client notices by its ping deadline (two
// intervals of silence) and reconnects (reconnections are not stalled);
// the relay drops the dead session by its pong deadline and frees the
// queue it had built up; every event published meanwhile is recovered,
// exactly once.
func TestStalledLinkNoticedByBothSides(t *testing.T) {
	const ping, pong = time.Second, 4 * time.Second
	e := startWith(t, func(c *Config) {
		c.PingInterval = Duration(ping) // the client's deadline: two intervals of silence
		c.PongTimeout = Duration(pong)  // the relay's: later, so that its queue grows first
		c.QueueBytes = 64 << 20         // not cut as slow meanwhile
		c.History = History{MaxEntries: 1 << 20}
	})
	r := newRecorder()
	c := e.dial("acme", r.options(nil))
	subscribe(t, c, "#", r.subOptions())
	r.waitFor(t, "the subscription", func() bool { return len(r.infos) == 1 })
	first := publish(t, e.node, "acme", 1, 2, 64) - 1
	r.waitFor(t, "two events", func() bool { return len(r.events) == 2 })
	waitGauges(t, e.node, map[string]int64{"sessions": 1, "queued_bytes": 0})

	stats := e.node.Hub.Stats()
	connects := stats.Connects.Load()
	r.mu.Lock()
	reconnecting := len(r.states)
	r.mu.Unlock()
	e.proxy.On(faultproxy.Current).Pause(faultproxy.Down, true)
	e.proxy.On(faultproxy.Current).Stall(faultproxy.Up, true)
	stalled := time.Now()
	// Publish until the dead session's queue holds something (the socket
	// buffers fill first).
	fcnt := uint32(3)
	for stats.QueuedBytes.Load() == 0 {
		if uint64(stats.Sessions.Load()) < stats.Connects.Load() {
			t.Fatal("the relay dropped the session before its queue grew: the pong deadline is too short for this machine")
		}
		if fcnt > 100_000 {
			t.Fatal("the relay's queue never grew")
		}
		publish(t, e.node, "acme", fcnt, 100, 1024)
		fcnt += 100
	}
	queued := stats.QueuedBytes.Load()

	var dead stateChange
	r.waitFor(t, "the client to drop the dead link", func() bool {
		for _, sc := range r.states[reconnecting:] {
			if sc.state == client.Reconnecting {
				dead = sc
				return true
			}
		}
		return false
	})
	var ce *client.CloseError
	if errors.As(dead.err, &ce) {
		t.Fatalf("the client learned of the dead link by a close (%v), not by its ping deadline", dead.err)
	}
	// The relay's side: the dead session goes and its queue with it; only
	// the client's new session is left.
	waitUntil(t, "the relay to drop the dead session", func() bool {
		return stats.Connects.Load() > connects && stats.Sessions.Load() == 1
	})
	relayNoticed := time.Since(stalled)
	last := publish(t, e.node, "acme", fcnt, 1, 64) // live after the recovery
	r.waitFor(t, "every event", func() bool { return r.lastOffset() == last })
	r.checkExact(t, first, last, seq(1, fcnt))
	if info := r.info(1); !info.Recovered || !info.Resumed || info.Position.Offset != first+1 {
		t.Errorf("resubscription %+v, want recovered from offset %d", info, first+1)
	}
	if st := c.Stats(); st.Duplicates != 0 || st.Lost != 0 || st.Gaps != 0 || st.Reconnects == 0 {
		t.Errorf("client stats %+v", st)
	}
	waitGauges(t, e.node, map[string]int64{"sessions": 1, "queued_bytes": 0, "pending_commands": 0})
	t.Logf("half-open link: the client noticed after %v (ping interval %v), the relay after %v (pong timeout %v) and freed its queue (%d bytes or more, %d events published meanwhile)",
		dead.at.Sub(stalled).Round(time.Millisecond), ping, relayNoticed.Round(time.Millisecond), pong, queued, fcnt-3)
	// Lifting the faults lets the proxy close what they kept open.
	e.proxy.Clear()
	waitUntil(t, "the half-open connection to go", func() bool { return e.proxy.Open() == 1 })
}

// TestCutMidFrameRecovers: the relay→client stream is cut after k bytes of
// a burst of messages, for k from the first byte of a WebSocket header to
// deep inside a frame; each time the client drops the partial message,
// reconnects and recovers what it had not received whole, exactly once.
func TestCutMidFrameRecovers(t *testing.T) {
	e := start(t, History{})
	r := newRecorder()
	c := e.dial("acme", r.options(nil))
	subscribe(t, c, "#", r.subOptions())
	r.waitFor(t, "the subscription", func() bool { return len(r.infos) == 1 })
	first := publish(t, e.node, "acme", 1, 1, 16)
	r.waitFor(t, "the first event", func() bool { return len(r.events) == 1 })
	fcnt := uint32(2)
	var last uint64
	// Each burst is 8 events of over 512 bytes: every k falls inside it.
	cuts := []int64{1, 2, 5, 40, 300, 1000, 2500, 3500}
	for i, k := range cuts {
		e.proxy.CutAfter(faultproxy.Down, k)
		last = publish(t, e.node, "acme", fcnt, 8, 512)
		fcnt += 8
		r.waitFor(t, fmt.Sprintf("recovery after a cut at byte %d", k), func() bool {
			return len(r.infos) == i+2 && r.lastOffset() == last
		})
		if info := r.info(i + 1); !info.Recovered || !info.Resumed || info.Replayed == 0 {
			t.Fatalf("after a cut at byte %d: %+v, want recovered with the burst's missing events replayed", k, info)
		}
	}
	r.checkExact(t, first, last, seq(1, fcnt-1))
	if st := c.Stats(); st.Duplicates != 0 || st.Lost != 0 || st.Reconnects != uint64(len(cuts)) {
		t.Errorf("client stats %+v", st)
	}
}

// TestSlowConsumerCutRecoversOthersGetAll: a client whose link carries
// less than the tenant's rate (a throttled proxy) is cut with SLOW once
// its queue at the relay passes QueueBytes (its link then gets better, so
// that it reads what the relay had written, then the close frame); it
// reconnects and recovers every event from history. Another client of the
// tenant, connected at full speed, receives every event and is never cut.
func TestSlowConsumerCutRecoversOthersGetAll(t *testing.T) {
	const queueBytes = 64 << 10
	e := startWith(t, func(c *Config) {
		c.QueueBytes = queueBytes
		c.History = History{MaxEntries: 1 << 20}
	})
	slowR := newRecorder()
	slow := e.dial("acme", slowR.options(nil))
	subscribe(t, slow, "#", slowR.subOptions())
	slowR.waitFor(t, "the slow client's subscription", func() bool { return len(slowR.infos) == 1 })
	first := publish(t, e.node, "acme", 1, 1, 16)
	slowR.waitFor(t, "the first event", func() bool { return len(slowR.events) == 1 })

	// Only the slow client's connection is throttled (scope Current): the
	// fast client connects after, and the slow client's reconnection is
	// not throttled.
	const rate = 64 << 10
	e.proxy.On(faultproxy.Current).Throttle(faultproxy.Down, rate)
	fastR := newRecorder()
	fast := e.dial("acme", fastR.options(nil))
	subscribe(t, fast, "#", fastR.subOptions())
	fastR.waitFor(t, "the fast client's subscription", func() bool { return len(fastR.infos) == 1 })

	// Publish in steps the fast client keeps up with (a burst larger than
	// QueueBytes would cut every client), until the relay cuts the slow one.
	fcnt := uint32(2)
	for e.node.Hub.Stats().SlowClosed.Load() == 0 {
		if fcnt > 200_000 {
			t.Fatal("the slow client was never cut")
		}
		step := publish(t, e.node, "acme", fcnt, 10, 1024)
		fcnt += 10
		fastR.waitFor(t, "the fast client to keep up", func() bool { return fastR.lastOffset() == step })
	}
	cut := time.Now()
	// The link gets better: what the relay had written before the cut
	// (the sockets' buffers, megabytes) reaches the client quickly, then
	// the close frame.
	e.proxy.Clear()
	last := publish(t, e.node, "acme", fcnt, 1, 16)

	closed := slowR.waitState(t, client.Reconnecting)
	var ce *client.CloseError
	if !errors.As(closed.err, &ce) || ce.Code != codes.Slow {
		t.Fatalf("the slow client was closed with %v, want SLOW", closed.err)
	}
	fastR.waitFor(t, "every event at the fast client", func() bool { return fastR.lastOffset() == last })
	fastR.checkExact(t, first+1, last, seq(2, fcnt))
	slowR.waitFor(t, "every event at the slow client", func() bool { return slowR.lastOffset() == last })
	slowR.checkExact(t, first, last, seq(1, fcnt))
	if info := slowR.info(1); !info.Recovered || info.Replayed == 0 {
		t.Errorf("the slow client's resubscription: %+v, want recovered", info)
	}
	if st := fast.Stats(); st.Reconnects != 0 || st.Duplicates != 0 || st.Lost != 0 {
		t.Errorf("fast client stats %+v", st)
	}
	if st := slow.Stats(); st.Reconnects != 1 || st.Duplicates != 0 || st.Lost != 0 {
		t.Errorf("slow client stats %+v", st)
	}
	waitGauges(t, e.node, map[string]int64{"sessions": 2, "queued_bytes": 0})
	t.Logf("slow consumer at %d B/s, queue limit %d B: cut after %d events of 1 KiB, SLOW read by the client %v after the cut",
		rate, queueBytes, fcnt-2, closed.at.Sub(cut).Round(time.Millisecond))
}

// startVia is startWith with a second fault proxy between the relay and
// the ResIOT simulator: the relay's upstream link goes through it.
func startVia(t *testing.T, adjust func(*Config)) (*env, *faultproxy.Proxy) {
	t.Helper()
	leaktest.Check(t)
	sim := resiotsim.New(&resiotsim.Config{Devices: []resiotsim.Device{seedDevice}, GatewayAliveEvery: -1, UplinkEvery: -1})
	simURL, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}
	up, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = up.Addr()
	cfg := Config{
		Listen: "127.0.0.1:0", Secret: "s",
		Tenants: map[string]Tenant{"acme": {Links: []LinkConfig{{Name: "lora", Protocol: "resiot", URL: u.String()}}}},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	n, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		up.Close()
		if err := n.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		sim.Close()
	})
	e := &env{t: t, sim: sim, node: n, proxy: p}
	e.linkUp()
	return e, up
}

// downlink is the command the tests send: a LoRa downlink to the seed
// device.
func downlink(payload string) (string, string, *event.LoRaDownlink) {
	return event.LoRaChannel(seedDevice.AppEUI, seedDevice.DevEUI, "down"), event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 15, Payload: []byte(payload)}
}

// received returns the payloads (hex) of the downlinks the simulated
// network accepted: what reached the device.
func received(sim *resiotsim.Simulator) []string {
	var out []string
	for _, tx := range sim.Received() {
		out = append(out, tx.Payload)
	}
	return out
}

// TestCommandLostWithLinkIsUnknownOutcome: a command whose link to the
// client drops after it was sent and before its reply (cut, or gone
// half-open: the client's ping deadline) is reported as of unknown
// outcome, never as a success; it reached the device once.
func TestCommandLostWithLinkIsUnknownOutcome(t *testing.T) {
	for _, fault := range []string{"cut", "half-open"} {
		t.Run(fault, func(t *testing.T) {
			e, up := startVia(t, func(c *Config) {
				c.PingInterval = Duration(200 * time.Millisecond)
				c.PongTimeout = Duration(400 * time.Millisecond)
			})
			c := e.dial("acme", &client.Options{CommandTimeout: bound})
			// The network's answer is held back (nothing lost), so the
			// command is surely in flight when the client's link drops.
			up.On(faultproxy.Current).Pause(faultproxy.Down, true)
			type outcome struct {
				rep client.Reply
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				target, kind, body := downlink("OFF")
				rep, err := c.Command(context.Background(), target, kind, body)
				done <- outcome{rep, err}
			}()
			waitUntil(t, "the command to reach the network", func() bool { return len(e.sim.Received()) == 1 })
			if fault == "cut" {
				e.proxy.Cut()
			} else {
				e.proxy.On(faultproxy.Current).Stall(faultproxy.Both, true)
			}
			var o outcome
			select {
			case o = <-done:
			case <-time.After(bound):
				t.Fatal("no outcome")
			}
			var re *client.ReplyError
			if !errors.As(o.err, &re) || re.Code != codes.UnknownOutcome {
				t.Fatalf("command over a dropped link: %v (reply %x), want UNKNOWN_OUTCOME", o.err, o.rep.Data)
			}
			up.Clear() // the network's answer reaches the relay, for nobody
			waitGauges(t, e.node, map[string]int64{"pending_commands": 0})
			// The client is back; a new command goes through, and the
			// device got each once.
			target, kind, body := downlink("ON")
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			if _, err := c.Command(ctx, target, kind, body); err != nil {
				t.Fatalf("command after the reconnect: %v", err)
			}
			if got := received(e.sim); len(got) != 2 || got[0] != "4f4646" || got[1] != "4f4e" {
				t.Fatalf("the network received %q, want OFF then ON once each", got)
			}
		})
	}
}

// rawConn speaks the protocol frame by frame, for what the Go client does
// not do: resubmitting a command with the same id.
type rawConn struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, e *env) *rawConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+e.proxy.Addr()+"/v1/ws", &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	rc := &rawConn{t: t, c: c}
	tok, err := e.node.Auth.Mint(auth.Claims{Subject: "raw", Tenant: "acme", Command: []string{"lora/#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rc.send(&proto.Connect{Token: tok})
	if f, ok := rc.next().(*proto.Connected); !ok {
		t.Fatalf("want Connected, got %#v", f)
	}
	return rc
}

func (rc *rawConn) send(f proto.Frame) {
	rc.t.Helper()
	b, err := proto.AppendFrame(nil, f)
	if err != nil {
		rc.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := rc.c.Write(ctx, websocket.MessageBinary, b); err != nil {
		rc.t.Fatal(err)
	}
}

// next returns the next frame; the messages these tests get hold one
// frame each.
func (rc *rawConn) next() proto.Frame {
	rc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_, msg, err := rc.c.Read(ctx)
	if err != nil {
		rc.t.Fatal(err)
	}
	f, _, err := proto.DecodeFrame(msg)
	if err != nil {
		rc.t.Fatal(err)
	}
	return f
}

func (rc *rawConn) command(req uint32, id, payload string) {
	rc.t.Helper()
	target, kind, body := downlink(payload)
	b, err := body.MarshalMsg(nil)
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.send(&proto.Command{Req: req, ID: id, Target: target, Kind: kind, Body: b})
}

func (rc *rawConn) reply() *proto.Reply {
	rc.t.Helper()
	for {
		if r, ok := rc.next().(*proto.Reply); ok {
			return r
		}
	}
}

// TestResubmittedCommandReachesTheDeviceOnce: a client sends a command,
// its link drops before the reply, and it sends the same command id again
// from a new connection, while the first is still in flight at the relay
// and again after: the device gets it once, and both resubmissions get the
// first one's outcome. A new id is sent again.
func TestResubmittedCommandReachesTheDeviceOnce(t *testing.T) {
	e, up := startVia(t, nil)
	// The network's answer is held back: the command stays in flight.
	up.On(faultproxy.Current).Pause(faultproxy.Down, true)
	first := dialRaw(t, e)
	first.command(1, "cmd-7f3c", "OFF")
	waitUntil(t, "the command to reach the network", func() bool { return len(e.sim.Received()) == 1 })
	e.proxy.Cut() // the link drops before the reply

	again := dialRaw(t, e)
	again.command(1, "cmd-7f3c", "OFF") // waits for the first one's outcome
	// Both are pending at the relay: the first for the network, the
	// resubmission for the first.
	waitGauges(t, e.node, map[string]int64{"pending_commands": 2})
	up.Clear()
	r := again.reply()
	var res event.DownlinkResult
	if _, err := res.UnmarshalMsg(r.Data); r.Code != uint16(codes.OK) || err != nil {
		t.Fatalf("resubmission in flight: code %d %q, %v", r.Code, r.Message, err)
	}
	if got := e.sim.Received(); len(got) != 1 || got[0].Reference != res.Reference {
		t.Fatalf("the network received %+v, want the first command once (reference %s)", got, res.Reference)
	}
	// Once more, after the outcome: the same answer, nothing sent.
	again.command(2, "cmd-7f3c", "OFF")
	if r2 := again.reply(); r2.Code != uint16(codes.OK) || !bytes.Equal(r2.Data, r.Data) {
		t.Fatalf("resubmission after the outcome: code %d %q, data %x, want the first outcome %x", r2.Code, r2.Message, r2.Data, r.Data)
	}
	again.command(3, "cmd-8a41", "OFF")
	if r := again.reply(); r.Code != uint16(codes.OK) {
		t.Fatalf("a new command id: code %d %q", r.Code, r.Message)
	}
	if got := received(e.sim); len(got) != 2 {
		t.Fatalf("the network received %q, want the first id once and the second once", got)
	}
}

// TestUpstreamDropsWithCommandInFlight: the upstream link drops after the
// network took a command and before its answer: the client, connected all
// along, gets UNKNOWN_OUTCOME from the relay, never a success; the link
// comes back and commands go through again.
func TestUpstreamDropsWithCommandInFlight(t *testing.T) {
	e, up := startVia(t, nil)
	c := e.dial("acme", &client.Options{CommandTimeout: bound})
	up.On(faultproxy.Current).Pause(faultproxy.Down, true)
	errc := make(chan error, 1)
	go func() {
		target, kind, body := downlink("OFF")
		_, err := c.Command(context.Background(), target, kind, body)
		errc <- err
	}()
	waitUntil(t, "the command to reach the network", func() bool { return len(e.sim.Received()) == 1 })
	up.Cut()
	var err error
	select {
	case err = <-errc:
	case <-time.After(bound):
		t.Fatal("no outcome")
	}
	var re *client.ReplyError
	if !errors.As(err, &re) || re.Code != codes.UnknownOutcome {
		t.Fatalf("command whose upstream dropped: %v, want UNKNOWN_OUTCOME", err)
	}
	if c.Stats().Reconnects != 0 {
		t.Fatal("the client's own link dropped")
	}
	// The link redials (a new connection through the proxy) and is up.
	waitUntil(t, "the link to redial", func() bool { return up.Accepted() == 2 })
	e.linkUp()
	target, kind, body := downlink("ON")
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if _, err := c.Command(ctx, target, kind, body); err != nil {
		t.Fatalf("command after the upstream came back: %v", err)
	}
	if got := received(e.sim); len(got) != 2 {
		t.Fatalf("the network received %q", got)
	}
}

// TestFaultLoopReturnsToBaseline: fifty faults in a row (cuts, cuts in the
// middle of a message, half-open links) with traffic and commands, half of
// them held at the relay by a paused upstream when the fault comes. Every
// event reaches the client once, in order; every command is either a
// success (it completed before the fault) or of unknown outcome, and
// reached the network once; afterwards the relay holds what one client
// needs and no more (one session, no queued bytes, no pending command),
// and nothing once it is gone, as /metrics shows.
func TestFaultLoopReturnsToBaseline(t *testing.T) {
	e, up := startVia(t, func(c *Config) {
		c.PingInterval = Duration(200 * time.Millisecond)
		c.PongTimeout = Duration(400 * time.Millisecond)
		c.History = History{MaxEntries: 1 << 20}
	})
	base := map[string]int64{"sessions": 0, "queued_bytes": 0, "pending_commands": 0, "tenants_active": 0}
	waitGauges(t, e.node, base)
	r := newRecorder()
	c := e.dial("acme", r.options(&client.Options{CommandTimeout: 5 * time.Second}))
	subscribe(t, c, "#", r.subOptions())
	r.waitFor(t, "the subscription", func() bool { return len(r.infos) == 1 })
	first := publish(t, e.node, "acme", 1, 1, 16)
	fcnt := uint32(2)

	var cmds sync.WaitGroup
	var mu sync.Mutex
	outcomes := [2]map[string]int{{}, {}} // of even and odd rounds
	for i := range 50 {
		// Each fault hits a live connection: the client is back and has
		// resubscribed after the previous one.
		r.waitFor(t, fmt.Sprintf("the client back after fault %d", i), func() bool {
			return c.State() == client.Connected && len(r.infos) == r.count(client.Connected)
		})
		publish(t, e.node, "acme", fcnt, 5, 256)
		fcnt += 5
		// On even rounds the network's answers are held: the commands are
		// pending at the relay when the fault comes. On odd rounds they
		// complete first.
		if i%2 == 0 {
			waitUntil(t, "no command pending", func() bool { return e.node.Hub.Stats().PendingCommands.Load() == 0 })
			up.On(faultproxy.Current).Pause(faultproxy.Down, true)
		}
		var round sync.WaitGroup
		for range 2 {
			round.Add(1)
			cmds.Go(func() {
				defer round.Done()
				target, kind, body := downlink("X")
				_, err := c.Command(context.Background(), target, kind, body)
				what := "ok"
				var re *client.ReplyError
				if errors.As(err, &re) {
					what = re.Code.String()
				} else if err != nil {
					what = err.Error()
				}
				mu.Lock()
				outcomes[i%2][what]++
				mu.Unlock()
			})
		}
		if i%2 == 1 {
			round.Wait()
		} else {
			waitUntil(t, "the commands to be pending at the relay", func() bool { return e.node.Hub.Stats().PendingCommands.Load() == 2 })
		}
		r.mu.Lock()
		lost := r.count(client.Reconnecting)
		r.mu.Unlock()
		switch i % 5 {
		case 4:
			e.proxy.On(faultproxy.Current).Stall(faultproxy.Both, true) // half-open: deadlines on both sides
		case 3:
			e.proxy.CutAfter(faultproxy.Down, 100)
			publish(t, e.node, "acme", fcnt, 3, 256)
			fcnt += 3
		default:
			e.proxy.Cut()
		}
		// The answers are released once the client has lost the link.
		r.waitFor(t, fmt.Sprintf("the client to lose the link (fault %d)", i), func() bool { return r.count(client.Reconnecting) > lost })
		up.Clear()
	}
	cmds.Wait()
	last := publish(t, e.node, "acme", fcnt, 1, 16)
	r.waitFor(t, "every event", func() bool { return r.lastOffset() == last })
	r.checkExact(t, first, last, seq(1, fcnt))
	if st := c.Stats(); st.Duplicates != 0 || st.Lost != 0 {
		t.Errorf("client stats %+v", st)
	}
	// Commands pending at the relay when their link dropped are of
	// unknown outcome; the others completed before the fault (unless the
	// machine is so slow that a ping deadline dropped a link early: then
	// they are of unknown outcome too). Never anything else.
	unknown := codes.UnknownOutcome.String()
	if outcomes[0][unknown] != 50 || outcomes[1]["ok"]+outcomes[1][unknown] != 50 {
		t.Errorf("command outcomes %v (even rounds) and %v (odd rounds), want 50 of unknown outcome and 50 ok or unknown", outcomes[0], outcomes[1])
	}
	// Each reached the network at most once; every success did, and so
	// did every command pending at the relay.
	ok := outcomes[1]["ok"]
	waitUntil(t, "the commands at the network", func() bool { return len(e.sim.Received()) >= 50+ok })
	if n := len(e.sim.Received()); n > 100 {
		t.Errorf("the network received %d downlinks for 100 commands", n)
	}
	e.proxy.Clear()
	waitGauges(t, e.node, map[string]int64{"sessions": 1, "queued_bytes": 0, "pending_commands": 0, "tenants_active": 1})
	waitUntil(t, "one connection through the proxy", func() bool { return e.proxy.Open() == 1 })
	c.Close()
	waitGauges(t, e.node, base)
	t.Logf("50 faults: %d reconnects, %d events, command outcomes %v and %v, %d downlinks at the network",
		c.Stats().Reconnects, fcnt, outcomes[0], outcomes[1], len(e.sim.Received()))
}

// TestShutdownTellsClientsToReconnect: graceful shutdown (what SIGTERM
// runs in fieldrelay serve) closes every client with SHUTDOWN, a code
// that means "reconnect", stops the upstream links and returns within
// its timeout, even with a session whose link has gone half-open. A new
// relay on the same address is a new log: the client, back by itself, is
// told recovered=false, never resumed silently.
func TestShutdownTellsClientsToReconnect(t *testing.T) {
	leaktest.Check(t)
	sim := resiotsim.New(&resiotsim.Config{Devices: []resiotsim.Device{seedDevice}, GatewayAliveEvery: -1, UplinkEvery: -1})
	simURL, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg := Config{
		Listen: "127.0.0.1:0", Secret: "s", ShutdownTimeout: Duration(2 * time.Second),
		// The relay notices a dead link only after 20 s: a dead session
		// is still there at the shutdown.
		PingInterval: Duration(time.Second), PongTimeout: Duration(20 * time.Second),
		Tenants: map[string]Tenant{"acme": {Links: []LinkConfig{{Name: "lora", Protocol: "resiot", URL: simURL}}}},
	}
	n, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	p, err := faultproxy.New(n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e := &env{t: t, sim: sim, node: n, proxy: p}
	// The relay's link is up at both ends (the simulator registers a
	// connection a moment after the relay sees it accepted).
	up := func() {
		t.Helper()
		waitUntil(t, "the simulator to see the relay's link", func() bool { return sim.Clients() == 1 })
		e.linkUp()
	}
	up()

	// A client whose link has gone half-open: the relay keeps its dead
	// session (the client reconnects on a clean connection in two ping
	// intervals, whether before the shutdown or after does not matter).
	e.dial("acme", nil)
	p.On(faultproxy.Current).Stall(faultproxy.Both, true)
	r := newRecorder()
	c := e.dial("acme", r.options(nil))
	subscribe(t, c, "#", r.subOptions())
	r.waitFor(t, "the subscription", func() bool { return len(r.infos) == 1 })
	e.emitRx(1)
	r.waitFor(t, "an event", func() bool { return len(r.events) == 1 })
	before := r.info(0).Position.Epoch
	waitUntil(t, "both sessions", func() bool { return n.Hub.Stats().Sessions.Load() >= 2 })

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- n.Shutdown() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(bound):
		t.Fatal("shutdown did not return")
	}
	took := time.Since(start)
	var closed stateChange
	r.waitFor(t, "the client to be told", func() bool {
		for _, sc := range r.states {
			if sc.state == client.Reconnecting && !sc.at.Before(start) {
				closed = sc
				return true
			}
		}
		return false
	})
	var ce *client.CloseError
	if !errors.As(closed.err, &ce) || ce.Code != codes.Shutdown || !ce.Code.Reconnect() {
		t.Fatalf("the client was closed with %v, want SHUTDOWN (reconnect)", closed.err)
	}
	if st := n.Links.Links("acme")[0].(*resiotconn.Link).Status(); st.State != event.LinkStopped {
		t.Errorf("the upstream link is %q after shutdown, want stopped", st.State)
	}
	waitUntil(t, "the simulator to see the relay go", func() bool { return sim.Clients() == 0 })

	// A new relay on the same address.
	cfg.Listen = n.Addr()
	n2, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Shutdown()
	var info client.SubscribedInfo
	r.waitFor(t, "the client to resubscribe to the new relay", func() bool {
		for _, i := range r.infos {
			if i.Position.Epoch != before {
				info = i
				return true
			}
		}
		return false
	})
	if info.Recovered || !info.Resumed {
		t.Fatalf("after the restart: %+v (epoch before %s), want recovered=false in a new epoch", info, before)
	}
	// Then live, in the new epoch.
	e.node = n2
	up()
	e.emitRx(1)
	r.waitFor(t, "a live uplink from the new relay", func() bool {
		return len(r.events) > 1 && r.events[len(r.events)-1].Kind == event.KindUplink
	})
	r.mu.Lock()
	ev := r.events[len(r.events)-1]
	r.mu.Unlock()
	if ev.Replayed || ev.Position.Epoch != info.Position.Epoch {
		t.Fatalf("event after the restart: %+v", ev.Position)
	}
	t.Logf("graceful shutdown with a half-open session took %v (shutdown timeout 2s)", took.Round(time.Millisecond))
}

// TestStalledUpstreamLinkRedials: the link between the relay and a Doshii
// socket goes half-open (a fault proxy between them stalls the connection
// both ways, hiding either side's close). The connector notices by its
// heartbeat deadline (no pong to two pings), reports backing_off with that
// reason on link/pos/status, redials (the new connection is clean) and
// reports connected; events flow again.
func TestStalledUpstreamLinkRedials(t *testing.T) {
	leaktest.Check(t)
	sim := doshiisim.New(&doshiisim.Config{EventEvery: -1})
	simURL, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	u, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}
	up, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	u.Host = up.Addr()
	const pingEvery = 200 * time.Millisecond
	opts := fmt.Sprintf(`{"client_id": %q, "ping_interval": %q, "missed_pongs": 2, "min_backoff": "10ms", "max_backoff": "100ms", "retry_budget": -1}`,
		doshiisim.DefaultClientID, pingEvery)
	n, err := Start(Config{
		Listen: "127.0.0.1:0", Secret: "s",
		Tenants: map[string]Tenant{"acme": {Links: []LinkConfig{{Name: "pos", Protocol: "doshii", URL: u.String(), Options: []byte(opts)}}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()

	tok, err := n.Auth.Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	c, err := client.Dial(ctx, n.URL(), &client.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, "#", r.subOptions()); err != nil {
		t.Fatal(err)
	}
	// statuses and orders read r's events; r must be locked.
	statuses := func() []*event.LinkStatus {
		var out []*event.LinkStatus
		for _, ev := range r.events {
			if st, ok := ev.Value.(*event.LinkStatus); ok {
				out = append(out, st)
			}
		}
		return out
	}
	orders := func() []string {
		var out []string
		for _, ev := range r.events {
			if p, ok := ev.Value.(*event.POSEvent); ok {
				out = append(out, p.ID)
			}
		}
		return out
	}
	emit := func(id string) {
		t.Helper()
		if _, err := sim.EmitEvent(doshiiwire.OrderUpdated, doshiisim.Payload{ID: id, LocationID: doshiisim.DefaultLocationID, Status: "accepted"}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the link's first heartbeat", func() bool { return len(sim.Pings()) > 0 })
	emit("1")
	r.waitFor(t, "the first order", func() bool { return len(orders()) == 1 })
	r.mu.Lock()
	before := len(statuses())
	r.mu.Unlock()

	up.On(faultproxy.Current).Stall(faultproxy.Both, true)
	stalled := time.Now()
	var backoff, connected time.Time
	var reason string
	r.waitFor(t, "backing_off, connecting, connected", func() bool {
		want := []string{event.LinkBackoff, event.LinkConnecting, event.LinkConnected}
		j := 0
		for _, st := range statuses()[before:] {
			if j < len(want) && st.State == want[j] {
				switch j {
				case 0:
					reason, backoff = st.Reason, time.UnixMicro(st.Meta.Time)
				case 2:
					connected = time.UnixMicro(st.Meta.Time)
				}
				j++
			}
		}
		return j == len(want)
	})
	if !strings.Contains(reason, "no pong") {
		t.Errorf("backing_off because %q, want the heartbeat deadline", reason)
	}
	if up.Accepted() < 2 {
		t.Errorf("the link made %d connections through the proxy, want a new one", up.Accepted())
	}
	// Heartbeats reach the simulator again (the stalled connection's
	// vanish): the new connection works, and events flow again.
	pings := len(sim.Pings())
	waitUntil(t, "a heartbeat on the new connection", func() bool { return len(sim.Pings()) > pings })
	emit("2")
	r.waitFor(t, "the order after the redial", func() bool { return len(orders()) == 2 })
	r.mu.Lock()
	got := orders()
	r.mu.Unlock()
	if got[1] != "2" {
		t.Errorf("orders %q", got)
	}
	t.Logf("half-open upstream (heartbeat every %v, 2 missed pongs): backing_off after %v, connected again after %v",
		pingEvery, backoff.Sub(stalled).Round(time.Millisecond), connected.Sub(stalled).Round(time.Millisecond))
	// The simulator still holds the half-open connection; lifting the
	// stall lets it learn that it is gone.
	up.Clear()
	waitUntil(t, "the simulator to drop the old connection", func() bool { return sim.Clients() == 1 })
}
