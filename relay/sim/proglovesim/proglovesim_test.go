package proglovesim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
)

// patience bounds every wait for a frame or a connection. It is a deadline
// for failure, never a delay: tests proceed as soon as what they wait for
// arrives.
const patience = 10 * time.Second

const (
	display = proglovesim.DefaultDisplaySerial // MARK Display
	mark2   = proglovesim.DefaultMarkSerial    // MARK 2, no display
)

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func quiet(cfg proglovesim.Config) *proglovesim.Config {
	cfg.ScanEvery = -1
	return &cfg
}

func start(t *testing.T, cfg *proglovesim.Config) (*proglovesim.Simulator, string) {
	t.Helper()
	leaktest.Check(t)
	sim := proglovesim.New(cfg)
	t.Cleanup(func() { _ = sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, url
}

// connect dials and waits until the simulator has registered the client,
// so that nothing broadcast afterwards can be missed.
func connect(t *testing.T, sim *proglovesim.Simulator, url string) *websocket.Conn {
	t.Helper()
	want := sim.Clients() + 1
	c := dial(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := sim.WaitClients(ctx, want); err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("frame type %v, want text", typ)
	}
	return b
}

func send(t *testing.T, c *websocket.Conn, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// keys lists an object's keys in the order sent.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func docKeys(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile("../../../proto/proglove/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return keys(t, b)
}

func decode[T proglove.Message](t *testing.T, b []byte) T {
	t.Helper()
	m, err := proglove.Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s): %v", b, err)
	}
	v, ok := m.(T)
	if !ok {
		t.Fatalf("got %T (%s)", m, b)
	}
	return v
}

func command(typ, id, fields string) string {
	s := `{"api_version":"1.0","event_type":"` + typ + `","event_id":"` + id + `","time_created":1700000000000`
	if fields != "" {
		s += "," + fields
	}
	return s + "}"
}

var ids = []string{
	"1a1a1a1a-1111-4111-8111-11111111111a", "2b2b2b2b-2222-4222-8222-22222222222b",
	"3c3c3c3c-3333-4333-8333-33333333333c", "4d4d4d4d-4444-4444-8444-44444444444d",
}

// barrier sends gateway_state! and returns its answer: since the simulator
// handles one client's frames in order, anything an earlier command caused
// would have arrived first.
func barrier(t *testing.T, c *websocket.Conn, id string) *proglove.GatewayState {
	t.Helper()
	send(t, c, command("gateway_state!", id, ""))
	g := decode[*proglove.GatewayState](t, read(t, c))
	equal(t, "event_reference_id", g.ReferenceID, id)
	return g
}

