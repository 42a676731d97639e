package proglove_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n\t%#v\nwant\n\t%#v", what, got, want)
	}
}

func compact(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, bytes.TrimSpace(b)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func ptr[T any](v T) *T { return &v }

const t0 = 1546300800000 // time_created of every documented example

// Every documented event example (and the derived ones) decodes to exactly
// the expected message, keeping the frame verbatim.
func TestDecodeGoldenEvents(t *testing.T) {
	tests := []struct {
		file string
		want proglove.Message
	}{
		{"scan.json", &proglove.Scan{
			Envelope: proglove.Envelope{APIVersion: "1.0", Type: "scan", ID: "02114da8-feae-46e3-8b00-a3f7ea8672df", Created: t0},
			ScanCode: "Hello, World!", ScanBytes: "SGVsbG8sIFdvcmxkIQ==", DeviceSerial: "MDMR000000064", DeviceModel: "Mark Display",
			GatewaySerial: "PGGW000000058", ScanMode: "SCAN_MODE_SINGLE", ScanDuration: "1.23", DeviceTemperature: "22.30",
			ScanSessionID: ptr(int64(1)),
		}},
		{"scan_minimal.json", &proglove.Scan{
			Envelope: proglove.Envelope{APIVersion: "1.0", Type: "scan", ID: "02114da8-feae-46e3-8b00-a3f7ea8672df", Created: t0},
			ScanCode: "Hello, World!", DeviceSerial: "MDMR000000064", GatewaySerial: "PGGW000000058",
		}},
		{"scan_cr.json", &proglove.Scan{
			Envelope: proglove.Envelope{APIVersion: "1.0", Type: "scan", ID: "6a8c0e2f-4b6d-4f8a-9c1e-3a5c7e9b1d3f", Created: t0 + 123},
			ScanCode: "4006381333931\r", DeviceSerial: "M2MR111100928", GatewaySerial: "PGGW000000058", ScanSessionID: ptr(int64(7)),
		}},
		{"scanner_state.json", &proglove.ScannerState{
			Envelope:      proglove.Envelope{APIVersion: "1.0", Type: "scanner_state", ID: "73f9f3be-01c0-4c2a-9f13-364c96a7ce37", Created: t0},
			GatewaySerial: "PGGW000000058", ConnectedState: proglove.StateConnected, DisconnectReason: "UNKNOWN", DeviceSerial: "MDMR000000064",
		}},
		{"button_pressed.json", &proglove.ButtonPressed{
			Envelope:     proglove.Envelope{APIVersion: "1.0", Type: "button_pressed", ID: "8e2a4c6b-0d1f-4a3e-b5c7-9f1e3d5b7a90", Created: t0},
			DeviceSerial: "MDMR000000064", GatewaySerial: "PGGW000000058", TriggerGesture: proglove.GestureDoubleClick,
		}},
		{"errors.json", &proglove.ErrorEvent{
			Envelope:    proglove.Envelope{APIVersion: "1.0", Type: "errors", ID: "b08f316c-c7a6-48a6-8a5b-5de0b6d2eea3", Created: t0},
			ReferenceID: "e4f0da9f-056b-49c8-80fa-af42614e150c", Severity: proglove.SeverityError, Message: "No suitable font for input string",
			Code: proglove.ErrorUnknown, DeviceSerial: "MDMR000000064", GatewaySerial: "PGGW000000058",
		}},
		{"gateway_state.json", &proglove.GatewayState{
			Envelope:    proglove.Envelope{APIVersion: "1.0", Type: "gateway_state", ID: "c7b9d1e3-5f7a-4b9c-8d1e-3f5a7b9c1d2e", Created: t0},
			ReferenceID: "3c6e0b8a-1f2d-4e5a-9b7c-0d8e6f4a2c1b", GatewaySerial: "PGGW000000058", AppVersion: "v1.5.0",
			Devices: []proglove.Device{
				{Serial: "MDMR000000064", FirmwareVersion: "v1.2.0", Model: "MARK Display", Manufacturer: "Workaround GmbH"},
				{Serial: "M2MR111100928", FirmwareVersion: "v1.2.0", Model: "MARK 2", Manufacturer: "Workaround GmbH"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := load(t, tt.file)
			setRaw(tt.want, raw)
			m, err := proglove.Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			equal(t, "Decode", m, tt.want)
			if !bytes.Equal(m.Bytes(), raw) {
				t.Errorf("Bytes() is not the frame verbatim")
			}
		})
	}
}

func setRaw(m proglove.Message, raw []byte) {
	reflect.ValueOf(m).Elem().FieldByName("Raw").SetBytes(raw)
}

// Every documented example normalises to the expected typed event on the
// expected channel: this is what browsers receive, through the relay or in
// direct mode.
func TestNormalizeGolden(t *testing.T) {
	received := time.Unix(1800000000, 0)
	meta := func(id string, ms int64, file string) event.Meta {
		return event.Meta{Link: "mobile", Protocol: "proglove", ID: id, Time: ms * 1000, Received: received.UnixMicro(), Raw: load(t, file)}
	}
	tests := []struct {
		file    string
		channel string
		want    event.Event
	}{
		{"scan.json", "scanner/mdmr000000064/scan", &event.Scan{
			Meta: meta("02114da8-feae-46e3-8b00-a3f7ea8672df", t0, "scan.json"), Serial: "MDMR000000064", Code: "Hello, World!",
			Bytes: []byte("Hello, World!"), Gateway: "PGGW000000058", Model: "Mark Display", Mode: "SCAN_MODE_SINGLE",
			Duration: 1.23, Temperature: ptr(22.3), Session: 1,
		}},
		{"scan_minimal.json", "scanner/mdmr000000064/scan", &event.Scan{
			Meta: meta("02114da8-feae-46e3-8b00-a3f7ea8672df", t0, "scan_minimal.json"), Serial: "MDMR000000064", Code: "Hello, World!",
			Gateway: "PGGW000000058",
		}},
		{"scan_cr.json", "scanner/m2mr111100928/scan", &event.Scan{
			Meta: meta("6a8c0e2f-4b6d-4f8a-9c1e-3a5c7e9b1d3f", t0+123, "scan_cr.json"), Serial: "M2MR111100928", Code: "4006381333931",
			Gateway: "PGGW000000058", Session: 7,
		}},
		{"scanner_state.json", "scanner/mdmr000000064/state", &event.ScannerState{
			Meta: meta("73f9f3be-01c0-4c2a-9f13-364c96a7ce37", t0, "scanner_state.json"), Serial: "MDMR000000064", Gateway: "PGGW000000058",
			State: "STATE_CONNECTED", Connected: true, Reason: "UNKNOWN",
		}},
		{"button_pressed.json", "scanner/mdmr000000064/button", &event.ScannerButton{
			Meta: meta("8e2a4c6b-0d1f-4a3e-b5c7-9f1e3d5b7a90", t0, "button_pressed.json"), Serial: "MDMR000000064", Gateway: "PGGW000000058",
			Gesture: "TRIGGER_DOUBLE_CLICK",
		}},
		{"errors.json", "scanner/mdmr000000064/error", &event.ScannerError{
			Meta: meta("b08f316c-c7a6-48a6-8a5b-5de0b6d2eea3", t0, "errors.json"), Serial: "MDMR000000064", Gateway: "PGGW000000058",
			Code: "ERROR_UNKNOWN", Severity: "ERROR", Message: "No suitable font for input string", Reference: "e4f0da9f-056b-49c8-80fa-af42614e150c",
		}},
		{"gateway_state.json", "scanner/gateway/pggw000000058/state", &event.ScannerGateway{
			Meta: meta("c7b9d1e3-5f7a-4b9c-8d1e-3f5a7b9c1d2e", t0, "gateway_state.json"), Gateway: "PGGW000000058", AppVersion: "v1.5.0",
			Reference: "3c6e0b8a-1f2d-4e5a-9b7c-0d8e6f4a2c1b",
			Devices: []event.ScannerDevice{
				{Serial: "MDMR000000064", Firmware: "v1.2.0", Model: "MARK Display", Manufacturer: "Workaround GmbH"},
				{Serial: "M2MR111100928", Firmware: "v1.2.0", Model: "MARK 2", Manufacturer: "Workaround GmbH"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			outs, err := proglove.NormalizeFrame(load(t, tt.file), "mobile", received)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != 1 {
				t.Fatalf("got %d events, want 1", len(outs))
			}
			equal(t, "channel", outs[0].Channel, tt.channel)
			equal(t, "event", outs[0].Event, tt.want)
			if event.Retained(outs[0].Event.Kind()) != (tt.file == "scanner_state.json" || tt.file == "gateway_state.json") {
				t.Errorf("kind %s retained = %v", outs[0].Event.Kind(), event.Retained(outs[0].Event.Kind()))
			}
			// The event survives the msgp round trip browsers see.
			data, err := outs[0].Event.MarshalMsg(nil)
			if err != nil {
				t.Fatal(err)
			}
			back, err := event.Decode(outs[0].Event.Kind(), data)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "msgp round trip", back, tt.want)
		})
	}
}

// Decimals written as strings or numbers, integers as strings, and a code
// ending in "\r" are all read the same way.
func TestNumbersAsStringsOrNumbers(t *testing.T) {
	base := `"api_version":"1.0","event_type":"scan","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","scan_code":"X\r","device_serial":"S1"`
	for _, tail := range []string{
		`"time_created":1546300800000,"scan_duration":"1.23","device_temperature":"22.30","scan_session_id":1`,
		`"time_created":"1546300800000","scan_duration":1.23,"device_temperature":22.3,"scan_session_id":"1"`,
		`"time_created":1546300800000.0,"scan_duration":"1.230","device_temperature":"2.23e1","scan_session_id":1.0`,
	} {
		outs, err := proglove.NormalizeFrame([]byte("{"+base+","+tail+"}"), "l", time.Unix(0, 0))
		if err != nil {
			t.Fatalf("%s: %v", tail, err)
		}
		s := outs[0].Event.(*event.Scan)
		if s.Code != "X" || s.Duration != 1.23 || s.Temperature == nil || *s.Temperature != 22.3 || s.Session != 1 || s.Meta.Time != t0*1000 {
			t.Errorf("%s: %+v", tail, s)
		}
	}
	for _, bad := range []struct{ tail, field string }{
		{`"scan_duration":"fast"`, "scan_duration"},
		{`"scan_duration":"NaN"`, "scan_duration"},
		{`"device_temperature":"Inf"`, "device_temperature"},
		{`"scan_session_id":1.5`, "scan_session_id"},
		{`"time_created":"yesterday"`, "time_created"},
		{`"scan_bytes":"not base64!"`, "scan_bytes"},
	} {
		_, err := proglove.Decode([]byte("{" + base + "," + bad.tail + "}"))
		var fe *proglove.FieldError
		if !errors.Is(err, proglove.ErrBadValue) || !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("%s: err = %v, want a bad value of %s", bad.tail, err, bad.field)
		}
	}
}

func TestScanBytesAlphabets(t *testing.T) {
	want := []byte{0xfb, 0xff, 0xfe}
	for _, enc := range []string{"-__-", "+//+", "-__-", "+//+"} {
		m := &proglove.Scan{ScanBytes: enc}
		got, err := m.Decoded()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: %x, %v", enc, got, err)
		}
	}
	m := &proglove.Scan{ScanBytes: "SGVsbG8"}
	if got, err := m.Decoded(); err != nil || string(got) != "Hello" {
		t.Errorf("unpadded: %q %v", got, err)
	}
}

// EncodeMessage writes the documented examples back exactly (key order,
// decimals as strings), so the simulator emits what the vendor documents.
func TestEncodeMessageReproducesExamples(t *testing.T) {
	for _, file := range []string{"scan.json", "scan_minimal.json", "scanner_state.json", "errors.json", "button_pressed.json", "gateway_state.json"} {
		raw := load(t, file)
		m, err := proglove.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proglove.EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, file, string(b), compact(t, raw))
	}
}

func TestDecodeRequiredAndTypes(t *testing.T) {
	tests := []struct {
		msg   string
		err   error
		field string
	}{
		{`{"event_type":"scan","device_serial":"S"}`, proglove.ErrMissing, "scan_code"},
		{`{"event_type":"scan","scan_code":"x"}`, proglove.ErrMissing, "device_serial"},
		{`{"event_type":"scan","scan_code":"","device_serial":"S"}`, proglove.ErrMissing, "scan_code"},
		{`{"event_type":"scan","scan_code":7,"device_serial":"S"}`, proglove.ErrWrongType, "scan_code"},
		{`{"event_type":"scanner_state","device_serial":"S"}`, proglove.ErrMissing, "device_connected_state"},
		{`{"event_type":"button_pressed"}`, proglove.ErrMissing, "device_serial"},
		{`{"event_type":"gateway_state","device_connected_list":{}}`, proglove.ErrWrongType, "device_connected_list"},
		{`{"event_type":"gateway_state","device_connected_list":[{"device_model":"LEO"}]}`, proglove.ErrMissing, "device_connected_list[0].device_serial"},
		{`{"event_type":"errors","error_code":["x"]}`, proglove.ErrWrongType, "error_code"},
		{`{"event_type":7}`, proglove.ErrWrongType, "event_type"},
	}
	for _, tt := range tests {
		_, err := proglove.Decode([]byte(tt.msg))
		var fe *proglove.FieldError
		if !errors.Is(err, tt.err) || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want %v on %s", tt.msg, err, tt.err, tt.field)
		}
	}
	for _, msg := range []string{``, ` `, `[]`, `null`, `"scan"`, `{"event_type":"scan"`, `{"a":1}{`} {
		if _, err := proglove.Decode([]byte(msg)); !errors.Is(err, proglove.ErrMalformedJSON) {
			t.Errorf("%q: err = %v, want ErrMalformedJSON", msg, err)
		}
	}
	if _, err := proglove.Decode([]byte(`{"api_version":"1.0"}`)); !errors.Is(err, proglove.ErrNoType) {
		t.Errorf("no event_type: %v", err)
	}
	// Unknown types and keys pass through.
	m, err := proglove.Decode([]byte(`{"event_type":"photo_report","device_serial":"S","new_key":{"a":[1]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := m.(*proglove.Other); !ok || o.Type != "photo_report" || o.DeviceSerial != "S" {
		t.Errorf("got %#v", m)
	}
	outs, err := proglove.Normalize(m, "l", time.Now())
	if err != nil || outs[0].Channel != "scanner/s/other" || outs[0].Event.(*event.ScannerOther).Type != "photo_report" {
		t.Errorf("%+v %v", outs, err)
	}
}

func TestDecodeCopiesRaw(t *testing.T) {
	raw := load(t, "scan.json")
	m, err := proglove.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = 'X'
	if m.Bytes()[0] != '{' {
		t.Fatal("Raw aliases the input")
	}
}

func TestSplit(t *testing.T) {
	a := `{"event_type":"a"}`
	b := `{"event_type":"b"}`
	tests := []struct {
		name, frame string
		want        []string
	}{
		{"one", a, []string{a}},
		{"one with LF kept verbatim", a + "\n", []string{a + "\n"}},
		{"pretty printed", "{\n  \"event_type\": \"a\"\n}\n", []string{"{\n  \"event_type\": \"a\"\n}\n"}},
		{"LF separated", a + "\n" + b + "\n", []string{a, b}},
		{"CRLF separated", a + "\r\n" + b + "\r\n", []string{a, b}},
		{"concatenated", a + b, []string{a, b}},
		{"pretty concatenated", "{\n\"event_type\":\"a\"\n}\n{\n\"event_type\":\"b\"\n}", []string{"{\n\"event_type\":\"a\"\n}", "{\n\"event_type\":\"b\"\n}"}},
		{"bad line among good", a + "\n{broken\n\n" + b, []string{a, "{broken", b}},
		{"blank", " \r\n\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range proglove.Split([]byte(tt.frame)) {
			got = append(got, string(m))
		}
		equal(t, tt.name, got, tt.want)
	}
}

// Several LF-separated messages in one frame become several events, each
// keeping its own message as Raw; a bad one does not hide the others.
func TestNormalizeFrameSplitsLines(t *testing.T) {
	frame := load(t, "lf_frames.txt")
	outs, err := proglove.NormalizeFrame(frame, "l", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Channel != "scanner/m2mr111100928/state" || outs[1].Channel != "scanner/mdmr000000064/button" {
		t.Fatalf("%+v", outs)
	}
	st := outs[0].Event.(*event.ScannerState)
	if st.Connected || st.State != "STATE_DISCONNECTED" || st.Reason != "UNKNOWN" {
		t.Errorf("state %+v", st)
	}
	lines := strings.Split(strings.TrimSpace(string(frame)), "\n")
	if string(st.Meta.Raw) != strings.TrimSpace(lines[0]) || string(outs[1].Event.Header().Raw) != lines[1] {
		t.Errorf("raw %q / %q", st.Meta.Raw, outs[1].Event.Header().Raw)
	}

	bad := append([]byte("{broken\n"), frame...)
	outs, err = proglove.NormalizeFrame(bad, "l", time.Now())
	if len(outs) != 2 || !errors.Is(err, proglove.ErrMalformedJSON) || proglove.ErrorKind(err) != "json" {
		t.Errorf("with a bad line: %d events, err %v", len(outs), err)
	}
}

func TestDecodeCommandGolden(t *testing.T) {
	tests := []struct {
		file string
		want proglove.Command
	}{
		{"feedback.json", &proglove.Feedback{
			Envelope:     proglove.Envelope{APIVersion: "1.0", Type: "feedback!", ID: "02114da8-feae-46e3-8b00-a3f7ea8672df", Created: t0},
			DeviceSerial: "M2MR111100928", Action: proglove.FeedbackPositive,
		}},
		{"display.json", &proglove.Display{
			Envelope:     proglove.Envelope{APIVersion: "1.0", Type: "display!", ID: "e4f0da9f-056b-49c8-80fa-af42614e150c", Created: t0},
			DeviceSerial: "MDMR000000064", TemplateID: "PG3", RefreshType: proglove.RefreshDefault,
			Fields: []proglove.DisplayField{{1, "Storage Unit", "R15"}, {2, "Item", "Engine 12"}},
		}},
		{"trigger_block.json", &proglove.TriggerBlock{
			Envelope:     proglove.Envelope{APIVersion: "1.0", Type: "trigger_block!", ID: "5d1f0c2a-8b7e-4c3d-9a6f-2e4b8c0d1f3a", Created: t0},
			DeviceSerial: "M2MR111100928", BlockState: true, BlockGestures: []string{proglove.GestureSingleClick},
			UnblockGestures: []string{}, ValidityDuration: 3000,
		}},
		{"gateway_state_request.json", &proglove.GatewayStateRequest{
			Envelope: proglove.Envelope{APIVersion: "1.0", Type: "gateway_state!", ID: "3c6e0b8a-1f2d-4e5a-9b7c-0d8e6f4a2c1b", Created: t0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := load(t, tt.file)
			c, err := proglove.DecodeCommand(raw)
			if err != nil {
				t.Fatalf("DecodeCommand: %v", err)
			}
			equal(t, "DecodeCommand", c, tt.want)
			b, err := proglove.EncodeCommand(c)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "EncodeCommand", string(b), compact(t, raw))
		})
	}
}

// The display and trigger_block examples print their event_id as "…":
// valid JSON, invalid command. The gateway_state! form is not JSON at all.
func TestDocCommandPlaceholders(t *testing.T) {
	for _, file := range []string{"display_doc.json", "trigger_block_doc.json"} {
		c, err := proglove.DecodeCommand(load(t, file))
		var fe *proglove.FieldError
		if !errors.Is(err, proglove.ErrBadValue) || !errors.As(err, &fe) || fe.Field != "event_id" {
			t.Errorf("%s: %v", file, err)
		}
		if c == nil || c.Header().ID != "…" || c.Serial() == "" {
			t.Errorf("%s: the command is not returned with the error: %#v", file, c)
		}
	}
	if _, err := proglove.DecodeCommand(load(t, "gateway_state_request_doc.txt")); !errors.Is(err, proglove.ErrMalformedJSON) {
		t.Errorf("gateway_state! placeholder form: %v", err)
	}
}

func validEnv(typ string) proglove.Envelope {
	return proglove.Envelope{APIVersion: "1.0", Type: typ, ID: "02114da8-feae-46e3-8b00-a3f7ea8672df", Created: t0}
}

// Every rule of the notes is enforced, with an error naming the field and
// the rule; the limits themselves are accepted.
func TestCommandValidation(t *testing.T) {
	long := func(n int, r rune) string { return strings.Repeat(string(r), n) }
	fields := func(n int) []proglove.DisplayField {
		out := make([]proglove.DisplayField, n)
		for i := range out {
			out[i] = proglove.DisplayField{ID: int64(i + 1), Header: "h", Text: "t"}
		}
		return out
	}
	fb := func(mod func(*proglove.Feedback)) proglove.Command {
		c := &proglove.Feedback{Envelope: validEnv("feedback!"), DeviceSerial: "M2MR111100928", Action: proglove.FeedbackNegative}
		mod(c)
		return c
	}
	dp := func(mod func(*proglove.Display)) proglove.Command {
		c := &proglove.Display{Envelope: validEnv("display!"), DeviceSerial: "MDMR000000064", TemplateID: "PG1"}
		mod(c)
		return c
	}
	tb := func(mod func(*proglove.TriggerBlock)) proglove.Command {
		c := &proglove.TriggerBlock{Envelope: validEnv("trigger_block!"), DeviceSerial: "M2MR111100928", BlockState: true}
		mod(c)
		return c
	}
	ok := []proglove.Command{
		fb(func(c *proglove.Feedback) {}),
		fb(func(c *proglove.Feedback) { c.APIVersion = "1.1"; c.TimeToLive = 5000 }),
		fb(func(c *proglove.Feedback) { c.DeviceSerial = long(128, 'S'); c.GatewaySerial = long(128, 'G') }),
		fb(func(c *proglove.Feedback) { c.Created = proglove.MaxTimeCreated }),
		dp(func(c *proglove.Display) {
			c.TemplateID = long(15, 'P')
			c.Fields = fields(12)
			c.Fields[0].Header, c.Fields[0].Text = long(40, 'ä'), long(80, '€')
			c.RefreshType = proglove.RefreshPartial
			c.ValidityDuration = 2000
		}),
		dp(func(c *proglove.Display) { c.Fields = nil }),
		tb(func(c *proglove.TriggerBlock) {
			c.BlockGestures = []string{"TRIGGER_SINGLE_CLICK", "TRIGGER_TRIPLE_CLICK"}
		}),
		tb(func(c *proglove.TriggerBlock) {
			c.BlockState = false
			c.UnblockGestures = make([]string, 15)
			for i := range c.UnblockGestures {
				c.UnblockGestures[i] = proglove.GestureDoubleClick
			}
		}),
		&proglove.GatewayStateRequest{Envelope: validEnv("gateway_state!")},
	}
	for i, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("valid command %d (%T): %v", i, c, err)
		}
	}
	bad := []struct {
		c     proglove.Command
		err   error
		field string
		rule  string
	}{
		{fb(func(c *proglove.Feedback) { c.APIVersion = "" }), proglove.ErrMissing, "api_version", ""},
		{fb(func(c *proglove.Feedback) { c.APIVersion = "2.0" }), proglove.ErrBadValue, "api_version", `"1.0" or "1.1"`},
		{fb(func(c *proglove.Feedback) { c.Type = "display!" }), proglove.ErrBadValue, "event_type", "feedback!"},
		{fb(func(c *proglove.Feedback) { c.ID = "" }), proglove.ErrMissing, "event_id", ""},
		{fb(func(c *proglove.Feedback) { c.ID = "02114DA8-FEAE-46E3-8B00-A3F7EA8672DF" }), proglove.ErrBadValue, "event_id", "lowercase UUID"},
		{fb(func(c *proglove.Feedback) { c.ID = "02114da8feae46e38b00a3f7ea8672df" }), proglove.ErrBadValue, "event_id", "lowercase UUID"},
		{fb(func(c *proglove.Feedback) { c.Created = 0 }), proglove.ErrMissing, "time_created", ""},
		{fb(func(c *proglove.Feedback) { c.Created = proglove.MinTimeCreated - 1 }), proglove.ErrBadValue, "time_created", "1546300800000..99999999999999"},
		{fb(func(c *proglove.Feedback) { c.Created = proglove.MaxTimeCreated + 1 }), proglove.ErrBadValue, "time_created", "Unix ms"},
		{fb(func(c *proglove.Feedback) { c.DeviceSerial = "" }), proglove.ErrMissing, "device_serial", ""},
		{fb(func(c *proglove.Feedback) { c.DeviceSerial = long(129, 'S') }), proglove.ErrBadValue, "device_serial", "1..128 characters, got 129"},
		{fb(func(c *proglove.Feedback) { c.GatewaySerial = long(129, 'G') }), proglove.ErrBadValue, "gateway_serial", "1..128"},
		{fb(func(c *proglove.Feedback) { c.Action = "" }), proglove.ErrMissing, "feedback_action_id", ""},
		{fb(func(c *proglove.Feedback) { c.Action = "FEEDBACK_GREEN" }), proglove.ErrBadValue, "feedback_action_id", "FEEDBACK_POSITIVE"},
		{fb(func(c *proglove.Feedback) { c.TimeToLive = 100 }), proglove.ErrBadValue, "event_time_to_live_duration", `"1.1"`},
		{fb(func(c *proglove.Feedback) { c.TimeToLive = -1 }), proglove.ErrBadValue, "event_time_to_live_duration", "≥ 0"},
		{dp(func(c *proglove.Display) { c.TemplateID = "" }), proglove.ErrMissing, "display_template_id", ""},
		{dp(func(c *proglove.Display) { c.TemplateID = long(16, 'P') }), proglove.ErrBadValue, "display_template_id", "1..15 characters, got 16"},
		{dp(func(c *proglove.Display) { c.RefreshType = "SLOW" }), proglove.ErrBadValue, "display_refresh_type", "PARTIAL_REFRESH"},
		{dp(func(c *proglove.Display) { c.ValidityDuration = -5 }), proglove.ErrBadValue, "time_validity_duration", "≥ 0"},
		{dp(func(c *proglove.Display) { c.Fields = fields(13) }), proglove.ErrBadValue, "display_fields", "at most 12 fields, got 13"},
		{dp(func(c *proglove.Display) { c.Fields = fields(2); c.Fields[1].ID = 0 }), proglove.ErrBadValue, "display_fields[1].display_field_id", "≥ 1"},
		{dp(func(c *proglove.Display) { c.Fields = fields(1); c.Fields[0].Header = long(41, 'ä') }), proglove.ErrBadValue, "display_fields[0].display_field_header", "at most 40 characters, got 41"},
		{dp(func(c *proglove.Display) { c.Fields = fields(3); c.Fields[2].Text = long(81, 'x') }), proglove.ErrBadValue, "display_fields[2].display_field_text", "at most 80 characters, got 81"},
		{tb(func(c *proglove.TriggerBlock) { c.BlockGestures = make([]string, 16) }), proglove.ErrBadValue, "trigger_block_gesture_list", "at most 15 gestures, got 16"},
		{tb(func(c *proglove.TriggerBlock) { c.UnblockGestures = []string{"TRIGGER_LONG_PRESS"} }), proglove.ErrBadValue, "trigger_unblock_gesture_list[0]", "TRIGGER_SINGLE_CLICK"},
		{tb(func(c *proglove.TriggerBlock) { c.ValidityDuration = -1 }), proglove.ErrBadValue, "time_validity_duration", "≥ 0"},
		{&proglove.GatewayStateRequest{Envelope: proglove.Envelope{APIVersion: "1.0", Type: "gateway_state!"}}, proglove.ErrMissing, "event_id", ""},
	}
	for i, tt := range bad {
		err := tt.c.Validate()
		var fe *proglove.FieldError
		if !errors.Is(err, tt.err) || !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("case %d (%T): err = %v, want %v on %s stating %q", i, tt.c, err, tt.err, tt.field, tt.rule)
		}
		if _, eerr := proglove.EncodeCommand(tt.c); eerr == nil && tt.field != "api_version" && tt.field != "event_type" {
			t.Errorf("case %d: EncodeCommand accepted an invalid command", i)
		}
	}
}

// Non-ASCII text goes out as \uXXXX escapes (surrogate pairs beyond the
// BMP) and reads back unchanged.
func TestEncodeCommandEscapesNonASCII(t *testing.T) {
	c := &proglove.Display{Envelope: validEnv(""), DeviceSerial: "MDMR000000064", TemplateID: "PG1",
		Fields: []proglove.DisplayField{{ID: 1, Header: "Größe", Text: "€ 5 📦 <&>"}}}
	b, err := proglove.EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	for i, ch := range b {
		if ch >= 0x80 {
			t.Fatalf("non-ASCII byte at %d in %s", i, b)
		}
	}
	if !strings.Contains(string(b), `Gr\u00f6\u00dfe`) || !strings.Contains(string(b), `\u20ac 5 \ud83d\udce6 <&>`) {
		t.Errorf("escapes: %s", b)
	}
	back, err := proglove.DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "fields", back.(*proglove.Display).Fields, c.Fields)
}

func TestEncodeCommandDefaults(t *testing.T) {
	env := validEnv("")
	env.APIVersion = ""
	b, err := proglove.EncodeCommand(&proglove.Feedback{Envelope: env, DeviceSerial: "S", Action: proglove.FeedbackPositive, TimeToLive: 500})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "feedback with ttl", string(b), `{"api_version":"1.1","event_type":"feedback!","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,"device_serial":"S","feedback_action_id":"FEEDBACK_POSITIVE","event_time_to_live_duration":500}`)
	b, err = proglove.EncodeCommand(&proglove.TriggerBlock{Envelope: env, DeviceSerial: "S"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "unblock", string(b), `{"api_version":"1.0","event_type":"trigger_block!","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,"device_serial":"S","trigger_block_state":false,"trigger_block_gesture_list":[],"trigger_unblock_gesture_list":[],"time_validity_duration":0}`)
	if _, err := proglove.EncodeCommand(&proglove.UnknownCommand{Envelope: proglove.Envelope{Type: "reboot!"}}); !errors.Is(err, proglove.ErrUnknownCommand) {
		t.Errorf("unknown command: %v", err)
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	tests := []struct {
		msg    string
		err    error
		field  string
		wantID string
	}{
		{`{"event_type":"reboot!","event_id":"id-1"}`, proglove.ErrUnknownCommand, "event_type", "id-1"},
		{`{"event_type":"scan","event_id":"id-2"}`, proglove.ErrUnknownCommand, "event_type", "id-2"},
		{`{"event_id":"id-3"}`, proglove.ErrNoType, "", "id-3"},
		{`{"api_version":"1.0","event_type":"trigger_block!","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,"device_serial":"S"}`,
			proglove.ErrMissing, "trigger_block_state", "02114da8-feae-46e3-8b00-a3f7ea8672df"},
		{`{"api_version":"1.0","event_type":"trigger_block!","event_id":"x","time_created":1546300800000,"device_serial":"S","trigger_block_state":"yes"}`,
			proglove.ErrWrongType, "trigger_block_state", "x"},
		{`{"api_version":"1.0","event_type":"display!","event_id":"x","device_serial":"S","display_template_id":"PG1","display_fields":[{"display_field_header":"h"}]}`,
			proglove.ErrMissing, "display_fields[0].display_field_id", "x"},
		{`{"api_version":"1.0","event_type":"display!","event_id":"x","device_serial":"S","display_template_id":"PG1","display_fields":[{"display_field_id":"one"}]}`,
			proglove.ErrBadValue, "display_fields[0].display_field_id", "x"},
		{`{"api_version":"1.0","event_type":"feedback!","event_id":"x","time_created":1546300800000,"device_serial":"S"}`,
			proglove.ErrMissing, "feedback_action_id", "x"},
	}
	for _, tt := range tests {
		c, err := proglove.DecodeCommand([]byte(tt.msg))
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.msg, err, tt.err)
			continue
		}
		var fe *proglove.FieldError
		if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
			t.Errorf("%s: err = %v, want field %s", tt.msg, err, tt.field)
		}
		if c == nil || c.Header().ID != tt.wantID {
			t.Errorf("%s: command %#v, want one with event_id %q", tt.msg, c, tt.wantID)
		}
	}
	if c, err := proglove.DecodeCommand([]byte(`{"event_type":`)); c != nil || !errors.Is(err, proglove.ErrMalformedJSON) {
		t.Errorf("bad JSON: %v %v", c, err)
	}
}

// CommandFrame turns fieldrelay command bodies into Streams API commands
// with a fresh lowercase UUID and the time in ms.
func TestCommandFrame(t *testing.T) {
	created := time.UnixMilli(1700000000123)
	frame, id, err := proglove.CommandFrame("M2MR111100928", &event.ScannerFeedback{Action: proglove.FeedbackPositive}, "", created)
	if err != nil {
		t.Fatal(err)
	}
	if !proglove.ValidEventID(id) {
		t.Errorf("event id %q", id)
	}
	equal(t, "feedback frame", string(frame), `{"api_version":"1.0","event_type":"feedback!","event_id":"`+id+`","time_created":1700000000123,"device_serial":"M2MR111100928","feedback_action_id":"FEEDBACK_POSITIVE"}`)
	_, id2, _ := proglove.CommandFrame("M2MR111100928", &event.ScannerFeedback{Action: proglove.FeedbackPositive}, "", created)
	if id2 == id {
		t.Error("two commands got the same event id")
	}

	frame, _, err = proglove.CommandFrame("MDMR000000064", &event.ScannerDisplay{Template: "PG3",
		Fields: []event.ScannerDisplayField{{ID: 1, Header: "Storage Unit", Text: "R15"}, {ID: 2, Header: "Item", Text: "Engine 12"}}},
		"e4f0da9f-056b-49c8-80fa-af42614e150c", time.UnixMilli(t0))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "display frame", string(frame), compact(t, load(t, "display.json")))

	frame, _, err = proglove.CommandFrame("M2MR111100928", &event.ScannerTriggerBlock{Block: true, BlockGestures: []string{"TRIGGER_SINGLE_CLICK"}, DurationMS: 3000},
		"5d1f0c2a-8b7e-4c3d-9a6f-2e4b8c0d1f3a", time.UnixMilli(t0))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "trigger_block frame", string(frame), compact(t, load(t, "trigger_block.json")))

	frame, _, err = proglove.CommandFrame("", &event.ScannerGatewayState{}, "3c6e0b8a-1f2d-4e5a-9b7c-0d8e6f4a2c1b", time.UnixMilli(t0))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "gateway_state! frame", string(frame), compact(t, load(t, "gateway_state_request.json")))

	_, _, err = proglove.CommandFrame("S", &event.ScannerDisplay{Template: "PG1", Fields: []event.ScannerDisplayField{{ID: 0}}}, "", created)
	if !errors.Is(err, proglove.ErrBadValue) || !strings.Contains(err.Error(), "display_field_id") {
		t.Errorf("invalid body: %v", err)
	}
	if _, _, err = proglove.CommandFrame("S", &event.LoRaDownlink{}, "", created); !errors.Is(err, proglove.ErrUnknownCommand) {
		t.Errorf("foreign body: %v", err)
	}
	if _, _, err = proglove.CommandFrame("S", nil, "", created); !errors.Is(err, proglove.ErrUnknownCommand) {
		t.Errorf("nil body: %v", err)
	}
}

