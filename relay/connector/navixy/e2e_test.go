package navixy_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/event"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/connector/navixy"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
	"github.com/fieldrelay/fieldrelay/relay/sim/navixysim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// patience bounds every wait; it is a deadline for failure, never a delay.
const patience = 10 * time.Second

// gt is the zone of the vendor's sample tracker (Guatemala), the
// account's time zone in these tests.
var gt = time.FixedZone("-06:00", -6*3600)

// simNow is the simulator's clock: 2018-10-17 12:51:55 in the account's zone.
var simNow = time.Date(2018, 10, 17, 18, 51, 55, 0, time.UTC)

// env is a simulator, a relay with the link, and a client of the relay,
// all on 127.0.0.1.
type env struct {
	t      *testing.T
	sim    *navixysim.Simulator
	base   string
	link   *navixy.Link
	client *client.Client
	reg    *connector.Registry
	ctx    context.Context

	states, statuses, subs *client.Subscription
	startLink              func()
	held                   bool
}

// quietSim has no periodic traffic: tests move trackers themselves.
func quietSim(c navixysim.Config) navixysim.Config {
	if c.ServerHeartbeat == 0 {
		c.ServerHeartbeat = -1
	}
	if c.ClientTimeout == 0 {
		c.ClientTimeout = -1
	}
	c.MoveEvery = -1
	if c.Location == nil {
		c.Location = gt
	}
	if c.Now == nil {
		c.Now = func() time.Time { return simNow }
	}
	return c
}

// option adjusts a test's setup once the simulator runs.
type option func(e *env, cfg *navixy.Config)

// withIssuedKey makes the link use a hash the simulator issued as its API key.
func withIssuedKey(e *env, cfg *navixy.Config) { cfg.APIKey = e.sim.IssueHash() }

// held leaves the link to the test to run.
func held(e *env, cfg *navixy.Config) { e.held = true }

// setup starts everything and subscribes the client to gps/+/state,
// gps/+/subscription and link/gps/status, then starts the link so that
// nothing it publishes is missed.
func setup(t *testing.T, simCfg navixysim.Config, cfg navixy.Config, opts ...option) *env {
	t.Helper()
	leaktest.Check(t)
	e := &env{t: t}
	simCfg = quietSim(simCfg)
	e.sim = navixysim.New(&simCfg)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	base, err := e.sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = base
	for _, o := range opts {
		o(e, &cfg)
	}

	b := broker.NewMemory(broker.MemoryConfig{})
	verifier := &auth.HS256{Secret: []byte("navixy-test")}
	cfg.Name = "gps"
	cfg.Publisher = &connector.Publisher{Broker: b, Tenant: "acme"}
	if cfg.BaseURL == "" {
		cfg.BaseURL = base
	}
	if cfg.Login == "" && cfg.APIKey == "" {
		cfg.Login, cfg.Password = navixysim.DefaultLogin, navixysim.DefaultPassword
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = navixy.Duration(5*time.Millisecond), navixy.Duration(50*time.Millisecond)
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = "-06:00"
	}
	e.link, err = navixy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = &connector.Registry{}
	e.reg.Add("acme", e.link)
	h := hub.New(hub.Config{Broker: b, Verifier: verifier, Commander: e.reg})
	ep := server.NewEndpoint(server.Config{Hub: h})
	srv := httptest.NewServer(ep)

	linkCtx, stopLink := context.WithCancel(context.Background())
	e.ctx = linkCtx
	linkDone := make(chan struct{})
	var once sync.Once
	e.startLink = func() {
		once.Do(func() {
			go func() {
				defer close(linkDone)
				e.reg.Run(linkCtx)
			}()
		})
	}
	t.Cleanup(func() {
		if e.client != nil {
			e.client.Close()
		}
		stopLink()
		e.startLink() // so that linkDone closes
		<-linkDone
		sctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := h.Shutdown(sctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		srv.Close()
		ep.Wait()
		b.Close()
		e.sim.Close()
	})

	tok, err := verifier.Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.client, err = client.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/ws", &client.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	e.states = e.subscribe("gps/+/state")
	e.subs = e.subscribe("gps/+/subscription")
	e.statuses = e.subscribe("link/gps/status")
	if !e.held {
		e.startLink()
	}
	return e
}

func (e *env) subscribe(pattern string) *client.Subscription {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := e.client.Subscribe(ctx, pattern, &client.SubscribeOptions{Buffer: 4096})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func next(t *testing.T, s *client.Subscription) client.Event {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription %s ended: %v", s.Pattern(), s.Err())
		}
		return ev
	case <-timer.C:
		t.Fatalf("no event on %s within %v", s.Pattern(), patience)
	}
	panic("unreachable")
}