// The generated events have the documented shapes and key order.
func TestEventsHaveTheDocumentedShape(t *testing.T) {
	clk := &clock{t: time.UnixMilli(1546300800000)}
	sim, url := start(t, quiet(proglovesim.Config{Now: clk.Now}))
	c := connect(t, sim, url)

	frame := sim.Scan(display, "Hello, World!")
	equal(t, "scan frame", read(t, c), frame)
	equal(t, "scan keys", keys(t, frame), docKeys(t, "scan.json"))
	s := decode[*proglove.Scan](t, frame)
	if s.ScanCode != "Hello, World!" || s.ScanBytes != "SGVsbG8sIFdvcmxkIQ==" || s.DeviceModel != "MARK Display" || s.GatewaySerial != "PGGW000000058" ||
		s.ScanMode != "SCAN_MODE_SINGLE" || *s.ScanSessionID != 1 || s.Created != 1546300800000 || !proglove.ValidEventID(s.ID) || s.APIVersion != "1.0" {
		t.Errorf("scan %+v", s)
	}
	var raw map[string]any
	_ = json.Unmarshal(frame, &raw)
	if _, ok := raw["scan_duration"].(string); !ok {
		t.Errorf("scan_duration is not a string: %s", frame)
	}
	if _, ok := raw["device_temperature"].(string); !ok {
		t.Errorf("device_temperature is not a string: %s", frame)
	}

	frame = sim.DisconnectScanner(mark2)
	equal(t, "state frame", read(t, c), frame)
	equal(t, "scanner_state keys", keys(t, frame), docKeys(t, "scanner_state.json"))
	st := decode[*proglove.ScannerState](t, frame)
	if st.ConnectedState != "STATE_DISCONNECTED" || st.DisconnectReason != "UNKNOWN" || st.DeviceSerial != mark2 {
		t.Errorf("state %+v", st)
	}
	if sim.Scan(mark2, "x") != nil {
		t.Error("a disconnected scanner scanned")
	}
	frame = sim.ConnectScanner(proglovesim.Scanner{Serial: mark2})
	st = decode[*proglove.ScannerState](t, read(t, c))
	if st.ConnectedState != "STATE_CONNECTED" || st.DeviceSerial != mark2 || st.GatewaySerial != "PGGW000000058" {
		t.Errorf("state %+v", st)
	}
	equal(t, "Connected", sim.Connected(), []string{display, mark2})

	frame = sim.Trigger(display, proglove.GestureDoubleClick, "")
	b := decode[*proglove.ButtonPressed](t, read(t, c))
	if b.TriggerGesture != "TRIGGER_DOUBLE_CLICK" || b.DeviceSerial != display || frame == nil {
		t.Errorf("button %+v", b)
	}
	if sim.Trigger(display, proglove.GestureTripleClick, "") != nil {
		t.Error("a triple click reported something")
	}
	if sim.Scan("NOPE", "") != nil {
		t.Error("an unknown scanner scanned")
	}
}

func TestGeneratedScansRoundRobin(t *testing.T) {
	sim, url := start(t, &proglovesim.Config{ScanEvery: time.Millisecond, CRTerminatedCodes: true})
	c := connect(t, sim, url)
	seen := map[string]bool{}
	for range 4 {
		s := decode[*proglove.Scan](t, read(t, c))
		seen[s.DeviceSerial] = true
		if !strings.HasSuffix(s.ScanCode, "\r") || strings.HasSuffix(s.Code(), "\r") {
			t.Errorf("code %q", s.ScanCode)
		}
	}
	if !seen[display] || !seen[mark2] {
		t.Errorf("scanners seen: %v", seen)
	}
}

// Accepted commands get no answer at all; gateway_state! gets the state.
func TestAcceptedCommandsAreSilent(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	c := connect(t, sim, url)
	cmds := []string{
		command("feedback!", ids[0], `"device_serial":"M2MR111100928","feedback_action_id":"FEEDBACK_POSITIVE"`),
		command("display!", ids[1], `"device_serial":"MDMR000000064","display_template_id":"PG3","display_refresh_type":"DEFAULT","time_validity_duration":0,`+
			`"display_fields":[{"display_field_id":1,"display_field_header":"Storage Unit","display_field_text":"R15"},{"display_field_id":2,"display_field_header":"Item","display_field_text":"Engine 12"}]`),
		command("trigger_block!", ids[2], `"device_serial":"M2MR111100928","trigger_block_state":false,"trigger_block_gesture_list":[],"trigger_unblock_gesture_list":[],"time_validity_duration":0`),
	}
	for _, cmd := range cmds {
		send(t, c, cmd)
	}
	g := barrier(t, c, ids[3])
	equal(t, "devices", g.Devices, []proglove.Device{
		{Serial: display, FirmwareVersion: "v1.2.0", Model: "MARK Display", Manufacturer: "Workaround GmbH"},
		{Serial: mark2, FirmwareVersion: "v1.2.0", Model: "MARK 2", Manufacturer: "Workaround GmbH"},
	})
	if g.GatewaySerial != "PGGW000000058" || g.AppVersion != "v1.5.0" {
		t.Errorf("gateway %+v", g)
	}
	got := sim.Received()
	if len(got) != 4 {
		t.Fatalf("Received %d commands: %#v", len(got), got)
	}
	for i, want := range []string{"feedback!", "display!", "trigger_block!", "gateway_state!"} {
		equal(t, "received type", got[i].Header().Type, want)
	}
	equal(t, "Rejected", len(sim.Rejected()), 0)
}

