package proglovecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/internal/syncbuf"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovecloudsim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// patience bounds every wait. It is a deadline for failure, never a delay:
// tests go on as soon as what they wait for happens.
const patience = 15 * time.Second

func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// env is a simulator, a relay (broker, hub, endpoint) on loopback with one
// link of tenant "acme" to the simulator, and a Go client of the relay.
type env struct {
	t      *testing.T
	sim    *proglovecloudsim.Simulator
	base   string
	link   *Link
	logs   *syncbuf.Buffer
	client *client.Client
	scans  *client.Subscription // scanner/#
	status *client.Subscription // link/#
	states []event.LinkStatus   // every status read so far
}

// setup starts everything but the link (see run), so that the client
// sees every status from the first.
func setup(t *testing.T, simCfg *proglovecloudsim.Config, mod func(*Config)) *env {
	t.Helper()
	leaktest.Check(t)
	if simCfg == nil {
		simCfg = &proglovecloudsim.Config{}
	}
	if simCfg.ScanEvery == 0 {
		simCfg.ScanEvery = -1 // tests emit what they need
	}
	sim := proglovecloudsim.New(simCfg)
	t.Cleanup(func() { _ = sim.Close() })
	base, err := sim.Start(deadline(t), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	b := broker.NewMemory(broker.MemoryConfig{})
	a := &auth.HS256{Secret: []byte("test-secret")}
	reg := &connector.Registry{}
	h := hub.New(hub.Config{Broker: b, Verifier: a, Commander: reg})
	ep := server.NewEndpoint(server.Config{Hub: h})
	srv := httptest.NewServer(ep)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
		ep.Wait()
		_ = b.Close()
	})

	logs := &syncbuf.Buffer{}
	cfg := Config{
		Name:       "insight",
		Publisher:  &connector.Publisher{Broker: b, Tenant: "acme"},
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		URL:        proglovecloudsim.SocketURL(base),
		AuthURL:    base,
		CognitoURL: base + "/",
		CustomerID: proglovecloudsim.DefaultCustomerID,
		Username:   proglovecloudsim.DefaultUsername,
		Password:   proglovecloudsim.DefaultPassword,
		MinBackoff: Duration(10 * time.Millisecond),
		MaxBackoff: Duration(100 * time.Millisecond),
	}
	if mod != nil {
		mod(&cfg)
	}
	link, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg.Add("acme", link)

	tok, err := a.Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(deadline(t), "ws"+strings.TrimPrefix(srv.URL, "http")+"/", &client.Options{Token: tok, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	e := &env{t: t, sim: sim, base: base, link: link, logs: logs, client: c}
	e.scans = e.subscribe("scanner/#")
	e.status = e.subscribe("link/#")
	return e
}

func (e *env) subscribe(pattern string) *client.Subscription {
	e.t.Helper()
	s, err := e.client.Subscribe(deadline(e.t), pattern, &client.SubscribeOptions{Buffer: 1 << 16})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// run starts the link; it is stopped (and awaited) at cleanup, before the
// relay and the simulator.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.link.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			e.t.Error("link did not stop")
		}
		if st := e.link.Status(); st.State != event.LinkStopped {
			e.t.Errorf("status after stop: %+v", st)
		}
	})
}

// next returns the next event of s.
func (e *env) next(s *client.Subscription) client.Event {
	e.t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			e.t.Fatalf("subscription ended: %v", s.Err())
		}
		return ev
	case <-time.After(patience):
		e.t.Fatalf("no event on %s within %v", s.Pattern(), patience)
	}
	panic("unreachable")
}

// waitState reads statuses until one has state; it returns it.
func (e *env) waitState(state string) event.LinkStatus {
	e.t.Helper()
	for {
		ev := e.next(e.status)
		st, ok := ev.Value.(*event.LinkStatus)
		if !ok {
			e.t.Fatalf("status event %s %T", ev.Kind, ev.Value)
		}
		e.states = append(e.states, *st)
		if st.State == state {
			return *st
		}
	}
}

// drainStatus records the statuses already delivered.
func (e *env) drainStatus() {
	for {
		select {
		case ev := <-e.status.Events():
			if st, ok := ev.Value.(*event.LinkStatus); ok {
				e.states = append(e.states, *st)
			}
		default:
			return
		}
	}
}

