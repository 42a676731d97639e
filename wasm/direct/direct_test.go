//go:build !js

package direct_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
	"github.com/fieldrelay/fieldrelay/wasm/direct"
)

// Scans the app sends arrive as typed events on scanner/<serial>/scan
// with the app's exact values, the message verbatim, and positions of the
// session's own log; each subscription gets only what its pattern matches.
func TestScans(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	opts := testOptions()
	opts.SkipGatewayState = true
	s := dial(t, sim, url, opts)
	all := subscribe(t, s, "scanner/+/scan", false)
	one := subscribe(t, s, "scanner/mdmr000000064/#", false)

	frame := sim.Scan(display, "R15-ENGINE-12")
	ev := next(t, all, "the scan")
	want := decodeScan(t, frame)
	if ev.Channel != "scanner/mdmr000000064/scan" || ev.Kind != event.KindScan {
		t.Fatalf("event on %s kind %s, want scanner/mdmr000000064/scan %s", ev.Channel, ev.Kind, event.KindScan)
	}
	got, ok := ev.Value.(*event.Scan)
	if !ok {
		t.Fatalf("Value is %T", ev.Value)
	}
	temp, _ := strconv.ParseFloat(want.DeviceTemperature, 64)
	dur, _ := strconv.ParseFloat(want.ScanDuration, 64)
	if got.Serial != display || got.Code != "R15-ENGINE-12" || string(got.Bytes) != "R15-ENGINE-12" ||
		got.Gateway != gateway || got.Model != "MARK Display" || got.Mode != "SCAN_MODE_SINGLE" ||
		got.Duration != dur || got.Temperature == nil || *got.Temperature != temp || got.Session != *want.ScanSessionID {
		t.Fatalf("scan = %+v, want the app's %+v", got, want)
	}
	if m := got.Meta; m.Link != direct.DefaultLink || m.Protocol != proglove.Protocol || m.ID != want.ID ||
		m.Time != want.Created*1000 || m.Received == 0 || !bytes.Equal(m.Raw, frame) {
		t.Fatalf("meta = %+v, want link %s, id %s, time %d µs and the frame verbatim", m, direct.DefaultLink, want.ID, want.Created*1000)
	}
	// Data is the msgp encoding of the same value, as the relay sends it.
	if dec, err := event.Decode(ev.Kind, ev.Data); err != nil || !reflect.DeepEqual(dec, ev.Value) {
		t.Fatalf("Data decodes to %+v (%v), want %+v", dec, err, ev.Value)
	}
	if ev.Position.Epoch != s.Epoch() || ev.Position.Epoch == "" || ev.Position.Offset == 0 || ev.Prev != 0 || ev.Latest || ev.Replayed {
		t.Fatalf("first scan: position %+v prev %d latest %v replayed %v", ev.Position, ev.Prev, ev.Latest, ev.Replayed)
	}
	if ev1 := next(t, one, "the scan on the scanner's own subscription"); ev1.Position != ev.Position {
		t.Fatalf("the two subscriptions got different events: %+v and %+v", ev1.Position, ev.Position)
	}

	// The other scanner's scan reaches the wildcard subscription only; a
	// second scan on the same channel names the first as Prev.
	sim.Scan(mark2, "4006381333931")
	ev2 := next(t, all, "the MARK 2's scan")
	if sc := ev2.Value.(*event.Scan); ev2.Channel != "scanner/m2mr111100928/scan" || sc.Serial != mark2 || sc.Code != "4006381333931" || sc.Model != "MARK 2" {
		t.Fatalf("second scan on %s: %+v", ev2.Channel, sc)
	}
	sim.Scan(display, "PGAS10603924")
	ev3 := next(t, all, "the display's second scan")
	if ev3.Value.(*event.Scan).Code != "PGAS10603924" || ev3.Prev != ev.Position.Offset ||
		!(ev.Position.Offset < ev2.Position.Offset && ev2.Position.Offset < ev3.Position.Offset) {
		t.Fatalf("offsets %d, %d, %d; third's prev %d, want the first's", ev.Position.Offset, ev2.Position.Offset, ev3.Position.Offset, ev3.Prev)
	}
	if ev := next(t, one, "the display's second scan"); ev.Position != ev3.Position {
		t.Fatalf("scanner subscription got %s at %d, want the display's second scan", ev.Channel, ev.Position.Offset)
	}
	quiet(t, one)

	// A double click is a button event, not a scan.
	buttons := subscribe(t, s, "scanner/+/button", false)
	sim.Trigger(mark2, proglove.GestureDoubleClick, "")
	bev := next(t, buttons, "the button press")
	if b, ok := bev.Value.(*event.ScannerButton); !ok || bev.Channel != "scanner/m2mr111100928/button" || b.Gesture != proglove.GestureDoubleClick || b.Serial != mark2 {
		t.Fatalf("button event on %s: %+v", bev.Channel, bev.Value)
	}
	if p := all.Position(); p != ev3.Position {
		t.Fatalf("Position() = %+v, want the last scan's %+v", p, ev3.Position)
	}
	if st := s.Stats(); st.BadInput != 0 || st.Reconnects != 0 || st.Delivered != 6 {
		t.Fatalf("Stats() = %+v, want 6 delivered (3 + 2 scans, 1 button) and nothing bad", st)
	}
}