// waitStatus reads link statuses until one in state and returns it.
func (e *env) waitStatus(state string) *event.LinkStatus {
	e.t.Helper()
	for {
		ev := next(e.t, e.statuses)
		st := ev.Value.(*event.LinkStatus)
		if st.State == state {
			return st
		}
	}
}

// waitSim waits until the simulator's stats satisfy cond.
func (e *env) waitSim(what string, cond func(navixysim.Stats) bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := e.sim.Wait(ctx, cond); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// state reads the next position and checks the client-side sequence.
func (e *env) state() (*event.TrackerState, client.Event) {
	e.t.Helper()
	ev := next(e.t, e.states)
	st, ok := ev.Value.(*event.TrackerState)
	if !ok {
		e.t.Fatalf("event %s on %s is %T", ev.Kind, ev.Channel, ev.Value)
	}
	return st, ev
}

// track collects positions in order and checks that no offset repeats or
// goes back, and that each is the position expected.
type track struct {
	e    *env
	last uint64
	got  []string
}

func (tr *track) expect(channel string, lat float64) *event.TrackerState {
	tr.e.t.Helper()
	st, ev := tr.e.state()
	if ev.Position.Offset <= tr.last {
		tr.e.t.Fatalf("offset %d after %d", ev.Position.Offset, tr.last)
	}
	tr.last = ev.Position.Offset
	tr.got = append(tr.got, fmt.Sprintf("%s@%v", ev.Channel, st.Lat))
	if ev.Channel != channel || st.Lat != lat {
		tr.e.t.Fatalf("positions so far %v; want %s@%v last", tr.got, channel, lat)
	}
	return st
}

// move moves tracker 15564 to latitude lat.
func (e *env) move(lat float64) {
	e.t.Helper()
	if err := e.sim.Move(navixysim.Move{TrackerID: 15564, Lat: lat, Lng: -90.9, Speed: 40, Heading: 90}); err != nil {
		e.t.Fatal(err)
	}
}

// connected waits for the link to be connected and subscribed n times in
// total.
func (e *env) connected(subscribes int) *event.LinkStatus {
	e.t.Helper()
	st := e.waitStatus(event.LinkConnected)
	e.waitSim("subscribed", func(s navixysim.Stats) bool { return s.Subscribes >= subscribes })
	return st
}

func (e *env) checkClient() {
	e.t.Helper()
	if st := e.client.Stats(); st.Duplicates != 0 || st.Lost != 0 || st.Gaps != 0 {
		e.t.Errorf("client stats %+v", st)
	}
}

const sampleLat, sampleLng = 14.330065796228606, -90.99037259141691

func TestPositionsEndToEnd(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{})
	if st := next(t, e.statuses).Value.(*event.LinkStatus); st.State != event.LinkConnecting {
		t.Errorf("first status %+v", st)
	}
	if st := next(t, e.statuses).Value.(*event.LinkStatus); st.State != event.LinkConnected || st.Reason != "state: 1 normal; blocked 15565" {
		t.Errorf("second status %+v", st)
	}
	// The socket URL carries the Atmosphere query.
	q := e.sim.LastQuery()
	for k, v := range map[string]string{"X-Atmosphere-tracking-id": "0", "X-Atmosphere-Framework": "2.3.6-javascript",
		"X-Atmosphere-Transport": "websocket", "Content-Type": "application/json", "X-atmo-protocol": "true"} {
		if q.Get(k) != v {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
		}
	}
	// Current form by default, naming the trackers of tracker/list.
	a := e.sim.Stats().LastAction
	if !a.Current() || len(a.Requests) != 1 || a.Requests[0].Type != "state" || fmt.Sprint(a.Requests[0].Trackers) != "[15564 15565]" || !nx.ValidHash(a.Hash) {
		t.Errorf("subscribe %s", a.Encode())
	}
	// Subscription statuses.
	got := map[string]string{}
	for range 2 {
		ev := next(t, e.subs)
		s := ev.Value.(*event.TrackerSubscription)
		got[ev.Channel] = s.Status + "/" + s.Event + "/" + s.Label
	}
	if got["gps/15564/subscription"] != "normal/state/Truck 1" || got["gps/15565/subscription"] != "blocked/state/Van 2" {
		t.Errorf("subscription statuses %v", got)
	}
	if st := e.link.Statuses(); st[15564] != "normal" || st[15565] != "blocked" {
		t.Errorf("Statuses() = %v", st)
	}

	// The initial state: the vendor's sample, normalised.
	tr := &track{e: e}
	s := tr.expect("gps/15564/state", sampleLat)
	wantTime := simNow.UnixMicro()
	if s.TrackerID != 15564 || s.SourceID != 10284 || s.Label != "Truck 1" || !s.HasPosition || s.Lng != sampleLng ||
		s.Speed != 0 || s.Heading != 248 || s.Alt != 431 || s.GPSSignal != 100 || s.Connection != "active" || s.Movement != "parked" ||
		s.Ignition == nil || *s.Ignition || s.Battery != nil || s.GSM != nil || fmt.Sprint(s.Inputs) != "[false false]" {
		t.Errorf("initial state %+v", s)
	}
	if s.GPSTime != wantTime || s.LastUpdate != wantTime || s.MovementTime != wantTime || s.Meta.Time != wantTime {
		t.Errorf("times %d %d %d %d, want %d (12:51:55 at -06:00)", s.GPSTime, s.LastUpdate, s.MovementTime, s.Meta.Time, wantTime)
	}
	if s.Meta.Link != "gps" || s.Meta.Protocol != "navixy" || s.Meta.Received == 0 {
		t.Errorf("meta %+v", s.Meta)
	}
	f, err := nx.Decode(s.Meta.Raw)
	if se, ok := f.(*nx.StateEvent); err != nil || !ok || se.State.SourceID != 10284 || !strings.HasPrefix(string(s.Meta.Raw), `{"type":"event","event":"state","user_time":"2018-10-17 12:51:55",`) {
		t.Errorf("Meta.Raw %s (%v)", s.Meta.Raw, err)
	}

	// Positions follow moves, in order.
	for _, lat := range []float64{14.4, 14.5, 14.6} {
		e.move(lat)
		s := tr.expect("gps/15564/state", lat)
		if s.Speed != 40 || s.Movement != "moving" || !*s.Ignition {
			t.Errorf("moved state %+v", s)
		}
	}
	e.checkClient()
	if st := e.sim.Stats(); st.Auths != 1 || st.TrackerLists != 1 || st.Connections != 1 || st.Subscribes != 1 {
		t.Errorf("sim stats %+v", st)
	}
	if c := e.link.BadInputCounts(); len(c) != 0 {
		t.Errorf("bad input %v", c)
	}
}