// Refused commands get an errors event with the documented code, to the
// sender only, naming the command's event_id.
func TestRefusedCommands(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	sim.DisconnectScanner(mark2) // before anyone connects: no frame to read
	tests := []struct {
		name, frame, ref, code, serial, message string
	}{
		{"bad JSON", `{"event_type":"feedback!"`, "", proglove.ErrorInvalidCommand, "", "malformed JSON"},
		{"not an object", `[1,2]`, "", proglove.ErrorInvalidCommand, "", "malformed JSON"},
		{"unknown type", command("reboot!", ids[0], ""), ids[0], proglove.ErrorInvalidCommand, "", "event_type"},
		{"event type", command("scan", ids[0], `"scan_code":"x","device_serial":"S"`), ids[0], proglove.ErrorInvalidCommand, "", "event_type"},
		{"no event type", `{"event_id":"` + ids[0] + `"}`, ids[0], proglove.ErrorInvalidCommand, "", "event_type"},
		{"uppercase id", command("feedback!", strings.ToUpper(ids[1]), `"device_serial":"MDMR000000064","feedback_action_id":"FEEDBACK_POSITIVE"`),
			strings.ToUpper(ids[1]), proglove.ErrorInvalidCommand, display, "event_id"},
		{"old time", strings.Replace(command("gateway_state!", ids[1], ""), "1700000000000", "1500000000000", 1), ids[1], proglove.ErrorInvalidCommand, "", "time_created"},
		{"action", command("feedback!", ids[1], `"device_serial":"MDMR000000064","feedback_action_id":"FEEDBACK_GREEN"`), ids[1], proglove.ErrorInvalidCommand, display, "feedback_action_id"},
		{"ttl on 1.0", command("feedback!", ids[1], `"device_serial":"MDMR000000064","feedback_action_id":"FEEDBACK_POSITIVE","event_time_to_live_duration":500`), ids[1], proglove.ErrorInvalidCommand, display, "1.1"},
		{"text too long", command("display!", ids[2], `"device_serial":"MDMR000000064","display_template_id":"PG1","display_fields":[{"display_field_id":1,"display_field_header":"h","display_field_text":"`+strings.Repeat("x", 81)+`"}]`),
			ids[2], proglove.ErrorInvalidCommand, display, "display_field_text: bad value: at most 80 characters, got 81"},
		{"13 fields", command("display!", ids[2], `"device_serial":"MDMR000000064","display_template_id":"PG1","display_fields":[`+strings.Repeat(`{"display_field_id":1},`, 12)+`{"display_field_id":1}]`),
			ids[2], proglove.ErrorInvalidCommand, display, "at most 12"},
		{"raw non-ASCII", command("display!", ids[2], `"device_serial":"MDMR000000064","display_template_id":"PG1","display_fields":[{"display_field_id":1,"display_field_text":"Größe"}]`),
			ids[2], proglove.ErrorInvalidCommand, display, `\uXXXX`},
		{"refresh", command("display!", ids[2], `"device_serial":"MDMR000000064","display_template_id":"PG1","display_refresh_type":"SLOW"`), ids[2], proglove.ErrorInvalidCommand, display, "display_refresh_type"},
		{"no block state", command("trigger_block!", ids[3], `"device_serial":"MDMR000000064"`), ids[3], proglove.ErrorInvalidCommand, display, "trigger_block_state"},
		{"gesture", command("trigger_block!", ids[3], `"device_serial":"MDMR000000064","trigger_block_state":true,"trigger_block_gesture_list":["TRIGGER_HOLD"]`), ids[3], proglove.ErrorInvalidCommand, display, "TRIGGER_SINGLE_CLICK"},
		{"unknown serial", command("feedback!", ids[0], `"device_serial":"M2MR000000000","feedback_action_id":"FEEDBACK_NEGATIVE"`), ids[0], proglove.ErrorDeviceNotFound, "M2MR000000000", "M2MR000000000"},
		{"serial case", command("feedback!", ids[0], `"device_serial":"mdmr000000064","feedback_action_id":"FEEDBACK_NEGATIVE"`), ids[0], proglove.ErrorDeviceNotFound, "mdmr000000064", "not found"},
		{"disconnected scanner", command("feedback!", ids[0], `"device_serial":"M2MR111100928","feedback_action_id":"FEEDBACK_NEGATIVE"`), ids[0], proglove.ErrorDeviceNotFound, mark2, "not found"},
	}
	c := connect(t, sim, url)
	other := connect(t, sim, url)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, c, tt.frame)
			frame := read(t, c)
			var raw map[string]any
			if err := json.Unmarshal(frame, &raw); err != nil {
				t.Fatal(err)
			}
			if _, ok := raw["event_reference_id"]; !ok {
				t.Errorf("event_reference_id missing: %s", frame)
			}
			e := decode[*proglove.ErrorEvent](t, frame)
			if e.ReferenceID != tt.ref || e.Code != tt.code || e.DeviceSerial != tt.serial || e.Severity != "ERROR" || e.GatewaySerial != "PGGW000000058" {
				t.Errorf("errors event %s", frame)
			}
			if !strings.Contains(e.Message, tt.message) || len([]rune(e.Message)) > proglove.MaxErrorMessage {
				t.Errorf("message %q, want it to mention %q within 128 characters", e.Message, tt.message)
			}
		})
	}
	// The errors went to the sender only: the other client's next frame is
	// a broadcast scan.
	frame := sim.Scan(display, "after")
	equal(t, "other client", read(t, other), frame)
	equal(t, "Received", len(sim.Received()), 0)
	equal(t, "Rejected", len(sim.Rejected()), len(tests))
}