func decodeScan(t *testing.T, frame []byte) *proglove.Scan {
	t.Helper()
	m, err := proglove.Decode(frame)
	if err != nil {
		t.Fatalf("the simulator's frame does not decode: %v", err)
	}
	return m.(*proglove.Scan)
}

// OnEvents gets all of a frame's events for the subscription in one call:
// here one frame carrying two LF-separated messages.
func TestOnEventsPerFrame(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	opts := testOptions()
	opts.SkipGatewayState = true
	s := dial(t, sim, url, opts)
	batches := make(chan []direct.Event, 16)
	if _, err := s.Subscribe(context.Background(), "scanner/#", &direct.SubscribeOptions{OnEvents: func(evs []direct.Event) { batches <- evs }}); err != nil {
		t.Fatal(err)
	}
	a := `{"api_version":"1.0","event_type":"scan","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,"scan_code":"A-1","device_serial":"MDMR000000064","gateway_serial":"PGGW000000058"}`
	b := `{"api_version":"1.0","event_type":"scan","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672e0","time_created":1546300800001,"scan_code":"B-2","device_serial":"MDMR000000064","gateway_serial":"PGGW000000058"}`
	sim.Emit([]byte(a + "\r\n" + b + "\n"))
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	select {
	case evs := <-batches:
		if len(evs) != 2 || evs[0].Value.(*event.Scan).Code != "A-1" || evs[1].Value.(*event.Scan).Code != "B-2" ||
			string(evs[0].Value.Header().Raw) != a || string(evs[1].Value.Header().Raw) != b || evs[1].Prev != evs[0].Position.Offset {
			t.Fatalf("batch %s", summary(evs))
		}
	case <-ctx.Done():
		t.Fatal("no batch")
	}
}

