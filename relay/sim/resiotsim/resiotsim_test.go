package resiotsim_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
)

// patience bounds every wait for a frame or a connection. It is a deadline
// for failure, never a delay: tests proceed as soon as what they wait for
// arrives.
const patience = 10 * time.Second

// The seed's examples, compacted (seed 002).
const (
	seedGatewayAlive = `{"CommType":"comm_gwalive","Connector":"69643d3139","AppEui":"","DevEui":"","Port":"","GatewayEUIs":["218000AC0000a05f"],"Payload":"","Extra":{},"DT":"2017-06-15T09:17:11.2072656+02:00"}`
	seedJoin         = `{"CommType":"comm_join","Connector":"636f6e313332","AppEui":"006c3b194374ac7f","DevEui":"0732227a557d8679","Port":"","GatewayEUIs":[],"Payload":"","Extra":{},"DT":"2017-06-15T09:36:20.6935937+02:00"}`
	seedRx           = `{"CommType":"comm_rx","Connector":"636f6e313332","AppEui":"006c3b194374ac7f","DevEui":"0732227a557d8679","Port":"128","GatewayEUIs":["218000AC0000a05f"],"Payload":"9b690291010f1b2401ce01c0","Extra":{"adr":"true","channel":"4","duplicate":"false","frequency":"867.3","modBW":"125","rssi":"-18","seqno":"1953","sf":"7","snr":"9.5"},"DT":"2017-06-15T09:36:46.5295312+02:00"}`
	seedTxLog        = `{"CommType":"comm_tx","Connector":"636f6e313332","AppEui":"006c3b194374ac7f","DevEui":"0732227a557d8679","Port":"1","Payload":"2525","Command":"","Reference":"","Confirmation":false,"Extra":{"priority":0,"window":"BOTH"},"DT":"2017-06-15T09:41:09.6691796+02:00"}`
)