func TestOldSubscribeFormAndJSONAuth(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{SubscribeForm: navixy.FormOld, AuthJSON: true, Trackers: []int64{15564, 15568}})
	st := e.connected(1)
	if st.Reason != "state: 1 normal; unknown 15568" {
		t.Errorf("reason %q", st.Reason)
	}
	if a := e.sim.Stats().LastAction; a.Current() || fmt.Sprint(a.Events) != "[state]" || fmt.Sprint(a.Trackers) != "[15564 15568]" {
		t.Errorf("subscribe %s", a.Encode())
	}
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)
	e.move(15)
	tr.expect("gps/15564/state", 15)
	e.checkClient()
}

func TestStateBatchCompactAndUnknownSource(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{Event: "state_batch", Format: "compact", RateLimit: "5s", Trackers: []int64{15564}})
	e.connected(1)
	a := e.sim.Stats().LastAction
	if r := a.Requests[0]; r.Type != "state_batch" || r.Target == nil || r.Target.Type != "selected" || fmt.Sprint(r.Target.TrackerIDs) != "[15564]" ||
		r.Format != "compact" || r.RateLimit != "5s" {
		t.Errorf("subscribe %s", a.Encode())
	}
	tr := &track{e: e}
	s := tr.expect("gps/15564/state", sampleLat)
	if s.Inputs != nil || s.Ignition == nil {
		t.Errorf("compact state %+v", s)
	}
	// A batch element's Meta.Raw is the element.
	if !strings.HasPrefix(string(s.Meta.Raw), `{"source_id":10284,`) {
		t.Errorf("Meta.Raw %s", s.Meta.Raw)
	}
	e.move(14.7)
	tr.expect("gps/15564/state", 14.7)

	// A source the tracker list does not know is published under its
	// own name, and counted.
	e.sim.EmitMessage([]byte(`{"type":"event","event":"state","data":{"source_id":999,"gps":{"location":{"lat":1,"lng":2}}}}`))
	s = tr.expect("gps/src-999/state", 1)
	if s.TrackerID != 0 || s.SourceID != 999 {
		t.Errorf("unmapped state %+v", s)
	}
	if c := e.link.BadInputCounts(); c["unknown_source"] != 1 {
		t.Errorf("bad input %v", c)
	}
	e.checkClient()
}