// After connecting, the session asks for the gateway's state: the answer
// is published, and the scanners it lists get derived connected states.
// A subscription asking for Latest gets the last value of every matching
// state channel first, in offset order, marked Latest.
func TestGatewayStateAndLatest(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	s := dial(t, sim, url, testOptions())

	// Whether the answer came before or after this subscription, it
	// arrives: as Latest values or live.
	all := subscribe(t, s, "#", true)
	states := map[string]*event.ScannerState{}
	var gw *event.ScannerGateway
	for len(states) < 2 || gw == nil {
		ev := next(t, all, "the gateway's state and both scanners' states")
		switch v := ev.Value.(type) {
		case *event.ScannerState:
			states[ev.Channel] = v
		case *event.ScannerGateway:
			if ev.Channel != "scanner/gateway/pggw000000058/state" {
				t.Fatalf("gateway state on %s", ev.Channel)
			}
			gw = v
		}
	}
	if gw.Gateway != gateway || gw.AppVersion != proglovesim.DefaultAppVersion || !proglove.ValidEventID(gw.Reference) || len(gw.Devices) != 2 {
		t.Fatalf("gateway state %+v, want the answer to the session's gateway_state!", gw)
	}
	for _, serial := range []string{display, mark2} {
		st := states["scanner/"+strings.ToLower(serial)+"/state"]
		if st == nil || st.Serial != serial || !st.Connected || st.Derived != proglove.DerivedFromGatewayState || st.Gateway != gateway {
			t.Fatalf("state of %s: %+v, want derived connected", serial, st)
		}
	}
	if got := s.Scanners(); !reflect.DeepEqual(got, []string{mark2, display}) {
		t.Fatalf("Scanners() = %v", got)
	}

	// A later subscription gets exactly the two states, as Latest, in
	// offset order; then live changes.
	sub := subscribe(t, s, "scanner/+/state", true)
	l1, l2 := next(t, sub, "a latest state"), next(t, sub, "another latest state")
	if !l1.Latest || !l2.Latest || l1.Position.Offset >= l2.Position.Offset || l1.Kind != event.KindScannerState {
		t.Fatalf("latest values %s", summary([]direct.Event{l1, l2}))
	}
	sim.DisconnectScanner(mark2)
	ev := next(t, sub, "the disconnection")
	if st := ev.Value.(*event.ScannerState); ev.Latest || ev.Channel != "scanner/m2mr111100928/state" || st.Connected || st.Reason != proglove.DisconnectUnknown || st.Derived != "" {
		t.Fatalf("live state %+v latest=%v", st, ev.Latest)
	}
	quiet(t, sub)
	if p := sub.Position(); p != ev.Position {
		t.Fatalf("Position() = %+v: Latest values moved it, or the live event did not", p)
	}

	// The latest value follows the change; link status is a state too.
	later := subscribe(t, s, "#", true)
	var got []direct.Event
	for len(got) < 4 {
		got = append(got, next(t, later, "latest values"))
	}
	byChannel := map[string]direct.Event{}
	for _, ev := range got {
		if !ev.Latest {
			t.Fatalf("not Latest: %s", summary(got))
		}
		byChannel[ev.Channel] = ev
	}
	if st, ok := byChannel["scanner/m2mr111100928/state"].Value.(*event.ScannerState); !ok || st.Connected {
		t.Fatalf("latest of the MARK 2: %+v", byChannel["scanner/m2mr111100928/state"].Value)
	}
	if ls, ok := byChannel["link/direct/status"].Value.(*event.LinkStatus); !ok || ls.State != event.LinkConnected || ls.Meta.Link != direct.DefaultLink {
		t.Fatalf("latest link status: %+v", byChannel["link/direct/status"].Value)
	}
	if _, ok := byChannel["scanner/gateway/pggw000000058/state"]; !ok {
		t.Fatalf("no latest gateway state: %s", summary(got))
	}
	quiet(t, later)
}