var (
	seedDevice = resiotsim.Device{AppEUI: resiotsim.DefaultAppEUI, DevEUI: resiotsim.DefaultDevEUI}
	// docDevice is the device of the vendor's TX command example.
	docDevice = resiotsim.Device{AppEUI: "ABCDEF1234567890", DevEUI: "0987654321ABCDEF", Connector: "636f6e32"}
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

// SetDT sets the clock so that DT reads s.
func (c *clock) SetDT(t *testing.T, s string) {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.t = v.UTC() // the simulator must put it back in +02:00 itself
	c.mu.Unlock()
}

// quiet returns cfg with the periodic generators off.
func quiet(cfg resiotsim.Config) *resiotsim.Config {
	cfg.GatewayAliveEvery = -1
	cfg.UplinkEvery = -1
	return &cfg
}

func start(t *testing.T, cfg *resiotsim.Config) (*resiotsim.Simulator, string) {
	t.Helper()
	sim := resiotsim.New(cfg)
	t.Cleanup(func() { _ = sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, url
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

// connect dials and waits until the simulator has registered the client,
// so that nothing broadcast afterwards can be missed.
func connect(t *testing.T, sim *resiotsim.Simulator, url string) *websocket.Conn {
	t.Helper()
	want := sim.Clients() + 1
	c := dial(t, url)
	waitClients(t, sim, want)
	return c
}

func waitClients(t *testing.T, sim *resiotsim.Simulator, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := sim.WaitClients(ctx, n); err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("write: %v", err)
	}
}

func object(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return m
}

// keys lists the top-level keys of a JSON object in wire order.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
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

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

var dtPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+02:00$`)

var uplinkKeys = []string{"CommType", "Connector", "AppEui", "DevEui", "Port", "GatewayEUIs", "Payload", "Extra", "DT"}

// checkUplink asserts the seed's key order and JSON types of a comm_gwalive,
// comm_join or comm_rx frame and returns it decoded.
func checkUplink(t *testing.T, b []byte, commType string) map[string]any {
	t.Helper()
	equal(t, "keys", keys(t, b), uplinkKeys)
	m := object(t, b)
	equal(t, "CommType", m["CommType"], any(commType))
	for _, k := range []string{"Connector", "AppEui", "DevEui", "Port", "Payload", "DT"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("%s is %T, want string, in %s", k, m[k], b)
		}
	}
	gws, ok := m["GatewayEUIs"].([]any)
	if !ok {
		t.Fatalf("GatewayEUIs is %T, want array, in %s", m["GatewayEUIs"], b)
	}
	for _, gw := range gws {
		if _, ok := gw.(string); !ok {
			t.Errorf("GatewayEUIs item is %T, want string", gw)
		}
	}
	extra, ok := m["Extra"].(map[string]any)
	if !ok {
		t.Fatalf("Extra is %T, want object, in %s", m["Extra"], b)
	}
	for k, v := range extra {
		if _, ok := v.(string); !ok {
			t.Errorf("Extra.%s is %T, want string", k, v)
		}
	}
	dt, _ := m["DT"].(string)
	if !dtPattern.MatchString(dt) {
		t.Errorf("DT %q does not look like 2017-06-15T09:17:11.2072656+02:00", dt)
	}
	if pt, err := time.Parse(time.RFC3339Nano, dt); err != nil {
		t.Errorf("DT: %v", err)
	} else if _, off := pt.Zone(); off != 2*60*60 {
		t.Errorf("DT offset %ds, want +02:00", off)
	}
	return m
}

func TestSeedFramesExactly(t *testing.T) {
	var clk clock
	sim, url := start(t, quiet(resiotsim.Config{Now: clk.Now}))
	c := connect(t, sim, url)

	clk.SetDT(t, "2017-06-15T09:17:11.2072656+02:00")
	sent := sim.EmitGatewayAlive(resiotsim.DefaultGateway)
	equal(t, "EmitGatewayAlive", string(sent), seedGatewayAlive)
	got := read(t, c)
	equal(t, "comm_gwalive", string(got), seedGatewayAlive)
	checkUplink(t, got, resiot.TypeGatewayAlive)

	clk.SetDT(t, "2017-06-15T09:36:20.6935937+02:00")
	sim.EmitJoin(seedDevice)
	got = read(t, c)
	equal(t, "comm_join", string(got), seedJoin)
	checkUplink(t, got, resiot.TypeJoin)

	clk.SetDT(t, "2017-06-15T09:36:46.5295312+02:00")
	payload, _ := hex.DecodeString("9b690291010f1b2401ce01c0")
	sim.EmitRx(seedDevice, 128, payload, &resiot.Radio{
		RSSI: -18, SNR: 9.5, SF: 7, FrequencyMHz: 867.3, BandwidthKHz: 125,
		Channel: 4, FCnt: 1953, ADR: true,
	})
	got = read(t, c)
	equal(t, "comm_rx", string(got), seedRx)
	checkUplink(t, got, resiot.TypeRx)

	clk.SetDT(t, "2017-06-15T09:41:09.6691796+02:00")
	send(t, c, `{"function":"TX","Payload":"2525","AppEui":"006c3b194374ac7f","DevEUI":"0732227a557d8679","Port":1}`)
	equal(t, "reply", string(read(t, c)), `{"Result":"Success","Details":"","Reference":""}`)
	equal(t, "comm_tx", string(read(t, c)), seedTxLog)
}

func TestGeneratedFrames(t *testing.T) {
	devs := []resiotsim.Device{seedDevice, docDevice}
	_, url := start(t, &resiotsim.Config{
		Devices:           devs,
		GatewayAliveEvery: 7 * time.Millisecond,
		UplinkEvery:       3 * time.Millisecond,
		JoinOnStart:       true,
	})
	c := dial(t, url)

	// The joins come first: the generator starts with the first client.
	for i, d := range devs {
		m := checkUplink(t, read(t, c), resiot.TypeJoin)
		equal(t, "join DevEui", m["DevEui"], any(d.DevEUI))
		equal(t, "join Port", m["Port"], any(""))
		equal(t, "join GatewayEUIs", m["GatewayEUIs"], any([]any{}))
		equal(t, "join Extra", m["Extra"], any(map[string]any{}))
		if i == 1 {
			equal(t, "join Connector", m["Connector"], any("636f6e32"))
		}
	}

	var alive, rx int
	next := map[string]uint32{} // expected seqno per DevEui
	for alive < 2 || rx < 6 {
		b := read(t, c)
		switch typ := object(t, b)["CommType"]; typ {
		case resiot.TypeGatewayAlive:
			m := checkUplink(t, b, resiot.TypeGatewayAlive)
			equal(t, "gwalive GatewayEUIs", m["GatewayEUIs"], any([]any{resiotsim.DefaultGateway}))
			equal(t, "gwalive Connector", m["Connector"], any(resiotsim.DefaultGatewayConnector))
			alive++
		case resiot.TypeRx:
			m := checkUplink(t, b, resiot.TypeRx)
			extra := m["Extra"].(map[string]any)
			var probe struct{ Extra json.RawMessage }
			if err := json.Unmarshal(b, &probe); err != nil {
				t.Fatal(err)
			}
			equal(t, "Extra keys", keys(t, probe.Extra), []string{"adr", "channel", "duplicate", "frequency", "modBW", "rssi", "seqno", "sf", "snr"})
			equal(t, "rx Port", m["Port"], any("128"))
			if len(m["GatewayEUIs"].([]any)) == 0 {
				t.Error("rx GatewayEUIs is empty")
			}
			// Round-robin over the devices.
			equal(t, "rx DevEui", m["DevEui"], any(devs[rx%len(devs)].DevEUI))

			// The codec reads it back without complaint.
			f, err := resiot.Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			msg := f.(*resiot.Message)
			payload, err := msg.PayloadBytes()
			if err != nil || len(payload) != 5 {
				t.Fatalf("payload %q: %v", msg.Payload, err)
			}
			radio, err := msg.Radio()
			if err != nil {
				t.Fatalf("Radio: %v", err)
			}
			dev := msg.DevEUI
			equal(t, "seqno of "+dev, radio.FCnt, next[dev])
			equal(t, "payload counter", uint32(payload[0])<<8|uint32(payload[1]), next[dev])
			next[dev]++
			if radio.SF < 7 || radio.SF > 12 || radio.RSSI >= 0 || radio.BandwidthKHz != 125 || !radio.ADR || radio.Duplicate {
				t.Errorf("implausible radio %+v from %v", radio, extra)
			}
			rx++
		default:
			t.Fatalf("unexpected frame %s", b)
		}
	}
}

func TestSameSeedSameFrames(t *testing.T) {
	fixed := func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC) }
	frames := func(seed uint64) string {
		sim := resiotsim.New(&resiotsim.Config{Seed: seed, Now: fixed})
		defer sim.Close()
		var all []string
		for range 5 {
			all = append(all, string(sim.EmitRx(seedDevice, 1, nil, nil)))
		}
		return strings.Join(all, "\n")
	}
	a, b := frames(42), frames(42)
	if a != b {
		t.Errorf("same seed, different frames:\n%s\n%s", a, b)
	}
	if a == frames(43) {
		t.Error("different seeds gave identical frames")
	}
}

func TestTXSuccess(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{Devices: []resiotsim.Device{seedDevice, docDevice}}))
	c := connect(t, sim, url)
	other := connect(t, sim, url)

	// The vendor's example, verbatim but for the "--" annotation: DevEui
	// spelling, Raw text payload, numeric Port.
	send(t, c, `{
    "function": "TX",
    "Payload": "HI!",
    "AppEui": "ABCDEF1234567890",
    "DevEui": "0987654321ABCDEF",
    "Connector": "",
    "Port": 50,
    "Reference": "abcdefgh",
    "Raw": true,
    "Confirm": true
}`)
	equal(t, "reply", string(read(t, c)), `{"Result":"Success","Details":"","Reference":"abcdefgh"}`)
	equal(t, "Received", sim.Received(), []resiot.TX{{
		Function: "TX", Payload: "HI!", AppEUI: "ABCDEF1234567890", DevEUI: "0987654321ABCDEF",
		Port: 50, HasPort: true, Reference: "abcdefgh", Raw: true, Confirm: true,
	}})

	for name, conn := range map[string]*websocket.Conn{"sender": c, "other client": other} {
		b := read(t, conn)
		equal(t, name+" comm_tx keys", keys(t, b), []string{"CommType", "Connector", "AppEui", "DevEui", "Port", "Payload", "Command", "Reference", "Confirmation", "Extra", "DT"})
		m := object(t, b)
		equal(t, "CommType", m["CommType"], any(resiot.TypeTx))
		equal(t, "Connector", m["Connector"], any("636f6e32")) // the device's, as the command left it empty
		equal(t, "AppEui", m["AppEui"], any("ABCDEF1234567890"))
		equal(t, "DevEui", m["DevEui"], any("0987654321ABCDEF"))
		equal(t, "Port", m["Port"], any("50"))
		equal(t, "Payload", m["Payload"], any("484921")) // "HI!" as hex
		equal(t, "Command", m["Command"], any(""))
		equal(t, "Reference", m["Reference"], any("abcdefgh"))
		equal(t, "Confirmation", m["Confirmation"], any(true))
		equal(t, "Extra", m["Extra"], any(map[string]any{"priority": float64(0), "window": "BOTH"}))
		if !dtPattern.MatchString(m["DT"].(string)) {
			t.Errorf("DT = %v", m["DT"])
		}
	}

	// The form quoted in PROTOCOLS.md: Port as a string, uppercase hex,
	// explicit connector; and a WSCommand, which comm_tx calls Command.
	tx, err := resiot.EncodeTX(resiot.TX{
		Payload: "4F4646", AppEUI: "abcdef1234567890", DevEUI: "0987654321abcdef", Connector: "c0ffee",
		Port: 15, WSCommand: "relay-1", Reference: "ref-2",
	})
	if err != nil {
		t.Fatal(err)
	}
	send(t, c, string(tx))
	f, err := resiot.Decode(read(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := f.(*resiot.Reply); !ok || !r.OK() || r.Reference != "ref-2" {
		t.Fatalf("reply = %#v", f)
	}
	f, err = resiot.Decode(read(t, other))
	if err != nil {
		t.Fatal(err)
	}
	m := f.(*resiot.Message)
	equal(t, "Type", m.Type, resiot.TypeTx)
	equal(t, "Payload", m.Payload, "4f4646")
	equal(t, "Port", m.Port, "15")
	equal(t, "Command", m.Command, "relay-1")
	equal(t, "Connector", m.Connector, "c0ffee")
	equal(t, "Reference", m.Reference, "ref-2")
	equal(t, "DevEUI", m.DevEUI, "0987654321ABCDEF") // as configured
	equal(t, "Received", len(sim.Received()), 2)
}

func TestTXWithoutCommTx(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{DisableCommTx: true}))
	c := connect(t, sim, url)
	send(t, c, `{"function":"TX","Payload":"01","AppEui":"006C3B194374AC7F","DevEui":"0732227A557D8679","Port":2,"Reference":"x"}`)
	equal(t, "reply", string(read(t, c)), `{"Result":"Success","Details":"","Reference":"x"}`)
	sim.Emit([]byte("marker"))
	equal(t, "next frame", string(read(t, c)), "marker")
}

func TestTXFail(t *testing.T) {
	const dev = `"AppEui":"006c3b194374ac7f","DevEUI":"0732227a557d8679"`
	tests := []struct {
		name, frame, details, reference string
	}{
		{"bad hex", `{"function":"TX","Payload":"HI!",` + dev + `,"Port":1,"Reference":"r1"}`, resiotsim.DetailBadHex, "r1"},
		{"odd hex", `{"function":"TX","Payload":"abc",` + dev + `,"Port":1,"Reference":"r2"}`, resiotsim.DetailBadHex, "r2"},
		{"unknown device", `{"function":"TX","Payload":"00","AppEui":"006c3b194374ac7f","DevEUI":"ffffffffffffffff","Port":1,"Reference":"r3"}`, resiotsim.DetailDeviceNotFound, "r3"},
		{"unknown application", `{"function":"TX","Payload":"00","AppEui":"0000000000000000","DevEUI":"0732227a557d8679","Port":1,"Reference":"r4"}`, resiotsim.DetailDeviceNotFound, "r4"},
		{"missing AppEui", `{"function":"TX","Payload":"00","DevEUI":"0732227a557d8679","Port":1,"Reference":"r5"}`, resiotsim.DetailMissingAppEUI, "r5"},
		{"missing DevEUI", `{"function":"TX","Payload":"00","AppEui":"006c3b194374ac7f","Port":1,"Reference":"r6"}`, resiotsim.DetailMissingDevEUI, "r6"},
		{"missing port", `{"function":"TX","Payload":"00",` + dev + `,"Reference":"r7"}`, resiotsim.DetailMissingPort, "r7"},
		{"empty port", `{"function":"TX","Payload":"00",` + dev + `,"Port":"","Reference":"r8"}`, resiotsim.DetailMissingPort, "r8"},
		{"port 0", `{"function":"TX","Payload":"00",` + dev + `,"Port":0,"Reference":"r9"}`, resiotsim.DetailInvalidPort, "r9"},
		{"port 224", `{"function":"TX","Payload":"00",` + dev + `,"Port":224,"Reference":"r10"}`, resiotsim.DetailInvalidPort, "r10"},
		{"port 300", `{"function":"TX","Payload":"00",` + dev + `,"Port":300,"Reference":"r11"}`, resiotsim.DetailInvalidPort, "r11"},
		{"port text", `{"function":"TX","Payload":"00",` + dev + `,"Port":"fifty","Reference":"r12"}`, resiotsim.DetailInvalidPort, "r12"},
		{"unknown function", `{"function":"RX","Payload":"00",` + dev + `,"Port":1,"Reference":"r13"}`, resiotsim.DetailUnknownFunction, "r13"},
		{"missing function", `{"Payload":"00",` + dev + `,"Port":1,"Reference":"r14"}`, resiotsim.DetailUnknownFunction, "r14"},
		{"wrong type", `{"function":"TX","Payload":"00",` + dev + `,"Port":1,"Raw":"no","Reference":"r15"}`, resiotsim.DetailInvalidField + "Raw", "r15"},
		{"malformed json", `{"function":"TX","Payload":"00","Reference":"r16",`, resiotsim.DetailMalformedJSON, ""},
		{"not an object", `["TX"]`, resiotsim.DetailMalformedJSON, ""},
		{"empty frame", ``, resiotsim.DetailMalformedJSON, ""},
	}
	sim, url := start(t, quiet(resiotsim.Config{}))
	c := connect(t, sim, url)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, c, tt.frame)
			b := read(t, c)
			equal(t, "keys", keys(t, b), []string{"Result", "Details", "Reference"})
			f, err := resiot.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "reply", f, resiot.Frame(&resiot.Reply{Result: "Fail", Details: tt.details, Reference: tt.reference}))

			// No comm_tx follows a Fail: the next frame is our marker.
			marker := []byte("marker " + tt.name)
			sim.Emit(marker)
			equal(t, "next frame", string(read(t, c)), string(marker))
			if len(sim.Received()) != 0 {
				t.Errorf("Received = %+v, want none", sim.Received())
			}
		})
	}
}

func TestBroadcastVerbatim(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{}))
	a := connect(t, sim, url)
	b := connect(t, sim, url)
	equal(t, "Clients", sim.Clients(), 2)

	frames := [][]byte{
		[]byte(`{"CommType":"comm_rx","Port":`), // malformed on purpose
		[]byte("  {\"CommType\":\"comm_rx\"}\n"),
		{0xff, 0xfe},
	}
	for _, f := range frames {
		sim.Emit(f)
	}
	for _, f := range frames {
		equal(t, "client a", read(t, a), f)
		equal(t, "client b", read(t, b), f)
	}
}

func TestDropClientsAndReconnect(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{}))
	c := connect(t, sim, url)
	connect(t, sim, url)

	equal(t, "DropClients", sim.DropClients(), 2)
	equal(t, "Clients after drop", sim.Clients(), 0)

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, _, err := c.Read(ctx)
	if err == nil {
		t.Fatal("read after drop succeeded")
	}
	if code := websocket.CloseStatus(err); code != -1 {
		t.Errorf("dropped connection closed with status %v, want no close frame", code)
	}

	again := connect(t, sim, url)
	equal(t, "Clients after reconnect", sim.Clients(), 1)
	sim.Emit([]byte("hello again"))
	equal(t, "after reconnect", string(read(t, again)), "hello again")
}

func TestCloseGoingAwayAndIdempotent(t *testing.T) {
	sim := resiotsim.New(quiet(resiotsim.Config{}))
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Errorf("url = %q", url)
	}
	if _, err := sim.Start(ctx, "127.0.0.1:0"); !errors.Is(err, resiotsim.ErrStarted) {
		t.Errorf("second Start: %v, want ErrStarted", err)
	}
	c := connect(t, sim, url)

	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		readErr <- err
	}()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if code := websocket.CloseStatus(<-readErr); code != websocket.StatusGoingAway {
		t.Errorf("close status %v, want StatusGoingAway", code)
	}
	if err := sim.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	equal(t, "Clients", sim.Clients(), 0)
	if _, err := sim.Start(ctx, "127.0.0.1:0"); !errors.Is(err, resiotsim.ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
	if conn, _, err := websocket.Dial(ctx, url, nil); err == nil {
		_ = conn.CloseNow()
		t.Error("dial after Close succeeded")
	}
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	equal(t, "ServeHTTP after Close", rec.Code, http.StatusServiceUnavailable)
}

func TestServeHTTPMounted(t *testing.T) {
	sim := resiotsim.New(quiet(resiotsim.Config{}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = sim.Close() }) // runs first: frees the hijacked connections
	c := connect(t, sim, "ws"+strings.TrimPrefix(srv.URL, "http")+"/any/path")
	sim.EmitRx(seedDevice, 10, []byte{1, 2, 3}, nil)
	m := checkUplink(t, read(t, c), resiot.TypeRx)
	equal(t, "Payload", m["Payload"], any("010203"))
	equal(t, "Port", m["Port"], any("10"))
}

func TestPath(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{Path: "/ws"}))
	if !strings.HasSuffix(url, "/ws") {
		t.Fatalf("url = %q, want path /ws", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, strings.TrimSuffix(url, "/ws")+"/", nil)
	if err == nil {
		_ = conn.CloseNow()
		t.Fatal("dial on / succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("response %v, want 404", resp)
	}
	connect(t, sim, url)
}

func TestPingAnswered(t *testing.T) {
	sim, url := start(t, quiet(resiotsim.Config{}))
	c := connect(t, sim, url)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ctx = c.CloseRead(ctx) // reads (and so receives the pong) in the background
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestNoLeakedGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		sim, url := start(t, &resiotsim.Config{GatewayAliveEvery: time.Millisecond, UplinkEvery: time.Millisecond, JoinOnStart: true})
		var conns []*websocket.Conn
		for range 3 {
			conns = append(conns, connect(t, sim, url))
		}
		for _, c := range conns {
			read(t, c)
		}
		send(t, conns[0], `{"function":"TX"}`)
		sim.DropClients()
		for _, c := range conns {
			_ = c.CloseNow()
		}

		// A client still connected when the simulator closes, reading so
		// that it answers the close handshake.
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
		if err := sim.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
	}()
	// Client-side and net/http goroutines wind down asynchronously; poll
	// until they have, failing only if they never do.
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