// The example's display command to a scanner without a display fails with
// ERROR_UNKNOWN, as the vendor's errors example does.
func TestDisplayWithoutDisplay(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	c := connect(t, sim, url)
	send(t, c, command("display!", ids[0], `"device_serial":"M2MR111100928","display_template_id":"PG1"`))
	e := decode[*proglove.ErrorEvent](t, read(t, c))
	if e.Code != proglove.ErrorUnknown || e.ReferenceID != ids[0] || e.Message != proglovesim.MessageNoDisplay+"MARK 2" {
		t.Errorf("%+v", e)
	}
}

// A trigger block suppresses the blocked gestures' reports until it is
// lifted, expires (time_validity_duration), or an unblock gesture is used.
func TestTriggerBlock(t *testing.T) {
	clk := &clock{t: time.UnixMilli(1700000000000)}
	sim, url := start(t, quiet(proglovesim.Config{Now: clk.Now}))
	c := connect(t, sim, url)

	// The documented example: block single clicks for 3000 ms.
	send(t, c, command("trigger_block!", ids[0], `"device_serial":"M2MR111100928","trigger_block_state":true,"trigger_block_gesture_list":["TRIGGER_SINGLE_CLICK"],"trigger_unblock_gesture_list":[],"time_validity_duration":3000`))
	barrier(t, c, ids[1])
	if !sim.Blocked(mark2) || sim.Scan(mark2, "blocked") != nil {
		t.Fatal("scan not suppressed while blocked")
	}
	if sim.Trigger(mark2, proglove.GestureDoubleClick, "") == nil {
		t.Fatal("a gesture not in the block list was suppressed")
	}
	read(t, c) // the button_pressed
	if sim.Scan(display, "other scanner") == nil {
		t.Fatal("the block applies to one scanner only")
	}
	read(t, c)
	clk.Advance(2999 * time.Millisecond)
	if sim.Scan(mark2, "still blocked") != nil {
		t.Fatal("block ended early")
	}
	clk.Advance(time.Millisecond)
	frame := sim.Scan(mark2, "free")
	if frame == nil || sim.Blocked(mark2) {
		t.Fatal("block did not expire after time_validity_duration")
	}
	equal(t, "scan after expiry", read(t, c), frame)

	// Block every gesture until unblocked; a triple click lifts it.
	send(t, c, command("trigger_block!", ids[2], `"device_serial":"M2MR111100928","trigger_block_state":true,"trigger_unblock_gesture_list":["TRIGGER_TRIPLE_CLICK"]`))
	barrier(t, c, ids[1])
	clk.Advance(time.Hour)
	if sim.Scan(mark2, "") != nil || sim.Trigger(mark2, proglove.GestureDoubleClick, "") != nil {
		t.Fatal("an indefinite block of every gesture let one through")
	}
	sim.Trigger(mark2, proglove.GestureTripleClick, "")
	if sim.Blocked(mark2) || sim.Scan(mark2, "x") == nil {
		t.Fatal("the unblock gesture did not lift the block")
	}
	read(t, c)

	// trigger_block_state false unblocks.
	send(t, c, command("trigger_block!", ids[3], `"device_serial":"M2MR111100928","trigger_block_state":true`))
	barrier(t, c, ids[1])
	if !sim.Blocked(mark2) {
		t.Fatal("not blocked")
	}
	send(t, c, command("trigger_block!", ids[0], `"device_serial":"M2MR111100928","trigger_block_state":false,"trigger_block_gesture_list":[],"trigger_unblock_gesture_list":[]`))
	barrier(t, c, ids[1])
	if sim.Blocked(mark2) || sim.Scan(mark2, "x") == nil {
		t.Fatal("unblock command did not unblock")
	}
}