// Feedback and display commands reach the app as the Streams API commands
// the protocol notes show, addressed to the scanner's own serial, and
// succeed when the app stays silent; gateway_state! succeeds with the
// app's answer.
func TestCommandSuccess(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	opts := testOptions()
	opts.CommandTimeout = 200 * time.Millisecond // silence this long is success
	s := dial(t, sim, url, opts)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()

	rep, err := s.Command(ctx, "scanner/m2mr111100928/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive})
	if err != nil {
		t.Fatalf("feedback: %v", err)
	}
	if !proglove.ValidEventID(rep.EventID) || rep.Answered {
		t.Fatalf("feedback reply %+v, want an event id, success by silence", rep)
	}
	var res event.ScannerCommandResult
	if _, err := res.UnmarshalMsg(rep.Data); err != nil || res.EventID != rep.EventID || res.Answered {
		t.Fatalf("reply Data decodes to %+v (%v)", res, err)
	}
	fb, ok := received(sim, rep.EventID).(*proglove.Feedback)
	if !ok || fb.DeviceSerial != mark2 || fb.Action != proglove.FeedbackPositive || fb.APIVersion != proglove.APIVersion10 {
		t.Fatalf("the app received %+v", received(sim, rep.EventID))
	}

	// A body given as its msgp encoding (as the bridge may hold it) is the
	// same command.
	raw, err := (&event.ScannerFeedback{Action: proglove.FeedbackSpecialCyan}).MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = s.Command(ctx, "scanner/m2mr111100928/cmd", event.CmdScannerFeedback, msgp.Raw(raw))
	if err != nil {
		t.Fatalf("feedback from msgp bytes: %v", err)
	}
	if fb, ok := received(sim, rep.EventID).(*proglove.Feedback); !ok || fb.Action != proglove.FeedbackSpecialCyan || fb.DeviceSerial != mark2 {
		t.Fatalf("the app received %+v", received(sim, rep.EventID))
	}

	body := &event.ScannerDisplay{Template: "PG3", Fields: []event.ScannerDisplayField{
		{ID: 1, Header: "Storage Unit", Text: "R15"}, {ID: 2, Header: "Item", Text: "Engine 12 – Grüße"}}}
	rep, err = s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerDisplay, body)
	if err != nil {
		t.Fatalf("display: %v", err)
	}
	d, ok := received(sim, rep.EventID).(*proglove.Display)
	if !ok || d.DeviceSerial != display || d.TemplateID != "PG3" || d.RefreshType != proglove.RefreshDefault || len(d.Fields) != 2 ||
		d.Fields[1] != (proglove.DisplayField{ID: 2, Header: "Item", Text: "Engine 12 – Grüße"}) {
		t.Fatalf("the app received %+v", received(sim, rep.EventID))
	}

	// gateway_state! is answered: success at once, and the answer is an
	// event like any other.
	gws := subscribe(t, s, "scanner/gateway/+/state", false)
	rep, err = s.Command(ctx, "scanner/gateway/pggw000000058/cmd", event.CmdScannerGatewayState, nil)
	if err != nil || !rep.Answered {
		t.Fatalf("gateway_state: %+v, %v; want answered", rep, err)
	}
	ev, _ := until(t, gws, "the answer", func(ev direct.Event) bool {
		return ev.Value.(*event.ScannerGateway).Reference == rep.EventID
	})
	if g := ev.Value.(*event.ScannerGateway); len(g.Devices) != 2 {
		t.Fatalf("answer %+v", g)
	}
}

// received finds the command the simulator accepted with the event id.
func received(sim *proglovesim.Simulator, id string) proglove.Command {
	for _, c := range sim.Received() {
		if c.Header().ID == id {
			return c
		}
	}
	return nil
}

// A command the app refuses settles with the app's error, which is also
// published as an event; one that breaks the protocol's rules, or that no
// link of this kind serves, is refused before anything is sent.
func TestCommandRejected(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	opts := testOptions()
	opts.CommandTimeout = time.Minute // only the app's answers settle the commands below
	s := dial(t, sim, url, opts)
	errs := subscribe(t, s, "scanner/+/error", false)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()

	// Refused here: nothing reaches the app.
	_, err := s.Command(ctx, "scanner/m2mr111100928/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: "FEEDBACK_LOUD"})
	var re *direct.ReplyError
	if !errors.As(err, &re) || re.Code != codes.BadRequest || !strings.Contains(re.Message, "feedback_action_id") {
		t.Fatalf("invalid feedback: %v, want BAD_REQUEST naming feedback_action_id", err)
	}
	for _, c := range []struct{ target, kind string }{
		{"scanner/gateway/pggw000000058/cmd", event.CmdScannerFeedback},
		{"scanner/m2mr111100928/cmd", event.CmdLoRaDownlink},
	} {
		_, err = s.Command(ctx, c.target, c.kind, nil)
		if !errors.As(err, &re) || re.Code != codes.NotFound {
			t.Fatalf("%s on %s: %v, want NOT_FOUND", c.kind, c.target, err)
		}
	}
	if _, err = s.Command(ctx, "scanner//cmd", event.CmdScannerFeedback, nil); !errors.As(err, &re) || re.Code != codes.BadRequest {
		t.Fatalf("bad target: %v, want BAD_REQUEST", err)
	}

	// A display command to a scanner without a display: the app's
	// ERROR_UNKNOWN.
	_, err = s.Command(ctx, "scanner/m2mr111100928/cmd", event.CmdScannerDisplay, &event.ScannerDisplay{Template: "PG1"})
	rej := sim.Rejected()
	if len(rej) != 1 {
		t.Fatalf("the app rejected %d commands, want only the display (the invalid ones were sent?)", len(rej))
	}
	want := rej[0].Code + ": " + rej[0].Message
	if !errors.As(err, &re) || re.Code != codes.DeviceRejected || re.Message != want || rej[0].Code != proglove.ErrorUnknown {
		t.Fatalf("display to a MARK 2: %v, want DEVICE_REJECTED %q", err, want)
	}
	ev := next(t, errs, "the errors event")
	if e := ev.Value.(*event.ScannerError); ev.Channel != "scanner/m2mr111100928/error" || e.Reference != rej[0].ReferenceID || e.Code != proglove.ErrorUnknown {
		t.Fatalf("error event on %s: %+v", ev.Channel, e)
	}

	// A scanner that is not connected: ERROR_DEVICE_NOT_FOUND.
	sim.DisconnectScanner(display)
	_, err = s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackNegative})
	if !errors.As(err, &re) || re.Code != codes.DeviceRejected || !strings.HasPrefix(re.Message, proglove.ErrorDeviceNotFound+": ") {
		t.Fatalf("feedback to a disconnected scanner: %v, want DEVICE_REJECTED %s", err, proglove.ErrorDeviceNotFound)
	}
	if n := len(sim.Received()); n != 1 { // the session's own gateway_state!
		t.Fatalf("the app accepted %d commands, want 1", n)
	}
}

