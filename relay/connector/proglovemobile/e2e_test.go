package proglovemobile_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/connector/proglovemobile"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// patience bounds every wait. It is a deadline for failure, never a delay:
// tests go on as soon as what they wait for happens.
const patience = 10 * time.Second

const (
	linkName = "mobile"
	display  = proglovesim.DefaultDisplaySerial // MDMR000000064, a MARK Display
	mark2    = proglovesim.DefaultMarkSerial    // M2MR111100928, a MARK 2 without display
)

// env is a simulated Insight Mobile app, a relay whose tenant "acme" has
// one proglovemobile link to it, and clients of that relay, all on
// 127.0.0.1.
type env struct {
	t        *testing.T
	sim      *proglovesim.Simulator
	simAddr  string
	link     *proglovemobile.Link
	broker   *broker.Memory
	auth     *auth.HS256
	relayURL string
}

// testConfig has short, configurable intervals; the pong deadline is
// generous so that a loaded machine does not look like a dead app.
func testConfig(url string) proglovemobile.Config {
	return proglovemobile.Config{
		URL:            url,
		MinBackoff:     10 * time.Millisecond,
		MaxBackoff:     100 * time.Millisecond,
		PingInterval:   100 * time.Millisecond,
		PongTimeout:    time.Second,
		DialTimeout:    time.Second,
		CommandTimeout: 300 * time.Millisecond,
		MaxMessage:     4 << 10,
	}
}