func (e *env) waitSim(what string, cond func(st proglovecloudsim.Stats, clients int) bool) {
	e.t.Helper()
	if err := e.sim.Wait(deadline(e.t), cond); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// scan reads the next scan event.
func (e *env) scan() (*event.CloudScan, client.Event) {
	e.t.Helper()
	ev := e.next(e.scans)
	s, ok := ev.Value.(*event.CloudScan)
	if !ok {
		e.t.Fatalf("got %s (%T) on %s, want a cloud scan", ev.Kind, ev.Value, ev.Channel)
	}
	return s, ev
}

// secrets returns what must never be logged or put in a status: the
// password and every token the link holds.
func (e *env) secrets() []string {
	e.link.mu.Lock()
	defer e.link.mu.Unlock()
	out := []string{e.link.cfg.Password}
	for _, s := range e.link.secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// assertNoSecrets checks the logs and every status read.
func (e *env) assertNoSecrets(secrets []string) {
	e.t.Helper()
	logs := e.logs.String()
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			e.t.Errorf("the logs hold a secret (%.8s…)", sec)
		}
		for _, st := range e.states {
			if strings.Contains(st.Reason, sec) {
				e.t.Errorf("status %q holds a secret (%.8s…)", st.Reason, sec)
			}
		}
	}
}

// compactSeed is the seed's scan without its indentation: every field, in
// 930 bytes (see TestNormalizeSeedScan on the 1024-byte Raw limit).
func compactSeed(t *testing.T) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, loadSeed(t, "scan.json")); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Login and stream, end to end, in both URL forms: the seed's
// (/prod/?customer=…&token=IdToken, pool found through auth-information)
// and the newer one (/latest/?token=AccessToken, pool configured).
func TestLoginAndStreamEndToEnd(t *testing.T) {
	forms := []struct {
		name string
		sim  proglovecloudsim.Config
		mod  func(*Config)
	}{
		{"seed form", proglovecloudsim.Config{}, nil},
		{"newer form", proglovecloudsim.Config{Stage: "latest", TokenKind: proglovecloudsim.TokenAccess, NoCustomer: true}, func(c *Config) {
			c.Stage, c.TokenKind, c.OmitCustomer = "latest", TokenAccess, true
			c.AuthURL, c.CustomerID = "", ""
			c.ClientID, c.Region = proglovecloudsim.DefaultClientID, proglovecloudsim.DefaultRegion
		}},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			e := setup(t, &form.sim, form.mod)
			e.run()
			e.waitState(event.LinkConnecting)
			e.waitState(event.LinkConnected)
			e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })

			raw := compactSeed(t)
			e.sim.Emit(raw)
			got, ev := e.scan()
			want := seedCloudScan(raw, time.UnixMicro(got.Meta.Received))
			want.Meta.Link = "insight"
			if ev.Channel != "scanner/m2sr121103132/scan" || ev.Kind != event.KindCloudScan {
				t.Errorf("channel %s kind %s", ev.Channel, ev.Kind)
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("scan\n%+v\nwant\n%+v", got, want)
			}

			// An event_type the vendor does not document passes through.
			other := loadSeed(t, "other_event.json")
			e.sim.Emit(other)
			ev = e.next(e.scans)
			o, ok := ev.Value.(*event.CloudEvent)
			if !ok || ev.Channel != "scanner/m2sr121103132/other" || o.Type != "device_disconnected" || !bytes.Equal(o.Meta.Raw, other) {
				t.Errorf("other event %s %s %+v", ev.Channel, ev.Kind, ev.Value)
			}

			st := e.sim.Stats()
			wantInfo := 1
			if form.mod != nil {
				wantInfo = 0
			}
			if st.Logins != 1 || st.AuthInfo != wantInfo || st.Accepted != 1 {
				t.Errorf("sim %+v, link %+v", st, e.link.Stats())
			}
			e.assertNoSecrets(e.secrets())
		})
	}
}

// emitter sends numbered scans until stopped and says how many it sent.
type emitter struct {
	stop chan struct{}
	sent chan []string // the event ids, in order
}