// The app dropping the link: the session says so, reconnects, asks for
// the gateway's state again, and events flow again in the same log. A
// command waiting on the dropped link has an unknown outcome.
func TestReconnect(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	states := newStateLog()
	opts := testOptions()
	opts.OnState = states.on
	opts.CommandTimeout = time.Hour // only the drop settles the command below
	s := dial(t, sim, url, opts)
	if err := states.until(t, direct.Connected); err != nil {
		t.Fatal(err)
	}
	scans := subscribe(t, s, "scanner/+/scan", false)
	links := subscribe(t, s, "link/#", false)
	sim.Scan(display, "before")
	before := next(t, scans, "the scan before the drop")

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive})
		result <- err
	}()
	eventually(t, "the app receiving the feedback", func() bool {
		for _, c := range sim.Received() {
			if _, ok := c.(*proglove.Feedback); ok {
				return true
			}
		}
		return false
	})

	if n := sim.DropClients(); n != 1 {
		t.Fatalf("dropped %d clients", n)
	}
	if err := states.until(t, direct.Reconnecting); err == nil {
		t.Fatal("OnState(reconnecting) without a cause")
	}
	var re *direct.ReplyError
	select {
	case err := <-result:
		if !errors.As(err, &re) || re.Code != codes.UnknownOutcome {
			t.Fatalf("command across the drop: %v, want UNKNOWN_OUTCOME", err)
		}
	case <-ctx.Done():
		t.Fatal("the command did not settle after the drop")
	}
	if err := states.until(t, direct.Connected); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitClients(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sim.Scan(display, "after")
	after := next(t, scans, "the scan after the reconnect")
	if after.Value.(*event.Scan).Code != "after" || after.Position.Epoch != before.Position.Epoch ||
		after.Position.Offset <= before.Position.Offset || after.Prev != before.Position.Offset {
		t.Fatalf("after the reconnect: %+v prev %d; before: %+v", after.Position, after.Prev, before.Position)
	}
	if st := s.Stats(); st.Reconnects != 1 {
		t.Fatalf("Stats().Reconnects = %d", st.Reconnects)
	}
	// The link's status went through backing_off (with the cause) back to
	// connected.
	backoff, _ := until(t, links, "backing_off", func(ev direct.Event) bool {
		return ev.Value.(*event.LinkStatus).State == event.LinkBackoff
	})
	if ls := backoff.Value.(*event.LinkStatus); ls.Reason == "" || ls.Attempt != 1 || ls.RetryMS < 0 || backoff.Channel != "link/direct/status" {
		t.Fatalf("backing_off status %+v on %s", ls, backoff.Channel)
	}
	until(t, links, "connected again", func(ev direct.Event) bool {
		return ev.Value.(*event.LinkStatus).State == event.LinkConnected
	})
	// The session asked for the gateway's state on each connection.
	eventually(t, "a gateway_state! per connection", func() bool {
		n := 0
		for _, c := range sim.Received() {
			if _, ok := c.(*proglove.GatewayStateRequest); ok {
				n++
			}
		}
		return n == 2
	})
}

