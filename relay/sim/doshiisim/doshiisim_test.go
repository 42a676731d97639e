package doshiisim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/relay/sim/doshiisim"
)

const (
	clientID = "acme-ordering-app"
	deviceA  = "device-a"
	locA     = "aH43yx2"
	locB     = "bX99zz1"
)

func testConfig() *doshiisim.Config {
	return &doshiisim.Config{
		Clients:    []doshiisim.Client{{ID: clientID, Devices: []doshiisim.Device{{ID: deviceA, Locations: []string{locA}}}}},
		EventEvery: -1,
	}
}

func start(t *testing.T, cfg *doshiisim.Config) (*doshiisim.Simulator, string) {
	t.Helper()
	sim := doshiisim.New(cfg)
	base, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, base
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, base, id, device string) *websocket.Conn {
	t.Helper()
	u, err := doshii.SocketURL(base, id, device)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.Dial(ctxT(t), u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func send(t *testing.T, c *websocket.Conn, b []byte) {
	t.Helper()
	if err := c.Write(ctxT(t), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, c *websocket.Conn) doshii.Frame {
	t.Helper()
	_, b, err := c.Read(ctxT(t))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	f, err := doshii.Decode(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return f
}

func ping(t *testing.T, c *websocket.Conn, ms int64) {
	t.Helper()
	b, _ := doshii.EncodePing(doshii.EnvelopeBare, doshii.Ping{Time: ms, Version: "1.2.3"})
	send(t, c, b)
}

// The upgrade is refused unless auth is base64 of a known client id and
// deviceId, if any, is one of its devices; the body says why and never
// repeats the credential.
func TestUpgradeChecksAuth(t *testing.T) {
	leaktest.Check(t)
	sim, base := start(t, testConfig())
	cases := []struct {
		name   string
		query  string
		status int
		body   string
	}{
		{"no auth", "", http.StatusUnauthorized, doshiisim.BodyNoAuth},
		{"empty auth", "?auth=", http.StatusUnauthorized, doshiisim.BodyNoAuth},
		{"not base64", "?auth=%21%21%21", http.StatusUnauthorized, doshiisim.BodyBadAuth},
		{"plain client id", "?auth=" + clientID, http.StatusUnauthorized, doshiisim.BodyBadAuth},
		{"unknown client", "?auth=" + doshii.AuthToken("someone-else"), http.StatusUnauthorized, doshiisim.BodyUnknownClient},
		{"unknown device", "?auth=" + doshii.AuthToken(clientID) + "&deviceId=nope", http.StatusForbidden, doshiisim.BodyUnknownDevice},
	}
	for _, c := range cases {
		_, resp, err := websocket.Dial(ctxT(t), base+c.query, nil)
		if err == nil || resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: err %v, resp %v; want status %d", c.name, err, resp, c.status)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), c.body) {
			t.Errorf("%s: body %q, want %q", c.name, body, c.body)
		}
		for _, secret := range []string{clientID, doshii.AuthToken(clientID), "someone-else", doshii.AuthToken("someone-else")} {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s: body %q repeats %q", c.name, body, secret)
			}
		}
	}
	if st := sim.Stats(); st.Attempts != len(cases) || st.Rejected != len(cases) || sim.Clients() != 0 {
		t.Fatalf("stats %+v clients %d", st, sim.Clients())
	}
	// A '+' that reached the query unescaped (btoa without
	// encodeURIComponent) still authenticates.
	const plusID = "~~~?" // base64 "fn5+Pw=="
	sim2, base2 := start(t, &doshiisim.Config{Clients: []doshiisim.Client{{ID: plusID}}, EventEvery: -1})
	c, _, err := websocket.Dial(ctxT(t), base2+"?auth="+doshii.AuthToken(plusID), nil)
	if err != nil {
		t.Fatalf("unescaped plus: %v", err)
	}
	defer c.CloseNow()
	if err := sim2.WaitClients(ctxT(t), 1); err != nil || sim2.Connections()[0].ClientID != plusID {
		t.Fatalf("connections %+v %v", sim2.Connections(), err)
	}
}

// Both paths in circulation are served; others are not.
func TestPaths(t *testing.T) {
	leaktest.Check(t)
	sim, base := start(t, testConfig())
	legacy := strings.TrimSuffix(base, "/v3")
	dial(t, base, clientID, "")
	dial(t, legacy, clientID, deviceA)
	if err := sim.WaitClients(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, c := range sim.Connections() {
		paths[c.Path] = c.DeviceID
	}
	if len(paths) != 2 || paths[doshii.PathV3] != "" || paths[doshii.PathLegacy] != deviceA {
		t.Fatalf("connections %+v", sim.Connections())
	}
	u, _ := doshii.SocketURL(strings.TrimSuffix(base, "/app/socket/v3")+"/other", clientID, "")
	if _, resp, err := websocket.Dial(ctxT(t), u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other path: %v %v", resp, err)
	}
}

// Every ping gets a pong echoing its time, in the documented shape or,
// configured, the SDK mock's bare one.
func TestPongShapes(t *testing.T) {
	leaktest.Check(t)
	for _, env := range []doshii.Envelope{0, doshii.EnvelopeBare} {
		cfg := testConfig()
		cfg.PongEnvelope = env
		sim, base := start(t, cfg)
		c := dial(t, base, clientID, "")
		ping(t, c, 1539144663417)
		pong, ok := read(t, c).(*doshii.Pong)
		want := doshii.EnvelopeType
		if env != 0 {
			want = env
		}
		if !ok || pong.Time != 1539144663417 || pong.Version != doshiisim.DefaultVersion || pong.Envelope != want {
			t.Fatalf("pong %+v", pong)
		}
		if env == 0 && string(pong.Raw) != `{"type":"message","data":{"doshii":{"pong":1539144663417,"version":"3.2.0"}}}` {
			t.Fatalf("pong %s", pong.Raw)
		}
		if p := sim.Pings(); len(p) != 1 || p[0].Version != "1.2.3" {
			t.Fatalf("pings %+v", p)
		}
		if ss := sim.Sessions(); len(ss) != 1 || ss[0].Pings != 1 || !ss[0].Open || ss[0].ClientID != clientID {
			t.Fatalf("sessions %+v", ss)
		}
	}
}

// A silent simulator answers no ping; once it speaks again, the next ping
// is answered, and the one sent while silent never is.
func TestSilence(t *testing.T) {
	leaktest.Check(t)
	sim, base := start(t, testConfig())
	c := dial(t, base, clientID, "")
	sim.SetSilent(true)
	ping(t, c, 1)
	if err := sim.WaitPings(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	sim.SendPing() // silent: not sent either
	sim.SetSilent(false)
	ping(t, c, 2)
	if pong, ok := read(t, c).(*doshii.Pong); !ok || pong.Time != 2 {
		t.Fatalf("first message after silence: %+v", pong)
	}
}

// A client that stops pinging is closed with 1008.
func TestIdleClientDropped(t *testing.T) {
	leaktest.Check(t)
	cfg := testConfig()
	cfg.IdleTimeout = 50 * time.Millisecond
	sim, base := start(t, cfg)
	c := dial(t, base, clientID, "")
	_, _, err := c.Read(ctxT(t))
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("read: %v, want close 1008", err)
	}
	if st := sim.Stats(); st.IdleDrops != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Server pings and health checks go out in their documented shapes, and
// the client's pongs are recorded.
func TestServerHeartbeats(t *testing.T) {
	leaktest.Check(t)
	now := time.UnixMilli(1539153237588)
	cfg := testConfig()
	cfg.Now = func() time.Time { return now }
	sim, base := start(t, cfg)
	c := dial(t, base, clientID, "")
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	sim.SendPing()
	sim.SendHealthCheck()
	_, b, err := c.Read(ctxT(t))
	if err != nil || string(b) != `{"type":"message","data":{"doshii":{"ping":1539153237588,"version":"3.2.0"}}}` {
		t.Fatalf("server ping %s %v", b, err)
	}
	_, b, err = c.Read(ctxT(t))
	if err != nil || string(b) != `{"event":"health_check","data":{"ping":1539153237588}}` {
		t.Fatalf("health check %s %v", b, err)
	}
	pong, _ := doshii.EncodePong(doshii.EnvelopeBare, doshii.Pong{Time: 1539153237588, Version: "1"})
	send(t, c, pong)
	send(t, c, []byte(`{"emit":["order_created",{}]}`)) // not a heartbeat: counted
	if err := sim.WaitAnswers(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if a := sim.Answers(); a[0].Time != 1539153237588 {
		t.Fatalf("answers %+v", a)
	}
}

// Events go out in the emit envelope by default, per event as configured,
// and only to the connections whose device admits their location.
func TestEventsEnvelopesAndDeviceFilter(t *testing.T) {
	leaktest.Check(t)
	cfg := testConfig()
	cfg.EnvelopeFor = map[string]doshii.Envelope{doshii.LocationSubscription: doshii.EnvelopeEvent}
	sim, base := start(t, cfg)
	all := dial(t, base, clientID, "")
	dev := dial(t, base, clientID, deviceA)
	if err := sim.WaitClients(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	b1, err := sim.EmitEvent(doshii.OrderCreated, doshiisim.Payload{ID: "1", LocationID: locB, Status: "pending"})
	if err != nil || string(b1) != `{"emit":["order_created",{"id":"1","locationId":"bX99zz1","status":"pending"}]}` {
		t.Fatalf("emit %s %v", b1, err)
	}
	b2, _ := sim.EmitEvent(doshii.LocationSubscription, json.RawMessage(`{"id":"aH43yx2","locationId":"aH43yx2","status":"subscribed"}`))
	b3, _ := sim.EmitEventIn(doshii.EnvelopeType, doshii.OrderUpdated, map[string]string{"id": "2", "locationId": locA})
	b4, _ := sim.EmitEvent(doshii.MenuUpdated, nil) // no location: unfiltered connections only
	want := map[*websocket.Conn][]string{
		all: {string(b1), string(b2), string(b3), string(b4)},
		dev: {string(b2), string(b3)},
	}
	envs := []doshii.Envelope{doshii.EnvelopeEmit, doshii.EnvelopeEvent, doshii.EnvelopeType, doshii.EnvelopeEmit}
	for c, msgs := range want {
		for i, m := range msgs {
			e, ok := read(t, c).(*doshii.Event)
			if !ok || string(e.Raw) != m {
				t.Fatalf("message %d: got %+v, want %s", i, e, m)
			}
			if c == all && e.Envelope != envs[i] {
				t.Errorf("message %d envelope %v, want %v", i, e.Envelope, envs[i])
			}
		}
	}
	// The device connection got nothing else: the next thing it reads is
	// the pong to its ping.
	ping(t, dev, 7)
	if p, ok := read(t, dev).(*doshii.Pong); !ok || p.Time != 7 {
		t.Fatalf("after filtered events: %+v", p)
	}
	if _, err := sim.EmitEvent("message", nil); err == nil {
		t.Fatal("emitting a heartbeat name as an event succeeded")
	}
}

// The generator plays an order's life cycle with thin payloads.
func TestGenerator(t *testing.T) {
	leaktest.Check(t)
	cfg := testConfig()
	cfg.EventEvery = 5 * time.Millisecond
	_, base := start(t, cfg)
	c := dial(t, base, clientID, deviceA)
	var names []string
	for range 5 {
		e, ok := read(t, c).(*doshii.Event)
		if !ok || e.Envelope != doshii.EnvelopeEmit || e.Payload.LocationID != doshiisim.DefaultLocationID ||
			e.Payload.MappedLocationID != doshiisim.DefaultMappedLocationID || !strings.HasPrefix(e.Payload.URI, doshiisim.DefaultBaseURI+"/partner/v3/") {
			t.Fatalf("generated %+v", e)
		}
		names = append(names, e.Name+":"+e.Payload.Status)
	}
	// The generator may have started before the dial completed; the
	// cycle is what matters.
	joined := strings.Join(append(names, names...), " ")
	if !strings.Contains(joined, "order_created:pending order_updated:accepted transaction_created:pending transaction_updated:complete order_updated:complete") {
		t.Fatalf("generated %v", names)
	}
}

// CloseClients sends a close frame; DropClients cuts; Close closes with
// 1001 and is idempotent; SetUnavailable refuses with 503.
func TestCloseHooks(t *testing.T) {
	leaktest.Check(t)
	sim, base := start(t, testConfig())
	c := dial(t, base, clientID, "")
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if n := sim.CloseClients(4001, "logged out"); n != 1 || sim.Clients() != 0 {
		t.Fatalf("closed %d, clients %d", n, sim.Clients())
	}
	_, _, err := c.Read(ctxT(t))
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "logged out" {
		t.Fatalf("read after CloseClients: %v", err)
	}

	c = dial(t, base, clientID, "")
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if n := sim.DropClients(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if _, _, err := c.Read(ctxT(t)); err == nil {
		t.Fatal("read after DropClients succeeded")
	}

	sim.SetUnavailable(true)
	u, _ := doshii.SocketURL(base, clientID, "")
	if _, resp, err := websocket.Dial(ctxT(t), u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("unavailable: %v %v", resp, err)
	}
	sim.SetUnavailable(false)

	c = dial(t, base, clientID, "")
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() { // reading answers the close handshake
		_, _, err := c.Read(context.Background())
		readErr <- err
	}()
	sim.Close()
	sim.Close()
	if err := <-readErr; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("read after Close: %v", err)
	}
	ss := sim.Sessions()
	if len(ss) != 3 || ss[0].Open || ss[1].Open || ss[2].Open {
		t.Fatalf("sessions after Close: %+v", ss)
	}
	if _, err := sim.Start(context.Background(), "127.0.0.1:0"); !errors.Is(err, doshiisim.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}