func TestTargetLevel(t *testing.T) {
	for _, tt := range []struct{ kind, target, want string }{
		{event.CmdScannerFeedback, "scanner/m2mr111100928/cmd", "m2mr111100928"},
		{event.CmdScannerDisplay, event.ScannerChannel("MDMR000000064", "cmd"), "mdmr000000064"},
		{event.CmdScannerTriggerBlock, "scanner/x/cmd", "x"},
		{event.CmdScannerGatewayState, "scanner/gateway/_/cmd", "_"},
		{event.CmdScannerGatewayState, event.ScannerGatewayChannel("PGGW000000058", "cmd"), "pggw000000058"},
	} {
		got, err := proglove.TargetLevel(tt.kind, tt.target)
		if err != nil || got != tt.want {
			t.Errorf("%s %s: %q %v", tt.kind, tt.target, got, err)
		}
	}
	for _, tt := range []struct{ kind, target string }{
		{event.CmdScannerFeedback, "scanner/x/scan"},
		{event.CmdScannerFeedback, "scanner/gateway/x/cmd"},
		{event.CmdScannerFeedback, "scanner//cmd"},
		{event.CmdScannerGatewayState, "scanner/x/cmd"},
		{event.CmdScannerDisplay, "lora/a/b/down"},
	} {
		if _, err := proglove.TargetLevel(tt.kind, tt.target); !errors.Is(err, proglove.ErrBadValue) || !strings.Contains(err.Error(), "/cmd") {
			t.Errorf("%s %s: %v", tt.kind, tt.target, err)
		}
	}
	if _, err := proglove.TargetLevel(event.CmdLoRaDownlink, "scanner/x/cmd"); !errors.Is(err, proglove.ErrUnknownCommand) {
		t.Errorf("foreign kind: %v", err)
	}
}