// With the app gone, commands fail at once with UNAVAILABLE, naming that
// nothing was sent; the session keeps trying to connect.
func TestCommandWhileDown(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	states := newStateLog()
	opts := testOptions()
	opts.OnState = states.on
	s := dial(t, sim, url, opts)
	sim.Close()
	states.until(t, direct.Reconnecting)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, err := s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive})
	var re *direct.ReplyError
	if !errors.As(err, &re) || re.Code != codes.Unavailable {
		t.Fatalf("command with the app gone: %v, want UNAVAILABLE", err)
	}
	if st := s.State(); st == direct.Connected || st == direct.Closed {
		t.Fatalf("State() = %s", st)
	}
}

// Bad input from the app is counted by kind, reported, and dropped; the
// session stays up and every good message around it is delivered.
// Unknown event types are not bad input: they pass through.
func TestBadInput(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	states := newStateLog()
	var errs errorLog
	opts := testOptions()
	opts.SkipGatewayState = true
	opts.MaxMessage = 1024
	opts.OnState = states.on
	opts.OnError = errs.on
	s := dial(t, sim, url, opts)
	sub := subscribe(t, s, "scanner/#", false)

	sim.Emit([]byte(`{"api_version":"1.0","event_type":"scan",`))                      // json
	sim.Emit([]byte(`{"api_version":"1.0","device_serial":"MDMR000000064"}`))          // no_type
	sim.Emit([]byte(`{"event_type":"scan","device_serial":"MDMR000000064"}`))          // missing scan_code
	sim.Emit([]byte(`{"event_type":"scan","scan_code":7,"device_serial":"X"}` + "\n" + // type, and a good one after it
		`{"event_type":"scanner_state","device_serial":"MDMR000000064","device_connected_state":"STATE_CONNECTED"}`))
	sim.Emit([]byte(`{"event_type":"scan","scan_code":"` + strings.Repeat("x", 2000) + `","device_serial":"MDMR000000064"}`)) // oversize
	sim.Emit([]byte(`{"event_type":"battery_state","device_serial":"MDMR000000064","battery_level":12}`))                     // passes through
	sim.Scan(display, "still here")

	ev := next(t, sub, "the good state in the mixed frame")
	if st, ok := ev.Value.(*event.ScannerState); !ok || !st.Connected || ev.Channel != "scanner/mdmr000000064/state" {
		t.Fatalf("first event %s %+v, want the scanner state", ev.Channel, ev.Value)
	}
	ev = next(t, sub, "the unknown type")
	if o, ok := ev.Value.(*event.ScannerOther); !ok || o.Type != "battery_state" || ev.Channel != "scanner/mdmr000000064/other" {
		t.Fatalf("second event %s %+v, want scanner.other", ev.Channel, ev.Value)
	}
	ev = next(t, sub, "the scan after the bad input")
	if sc, ok := ev.Value.(*event.Scan); !ok || sc.Code != "still here" {
		t.Fatalf("third event %+v", ev.Value)
	}

	wantKinds := []string{"json", "no_type", "missing", "type", "oversize"}
	st := s.Stats()
	if st.BadInput != 5 || !reflect.DeepEqual(st.BadInputKinds, map[string]uint64{"json": 1, "no_type": 1, "missing": 1, "type": 1, "oversize": 1}) {
		t.Fatalf("Stats() = %+v", st)
	}
	kinds, reported := errs.get()
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Fatalf("OnError kinds %v, want %v", kinds, wantKinds)
	}
	if !errors.Is(reported[0], proglove.ErrMalformedJSON) || !errors.Is(reported[2], proglove.ErrMissing) || !strings.Contains(reported[3].Error(), "scan_code") {
		t.Fatalf("OnError errors %v", reported)
	}
	if s.State() != direct.Connected || st.Reconnects != 0 {
		t.Fatalf("after bad input: %s, %d reconnects", s.State(), st.Reconnects)
	}
}