func startEmitter(t *testing.T, sim *proglovecloudsim.Simulator, every time.Duration) *emitter {
	em := &emitter{stop: make(chan struct{}), sent: make(chan []string, 1)}
	dev := proglovecloudsim.Device{Serial: "M2SR121103132", Model: "Mark", Manufacturer: "Workaround GmbH", Firmware: "v1.2.0"}
	go func() {
		var ids []string
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-em.stop:
				em.sent <- ids
				return
			case <-tick.C:
			}
			s := sim.NewScan(dev)
			s.ScanCode = fmt.Sprintf("SEQ%06d", len(ids)+1)
			if _, err := sim.EmitScan(s); err != nil {
				t.Error(err)
			}
			ids = append(ids, s.EventID)
		}
	}()
	return em
}

func (em *emitter) finish() []string {
	close(em.stop)
	return <-em.sent
}

// streamAcross runs a continuous scan stream while the link replaces its
// connection at least three times, then checks that the client got every
// scan once, in order, with increasing offsets.
func streamAcross(t *testing.T, e *env) {
	e.waitState(event.LinkConnected)
	e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
	em := startEmitter(t, e.sim, time.Millisecond)
	// A fifth connection means three handovers have completed: the link
	// opens a next connection only once the previous one took over.
	e.waitSim("three handovers", func(st proglovecloudsim.Stats, _ int) bool { return st.Accepted >= 5 })
	ids := em.finish()
	if len(ids) == 0 {
		t.Fatal("nothing emitted")
	}

	var lastOffset uint64
	for i, id := range ids {
		got, ev := e.scan()
		if got.Meta.ID != id || got.Code != fmt.Sprintf("SEQ%06d", i+1) {
			t.Fatalf("scan %d: got %s (%s), want %s: lost or doubled", i+1, got.Code, got.Meta.ID, id)
		}
		if ev.Position.Offset <= lastOffset {
			t.Fatalf("offset %d after %d", ev.Position.Offset, lastOffset)
		}
		lastOffset = ev.Position.Offset
	}
	// Nothing more: no duplicate trails the stream.
	final := e.sim.NewScan(proglovecloudsim.Device{Serial: "END"})
	if _, err := e.sim.EmitScan(final); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.scan(); got.Meta.ID != final.EventID {
		t.Fatalf("after the stream got %s (%s), want the final scan", got.Code, got.Meta.ID)
	}

	// The overlap was real: scans went to two connections at once, and
	// the link dropped the copies.
	doubled := 0
	for _, f := range e.sim.Sent() {
		if f.Clients == 2 {
			doubled++
		}
	}
	ls := e.link.Stats()
	t.Logf("%d scans; %d sent to two connections; link %+v", len(ids), doubled, ls)
	if ls.Handovers < 3 {
		t.Errorf("handovers %d, want ≥ 3", ls.Handovers)
	}
	if doubled > 0 && ls.Duplicates == 0 {
		t.Errorf("%d scans went to two connections but the link dropped no duplicate", doubled)
	}
	// The link never lost its connection: no backoff, no failure.
	e.drainStatus()
	for _, st := range e.states {
		if st.State != event.LinkConnecting && st.State != event.LinkConnected {
			t.Errorf("status %+v during handovers", st)
		}
	}
}

// Token refresh: the token lasts 1 s, so the link refreshes every half
// second and moves to a new connection each time, make before break.
func TestRefreshKeepsAContinuousStream(t *testing.T) {
	e := setup(t, &proglovecloudsim.Config{TokenLifetime: time.Second}, nil)
	e.run()
	streamAcross(t, e)
	if st := e.sim.Stats(); st.Refreshes < 3 || st.Logins != 1 {
		t.Errorf("sim stats %+v: want ≥ 3 refreshes on one login", st)
	}
	e.assertNoSecrets(e.secrets())
}

// Max age: the link replaces each connection after 300 ms, ahead of the
// server's limit, with the same guarantee.
func TestMaxAgeHandoverKeepsAContinuousStream(t *testing.T) {
	e := setup(t, nil, func(c *Config) { c.MaxAge = Duration(300 * time.Millisecond) })
	e.run()
	streamAcross(t, e)
	if st := e.sim.Stats(); st.Refreshes != 0 || st.AgeClosed != 0 {
		t.Errorf("sim stats %+v: want no refresh and no server close", st)
	}
}