func TestValidatePortAndURL(t *testing.T) {
	for _, p := range []int{1024, 9998, 65535} {
		if err := proglove.ValidatePort(p); err != nil {
			t.Errorf("port %d: %v", p, err)
		}
	}
	for _, p := range []int{-1, 0, 80, 1023, 65536, 70000} {
		err := proglove.ValidatePort(p)
		if !errors.Is(err, proglove.ErrBadPort) || !strings.Contains(err.Error(), "[1024, 65536)") {
			t.Errorf("port %d: %v", p, err)
		}
	}
	for _, u := range []string{"ws://localhost:9998", "ws://127.0.0.1:1024", "ws://[::1]:65535/", "wss://tunnel.example:8443", "WS://LOCALHOST:9998"} {
		if err := proglove.ValidateURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, tt := range []struct {
		url string
		err error
	}{
		{"ws://localhost:80", proglove.ErrBadPort},
		{"ws://localhost:1023", proglove.ErrBadPort},
		{"ws://localhost:65536", proglove.ErrBadPort},
		{"ws://localhost", proglove.ErrBadPort},
		{"http://localhost:9998", proglove.ErrBadURL},
		{"ws://:9998", proglove.ErrBadURL},
		{"ws://localhost:9998/stream?x=1", proglove.ErrBadURL},
		{"ws://user:pw@localhost:9998", proglove.ErrBadURL},
		{"localhost:9998", proglove.ErrBadURL},
		{"ws://local host:9998", proglove.ErrBadURL},
		{"ws://::1:9998", proglove.ErrBadURL},
		{"ws://[::1:9998", proglove.ErrBadURL},
		{"ws://[::1]", proglove.ErrBadPort},
		{"ws://[::1]x:9998", proglove.ErrBadURL},
		{"ws://localhost:", proglove.ErrBadPort},
		{"ws://localhost:99a8", proglove.ErrBadPort},
		{"ws://localhost:-9998", proglove.ErrBadPort},
		{"ws://localhost:999999999999999999999999", proglove.ErrBadPort},
		{"ws://localhost:9998#x", proglove.ErrBadURL},
		{"", proglove.ErrBadURL},
	} {
		if err := proglove.ValidateURL(tt.url); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.url, err, tt.err)
		}
	}
	u, err := proglove.URL("localhost", proglove.DefaultPort)
	if err != nil || u != "ws://localhost:9998" {
		t.Errorf("URL: %s %v", u, err)
	}
	if u, err := proglove.URL("::1", 9998); err != nil || u != "ws://[::1]:9998" || proglove.ValidateURL(u) != nil {
		t.Errorf("URL for IPv6: %s %v", u, err)
	}
	if _, err := proglove.URL("localhost", 443); !errors.Is(err, proglove.ErrBadPort) {
		t.Errorf("URL with port 443: %v", err)
	}
}