// Close ends everything: the state is Closed, subscriptions end with
// ErrClosed and their channels close, a command waiting on the app fails
// with ErrClosed, later calls fail with ErrClosed, and no goroutine is left
// (leaktest, armed by startSim).
func TestClose(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	states := newStateLog()
	opts := testOptions()
	opts.OnState = states.on
	opts.CommandTimeout = time.Hour // only Close settles the command below
	s := dial(t, sim, url, opts)
	sub := subscribe(t, s, "#", false)
	cbSub, err := s.Subscribe(context.Background(), "scanner/#", &direct.SubscribeOptions{OnEvents: func([]direct.Event) {}})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive})
		result <- err
	}()
	eventually(t, "the app receiving the feedback", func() bool { return len(sim.Received()) == 2 })

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := states.until(t, direct.Closed); err != nil {
		t.Fatalf("OnState(closed, %v)", err)
	}
	if err := <-result; !errors.Is(err, direct.ErrClosed) {
		t.Fatalf("command during Close: %v", err)
	}
	for range sub.Events() { // drains what was delivered, ends when closed
	}
	for _, x := range []*direct.Subscription{sub, cbSub} {
		select {
		case <-x.Done():
		default:
			t.Fatalf("%s: Done not closed", x.Pattern())
		}
		if !errors.Is(x.Err(), direct.ErrClosed) {
			t.Fatalf("%s: Err() = %v", x.Pattern(), x.Err())
		}
	}
	if _, err := s.Subscribe(ctx, "#", nil); !errors.Is(err, direct.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if _, err := s.Command(ctx, "scanner/mdmr000000064/cmd", event.CmdScannerFeedback, &event.ScannerFeedback{Action: proglove.FeedbackPositive}); !errors.Is(err, direct.ErrClosed) {
		t.Fatalf("Command after Close: %v", err)
	}
	if s.State() != direct.Closed || s.Close() != nil {
		t.Fatalf("State() = %s after Close", s.State())
	}
	// The app saw the client go.
	if err := waitNoClients(ctx, sim); err != nil {
		t.Fatal(err)
	}
}

func waitNoClients(ctx context.Context, sim *proglovesim.Simulator) error {
	for sim.Clients() != 0 {
		select {
		case <-ctx.Done():
			return errors.New("the app still has a client after Close")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// Close from inside a callback returns (it cannot wait for the goroutine
// running the callback) and the session still ends cleanly.
func TestCloseFromCallback(t *testing.T) {
	sim, url := startSim(t, proglovesim.Config{})
	opts := testOptions()
	opts.SkipGatewayState = true
	s := dial(t, sim, url, opts)
	closed := make(chan struct{})
	if _, err := s.Subscribe(context.Background(), "scanner/+/scan", &direct.SubscribeOptions{OnEvents: func([]direct.Event) {
		s.Close()
		close(closed)
	}}); err != nil {
		t.Fatal(err)
	}
	sim.Scan(display, "")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close from OnEvents did not return")
	}
	if s.State() != direct.Closed {
		t.Fatalf("State() = %s", s.State())
	}
}

// Dial refuses addresses that cannot be the app's, and options that make
// no sense, before connecting; with nothing listening it keeps trying
// until its context ends, and says what the last attempt met.
func TestDialErrors(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for _, c := range []struct {
		url  string
		want error
	}{
		{"http://127.0.0.1:9998", proglove.ErrBadURL},
		{"ws://127.0.0.1:9998/socket", proglove.ErrBadURL},
		{"ws://127.0.0.1", proglove.ErrBadPort},
		{"ws://127.0.0.1:80", proglove.ErrBadPort},
	} {
		if _, err := direct.Dial(ctx, c.url, nil); !errors.Is(err, c.want) {
			t.Errorf("Dial(%s): %v, want %v", c.url, err, c.want)
		}
	}
	if _, err := direct.Dial(ctx, "ws://127.0.0.1:9998", &direct.Options{MinBackoff: time.Second, MaxBackoff: time.Millisecond}); err == nil {
		t.Error("Dial with MinBackoff above MaxBackoff: no error")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	_, err = direct.Dial(short, "ws://"+addr, testOptions())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last attempt") {
		t.Fatalf("Dial with nothing listening: %v, want the deadline and the last attempt's error", err)
	}
}