// Wrong credentials: the link reports failed with Cognito's reason, and
// neither the password nor anything secret shows in statuses or logs.
func TestBadCredentialsFail(t *testing.T) {
	const wrong = "not-the-password-1234"
	e := setup(t, nil, func(c *Config) { c.Password = wrong })
	e.run()
	st := e.waitState(event.LinkFailed)
	if !strings.Contains(st.Reason, "NotAuthorizedException") || !strings.Contains(st.Reason, "Incorrect username or password") {
		t.Errorf("reason %q", st.Reason)
	}
	if st.RetryMS != DefaultFailedRetry.Milliseconds() {
		t.Errorf("retry %d ms, want the failed-retry wait", st.RetryMS)
	}
	if s := e.sim.Stats(); s.AuthFailures != 1 || s.Accepted != 0 {
		t.Errorf("sim %+v", s)
	}
	e.assertNoSecrets([]string{wrong, proglovecloudsim.DefaultPassword})
}

// A token refused at the upgrade (revoked, as an expired one would be) is
// refreshed before the next try; a refused refresh token leads to a new
// login. Tokens and password never show in statuses or logs.
func TestRefusedUpgradeRefreshesThenLogsIn(t *testing.T) {
	e := setup(t, nil, nil)
	e.run()
	e.waitState(event.LinkConnected)
	e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
	secrets := e.secrets()

	e.sim.RevokeTokens()
	e.sim.DropClients()
	if st := e.waitState(event.LinkBackoff); !strings.Contains(st.Reason, "connection lost") {
		t.Errorf("reason %q", st.Reason)
	}
	e.waitState(event.LinkConnected)
	e.waitSim("reconnected after a refresh", func(st proglovecloudsim.Stats, n int) bool {
		return n == 1 && st.Unauthorized == 1 && st.Refreshes == 1 && st.Logins == 1
	})

	e.sim.RevokeTokens()
	e.sim.RevokeRefreshTokens()
	e.sim.DropClients()
	e.waitState(event.LinkBackoff)
	e.waitState(event.LinkConnected)
	e.waitSim("reconnected after a login", func(st proglovecloudsim.Stats, n int) bool {
		return n == 1 && st.Unauthorized == 2 && st.Logins == 2
	})

	raw := compactSeed(t)
	e.sim.Emit(raw)
	if got, _ := e.scan(); got.Code != "PGAS10603924" {
		t.Errorf("scan %+v", got)
	}
	e.assertNoSecrets(append(secrets, e.secrets()...))
}

// With the server gone, dial errors (which quote the URL, token and all)
// reach the status redacted.
func TestDialErrorsAreRedacted(t *testing.T) {
	e := setup(t, nil, nil)
	e.run()
	e.waitState(event.LinkConnected)
	e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
	secrets := e.secrets()
	_ = e.sim.Close()
	st := e.waitState(event.LinkBackoff) // the close
	for !strings.Contains(st.Reason, "dial") {
		st = e.waitState(event.LinkBackoff)
	}
	if !strings.Contains(st.Reason, "REDACTED") || strings.Contains(st.Reason, "customer=") {
		t.Errorf("dial error not redacted: %q", st.Reason)
	}
	e.assertNoSecrets(secrets)
}

// deliver emits the seed's scan with a fresh event id and code and waits
// for the client to get exactly it.
func (e *env) deliver(code string) {
	e.t.Helper()
	s := e.sim.NewScan(proglovecloudsim.Device{Serial: "M2SR121103132"})
	s.ScanCode = code
	if _, err := e.sim.EmitScan(s); err != nil {
		e.t.Fatal(err)
	}
	got, _ := e.scan()
	if got.Meta.ID != s.EventID || got.Code != code {
		e.t.Fatalf("got %s (%s), want %s (%s)", got.Code, got.Meta.ID, code, s.EventID)
	}
}