func TestGeneratorHonoursBlocks(t *testing.T) {
	sim, url := start(t, &proglovesim.Config{ScanEvery: time.Millisecond, Scanners: []proglovesim.Scanner{{Serial: "A"}, {Serial: "B"}}})
	c := connect(t, sim, url)
	send(t, c, command("trigger_block!", ids[0], `"device_serial":"A","trigger_block_state":true`))
	// Wait for the command to take effect, reading scans meanwhile.
	for !sim.Blocked("A") {
		decode[*proglove.Scan](t, read(t, c))
	}
	for range 10 {
		if s := decode[*proglove.Scan](t, read(t, c)); s.DeviceSerial != "B" {
			t.Fatalf("blocked scanner %s scanned", s.DeviceSerial)
		}
	}
}

func TestAnnounceGatewayAndEmitGatewayState(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{AnnounceGateway: true, Scanners: []proglovesim.Scanner{{Serial: "A", Display: true}, {Serial: "B", Disconnected: true}}}))
	c := connect(t, sim, url)
	g := decode[*proglove.GatewayState](t, read(t, c))
	equal(t, "announced", g.Devices, []proglove.Device{{Serial: "A", FirmwareVersion: "v1.2.0", Model: "MARK Display", Manufacturer: "Workaround GmbH"}})
	if g.ReferenceID != "" {
		t.Errorf("unsolicited gateway_state with reference %q", g.ReferenceID)
	}
	frame := sim.EmitGatewayState()
	equal(t, "emitted", read(t, c), frame)
}

func TestSeveralClients(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	var conns []*websocket.Conn
	for range 3 {
		conns = append(conns, connect(t, sim, url))
	}
	equal(t, "Clients", sim.Clients(), 3)
	frames := [][]byte{[]byte(`{"event_type":`), sim.Scan(display, "one")}
	sim.Emit(frames[0])
	frames[0], frames[1] = frames[1], frames[0] // Scan broadcast first
	for _, c := range conns {
		for _, f := range frames {
			equal(t, "frame", read(t, c), f)
		}
	}
	// Each client's gateway_state! is answered to it alone.
	for i, c := range conns {
		barrier(t, c, ids[i])
	}
}