func TestRoster(t *testing.T) {
	var r proglove.Roster
	observe := func(file string) []proglove.Out {
		t.Helper()
		outs, err := proglove.NormalizeFrame(load(t, file), "l", time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var derived []proglove.Out
		for _, o := range outs {
			derived = append(derived, r.Observe(o)...)
		}
		return derived
	}
	if d := observe("scanner_state.json"); len(d) != 0 {
		t.Fatalf("a scanner_state derives nothing: %+v", d)
	}
	equal(t, "connected", r.Connected(), []string{"MDMR000000064"})
	equal(t, "serial", r.Serial("mdmr000000064"), "MDMR000000064")
	equal(t, "unknown serial", r.Serial("m2mr111100928"), "M2MR111100928")

	// gateway_state lists MDMR000000064 (known) and M2MR111100928 (new).
	d := observe("gateway_state.json")
	if len(d) != 1 || d[0].Channel != "scanner/m2mr111100928/state" {
		t.Fatalf("derived %+v", d)
	}
	st := d[0].Event.(*event.ScannerState)
	if !st.Connected || st.Derived != "gateway_state" || st.Model != "MARK 2" || st.Firmware != "v1.2.0" || st.Meta.ID != "" || len(st.Meta.Raw) == 0 {
		t.Errorf("derived state %+v", st)
	}
	equal(t, "gateway", r.Gateway(), "PGGW000000058")

	// M2MR111100928 disconnects; then a gateway_state without
	// MDMR000000064 says that one is gone too.
	observe("lf_frames.txt")
	equal(t, "connected", r.Connected(), []string{"MDMR000000064"})
	outs, _ := proglove.NormalizeFrame([]byte(`{"event_type":"gateway_state","gateway_serial":"PGGW000000058","device_connected_list":[]}`), "l", time.Now())
	d = r.Observe(outs[0])
	if len(d) != 1 || d[0].Channel != "scanner/mdmr000000064/state" || d[0].Event.(*event.ScannerState).Connected || d[0].Event.(*event.ScannerState).Reason != "UNKNOWN" {
		t.Fatalf("derived %+v", d)
	}
	equal(t, "connected", len(r.Connected()), 0)
}

func TestEventIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := proglove.NewEventID()
		if !proglove.ValidEventID(id) || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	for _, s := range []string{"", "02114da8-feae-46e3-8b00-a3f7ea8672d", "02114da8-feae-46e3-8b00-a3f7ea8672dg", "02114da8_feae-46e3-8b00-a3f7ea8672df"} {
		if proglove.ValidEventID(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("x"), "other"},
		{proglove.ErrMalformedJSON, "json"},
		{&proglove.FieldError{Field: "f", Err: proglove.ErrWrongType}, "type"},
		{proglove.ErrNoType, "no_type"},
		{proglove.ErrUnknownCommand, "command"},
		{&proglove.FieldError{Field: "f", Err: proglove.ErrMissing}, "missing"},
		{&proglove.FieldError{Field: "f", Err: proglove.ErrBadValue, Cause: errors.New("c")}, "value"},
		{proglove.ValidatePort(1), "port"},
		{proglove.ValidateURL("http://x:9998"), "url"},
	}
	for _, tt := range tests {
		equal(t, "ErrorKind", proglove.ErrorKind(tt.err), tt.want)
	}
	err := &proglove.FieldError{Field: "scan_code", Err: proglove.ErrWrongType, Detail: "got number, want string"}
	equal(t, "message", err.Error(), "proglove: field scan_code: wrong JSON type: got number, want string")
}