func TestReconnectAfterClose(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{})
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)
	e.move(14.4)
	tr.expect("gps/15564/state", 14.4)

	e.sim.DropClients()
	// The link status goes backing_off, connecting, connected.
	for _, want := range []string{event.LinkBackoff, event.LinkConnecting, event.LinkConnected} {
		if st := next(t, e.statuses).Value.(*event.LinkStatus); st.State != want {
			t.Fatalf("status %+v, want %s", st, want)
		}
	}
	e.waitSim("subscribed", func(s navixysim.Stats) bool { return s.Subscribes >= 2 })
	// The hash is reused; the state re-sent after the subscribe is the one
	// already published, so the next position is the next move.
	e.move(14.5)
	tr.expect("gps/15564/state", 14.5)
	if st := e.sim.Stats(); st.Auths != 1 || st.TrackerLists != 1 || st.Connections != 2 || st.Subscribes != 2 {
		t.Errorf("sim stats %+v", st)
	}
	e.checkClient()
}

func TestLogoutLogsInAgain(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{})
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)
	e.move(14.4)
	tr.expect("gps/15564/state", 14.4)

	if n := e.sim.Logout(); n != 1 {
		t.Fatalf("logout told %d sockets", n)
	}
	if st := e.waitStatus(event.LinkBackoff); st.Reason != "logout: session closed" {
		t.Errorf("backoff reason %q", st.Reason)
	}
	e.connected(2)
	e.move(14.5)
	tr.expect("gps/15564/state", 14.5)
	if st := e.sim.Stats(); st.Auths != 2 || st.TrackerLists != 2 || st.Subscribes != 2 || st.SubscribeErrors != 0 {
		t.Errorf("sim stats %+v", st)
	}
	e.checkClient()
}

func TestExpiredHashLogsInAgain(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{})
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)

	// The session ends silently; the next subscribe gets error 4.
	e.sim.ExpireHashes()
	e.sim.DropClients()
	e.waitStatus(event.LinkBackoff) // the drop
	st := e.waitStatus(event.LinkBackoff)
	if !strings.Contains(st.Reason, "error 4 User or API key not found or session ended") {
		t.Errorf("backoff reason %q", st.Reason)
	}
	e.connected(2)
	e.move(14.5)
	tr.expect("gps/15564/state", 14.5)
	if st := e.sim.Stats(); st.Auths != 2 || st.SubscribeErrors != 1 || st.Subscribes != 2 {
		t.Errorf("sim stats %+v", st)
	}
	e.checkClient()
}

