package doshii

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	wire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
	"github.com/fieldrelay/fieldrelay/relay/sim/doshiisim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// End-to-end tests: simulator → connector → broker → hub → WebSocket
// endpoint → fault proxy → Go client, all on 127.0.0.1.

const (
	tenant     = "acme"
	linkName   = "pos"
	clientID   = "acme-ordering-app-7f3c2a"
	deviceA    = "device-a"
	locA       = "aH43yx2"
	locB       = "bX99zz1"
	appVersion = "9.8.7"
	waitFor    = 10 * time.Second
)

type env struct {
	t      *testing.T
	sim    *doshiisim.Simulator
	simURL string
	link   *Link
	broker *broker.Memory
	auth   *auth.HS256
	proxy  *faultproxy.Proxy // between the client and the relay
	reg    *connector.Registry

	runCtx  context.Context
	cancel  context.CancelFunc
	running bool
	done    chan struct{} // closed when the link's Run has returned
}

func simConfig() *doshiisim.Config {
	return &doshiisim.Config{
		Clients:    []doshiisim.Client{{ID: clientID, Devices: []doshiisim.Device{{ID: deviceA, Locations: []string{locA}}}}},
		EventEvery: -1, // tests emit what they need
	}
}

// start runs a simulator and a relay of tenant acme whose link points at
// the simulator with fast timings (mod adjusts the link's config). The
// link does not run until run, so that a test can subscribe first and see
// every status.
func start(t *testing.T, simCfg *doshiisim.Config, mod func(*Config)) *env {
	t.Helper()
	leaktest.Check(t)
	e := &env{t: t, done: make(chan struct{})}
	e.sim = doshiisim.New(simCfg)
	u, err := e.sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.simURL = u

	e.broker = broker.NewMemory(broker.MemoryConfig{})
	e.auth = &auth.HS256{Secret: []byte("test-secret")}
	e.reg = &connector.Registry{}
	h := hub.New(hub.Config{Broker: e.broker, Verifier: e.auth, Commander: e.reg})
	ep := server.NewEndpoint(server.Config{Hub: h})
	mux := http.NewServeMux()
	mux.Handle("/v1/ws", ep)
	srv := httptest.NewServer(mux)
	e.proxy, err = faultproxy.New(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	cfg := Config{
		Name: linkName, Publisher: &connector.Publisher{Broker: e.broker, Tenant: tenant},
		URL: e.simURL, ClientID: clientID, AppVersion: appVersion,
		PingInterval: 50 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		RetryBudget: -1, DialTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.link, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.reg.Add(tenant, e.link)
	e.runCtx, e.cancel = context.WithCancel(context.Background())

	t.Cleanup(func() {
		e.proxy.Close()
		sctx, scancel := context.WithTimeout(context.Background(), waitFor)
		defer scancel()
		if err := h.Shutdown(sctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		e.stop()
		srv.Close()
		ep.Wait()
		e.broker.Close()
		e.sim.Close()
	})
	return e
}

// run starts the link.
func (e *env) run() {
	e.running = true
	go func() {
		defer close(e.done)
		e.reg.Run(e.runCtx)
	}()
}

// stop stops the link and waits for its Run to return; idempotent.
func (e *env) stop() {
	e.cancel()
	if e.running {
		<-e.done
	}
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	e.t.Cleanup(cancel)
	return ctx
}

// dial connects a client of tenant acme through the fault proxy.
func (e *env) dial() *client.Client {
	e.t.Helper()
	tok, err := e.auth.Mint(auth.Claims{Subject: "t", Tenant: tenant, Subscribe: []string{"#"}}, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := client.Dial(e.ctx(), "ws://"+e.proxy.Addr()+"/v1/ws", &client.Options{
		Token: tok, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// watch dials a client and subscribes it to everything: POS events and
// link statuses arrive on one subscription in log order.
func (e *env) watch() *watcher {
	e.t.Helper()
	c := e.dial()
	s, err := c.Subscribe(e.ctx(), "#", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &watcher{t: e.t, c: c, s: s}
}

type watcher struct {
	t        *testing.T
	c        *client.Client
	s        *client.Subscription
	statuses []*event.LinkStatus // every status seen so far
	pos      []client.Event      // every POS event seen so far
	last     uint64              // offset of the last event seen
}

// next returns the next event, keeping a record of it.
func (w *watcher) next() client.Event {
	w.t.Helper()
	select {
	case ev, ok := <-w.s.Events():
		if !ok {
			w.t.Fatalf("subscription ended: %v", w.s.Err())
		}
		if ev.Position.Offset <= w.last {
			w.t.Fatalf("offset %d after %d: doubled or out of order", ev.Position.Offset, w.last)
		}
		w.last = ev.Position.Offset
		switch v := ev.Value.(type) {
		case *event.LinkStatus:
			w.statuses = append(w.statuses, v)
		case *event.POSEvent:
			w.pos = append(w.pos, ev)
		default:
			w.t.Fatalf("unexpected %s event on %s", ev.Kind, ev.Channel)
		}
		return ev
	case <-time.After(waitFor):
		var seen []string
		for _, st := range w.statuses {
			seen = append(seen, st.State+" ("+st.Reason+")")
		}
		w.t.Fatalf("no event within %v; statuses so far: %s", waitFor, strings.Join(seen, ", "))
	}
	panic("unreachable")
}

// status waits for a status in state (and whose reason contains why).
func (w *watcher) status(state, why string) *event.LinkStatus {
	w.t.Helper()
	for {
		if st, ok := w.next().Value.(*event.LinkStatus); ok && st.State == state && strings.Contains(st.Reason, why) {
			return st
		}
	}
}

// posEvent waits for the next POS event; a status in between fails the
// test if strict.
func (w *watcher) posEvent(strict bool) (client.Event, *event.POSEvent) {
	w.t.Helper()
	for {
		ev := w.next()
		if p, ok := ev.Value.(*event.POSEvent); ok {
			return ev, p
		}
		if strict {
			w.t.Fatalf("status %+v before the expected event", ev.Value)
		}
	}
}

// healthy waits until the simulator has a session on which the link kept
// pinging after its pongs: at least 3 pings, which the link sends only
// when the server answers (else it gives up after MissedPongs = 2).
func (e *env) healthy() doshiisim.Conn {
	e.t.Helper()
	var got doshiisim.Conn
	err := e.sim.WaitSessions(e.ctx(), func(ss []doshiisim.Conn) bool {
		for _, s := range ss {
			if s.Open && s.Pings >= 3 {
				got = s
				return true
			}
		}
		return false
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// emitOrders pushes order_updated events with ids from..to at location loc.
func (e *env) emitOrders(from, to int, loc string) {
	e.t.Helper()
	for i := from; i <= to; i++ {
		if _, err := e.sim.EmitEvent(wire.OrderUpdated, doshiisim.Payload{ID: fmt.Sprint(i), LocationID: loc, Status: "accepted"}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// The documented events in all three envelopes reach the client
// normalised, with the message verbatim; heartbeats go both ways.
func TestEventsEndToEnd(t *testing.T) {
	e := start(t, simConfig(), nil)
	w := e.watch()
	e.run()
	w.status(event.LinkConnected, "")
	sess := e.healthy()
	if sess.ClientID != clientID || sess.DeviceID != "" || sess.Path != wire.PathV3 {
		t.Fatalf("session %+v", sess)
	}
	for _, p := range e.sim.Pings() {
		if p.Version != appVersion || p.Envelope != wire.EnvelopeBare || p.Time < 1e12 {
			t.Fatalf("ping %+v", p)
		}
	}

	locSub := `{"event":"location_subscription","data":{"id":"aH43yx2","locationId":"aH43yx2","mappedLocationId":"1354","status":"subscribed","uri":"https://sandbox.doshii.co/partner/v3/locations/aH43yx2"}}`
	posOrder := `{"type":"order_created","data":{"id":"3","status":"pending","app":{"id":123,"name":"Ordering App"},"uri":"https://sandbox.doshii.co/pos/v3/unlinked_orders/3"}}`
	e.sim.Emit([]byte(locSub))
	e.sim.Emit([]byte(posOrder))
	emitted, err := e.sim.EmitEvent(wire.OrderUpdated, doshiisim.Payload{ID: "3", LocationID: locA, Status: "accepted", URI: "u"})
	if err != nil {
		t.Fatal(err)
	}
	typo, _ := e.sim.EmitEvent("ckeckin_updated", map[string]any{"id": "c1", "locationId": locA, "tableNames": []string{"12"}})
	unknown, _ := e.sim.EmitEventIn(wire.EnvelopeType, "kitchen_exploded", map[string]any{"id": 9, "locationId": locB})

	want := []struct {
		raw, channel, name, id string
		check                  func(*event.POSEvent) bool
	}{
		{locSub, "pos/ah43yx2/location", "location_subscription", "aH43yx2", func(p *event.POSEvent) bool {
			return p.Status == "subscribed" && p.MappedLocationID == "1354" && p.LocationID == locA && strings.HasSuffix(p.URI, "/locations/aH43yx2")
		}},
		{posOrder, "pos/_/order", "order_created", "3", func(p *event.POSEvent) bool {
			app, _ := p.Fields["app"].(map[string]interface{})
			return p.Status == "pending" && app["name"] == "Ordering App" && fmt.Sprint(app["id"]) == "123"
		}},
		{string(emitted), "pos/ah43yx2/order", "order_updated", "3", func(p *event.POSEvent) bool { return p.Status == "accepted" && p.URI == "u" }},
		{string(typo), "pos/ah43yx2/checkin", "checkin_updated", "c1", func(p *event.POSEvent) bool {
			names, _ := p.Fields["tableNames"].([]interface{})
			return p.Category == "checkin" && len(names) == 1 && names[0] == "12"
		}},
		{string(unknown), "pos/bx99zz1/other", "kitchen_exploded", "9", func(p *event.POSEvent) bool { return p.Category == "other" && p.LocationID == locB }},
	}
	for _, wnt := range want {
		ev, p := w.posEvent(true)
		if ev.Channel != wnt.channel || ev.Kind != event.KindPOS || p.Name != wnt.name || p.ID != wnt.id || !wnt.check(p) {
			t.Errorf("%s: got %s %+v", wnt.name, ev.Channel, p)
		}
		if string(p.Meta.Raw) != wnt.raw || p.Meta.Link != linkName || p.Meta.Protocol != Protocol || p.Meta.Received == 0 || p.Meta.Time != 0 {
			t.Errorf("%s: meta %+v", wnt.name, p.Meta)
		}
	}

	// Server pings and health checks are answered with the same time.
	t1 := e.sim.SendPing()
	t2 := e.sim.SendHealthCheck()
	if err := e.sim.WaitAnswers(e.ctx(), 2); err != nil {
		t.Fatal(err)
	}
	if a := e.sim.Answers(); a[0].Time != t1 || a[1].Time != t2 || a[0].Version != appVersion || a[0].Envelope != wire.EnvelopeBare {
		t.Fatalf("answers %+v, want times %d %d", a, t1, t2)
	}
	if n := len(e.sim.Sessions()); n != 1 {
		t.Fatalf("%d sessions: the link redialled", n)
	}

	e.stop()
	if st := e.link.Status(); st.State != event.LinkStopped {
		t.Fatalf("after stop: %+v", st)
	}
}

// With a deviceId the link gets only its device's locations; the legacy
// path and the SDK mock's bare pongs work too.
func TestDeviceLegacyPathBarePongs(t *testing.T) {
	cfg := simConfig()
	cfg.PongEnvelope = wire.EnvelopeBare
	e := start(t, cfg, func(c *Config) {
		c.URL = strings.TrimSuffix(c.URL, "/v3")
		c.DeviceID = deviceA
	})
	w := e.watch()
	e.run()
	w.status(event.LinkConnected, "")
	sess := e.healthy() // bare pongs count
	if sess.DeviceID != deviceA || sess.Path != wire.PathLegacy || sess.ClientID != clientID {
		t.Fatalf("session %+v", sess)
	}
	e.emitOrders(1, 1, locB) // another location: filtered out by the device
	e.emitOrders(2, 2, locA)
	ev, p := w.posEvent(true)
	if p.ID != "2" || ev.Channel != "pos/ah43yx2/order" {
		t.Fatalf("got %s %+v", ev.Channel, p)
	}
}

// The upstream closing (cleanly, abruptly, or logging the link out) makes
// the link redial and resume; the client's own link to the relay failing
// is recovered from history. Every event accepted arrives exactly once, in
// order.
func TestUpstreamFaultsNoLossNoDuplicates(t *testing.T) {
	// Heartbeats are not under test here: a slow ping interval keeps a
	// loaded machine from redialling (and losing events) unasked.
	e := start(t, simConfig(), func(c *Config) { c.PingInterval = time.Second })
	w := e.watch()
	e.run()
	w.status(event.LinkConnected, "")

	next := 1
	expect := func(n int) {
		t.Helper()
		e.emitOrders(next, next+n-1, locA)
		for range n {
			_, p := w.posEvent(false)
			if p.ID != fmt.Sprint(next) {
				t.Fatalf("got order %s, want %d", p.ID, next)
			}
			next++
		}
	}
	reconnected := func(why string) {
		t.Helper()
		w.status(event.LinkBackoff, why)
		w.status(event.LinkConnecting, "")
		w.status(event.LinkConnected, "")
		if err := e.sim.WaitClients(e.ctx(), 1); err != nil {
			t.Fatal(err)
		}
	}

	// The simulator registers a client just after the upgrade: wait for it
	// before emitting, as events for no one are lost (Doshii does not
	// replay either).
	if err := e.sim.WaitClients(e.ctx(), 1); err != nil {
		t.Fatal(err)
	}
	expect(5)
	e.sim.CloseClients(websocket.StatusGoingAway, "server restarting")
	reconnected("server restarting")
	expect(5)
	e.sim.DropClients()
	reconnected("")
	expect(5)
	e.sim.CloseClients(websocket.StatusPolicyViolation, "logged out")
	reconnected("logged out")
	expect(5)

	// The client's side fails while the upstream keeps delivering.
	before, _ := e.broker.Tail(context.Background(), tenant)
	e.proxy.Refuse(true)
	e.proxy.Cut()
	e.emitOrders(next, next+4, locA)
	for {
		tail, _ := e.broker.Tail(context.Background(), tenant)
		if tail.Offset >= before.Offset+5 {
			break
		}
		select {
		case <-e.ctx().Done():
			t.Fatal("the relay did not log the events")
		case <-time.After(5 * time.Millisecond):
		}
	}
	e.proxy.Refuse(false)
	for range 5 {
		ev, p := w.posEvent(false)
		if p.ID != fmt.Sprint(next) || !ev.Replayed {
			t.Fatalf("got order %s (replayed %v), want %d replayed", p.ID, ev.Replayed, next)
		}
		next++
	}
	expect(5)

	// One channel, so each event names the previous one: no gap anywhere.
	for i := 1; i < len(w.pos); i++ {
		if w.pos[i].Prev != w.pos[i-1].Position.Offset {
			t.Fatalf("event %d: prev %d, previous offset %d", i, w.pos[i].Prev, w.pos[i-1].Position.Offset)
		}
	}
	if len(w.pos) != 30 {
		t.Fatalf("%d events, want 30", len(w.pos))
	}
	if st := w.c.Stats(); st.Duplicates != 0 || st.Lost != 0 || st.Reconnects != 1 {
		t.Fatalf("client stats %+v", st)
	}
}

// A refused credential is reported as failed with the server's reason,
// which never reveals the client id or its base64.
func TestBadAuthReportsFailed(t *testing.T) {
	const unknown = "acme-unregistered-client-4711"
	cases := []struct {
		name, id, device string
		status           string
		body             string
	}{
		{"unknown client", unknown, "", "HTTP 401", doshiisim.BodyUnknownClient},
		{"unknown device", clientID, "device-z", "HTTP 403", doshiisim.BodyUnknownDevice},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := start(t, simConfig(), func(cfg *Config) { cfg.ClientID, cfg.DeviceID = c.id, c.device })
			w := e.watch()
			e.run()
			st := w.status(event.LinkFailed, "")
			if !strings.Contains(st.Reason, c.status) || !strings.Contains(st.Reason, c.body) || !strings.Contains(st.Reason, "credentials") || st.Attempt == 0 {
				t.Fatalf("status %+v", st)
			}
			tok := wire.AuthToken(c.id)
			for _, secret := range []string{c.id, tok, strings.TrimRight(tok, "="), url.QueryEscape(tok)} {
				if strings.Contains(st.Reason, secret) {
					t.Fatalf("reason %q reveals %q", st.Reason, secret)
				}
			}
			// It keeps trying (the account may be fixed), failing each time.
			if err := e.sim.WaitAttempts(e.ctx(), 2); err != nil {
				t.Fatal(err)
			}
			w.status(event.LinkConnecting, "")
			w.status(event.LinkFailed, c.status)
			if n := e.sim.Clients(); n != 0 {
				t.Fatalf("%d clients connected", n)
			}
		})
	}
}

// A server that stops answering pings is left after two missed pongs and
// redialled; once it answers again, events flow.
func TestSilentServerRedials(t *testing.T) {
	e := start(t, simConfig(), nil)
	e.sim.SetSilent(true)
	w := e.watch()
	e.run()
	w.status(event.LinkConnected, "")
	w.status(event.LinkBackoff, "no pong to 2 pings in a row")
	// On the first connection the link sent exactly two pings: one on
	// open, one a ping interval later; at the next it gave up.
	err := e.sim.WaitSessions(e.ctx(), func(ss []doshiisim.Conn) bool { return len(ss) > 0 && !ss[0].Open })
	if err != nil {
		t.Fatal(err)
	}
	if s := e.sim.Sessions()[0]; s.Pings != 2 {
		t.Fatalf("first session %+v: want 2 pings", s)
	}
	w.status(event.LinkConnecting, "")
	e.sim.SetSilent(false)
	e.healthy()
	e.emitOrders(1, 1, locA)
	if _, p := w.posEvent(false); p.ID != "1" {
		t.Fatalf("got %+v", p)
	}
	if st := e.sim.Stats(); st.IdleDrops != 0 {
		t.Fatalf("the simulator dropped the link first: %+v", st)
	}
}

// When every attempt fails, the link makes RetryBudget attempts within
// RetryWindow, reports failed with the reason, waits until the window
// allows, and recovers once the upstream is back.
func TestRetryBudgetExhausted(t *testing.T) {
	e := start(t, simConfig(), func(c *Config) {
		c.RetryBudget, c.RetryWindow = 3, 2*time.Second
		c.MinBackoff, c.MaxBackoff = time.Millisecond, 5*time.Millisecond
	})
	e.sim.SetUnavailable(true)
	w := e.watch()
	e.run()
	failed := w.status(event.LinkFailed, "")
	var connecting, backoff int
	for _, st := range w.statuses {
		switch st.State {
		case event.LinkConnecting:
			connecting++
		case event.LinkBackoff:
			backoff++
			if !strings.Contains(st.Reason, "HTTP 503") {
				t.Errorf("backoff reason %q", st.Reason)
			}
		}
	}
	wantReason := "retry budget exhausted: 3 connection attempts within 2s; last: upstream refused the upgrade (HTTP 503): " + doshiisim.BodyUnavailable
	if connecting != 3 || backoff != 3 || failed.Reason != wantReason || failed.RetryMS <= 0 || failed.RetryMS > 2000 {
		t.Fatalf("%d connecting, %d backing off, then %+v", connecting, backoff, failed)
	}
	e.sim.SetUnavailable(false)
	w.status(event.LinkConnected, "")
	e.healthy()
	e.emitOrders(1, 1, locA)
	if _, p := w.posEvent(false); p.ID != "1" {
		t.Fatalf("got %+v", p)
	}
}

// Malformed and oversize messages are counted and dropped; the link stays
// up and the events around them arrive.
func TestMalformedAndOversize(t *testing.T) {
	e := start(t, simConfig(), func(c *Config) { c.MaxMessage = 2048 })
	w := e.watch()
	e.run()
	w.status(event.LinkConnected, "")
	e.healthy()

	e.emitOrders(1, 1, locA)
	for _, bad := range []string{
		`{"emit":["order_updated",`,                  // json
		`[1,2]`,                                      // json
		`{"emit":{"0":"order_updated"}}`,             // type
		`{"emit":["",{}]}`,                           // name
		`{"data":{"id":"1"}}`,                        // envelope
		`{"type":"message","data":{}}`,               // heartbeat
		`{"doshii":{"pong":1.5}}`,                    // value
		`{"event":"order_updated","data":{"id":{}}}`, // type
	} {
		e.sim.Emit([]byte(bad))
	}
	big := strings.Repeat("x", 8<<10)
	if _, err := e.sim.EmitEvent(wire.OrderUpdated, map[string]string{"id": "big", "locationId": locA, "note": big}); err != nil {
		t.Fatal(err)
	}
	e.emitOrders(2, 2, locA)

	for _, id := range []string{"1", "2"} {
		if _, p := w.posEvent(true); p.ID != id {
			t.Fatalf("got order %s, want %s", p.ID, id)
		}
	}
	counts := e.link.BadInputCounts()
	for kind, n := range map[string]uint64{"json": 2, "type": 2, "name": 1, "envelope": 1, "heartbeat": 1, "value": 1, "oversize": 1} {
		if counts[kind] != n {
			t.Errorf("bad input %q: %d, want %d (all: %v)", kind, counts[kind], n, counts)
		}
	}
	if n := len(e.sim.Sessions()); n != 1 {
		t.Fatalf("%d sessions: the link redialled", n)
	}
}

// A dial error quotes the URL it dialled; the status reason does not
// carry the credential.
func TestDialErrorRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "ws://" + ln.Addr().String() + wire.PathV3
	ln.Close()
	e := start(t, simConfig(), func(c *Config) { c.URL = closed })
	w := e.watch()
	e.run()
	st := w.status(event.LinkBackoff, "")
	tok := wire.AuthToken(clientID)
	for _, secret := range []string{clientID, tok, strings.TrimRight(tok, "="), url.QueryEscape(tok)} {
		if strings.Contains(st.Reason, secret) {
			t.Fatalf("reason %q reveals %q", st.Reason, secret)
		}
	}
	if !strings.Contains(st.Reason, "REDACTED") && !strings.Contains(st.Reason, "refused") {
		t.Fatalf("reason %q", st.Reason)
	}
	t.Log(st.Reason)
}