// The server's own closes, for idleness (the link sends no ping here) and
// at the maximum age, are followed by a reconnect; what was sent before
// arrived once, what is sent after arrives.
func TestServerClosesReconnect(t *testing.T) {
	cases := []struct {
		name string
		sim  proglovecloudsim.Config
		stat func(proglovecloudsim.Stats) int
	}{
		{"idle timeout", proglovecloudsim.Config{IdleTimeout: 200 * time.Millisecond}, func(s proglovecloudsim.Stats) int { return s.IdleClosed }},
		{"max age", proglovecloudsim.Config{MaxAge: 200 * time.Millisecond, IdleTimeout: -1}, func(s proglovecloudsim.Stats) int { return s.AgeClosed }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, &c.sim, func(cfg *Config) { cfg.PingInterval = -1 })
			e.run()
			e.waitState(event.LinkConnected)
			e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
			e.deliver("BEFORE")
			st := e.waitState(event.LinkBackoff)
			if !strings.Contains(st.Reason, "upstream closed the connection: 1001") {
				t.Errorf("reason %q", st.Reason)
			}
			e.waitState(event.LinkConnected)
			e.waitSim("reconnected", func(s proglovecloudsim.Stats, n int) bool { return n == 1 && c.stat(s) >= 1 && s.Accepted >= 2 })
			e.deliver("AFTER")
			if s := e.sim.Stats(); s.Logins != 1 {
				t.Errorf("a reconnect with a valid token needs no login: %+v", s)
			}
			e.drainStatus()
			if len(e.scans.Events()) != 0 {
				t.Errorf("unexpected events after AFTER")
			}
		})
	}
}

// Pings every 10 ms keep the connection past two and a half 600 ms idle
// timeouts (150 pings take at least 1.5 s).
func TestPingsBeatTheIdleTimeout(t *testing.T) {
	e := setup(t, &proglovecloudsim.Config{IdleTimeout: 600 * time.Millisecond}, func(c *Config) { c.PingInterval = Duration(10 * time.Millisecond) })
	e.run()
	e.waitState(event.LinkConnected)
	e.waitSim("150 pings", func(st proglovecloudsim.Stats, _ int) bool { return st.Pings >= 150 })
	if st := e.sim.Stats(); st.IdleClosed != 0 || st.Accepted != 1 {
		t.Errorf("sim %+v\n%s", st, e.logs.String())
	}
	e.deliver("STILL-UP")
}

// A server that stops answering pings (a half-open link) is dropped after
// the pong timeout and reconnected to.
func TestNoPongDropsAndReconnects(t *testing.T) {
	e := setup(t, nil, func(c *Config) {
		c.PingInterval, c.PongTimeout = Duration(20*time.Millisecond), Duration(100*time.Millisecond)
	})
	e.run()
	e.waitState(event.LinkConnected)
	e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
	e.deliver("BEFORE")
	e.sim.Silence(true)
	st := e.waitState(event.LinkBackoff)
	if !strings.Contains(st.Reason, "no pong") {
		t.Errorf("reason %q", st.Reason)
	}
	e.sim.Silence(false)
	e.waitSim("reconnected", func(s proglovecloudsim.Stats, n int) bool { return n >= 1 && s.Accepted >= 2 })
	e.waitState(event.LinkConnected)
	e.deliver("AFTER")
}

// Malformed, binary-less garbage and oversize messages are counted by kind
// and dropped; the connection stays up and the next scan arrives.
func TestMalformedAndOversizeAreCountedAndDropped(t *testing.T) {
	e := setup(t, nil, nil)
	e.run()
	e.waitState(event.LinkConnected)
	e.waitSim("connected", func(_ proglovecloudsim.Stats, n int) bool { return n == 1 })
	bad := []string{
		`{"event_type":"scan","scan_code":`,                             // json
		`[{"event_type":"scan"}]`,                                       // json
		`{"message": "Forbidden", "connectionId":"x", "requestId":"y"}`, // no_type
		`{"event_type":"scan","device_serial":{"x":1}}`,                 // type
		`{"event_type":"scan","device_battery":"full"}`,                 // number
		`{"event_type":"scan","metrics":[` + strings.Repeat(`{"metric_name":"m"},`, 1024) + `{"metric_name":"m"}]}`, // limit
		`{"event_type":"scan","scan_code":"` + strings.Repeat("X", 200<<10) + `"}`,                                  // oversize
	}
	for _, b := range bad {
		e.sim.Emit([]byte(b))
	}
	e.deliver("GOOD")
	want := map[string]uint64{"json": 2, "no_type": 1, "type": 1, "number": 1, "limit": 1, "oversize": 1}
	got := e.link.BadInputCounts()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("bad input %q counted %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if st := e.sim.Stats(); st.Accepted != 1 {
		t.Errorf("the link reconnected: %+v", st)
	}
	if n := strings.Count(e.logs.String(), "dropping malformed upstream message"); n != len(want) {
		t.Errorf("logged %d times, want once per kind (%d)", n, len(want))
	}
}