func start(t *testing.T, simCfg proglovesim.Config, tweak func(*proglovemobile.Config)) *env {
	t.Helper()
	leaktest.Check(t)
	simCfg.ScanEvery = -1 // tests emit what they need
	sim := proglovesim.New(&simCfg)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	simURL, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	b := broker.NewMemory(broker.MemoryConfig{})
	a := &auth.HS256{Secret: []byte("test secret")}
	reg := &connector.Registry{}
	h := hub.New(hub.Config{Broker: b, Verifier: a, Commander: reg})
	ep := server.NewEndpoint(server.Config{Hub: h})
	srv := httptest.NewServer(ep)

	cfg := testConfig(strings.TrimSuffix(simURL, "/"))
	cfg.Name, cfg.Publisher = linkName, &connector.Publisher{Broker: b, Tenant: "acme"}
	if tweak != nil {
		tweak(&cfg)
	}
	link, err := proglovemobile.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg.Add("acme", link)
	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- link.Run(runCtx) }()

	t.Cleanup(func() {
		stop()
		if err := <-runDone; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
		if st := link.Status(); st.State != event.LinkStopped {
			t.Errorf("status after Run: %+v", st)
		}
		sctx, scancel := context.WithTimeout(context.Background(), patience)
		defer scancel()
		if err := h.Shutdown(sctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		srv.Close()
		ep.Wait()
		b.Close()
		sim.Close()
	})
	return &env{t: t, sim: sim, simAddr: strings.TrimPrefix(strings.TrimSuffix(simURL, "/"), "ws://"), link: link, broker: b, auth: a,
		relayURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"}
}

func (e *env) dial() *client.Client {
	e.t.Helper()
	tok, err := e.auth.Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}, Command: []string{"scanner/#"}}, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := client.Dial(ctx, e.relayURL, &client.Options{Token: tok, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// recorder keeps every event a subscription delivered, in order.
type recorder struct {
	t      *testing.T
	sub    *client.Subscription
	events []client.Event
}

func subscribe(t *testing.T, c *client.Client, pattern string, latest bool) *recorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := c.Subscribe(ctx, pattern, &client.SubscribeOptions{Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{t: t, sub: s}
}

// until reads events until one satisfies pred and returns it.
func (r *recorder) until(what string, pred func(client.Event) bool) client.Event {
	r.t.Helper()
	deadline := time.NewTimer(patience)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-r.sub.Events():
			if !ok {
				r.t.Fatalf("%s: subscription ended: %v", r.sub.Pattern(), r.sub.Err())
			}
			r.events = append(r.events, ev)
			if pred(ev) {
				return ev
			}
		case <-deadline.C:
			r.t.Fatalf("%s: no %s within %v; got %s", r.sub.Pattern(), what, patience, r.summary())
		}
	}
}

func (r *recorder) summary() string {
	var b strings.Builder
	for _, ev := range r.events {
		fmt.Fprintf(&b, "\n\t%d %s %s", ev.Position.Offset, ev.Channel, ev.Kind)
		if st, ok := ev.Value.(*event.LinkStatus); ok {
			fmt.Fprintf(&b, " %s %q", st.State, st.Reason)
		}
	}
	return b.String()
}

func isScan(code string) func(client.Event) bool {
	return func(ev client.Event) bool {
		s, ok := ev.Value.(*event.Scan)
		return ok && s.Code == code
	}
}

func isStatus(state, reason string) func(client.Event) bool {
	return func(ev client.Event) bool {
		st, ok := ev.Value.(*event.LinkStatus)
		return ok && st.State == state && strings.Contains(st.Reason, reason)
	}
}

// isProbeAnswer matches the gateway_state answering the link's own
// gateway_state!: once it is published, the link's current connection is
// registered with the simulator and reads what it sends.
func isProbeAnswer(ev client.Event) bool {
	g, ok := ev.Value.(*event.ScannerGateway)
	return ok && g.Reference != "" && !ev.Latest
}

// ready waits until the link is connected and its gateway_state! answered.
func (e *env) ready(c *client.Client) {
	e.t.Helper()
	r := subscribe(e.t, c, "scanner/gateway/+/state", true)
	r.until("gateway_state", func(ev client.Event) bool {
		g, ok := ev.Value.(*event.ScannerGateway)
		return ok && g.Reference != ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := r.sub.Unsubscribe(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func docExample(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../proto/proglove/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The documented scan reaches a browser as a typed event, verbatim in
// Meta.Raw; LF-separated messages in one frame become separate events.
func TestScanEndToEnd(t *testing.T) {
	e := start(t, proglovesim.Config{}, nil)
	c := e.dial()
	scans := subscribe(t, c, "scanner/+/scan", false)
	e.ready(c)

	doc := docExample(t, "scan.json")
	e.sim.Emit(doc)
	ev := scans.until("the documented scan", isScan("Hello, World!"))
	s := ev.Value.(*event.Scan)
	if ev.Channel != "scanner/mdmr000000064/scan" || ev.Kind != event.KindScan {
		t.Errorf("channel %s kind %s", ev.Channel, ev.Kind)
	}
	if s.Serial != display || string(s.Bytes) != "Hello, World!" || s.Gateway != "PGGW000000058" || s.Model != "Mark Display" ||
		s.Mode != "SCAN_MODE_SINGLE" || s.Duration != 1.23 || s.Temperature == nil || *s.Temperature != 22.3 || s.Session != 1 {
		t.Errorf("scan %+v", s)
	}
	if s.Meta.Link != linkName || s.Meta.Protocol != "proglove" || s.Meta.ID != "02114da8-feae-46e3-8b00-a3f7ea8672df" ||
		s.Meta.Time != 1546300800000*1000 || s.Meta.Received == 0 || string(s.Meta.Raw) != string(doc) {
		t.Errorf("meta %+v", s.Meta)
	}

	// Two scans in one frame, CRLF-terminated, the code ending in "\r".
	a := `{"api_version":"1.0","event_type":"scan","event_id":"6a8c0e2f-4b6d-4f8a-9c1e-3a5c7e9b1d3f","time_created":1546300800123,"scan_code":"A-1\r","device_serial":"M2MR111100928"}`
	b := `{"api_version":"1.0","event_type":"scan","event_id":"7b9d1f3a-5c7e-4a9b-8d2f-4b6d8f0a2c4e","time_created":1546300800456,"scan_code":"A-2\r","device_serial":"M2MR111100928"}`
	e.sim.Emit([]byte(a + "\r\n" + b + "\r\n"))
	first := scans.until("A-1", isScan("A-1"))
	second := scans.until("A-2", isScan("A-2"))
	if string(first.Value.Header().Raw) != a || string(second.Value.Header().Raw) != b || second.Position.Offset <= first.Position.Offset {
		t.Errorf("split messages: %q %q", first.Value.Header().Raw, second.Value.Header().Raw)
	}

	// A simulated trigger pull.
	frame := e.sim.Scan(mark2, "4006381333931")
	ev = scans.until("the simulated scan", isScan("4006381333931"))
	if string(ev.Value.Header().Raw) != string(frame) || ev.Channel != "scanner/m2mr111100928/scan" {
		t.Errorf("scan %+v", ev.Value)
	}

	// A double click is a button event.
	buttons := subscribe(t, c, "scanner/+/button", false)
	e.sim.Trigger(display, proglove.GestureDoubleClick, "")
	ev = buttons.until("button", func(client.Event) bool { return true })
	if bt := ev.Value.(*event.ScannerButton); bt.Gesture != "TRIGGER_DOUBLE_CLICK" || bt.Serial != display {
		t.Errorf("button %+v", bt)
	}
}

// Scanner states are retained, and a reconnected link asks which scanners
// exist instead of assuming: what changed while it was away is published
// as derived states.
func TestScannerStatesRetainedAndReconciled(t *testing.T) {
	e := start(t, proglovesim.Config{}, nil)
	c := e.dial()
	e.ready(c)
	// The derived states follow the gateway_state event into the log; wait
	// for both before subscribing, so they are what Latest returns.
	deadline := time.Now().Add(patience)
	for {
		n := 0
		e.broker.Latest(context.Background(), "acme", "scanner/+/state", math.MaxUint64, func(*broker.Entry) error { n++; return nil })
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scanner states retained, want 2", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The first gateway_state! answer made both scanners known.
	states := subscribe(t, c, "scanner/+/state", true)
	for _, serial := range []string{display, mark2} {
		ev := states.until("latest state of "+serial, func(ev client.Event) bool {
			st, ok := ev.Value.(*event.ScannerState)
			return ok && st.Serial == serial
		})
		st := ev.Value.(*event.ScannerState)
		if !ev.Latest || !st.Connected || st.Derived != "gateway_state" || st.Manufacturer != "Workaround GmbH" {
			t.Errorf("latest %s: latest=%v %+v", serial, ev.Latest, st)
		}
	}

	frame := e.sim.DisconnectScanner(mark2)
	ev := states.until("mark2 disconnected", func(ev client.Event) bool { return !ev.Latest })
	st := ev.Value.(*event.ScannerState)
	if st.Connected || st.State != "STATE_DISCONNECTED" || st.Reason != "UNKNOWN" || st.Derived != "" || string(st.Meta.Raw) != string(frame) {
		t.Errorf("state %+v", st)
	}

	// A newcomer gets the latest value of each scanner.
	later := subscribe(t, e.dial(), "scanner/+/state", true)
	got := map[string]bool{}
	for range 2 {
		ev := later.until("latest", func(ev client.Event) bool { return ev.Latest })
		st := ev.Value.(*event.ScannerState)
		got[st.Serial] = st.Connected
	}
	if len(got) != 2 || !got[display] || got[mark2] {
		t.Errorf("latest states %v", got)
	}

	// The app is killed; meanwhile mark2 comes back and the display
	// scanner leaves (nobody hears it). The reconnected link's
	// gateway_state! answer tells.
	gateways := subscribe(t, c, "scanner/gateway/+/state", false)
	e.sim.DropClients()
	e.sim.ConnectScanner(proglovesim.Scanner{Serial: mark2})
	e.sim.DisconnectScanner(display)
	gateways.until("gateway_state after the reconnect", isProbeAnswer)
	back := states.until("mark2 derived connected", func(ev client.Event) bool {
		st, ok := ev.Value.(*event.ScannerState)
		return ok && st.Serial == mark2 && st.Connected
	}).Value.(*event.ScannerState)
	gone := states.until("display derived disconnected", func(ev client.Event) bool {
		st, ok := ev.Value.(*event.ScannerState)
		return ok && st.Serial == display && !st.Connected
	}).Value.(*event.ScannerState)
	if back.Derived != "gateway_state" || gone.Derived != "gateway_state" || gone.Reason != "UNKNOWN" {
		t.Errorf("derived %+v / %+v", back, gone)
	}
	if s := e.link.Scanners(); !slices.Equal(s, []string{mark2}) {
		t.Errorf("Scanners() = %v", s)
	}
}

func result(t *testing.T, rep client.Reply) event.ScannerCommandResult {
	t.Helper()
	var res event.ScannerCommandResult
	if _, err := res.UnmarshalMsg(rep.Data); err != nil {
		t.Fatal(err)
	}
	return res
}

func command(t *testing.T, c *client.Client, target string, body event.Command) (client.Reply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	return c.Command(ctx, target, body.CommandKind(), body)
}

// Commands go out as the Streams API's, with a fresh lowercase UUID and
// the time in ms; the gateway's silence is success.
func TestCommandsSucceedBySilence(t *testing.T) {
	e := start(t, proglovesim.Config{}, nil)
	c := e.dial()
	e.ready(c)

	before := time.Now().UnixMilli()
	rep, err := command(t, c, event.ScannerChannel(mark2, "cmd"), &event.ScannerFeedback{Action: proglove.FeedbackPositive})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixMilli()
	res := result(t, rep)
	if !proglove.ValidEventID(res.EventID) || res.Answered {
		t.Errorf("result %+v", res)
	}
	got := e.sim.Received()
	fb, ok := got[len(got)-1].(*proglove.Feedback)
	if !ok || fb.ID != res.EventID || fb.DeviceSerial != mark2 || fb.Action != "FEEDBACK_POSITIVE" || fb.Created < before || fb.Created > after {
		t.Fatalf("the app received %#v", got[len(got)-1])
	}

	// A second command has a different event id.
	rep, err = command(t, c, "scanner/m2mr111100928/cmd", &event.ScannerFeedback{Action: proglove.FeedbackSpecialCyan})
	if err != nil || result(t, rep).EventID == res.EventID {
		t.Fatalf("second feedback: %v", err)
	}

	fields := []event.ScannerDisplayField{{ID: 1, Header: "Storage Unit", Text: "R15"}, {ID: 2, Header: "Größe", Text: strings.Repeat("€", 80)}}
	if _, err := command(t, c, event.ScannerChannel(display, "cmd"), &event.ScannerDisplay{Template: "PG3", Fields: fields}); err != nil {
		t.Fatal(err)
	}
	got = e.sim.Received()
	d := got[len(got)-1].(*proglove.Display)
	if d.TemplateID != "PG3" || d.RefreshType != "DEFAULT" || len(d.Fields) != 2 || d.Fields[1].Header != "Größe" || d.Fields[1].Text != fields[1].Text {
		t.Errorf("display %+v", d)
	}

	// The documented trigger block: scans stop, the double click still works.
	if _, err := command(t, c, event.ScannerChannel(mark2, "cmd"), &event.ScannerTriggerBlock{Block: true, BlockGestures: []string{"TRIGGER_SINGLE_CLICK"}, DurationMS: 600000}); err != nil {
		t.Fatal(err)
	}
	if !e.sim.Blocked(mark2) || e.sim.Scan(mark2, "blocked") != nil {
		t.Error("the trigger block did not suppress scans")
	}
	if _, err := command(t, c, event.ScannerChannel(mark2, "cmd"), &event.ScannerTriggerBlock{}); err != nil {
		t.Fatal(err)
	}
	if e.sim.Blocked(mark2) {
		t.Error("unblock did not unblock")
	}

	// gateway_state! is answered, so it is settled without waiting.
	rep, err = command(t, c, event.ScannerGatewayChannel("_", "cmd"), &event.ScannerGatewayState{})
	if err != nil {
		t.Fatal(err)
	}
	if res := result(t, rep); !res.Answered || !proglove.ValidEventID(res.EventID) {
		t.Errorf("gateway_state result %+v", res)
	}
}

// The gateway's errors event fails the command with its code and message;
// invalid commands are refused before anything is sent.
func TestCommandRejections(t *testing.T) {
	// A long silence window: rejections return as soon as they arrive.
	e := start(t, proglovesim.Config{}, func(c *proglovemobile.Config) { c.CommandTimeout = time.Minute })
	c := e.dial()
	e.ready(c)
	errs := subscribe(t, c, "scanner/+/error", false)
	sent := len(e.sim.Received())

	cases := []struct {
		name   string
		target string
		body   event.Command
		code   codes.Code
		msg    string
	}{
		{"display without display", event.ScannerChannel(mark2, "cmd"), &event.ScannerDisplay{Template: "PG1"},
			codes.DeviceRejected, "ERROR_UNKNOWN: " + proglovesim.MessageNoDisplay + "MARK 2"},
		{"unknown scanner", "scanner/m2mr000000001/cmd", &event.ScannerFeedback{Action: proglove.FeedbackNegative},
			codes.DeviceRejected, "ERROR_DEVICE_NOT_FOUND: " + proglovesim.MessageDeviceNotFound + "M2MR000000001"},
		{"text too long", event.ScannerChannel(display, "cmd"), &event.ScannerDisplay{Template: "PG1", Fields: []event.ScannerDisplayField{{ID: 1, Text: strings.Repeat("x", 81)}}},
			codes.BadRequest, "display_fields[0].display_field_text: bad value: at most 80 characters, got 81"},
		{"13 fields", event.ScannerChannel(display, "cmd"), &event.ScannerDisplay{Template: "PG1", Fields: make([]event.ScannerDisplayField, 13)},
			codes.BadRequest, "at most 12 fields"},
		{"field id 0", event.ScannerChannel(display, "cmd"), &event.ScannerDisplay{Template: "PG1", Fields: []event.ScannerDisplayField{{Header: "h"}}},
			codes.BadRequest, "display_field_id: bad value: must be ≥ 1"},
		{"template too long", event.ScannerChannel(display, "cmd"), &event.ScannerDisplay{Template: "PG1234567890ABCD"},
			codes.BadRequest, "display_template_id"},
		{"action", event.ScannerChannel(mark2, "cmd"), &event.ScannerFeedback{Action: "FEEDBACK_GREEN"},
			codes.BadRequest, "feedback_action_id: bad value: must be one of FEEDBACK_POSITIVE"},
		{"no action", event.ScannerChannel(mark2, "cmd"), &event.ScannerFeedback{},
			codes.BadRequest, "feedback_action_id: missing field"},
		{"gesture", event.ScannerChannel(mark2, "cmd"), &event.ScannerTriggerBlock{Block: true, BlockGestures: []string{"TRIGGER_HOLD"}},
			codes.BadRequest, "trigger_block_gesture_list[0]"},
		{"negative duration", event.ScannerChannel(mark2, "cmd"), &event.ScannerTriggerBlock{Block: true, DurationMS: -1},
			codes.BadRequest, "time_validity_duration"},
		{"feedback to the gateway", event.ScannerGatewayChannel("_", "cmd"), &event.ScannerFeedback{Action: proglove.FeedbackPositive},
			codes.NotFound, ""},
		{"feedback to a scan channel", event.ScannerChannel(mark2, "scan"), &event.ScannerFeedback{Action: proglove.FeedbackPositive},
			codes.NotFound, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := command(t, c, tt.target, tt.body)
			var re *client.ReplyError
			if !errors.As(err, &re) || re.Code != tt.code || !strings.Contains(re.Message, tt.msg) {
				t.Fatalf("err = %v, want %v with %q", err, tt.code, tt.msg)
			}
		})
	}
	if got := e.sim.Received(); len(got) != sent {
		t.Errorf("the app accepted %d commands", len(got)-sent)
	}
	rejected := e.sim.Rejected()
	if len(rejected) != 2 {
		t.Fatalf("the app refused %d commands, want 2 (the others were refused before sending)", len(rejected))
	}
	// The errors events are published too, for whoever watches a scanner.
	for _, r := range rejected {
		ev := errs.until("errors event "+r.ReferenceID, func(ev client.Event) bool {
			se, ok := ev.Value.(*event.ScannerError)
			return ok && se.Reference == r.ReferenceID
		})
		if se := ev.Value.(*event.ScannerError); se.Code != r.Code || se.Message != r.Message || se.Severity != "ERROR" {
			t.Errorf("published error %+v", se)
		}
	}
}

// A command whose link drops before the silence window ends has an unknown
// outcome; with the link down nothing is sent.
func TestCommandWhenTheLinkFails(t *testing.T) {
	e := start(t, proglovesim.Config{}, func(c *proglovemobile.Config) { c.CommandTimeout = time.Minute })
	c := e.dial()
	e.ready(c)
	status := subscribe(t, c, "link/"+linkName+"/status", false)
	sent := len(e.sim.Received())

	done := make(chan error, 1)
	go func() {
		_, err := c.Command(context.Background(), event.ScannerChannel(mark2, "cmd"), event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive})
		done <- err
	}()
	deadline := time.Now().Add(patience)
	for len(e.sim.Received()) == sent { // until the app has it
		if time.Now().After(deadline) {
			t.Fatal("the command never reached the app")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.sim.DropClients()
	var re *client.ReplyError
	if err := <-done; !errors.As(err, &re) || re.Code != codes.UnknownOutcome {
		t.Fatalf("command across a drop: %v", err)
	}

	e.sim.Close() // the app is gone for good
	status.until("backing off", isStatus(event.LinkBackoff, ""))
	for {
		_, err := command(t, c, event.ScannerChannel(mark2, "cmd"), &event.ScannerFeedback{Action: proglove.FeedbackPositive})
		if errors.As(err, &re) && re.Code == codes.Unavailable {
			break
		}
		// The link may still be between the drop and its next dial.
		if time.Now().After(deadline) {
			t.Fatalf("command with the app down: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Every fault the app can cause (malformed and oversize messages, an
// abrupt drop, a restart on the same port, going silent) is survived:
// each scan accepted before a fault reaches the browser exactly once, in
// order, and the link's status channel tells the story.
func TestFaultsLoseNothing(t *testing.T) {
	e := start(t, proglovesim.Config{}, nil)
	c := e.dial()
	status := subscribe(t, c, "link/"+linkName+"/status", true)
	status.until("connected", isStatus(event.LinkConnected, ""))
	all := subscribe(t, c, "scanner/#", false)
	e.ready(c)
	var want []string
	scan := func(code string) {
		t.Helper()
		if e.sim.Scan(display, code) == nil {
			t.Fatalf("scanner did not scan %s", code)
		}
		want = append(want, code)
		all.until(code, isScan(code))
	}

	scan("before-faults")

	// Malformed messages are counted and dropped; the link stays up.
	for _, bad := range []string{
		`{"event_type":"scan"`, `[1,2,3]`, `"scan"`,
		`{"event_type":"scan","scan_code":12,"device_serial":"X"}`,
		`{"event_type":"scan","scan_code":"x","device_serial":"X","scan_bytes":"%%%"}`,
		`{"event_type":"scan","device_serial":"X"}`,
		`{"api_version":"1.0"}`,
	} {
		e.sim.Emit([]byte(bad))
	}
	scan("after-malformed")

	// An oversize message is read through and dropped; the link stays up.
	e.sim.Emit([]byte(`{"event_type":"scan","device_serial":"X","scan_code":"` + strings.Repeat("9", 64<<10) + `"}`))
	scan("after-oversize")
	counts := e.link.BadInputCounts()
	for kind, n := range map[string]uint64{"json": 3, "type": 1, "value": 1, "missing": 1, "no_type": 1, "oversize": 1} {
		if counts[kind] != n {
			t.Errorf("bad input %q counted %d, want %d (all: %v)", kind, counts[kind], n, counts)
		}
	}
	for _, ev := range status.events {
		if st := ev.Value.(*event.LinkStatus); st.State != event.LinkConnected && !ev.Latest {
			t.Errorf("bad input changed the link's state: %+v", st)
		}
	}

	// The app is killed (no close frame).
	e.sim.DropClients()
	status.until("backing off after the drop", isStatus(event.LinkBackoff, ""))
	status.until("connected again", isStatus(event.LinkConnected, ""))
	all.until("gateway_state after the drop", isProbeAnswer)
	scan("after-drop")

	// The app restarts on the same port.
	e.sim.Close()
	status.until("backing off after the restart", isStatus(event.LinkBackoff, ""))
	e.sim = proglovesim.New(&proglovesim.Config{ScanEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := e.sim.Start(ctx, e.simAddr); err != nil {
		t.Fatalf("restarting the app on %s: %v", e.simAddr, err)
	}
	t.Cleanup(func() { e.sim.Close() })
	status.until("connected after the restart", isStatus(event.LinkConnected, ""))
	all.until("gateway_state after the restart", isProbeAnswer)
	scan("after-restart")

	// The app goes silent: no pong, so the link is re-dialled.
	e.sim.Stall(true)
	status.until("backing off for the missing pong", isStatus(event.LinkBackoff, "no pong"))
	e.sim.Stall(false)
	status.until("connected after the silence", isStatus(event.LinkConnected, ""))
	all.until("gateway_state after the silence", isProbeAnswer)
	scan("after-silence")

	// Exactly the scans accepted, in order, each once, at increasing offsets.
	var got []string
	var last uint64
	for _, ev := range all.events {
		if ev.Position.Offset <= last {
			t.Errorf("offset %d after %d", ev.Position.Offset, last)
		}
		last = ev.Position.Offset
		if s, ok := ev.Value.(*event.Scan); ok {
			got = append(got, s.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("scans delivered %q, want %q", got, want)
	}
	if st := c.Stats(); st.Duplicates != 0 || st.Lost != 0 {
		t.Errorf("client stats %+v", st)
	}
	// The status channel showed each state.
	seen := map[string]bool{}
	for _, ev := range status.events {
		seen[ev.Value.(*event.LinkStatus).State] = true
	}
	for _, s := range []string{event.LinkConnecting, event.LinkConnected, event.LinkBackoff} {
		if !seen[s] {
			t.Errorf("status %s never published: %s", s, status.summary())
		}
	}
}

// Until the app is reachable the link backs off with growing attempts; it
// connects once the app starts.
func TestAppNotRunningYet(t *testing.T) {
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	b := broker.NewMemory(broker.MemoryConfig{})
	defer b.Close()
	cfg := testConfig("ws://" + addr)
	cfg.Name, cfg.Publisher = linkName, &connector.Publisher{Broker: b, Tenant: "acme"}
	link, err := proglovemobile.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- link.Run(ctx) }()
	defer func() {
		stop()
		<-runDone
	}()

	deadline := time.Now().Add(patience)
	for link.Status().Attempt < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", link.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := link.Status(); st.State == event.LinkConnected || (st.State == event.LinkBackoff && st.Reason == "") {
		t.Fatalf("status while the app is down: %+v", st)
	}
	sim := proglovesim.New(&proglovesim.Config{ScanEvery: -1})
	defer sim.Close()
	sctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := sim.Start(sctx, addr); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitClients(sctx, 1); err != nil {
		t.Fatal(err)
	}
	for link.Status().State != event.LinkConnected {
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", link.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With SkipGatewayState the link sends nothing of its own.
func TestSkipGatewayState(t *testing.T) {
	e := start(t, proglovesim.Config{}, func(c *proglovemobile.Config) { c.SkipGatewayState = true })
	c := e.dial()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := e.sim.WaitClients(ctx, 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for { // the relay may hear of the connection a moment after the app
		_, err := command(t, c, event.ScannerChannel(mark2, "cmd"), &event.ScannerFeedback{Action: proglove.FeedbackPositive})
		if err == nil {
			break
		}
		var re *client.ReplyError
		if !errors.As(err, &re) || re.Code != codes.Unavailable || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := e.sim.Received()
	if len(got) != 1 || got[0].Header().Type != "feedback!" {
		t.Errorf("the app received %#v", got)
	}
}