func TestRefusedCredentialsFail(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		e := setup(t, navixysim.Config{}, navixy.Config{Login: "demo", Password: "s3cret-wrong"})
		st := e.waitStatus(event.LinkFailed)
		if st.Reason != "login refused: 102 Wrong login or password" || st.RetryMS != 50 {
			t.Errorf("failed status %+v", st)
		}
		if strings.Contains(st.Reason, "s3cret") {
			t.Error("the password is in the status")
		}
	})
	t.Run("not activated", func(t *testing.T) {
		e := setup(t, navixysim.Config{Users: []navixysim.User{{Login: "demo", Password: "demo", NotActivated: true}}}, navixy.Config{})
		if st := e.waitStatus(event.LinkFailed); st.Reason != "login refused: 103 User not activated" {
			t.Errorf("failed status %+v", st)
		}
	})
	t.Run("wrong hash", func(t *testing.T) {
		e := setup(t, navixysim.Config{}, navixy.Config{APIKey: "f4bf1b75403d851653dad99c78c4b237"})
		st := e.waitStatus(event.LinkFailed)
		if st.Reason != "api key refused by tracker/list: 3 Wrong hash" {
			t.Errorf("failed status %+v", st)
		}
		if st := e.sim.Stats(); st.Auths != 0 {
			t.Errorf("logged in with an API key: %+v", st)
		}
	})
}

func TestAPIKey(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{}, withIssuedKey)
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)
	if st := e.sim.Stats(); st.Auths != 0 || st.TrackerLists != 1 {
		t.Errorf("sim stats %+v", st)
	}
	// A logout does not end an API key: the link subscribes again with it.
	e.sim.Logout()
	if st := e.waitStatus(event.LinkBackoff); st.Reason != "logout: session closed" {
		t.Errorf("backoff reason %q", st.Reason)
	}
	e.connected(2)
	e.move(14.4)
	tr.expect("gps/15564/state", 14.4)
	// A key the server no longer accepts is not replaced by a login.
	e.sim.ExpireHashes()
	e.sim.DropClients()
	if st := e.waitStatus(event.LinkFailed); !strings.Contains(st.Reason, "api key refused") {
		t.Errorf("failed status %+v", st)
	}
	if st := e.sim.Stats(); st.Auths != 0 {
		t.Errorf("logged in with an API key: %+v", st)
	}
}

func TestSilenceReconnects(t *testing.T) {
	e := setup(t, navixysim.Config{ServerHeartbeat: 10 * time.Millisecond}, navixy.Config{SilenceTimeout: navixy.Duration(300 * time.Millisecond)})
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)
	e.move(14.4)
	tr.expect("gps/15564/state", 14.4)

	e.sim.Silence(true)
	for {
		st := e.waitStatus(event.LinkBackoff)
		if strings.HasPrefix(st.Reason, "silent for 300ms") {
			break
		}
	}
	e.waitSim("reconnected", func(s navixysim.Stats) bool { return s.Connections >= 2 && s.Subscribes >= 2 })
	e.sim.Silence(false)
	e.waitStatus(event.LinkConnected)
	e.move(14.5)
	tr.expect("gps/15564/state", 14.5)
	e.checkClient()
}

func TestMalformedAndOversizeFrames(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{MaxMessage: 4096})
	e.connected(1)
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)

	for _, bad := range []string{
		`{"type":`,
		`[1,2]`,
		`{"type":"notice"}`,
		`{"type":"event","event":"state","data":{"source_id":"ten"}}`,
		`{"type":"event","event":"state","data":{"source_id":10284,"last_update":"17/10/2018"}}`,
		`99|{"type":"event"}`,
		`{"type":"error","action":"null","status":{"code":5,"description":"Wrong request format"}}`,
		"", " ", "X", "1|X",
	} {
		e.sim.Emit([]byte(bad))
	}
	e.move(14.4)
	tr.expect("gps/15564/state", 14.4)
	want := map[string]uint64{"json": 2, "unknown_type": 1, "number": 1, "time": 1, "length": 1, "api_error": 1}
	if c := e.link.BadInputCounts(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("bad input %v, want %v", c, want)
	}

	// A frame over max_message ends the socket; the link comes back.
	e.sim.Emit([]byte(`{"type":"event","event":"other","data":"` + strings.Repeat("x", 5000) + `"}`))
	if st := e.waitStatus(event.LinkBackoff); !strings.Contains(st.Reason, "max_message") {
		t.Errorf("reason %q", st.Reason)
	}
	e.connected(2)
	e.move(14.5)
	tr.expect("gps/15564/state", 14.5)
	if c := e.link.BadInputCounts(); c["oversize"] != 1 {
		t.Errorf("bad input %v", c)
	}
	e.checkClient()
}