func TestPortRule(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for _, addr := range []string{"127.0.0.1:80", "127.0.0.1:1023", "127.0.0.1:65536"} {
		sim := proglovesim.New(nil)
		_, err := sim.Start(ctx, addr)
		if !errors.Is(err, proglove.ErrBadPort) || !strings.Contains(err.Error(), "[1024, 65536)") {
			t.Errorf("%s: %v", addr, err)
		}
		sim.Close()
	}
	sim, url := start(t, quiet(proglovesim.Config{Path: "/ws"}))
	if err := proglove.ValidateURL(strings.TrimSuffix(url, "/ws")); err != nil {
		t.Errorf("ephemeral url %s: %v", url, err)
	}
	if _, err := sim.Start(ctx, "127.0.0.1:0"); !errors.Is(err, proglovesim.ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	conn, resp, err := websocket.Dial(ctx, strings.TrimSuffix(url, "/ws")+"/", nil)
	if err == nil {
		_ = conn.CloseNow()
		t.Fatal("dial on / succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("response %v, want 404", resp)
	}
}

// A stalled app answers no ping and sends nothing, and recovers when the
// stall ends.
func TestStall(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	c := connect(t, sim, url)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ctx = c.CloseRead(ctx) // reads (and so receives pongs) in the background
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	sim.Stall(true)
	if sim.Scan(display, "lost") == nil {
		t.Fatal("the scanner did not scan")
	}
	// A read already pending may take in one more ping; the next finds the
	// app silent. The short deadline only bounds how long the test waits
	// for an answer that never comes.
	failed := false
	for range 3 {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Ping(pctx)
		pcancel()
		if err != nil {
			failed = true
			break
		}
	}
	if !failed {
		t.Fatal("a stalled simulator answered pings")
	}
	// c reads only to get pongs (CloseRead): a data frame would make it
	// close itself, so it goes before the app speaks again.
	_ = c.CloseNow()
	sim.Stall(false)
	c2 := dial(t, url)
	barrier(t, c2, ids[0]) // c2 is registered once it is answered
	frame := sim.Scan(display, "back")
	equal(t, "after the stall", read(t, c2), frame)

}

func TestDropClientsAndClose(t *testing.T) {
	sim, url := start(t, quiet(proglovesim.Config{}))
	c := connect(t, sim, url)
	connect(t, sim, url)
	equal(t, "DropClients", sim.DropClients(), 2)
	equal(t, "Clients", sim.Clients(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, _, err := c.Read(ctx); err == nil || websocket.CloseStatus(err) != -1 {
		t.Errorf("read after drop: %v, want an abrupt end", err)
	}

	last := connect(t, sim, url)
	readErr := make(chan error, 1)
	go func() {
		_, _, err := last.Read(ctx)
		readErr <- err
	}()
	sim.Close()
	if code := websocket.CloseStatus(<-readErr); code != websocket.StatusGoingAway {
		t.Errorf("close status %v, want StatusGoingAway", code)
	}
	sim.Close()
	if _, err := sim.Start(ctx, "127.0.0.1:0"); !errors.Is(err, proglovesim.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	equal(t, "ServeHTTP after Close", rec.Code, http.StatusServiceUnavailable)
}

func TestServeHTTPMounted(t *testing.T) {
	leaktest.Check(t)
	sim := proglovesim.New(quiet(proglovesim.Config{}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = sim.Close() }) // runs first: frees the hijacked connections
	c := connect(t, sim, "ws"+strings.TrimPrefix(srv.URL, "http")+"/any/path")
	barrier(t, c, ids[0])
}

func TestSameSeedSameFrames(t *testing.T) {
	frames := func() [][]byte {
		clk := &clock{t: time.UnixMilli(1700000000000)}
		sim := proglovesim.New(quiet(proglovesim.Config{Seed: 7, Now: clk.Now}))
		defer sim.Close()
		return [][]byte{sim.Scan(display, ""), sim.Scan(mark2, ""), sim.DisconnectScanner(mark2), sim.EmitGatewayState()}
	}
	equal(t, "frames", frames(), frames())
}

// Several clients, commands, drops and a stall, then Close: every
// goroutine ends (leaktest).
func TestNoLeakedGoroutines(t *testing.T) {
	sim, url := start(t, &proglovesim.Config{ScanEvery: time.Millisecond})
	var conns []*websocket.Conn
	for range 3 {
		conns = append(conns, connect(t, sim, url))
	}
	for _, c := range conns {
		read(t, c)
	}
	send(t, conns[0], `{"event_type":"feedback!"}`)
	sim.DropClients()

	// A client still connected when the simulator closes while stalled,
	// reading so that it answers the close handshake.
	last := connect(t, sim, url)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := last.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	sim.Stall(true)
	sim.Close()
	<-done
}