func TestHeartbeatsKeepTheSocket(t *testing.T) {
	// The server asks for X every 20 ms and drops a client silent for 2 s.
	e := setup(t, navixysim.Config{HeartbeatInterval: 20 * time.Millisecond, ClientTimeout: 2 * time.Second}, navixy.Config{})
	e.connected(1)
	e.waitSim("heartbeats", func(s navixysim.Stats) bool { return s.ClientBeats >= 10 })
	if st := e.sim.Stats(); st.TimedOut != 0 || st.Connections != 1 {
		t.Errorf("sim stats %+v", st)
	}
}

func TestTrackMessageSize(t *testing.T) {
	for name, c := range map[string]struct {
		sim  navixysim.Config
		link navixy.Config
	}{
		"asked":     {navixysim.Config{ServerHeartbeat: 5 * time.Millisecond}, navixy.Config{TrackMessageSize: true}},
		"not asked": {navixysim.Config{ServerHeartbeat: 5 * time.Millisecond, TrackMessageSize: true}, navixy.Config{}},
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t, c.sim, c.link)
			e.connected(1)
			if got := e.sim.LastQuery().Get("X-Atmosphere-TrackMessageSize"); (got == "true") != c.link.TrackMessageSize {
				t.Errorf("query asks %q", got)
			}
			tr := &track{e: e}
			tr.expect("gps/15564/state", sampleLat)
			e.move(14.4)
			tr.expect("gps/15564/state", 14.4)
			if c := e.link.BadInputCounts(); len(c) != 0 {
				t.Errorf("bad input %v", c)
			}
			e.checkClient()
		})
	}
}

func TestLifecycle(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{})
	lifecycle := e.subscribe("gps/+/lifecycle")
	e.connected(1)
	for range 2 {
		next(t, e.subs) // the subscribe response's statuses
	}
	tr := &track{e: e}
	tr.expect("gps/15564/state", sampleLat)

	_ = e.sim.Lifecycle(15564, nx.LifecycleBlock)
	ev := next(t, lifecycle)
	if l := ev.Value.(*event.TrackerLifecycle); ev.Channel != "gps/15564/lifecycle" || l.Event != "block" || l.SourceID != 10284 || l.TrackerID != 15564 {
		t.Errorf("lifecycle %s %+v", ev.Channel, ev.Value)
	}
	if s := next(t, e.subs).Value.(*event.TrackerSubscription); s.TrackerID != 15564 || s.Status != "blocked" {
		t.Errorf("subscription %+v", s)
	}
	e.move(14.4) // blocked: the server sends nothing
	_ = e.sim.Lifecycle(15564, nx.LifecycleUnblock)
	if s := next(t, e.subs).Value.(*event.TrackerSubscription); s.Status != "normal" {
		t.Errorf("subscription %+v", s)
	}
	tr.expect("gps/15564/state", 14.4) // the state sent after the unblock
	if st := e.link.Statuses(); st[15564] != "normal" {
		t.Errorf("Statuses() = %v", st)
	}
	e.checkClient()
}

func TestStoppedWhenCancelled(t *testing.T) {
	e := setup(t, navixysim.Config{}, navixy.Config{}, held)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.link.Run(ctx) }()
	e.waitStatus(event.LinkConnected)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	e.waitStatus(event.LinkStopped)
	if st := e.link.Status(); st.State != event.LinkStopped {
		t.Errorf("status %+v", st)
	}
}
