package resiot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

// plus2 is the zone of every seed example.
var plus2 = time.FixedZone("", 2*60*60)

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
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func decodeMessage(t testing.TB, b []byte) *resiot.Message {
	t.Helper()
	f, err := resiot.Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	m, ok := f.(*resiot.Message)
	if !ok {
		t.Fatalf("Decode returned %T, want *resiot.Message", f)
	}
	return m
}

// assertMessage compares every field; DT by instant, offset and text.
func assertMessage(t *testing.T, got, want *resiot.Message, wantDT string) {
	t.Helper()
	equal(t, "Type", got.Type, want.Type)
	equal(t, "Connector", got.Connector, want.Connector)
	equal(t, "AppEUI", got.AppEUI, want.AppEUI)
	equal(t, "DevEUI", got.DevEUI, want.DevEUI)
	equal(t, "Port", got.Port, want.Port)
	equal(t, "GatewayEUIs", got.GatewayEUIs, want.GatewayEUIs)
	equal(t, "Payload", got.Payload, want.Payload)
	equal(t, "Extra", got.Extra, want.Extra)
	equal(t, "Command", got.Command, want.Command)
	equal(t, "Reference", got.Reference, want.Reference)
	equal(t, "Confirmation", got.Confirmation, want.Confirmation)
	if !got.DT.Equal(want.DT) {
		t.Errorf("DT = %v, want %v", got.DT, want.DT)
	}
	if _, off := got.DT.Zone(); off != 2*60*60 {
		t.Errorf("DT offset = %ds, want +02:00", off)
	}
	equal(t, "DT text", got.DT.Format(time.RFC3339Nano), wantDT)
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("Raw = %q, want %q", got.Raw, want.Raw)
	}
}

func TestDecodeSeedCommunications(t *testing.T) {
	tests := []struct {
		file   string
		want   resiot.Message
		wantDT string
	}{
		{
			file: "gwalive.json",
			want: resiot.Message{
				Type:        resiot.TypeGatewayAlive,
				Connector:   "69643d3139",
				GatewayEUIs: []string{"218000AC0000a05f"},
				Extra:       resiot.Extra{},
				DT:          time.Date(2017, 6, 15, 9, 17, 11, 207265600, plus2),
			},
			wantDT: "2017-06-15T09:17:11.2072656+02:00",
		},
		{
			file: "join.json",
			want: resiot.Message{
				Type:        resiot.TypeJoin,
				Connector:   "636f6e313332",
				AppEUI:      "006c3b194374ac7f",
				DevEUI:      "0732227a557d8679",
				GatewayEUIs: []string{},
				Extra:       resiot.Extra{},
				DT:          time.Date(2017, 6, 15, 9, 36, 20, 693593700, plus2),
			},
			wantDT: "2017-06-15T09:36:20.6935937+02:00",
		},
		{
			file: "rx.json",
			want: resiot.Message{
				Type:        resiot.TypeRx,
				Connector:   "636f6e313332",
				AppEUI:      "006c3b194374ac7f",
				DevEUI:      "0732227a557d8679",
				Port:        "128",
				GatewayEUIs: []string{"218000AC0000a05f"},
				Payload:     "9b690291010f1b2401ce01c0",
				Extra: resiot.Extra{
					"adr": "true", "channel": "4", "duplicate": "false", "frequency": "867.3",
					"modBW": "125", "rssi": "-18", "seqno": "1953", "sf": "7", "snr": "9.5",
				},
				DT: time.Date(2017, 6, 15, 9, 36, 46, 529531200, plus2),
			},
			wantDT: "2017-06-15T09:36:46.5295312+02:00",
		},
		{
			file: "tx_log.json",
			want: resiot.Message{
				Type:      resiot.TypeTx,
				Connector: "636f6e313332",
				AppEUI:    "006c3b194374ac7f",
				DevEUI:    "0732227a557d8679",
				Port:      "1",
				Payload:   "2525",
				Extra:     resiot.Extra{"priority": "0", "window": "BOTH"},
				DT:        time.Date(2017, 6, 15, 9, 41, 9, 669179600, plus2),
			},
			wantDT: "2017-06-15T09:41:09.6691796+02:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := load(t, tt.file)
			tt.want.Raw = raw
			m := decodeMessage(t, raw)
			assertMessage(t, m, &tt.want, tt.wantDT)
			if tt.file == "tx_log.json" && m.GatewayEUIs != nil {
				t.Errorf("comm_tx has no GatewayEUIs key; got %#v, want nil", m.GatewayEUIs)
			}
		})
	}
}

func TestDecodeCopiesRaw(t *testing.T) {
	raw := load(t, "rx.json")
	m := decodeMessage(t, raw)
	raw[0] = 'X'
	if m.Raw[0] != '{' {
		t.Fatal("Message.Raw aliases the input")
	}
}

func TestSeedRxAccessors(t *testing.T) {
	m := decodeMessage(t, load(t, "rx.json"))

	p, err := m.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "PayloadBytes", p, []byte{0x9b, 0x69, 0x02, 0x91, 0x01, 0x0f, 0x1b, 0x24, 0x01, 0xce, 0x01, 0xc0})

	port, err := m.PortNumber()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "PortNumber", port, uint8(128))

	r, err := m.Radio()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Radio", r, resiot.Radio{
		RSSI: -18, SNR: 9.5, SF: 7, FrequencyMHz: 867.3, BandwidthKHz: 125,
		Channel: 4, FCnt: 1953, ADR: true, Duplicate: false,
	})
}

func TestSeedAccessorsWithoutValues(t *testing.T) {
	m := decodeMessage(t, load(t, "gwalive.json"))
	if _, err := m.PortNumber(); !errors.Is(err, resiot.ErrNoPort) {
		t.Errorf("PortNumber on comm_gwalive: err = %v, want ErrNoPort", err)
	}
	p, err := m.PayloadBytes()
	if err != nil || len(p) != 0 {
		t.Errorf("PayloadBytes = %v, %v; want empty, nil", p, err)
	}
	r, err := m.Radio()
	if err != nil || r != (resiot.Radio{}) {
		t.Errorf("Radio = %+v, %v; want zero, nil", r, err)
	}
}

func TestDecodeSeedReply(t *testing.T) {
	f, err := resiot.Decode(load(t, "reply.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := f.(*resiot.Reply)
	if !ok {
		t.Fatalf("Decode returned %T, want *resiot.Reply", f)
	}
	equal(t, "Reply", *r, resiot.Reply{Result: "Success", Details: "", Reference: "abcdefgh"})
	if !r.OK() {
		t.Error("OK() = false for Success")
	}
	if (resiot.Reply{Result: resiot.ResultFail}).OK() {
		t.Error("OK() = true for Fail")
	}
}

func TestSeedExamplesWithAnnotationsAreMalformed(t *testing.T) {
	// The page prints the TX command and the reply with "--" annotations:
	// verbatim, they are not JSON.
	for _, name := range []string{"tx_command_doc.txt", "reply_doc.txt"} {
		_, err := resiot.Decode(load(t, name))
		if !errors.Is(err, resiot.ErrMalformedJSON) || resiot.ErrorKind(err) != "json" {
			t.Errorf("Decode(%s): err = %v (kind %q), want ErrMalformedJSON", name, err, resiot.ErrorKind(err))
		}
		_, err = resiot.DecodeTX(load(t, name))
		if !errors.Is(err, resiot.ErrMalformedJSON) {
			t.Errorf("DecodeTX(%s): err = %v, want ErrMalformedJSON", name, err)
		}
	}
}

func TestDecodeSeedTXCommands(t *testing.T) {
	tests := []struct {
		file string
		want resiot.TX
	}{
		{"tx_command.json", resiot.TX{
			Function: "TX", Payload: "HI!", AppEUI: "ABCDEF1234567890", DevEUI: "0987654321ABCDEF",
			Port: 50, HasPort: true, Reference: "abcdefgh", Raw: true, Confirm: true,
		}},
		{"tx_command_hex.json", resiot.TX{
			Function: "TX", Payload: "484921", AppEUI: "ABCDEF1234567890", DevEUI: "0987654321ABCDEF",
			Port: 50, HasPort: true, Reference: "abcdefgh", Raw: false, Confirm: true,
		}},
		{"tx_command_protocols.json", resiot.TX{
			Function: "TX", Payload: "4F4646", AppEUI: "70b3d57ed000ac4a", DevEUI: "8639323559379194",
			Connector: "636f6e32", Port: 15, HasPort: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tx, err := resiot.DecodeTX(load(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "TX", tx, tt.want)
		})
	}
}

func TestEncodeMessageReproducesSeeds(t *testing.T) {
	for _, name := range []string{"gwalive.json", "join.json", "rx.json"} {
		t.Run(name, func(t *testing.T) {
			raw := load(t, name)
			got, err := resiot.EncodeMessage(decodeMessage(t, raw))
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, raw); err != nil {
				t.Fatal(err)
			}
			equal(t, "EncodeMessage", string(got), want.String())
		})
	}
	t.Run("tx_log.json", func(t *testing.T) {
		got, err := resiot.EncodeMessage(decodeMessage(t, load(t, "tx_log.json")))
		if err != nil {
			t.Fatal(err)
		}
		// Same keys and order as the seed; Extra values become strings.
		want := `{"CommType":"comm_tx","Connector":"636f6e313332","AppEui":"006c3b194374ac7f",` +
			`"DevEui":"0732227a557d8679","Port":"1","Payload":"2525","Command":"","Reference":"",` +
			`"Confirmation":false,"Extra":{"priority":"0","window":"BOTH"},"DT":"2017-06-15T09:41:09.6691796+02:00"}`
		equal(t, "EncodeMessage", string(got), want)
	})
}

func TestDecodeTypeFields(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"MsgType fallback", `{"MsgType":"comm_rx"}`, "comm_rx"},
		{"CommType wins", `{"CommType":"comm_join","MsgType":"comm_rx"}`, "comm_join"},
		{"empty CommType falls back", `{"CommType":"","MsgType":"comm_rx"}`, "comm_rx"},
		{"null CommType falls back", `{"CommType":null,"MsgType":"comm_rx"}`, "comm_rx"},
		{"unknown type passes through", `{"CommType":"comm_txconfirm","Reference":"r1"}`, "comm_txconfirm"},
		{"type with a Result key is a message", `{"CommType":"comm_rx","Result":"Success"}`, "comm_rx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equal(t, "Type", decodeMessage(t, []byte(tt.in)).Type, tt.want)
		})
	}
}

func TestDecodeTolerance(t *testing.T) {
	t.Run("white space", func(t *testing.T) {
		in := " \r\n\t" + string(load(t, "rx.json")) + "\n\n "
		m := decodeMessage(t, []byte(in))
		equal(t, "DevEUI", m.DevEUI, "0732227a557d8679")
		equal(t, "Raw", string(m.Raw), in)
	})
	t.Run("DevEUI spelling", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","DevEUI":"AA","AppEUI":"BB"}`))
		equal(t, "DevEUI", m.DevEUI, "AA")
		equal(t, "AppEUI", m.AppEUI, "BB")
	})
	t.Run("nulls are empty", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Port":null,"GatewayEUIs":null,"Extra":null,"DT":null,"Payload":null,"Confirmation":null}`))
		if m.Port != "" || m.GatewayEUIs != nil || m.Extra != nil || !m.DT.IsZero() || m.Payload != "" || m.Confirmation {
			t.Errorf("got %+v, want zero fields", m)
		}
	})
	t.Run("Port as number", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Port":128}`))
		equal(t, "Port", m.Port, "128")
	})
	t.Run("unknown keys ignored", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Future":{"x":[1]},"Port":"2"}`))
		equal(t, "Port", m.Port, "2")
	})
	t.Run("DT without fraction, UTC", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","DT":"2017-06-15T07:36:46Z"}`))
		if !m.DT.Equal(time.Date(2017, 6, 15, 7, 36, 46, 0, time.UTC)) {
			t.Errorf("DT = %v", m.DT)
		}
	})
	t.Run("hex either case", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Payload":"4F4646aB"}`))
		p, err := m.PayloadBytes()
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "PayloadBytes", p, []byte{0x4f, 0x46, 0x46, 0xab})
	})
}

func TestExtraForms(t *testing.T) {
	tests := []struct {
		name, extra string
		want        resiot.Extra
	}{
		{"object of strings", `{"rssi":"-18","sf":"7"}`, resiot.Extra{"rssi": "-18", "sf": "7"}},
		{"object of other values", `{"priority":0,"window":"BOTH","adr":true,"f":1.50,"nested":{"a": [1, 2]},"none":null}`,
			resiot.Extra{"priority": "0", "window": "BOTH", "adr": "true", "f": "1.50", "nested": `{"a":[1,2]}`, "none": ""}},
		{"list form", `[{"fieldname":"rssi","fieldvalue":"-18"},{"fieldname":"temp","fieldvalue":"21.5"}]`,
			resiot.Extra{"rssi": "-18", "temp": "21.5"}},
		{"list form, other values", `[{"fieldname":"n","fieldvalue":3},{"fieldname":"b","fieldvalue":false},{"fieldname":"z"}]`,
			resiot.Extra{"n": "3", "b": "false", "z": ""}},
		{"list form, repeated key", `[{"fieldname":"k","fieldvalue":"1"},{"fieldname":"k","fieldvalue":"2"}]`,
			resiot.Extra{"k": "2"}},
		{"empty object", `{}`, resiot.Extra{}},
		{"empty list", `[]`, resiot.Extra{}},
		{"null", `null`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Extra":`+tt.extra+`}`))
			equal(t, "Extra", m.Extra, tt.want)
		})
	}
	t.Run("list form feeds Radio", func(t *testing.T) {
		m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Extra":[{"fieldname":"rssi","fieldvalue":"-90"},{"fieldname":"seqno","fieldvalue":"7"}]}`))
		r, err := m.Radio()
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Radio", r, resiot.Radio{RSSI: -90, FCnt: 7})
	})
	t.Run("ordered iteration", func(t *testing.T) {
		m := decodeMessage(t, load(t, "rx.json"))
		want := []string{"adr", "channel", "duplicate", "frequency", "modBW", "rssi", "seqno", "sf", "snr"}
		equal(t, "Keys", m.Extra.Keys(), want)
		var keys []string
		for k, v := range m.Extra.All() {
			keys = append(keys, k)
			if v != m.Extra[k] {
				t.Errorf("All: %s = %q, want %q", k, v, m.Extra[k])
			}
		}
		equal(t, "All keys", keys, want)
	})
}

func TestRadioErrorsNameTheKey(t *testing.T) {
	m := decodeMessage(t, []byte(`{"CommType":"comm_rx","Extra":{"rssi":"loud","sf":"300","snr":"9.5","seqno":"-1","frequency":"NaN"}}`))
	r, err := m.Radio()
	if !errors.Is(err, resiot.ErrBadValue) || resiot.ErrorKind(err) != "value" {
		t.Fatalf("err = %v, want ErrBadValue", err)
	}
	for _, key := range []string{"Extra.rssi", "Extra.sf", "Extra.seqno", "Extra.frequency"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
	var fe *resiot.FieldError
	if !errors.As(err, &fe) || fe.Field != "Extra.rssi" {
		t.Errorf("errors.As FieldError = %+v, want Field Extra.rssi", fe)
	}
	// Fields that parsed are still returned; failed ones stay zero.
	equal(t, "Radio", r, resiot.Radio{SNR: 9.5})
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		kind     string
	}{
		{"empty", ``, resiot.ErrMalformedJSON, "json"},
		{"blank", " \n\t", resiot.ErrMalformedJSON, "json"},
		{"truncated", `{"CommType":"comm_rx"`, resiot.ErrMalformedJSON, "json"},
		{"trailing garbage", `{"CommType":"comm_rx"} x`, resiot.ErrMalformedJSON, "json"},
		{"two objects", `{"CommType":"comm_rx"}{"CommType":"comm_rx"}`, resiot.ErrMalformedJSON, "json"},
		{"array", `[{"CommType":"comm_rx"}]`, resiot.ErrMalformedJSON, "json"},
		{"string", `"comm_rx"`, resiot.ErrMalformedJSON, "json"},
		{"null", `null`, resiot.ErrMalformedJSON, "json"},
		{"not json", `hello`, resiot.ErrMalformedJSON, "json"},
		{"no type", `{"Port":"1"}`, resiot.ErrNoType, "no_type"},
		{"empty object", `{}`, resiot.ErrNoType, "no_type"},
		{"empty types", `{"CommType":"","MsgType":""}`, resiot.ErrNoType, "no_type"},
		{"CommType number", `{"CommType":1}`, resiot.ErrWrongType, "type"},
		{"Port object", `{"CommType":"comm_rx","Port":{"n":1}}`, resiot.ErrWrongType, "type"},
		{"Port bool", `{"CommType":"comm_rx","Port":true}`, resiot.ErrWrongType, "type"},
		{"GatewayEUIs string", `{"CommType":"comm_rx","GatewayEUIs":"218000AC0000a05f"}`, resiot.ErrWrongType, "type"},
		{"GatewayEUIs numbers", `{"CommType":"comm_rx","GatewayEUIs":[1]}`, resiot.ErrWrongType, "type"},
		{"GatewayEUIs null item", `{"CommType":"comm_rx","GatewayEUIs":[null]}`, resiot.ErrWrongType, "type"},
		{"Payload number", `{"CommType":"comm_rx","Payload":12}`, resiot.ErrWrongType, "type"},
		{"Extra string", `{"CommType":"comm_rx","Extra":"rssi=-18"}`, resiot.ErrWrongType, "type"},
		{"Extra list of strings", `{"CommType":"comm_rx","Extra":["rssi"]}`, resiot.ErrWrongType, "type"},
		{"Extra list without fieldname", `{"CommType":"comm_rx","Extra":[{"fieldvalue":"1"}]}`, resiot.ErrWrongType, "type"},
		{"Extra list fieldname number", `{"CommType":"comm_rx","Extra":[{"fieldname":1}]}`, resiot.ErrWrongType, "type"},
		{"Confirmation string", `{"CommType":"comm_tx","Confirmation":"false"}`, resiot.ErrWrongType, "type"},
		{"DT number", `{"CommType":"comm_rx","DT":1497512206}`, resiot.ErrWrongType, "type"},
		{"Result number", `{"Result":1}`, resiot.ErrWrongType, "type"},
		{"DT not RFC 3339", `{"CommType":"comm_rx","DT":"15/06/2017 09:36:46"}`, resiot.ErrBadTime, "time"},
		{"DT without zone", `{"CommType":"comm_rx","DT":"2017-06-15T09:36:46.5295312"}`, resiot.ErrBadTime, "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resiot.Decode([]byte(tt.in))
			if f != nil {
				t.Errorf("Decode returned %#v with an error", f)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			equal(t, "ErrorKind", resiot.ErrorKind(err), tt.kind)
		})
	}
	t.Run("field named", func(t *testing.T) {
		_, err := resiot.Decode([]byte(`{"CommType":"comm_rx","Port":{}}`))
		var fe *resiot.FieldError
		if !errors.As(err, &fe) || fe.Field != "Port" {
			t.Fatalf("err = %v, want a FieldError for Port", err)
		}
		equal(t, "Error", err.Error(), "resiot: field Port: wrong JSON type: got object, want string or number")
	})
	t.Run("accessors", func(t *testing.T) {
		tests := []struct {
			name string
			call func(*resiot.Message) error
			in   string
			kind string
		}{
			{"odd hex", func(m *resiot.Message) error { _, err := m.PayloadBytes(); return err }, `{"CommType":"comm_rx","Payload":"abc"}`, "hex"},
			{"non hex", func(m *resiot.Message) error { _, err := m.PayloadBytes(); return err }, `{"CommType":"comm_rx","Payload":"HI!!"}`, "hex"},
			{"no port", func(m *resiot.Message) error { _, err := m.PortNumber(); return err }, `{"CommType":"comm_rx","Port":""}`, "no_port"},
			{"port text", func(m *resiot.Message) error { _, err := m.PortNumber(); return err }, `{"CommType":"comm_rx","Port":"one"}`, "port"},
			{"port range", func(m *resiot.Message) error { _, err := m.PortNumber(); return err }, `{"CommType":"comm_rx","Port":"256"}`, "port"},
			{"port fraction", func(m *resiot.Message) error { _, err := m.PortNumber(); return err }, `{"CommType":"comm_rx","Port":1.5}`, "port"},
		}
		for _, tt := range tests {
			err := tt.call(decodeMessage(t, []byte(tt.in)))
			if got := resiot.ErrorKind(err); got != tt.kind {
				t.Errorf("%s: ErrorKind(%v) = %q, want %q", tt.name, err, got, tt.kind)
			}
		}
	})
	t.Run("labels", func(t *testing.T) {
		equal(t, "nil", resiot.ErrorKind(nil), "")
		equal(t, "foreign", resiot.ErrorKind(errors.New("x")), "other")
	})
}

func TestEncodeTX(t *testing.T) {
	b, err := resiot.EncodeTX(resiot.TX{
		Payload: "484921", AppEUI: "ABCDEF1234567890", DevEUI: "0987654321ABCDEF",
		Port: 50, Reference: "abcdefgh", Confirm: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"function":"TX","Payload":"484921","AppEui":"ABCDEF1234567890","DevEUI":"0987654321ABCDEF",` +
		`"Connector":"","Port":50,"WSCommand":"","Reference":"abcdefgh","Raw":false,"Confirm":true}`
	equal(t, "EncodeTX", string(b), want)

	// Raw payloads are text and go out unescaped.
	b, err = resiot.EncodeTX(resiot.TX{Function: "TX", Payload: "HI! <&>", Raw: true, Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Payload":"HI! <&>"`) || !strings.Contains(string(b), `"Raw":true`) {
		t.Errorf("EncodeTX raw = %s", b)
	}

	_, err = resiot.EncodeTX(resiot.TX{Payload: "HI!", Port: 1})
	if !errors.Is(err, resiot.ErrBadHex) {
		t.Errorf("EncodeTX non-hex: err = %v, want ErrBadHex", err)
	}
}

func TestEncodeTXRoundTrip(t *testing.T) {
	in := resiot.TX{
		Function: "TX", Payload: "0a0B", AppEUI: "a", DevEUI: "b", Connector: "c",
		Port: 223, HasPort: true, WSCommand: "w", Reference: "r", Confirm: true,
	}
	b, err := resiot.EncodeTX(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := resiot.DecodeTX(b)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", out, in)
}

func TestDecodeTXFields(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		port     uint8
		has      bool
		kind     string
		function string
	}{
		{"port number", `{"function":"TX","Port":15}`, 15, true, "", "TX"},
		{"port string", `{"function":"TX","Port":"15"}`, 15, true, "", "TX"},
		{"port zero", `{"function":"TX","Port":0}`, 0, true, "", "TX"},
		{"port missing", `{"function":"TX"}`, 0, false, "", "TX"},
		{"port empty string", `{"function":"TX","Port":""}`, 0, false, "", "TX"},
		{"port null", `{"function":"TX","Port":null}`, 0, false, "", "TX"},
		{"port too big", `{"function":"TX","Port":300}`, 0, false, "port", "TX"},
		{"port negative", `{"function":"TX","Port":-1}`, 0, false, "port", "TX"},
		{"port fraction", `{"function":"TX","Port":1.5}`, 0, false, "port", "TX"},
		{"port text", `{"function":"TX","Port":"one"}`, 0, false, "port", "TX"},
		{"port object", `{"function":"TX","Port":{}}`, 0, false, "type", "TX"},
		{"Function spelling", `{"Function":"TX","Port":1}`, 1, true, "", "TX"},
		{"Raw string", `{"function":"TX","Raw":"true"}`, 0, false, "type", "TX"},
		{"no function", `{"Port":1}`, 1, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := resiot.DecodeTX([]byte(tt.in))
			equal(t, "ErrorKind", resiot.ErrorKind(err), tt.kind)
			equal(t, "Port", tx.Port, tt.port)
			equal(t, "HasPort", tx.HasPort, tt.has)
			equal(t, "Function", tx.Function, tt.function)
		})
	}
	t.Run("partial result on error", func(t *testing.T) {
		tx, err := resiot.DecodeTX([]byte(`{"function":"TX","Port":{},"Reference":"keep-me","DevEui":"d"}`))
		if !errors.Is(err, resiot.ErrWrongType) {
			t.Fatalf("err = %v, want ErrWrongType", err)
		}
		equal(t, "Reference", tx.Reference, "keep-me")
		equal(t, "DevEUI", tx.DevEUI, "d")
	})
	t.Run("DevEUI spellings", func(t *testing.T) {
		for _, key := range []string{"DevEui", "DevEUI", "deveui"} {
			tx, err := resiot.DecodeTX([]byte(`{"` + key + `":"x"}`))
			if err != nil || tx.DevEUI != "x" {
				t.Errorf("%s: got %q, %v", key, tx.DevEUI, err)
			}
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, in := range []string{``, `{`, `[]`, `"TX"`, `{"function":"TX",}`} {
			tx, err := resiot.DecodeTX([]byte(in))
			if !errors.Is(err, resiot.ErrMalformedJSON) || tx != (resiot.TX{}) {
				t.Errorf("DecodeTX(%q) = %+v, %v; want zero, ErrMalformedJSON", in, tx, err)
			}
		}
	})
}

func TestEncodeReply(t *testing.T) {
	b, err := resiot.EncodeReply(resiot.Reply{Result: resiot.ResultFail, Details: "device not found", Reference: "r<1>"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "EncodeReply", string(b), `{"Result":"Fail","Details":"device not found","Reference":"r<1>"}`)
	f, err := resiot.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", f, resiot.Frame(&resiot.Reply{Result: "Fail", Details: "device not found", Reference: "r<1>"}))
}

// sameMessage compares two messages field by field, ignoring Raw; nil and
// empty slices and maps are equal, DT is compared by instant and offset.
func sameMessage(a, b *resiot.Message) bool {
	_, aoff := a.DT.Zone()
	_, boff := b.DT.Zone()
	return a.Type == b.Type && a.Connector == b.Connector && a.AppEUI == b.AppEUI &&
		a.DevEUI == b.DevEUI && a.Port == b.Port && slices.Equal(a.GatewayEUIs, b.GatewayEUIs) &&
		a.Payload == b.Payload && maps.Equal(a.Extra, b.Extra) && a.DT.Equal(b.DT) && aoff == boff &&
		a.Command == b.Command && a.Reference == b.Reference && a.Confirmation == b.Confirmation
}

func addFiles(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".md") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecode(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		frame, err := resiot.Decode(b)
		if err != nil {
			if frame != nil {
				t.Fatalf("Decode returned a frame with error %v", err)
			}
			if k := resiot.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v (kind %q)", err, k)
			}
			return
		}
		switch fr := frame.(type) {
		case *resiot.Message:
			if !bytes.Equal(fr.Raw, b) {
				t.Fatalf("Raw = %q, want the input", fr.Raw)
			}
			for _, err := range []error{
				func() error { _, err := fr.PayloadBytes(); return err }(),
				func() error { _, err := fr.PortNumber(); return err }(),
				func() error { _, err := fr.Radio(); return err }(),
			} {
				if k := resiot.ErrorKind(err); err != nil && (k == "" || k == "other") {
					t.Fatalf("unclassified accessor error %v", err)
				}
			}
			enc, err := resiot.EncodeMessage(fr)
			if err != nil {
				t.Fatalf("EncodeMessage: %v", err)
			}
			again, err := resiot.Decode(enc)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", enc, err)
			}
			m2, ok := again.(*resiot.Message)
			if !ok || !sameMessage(fr, m2) {
				t.Fatalf("round trip changed the message:\n in  %+v\n out %+v\n via %s", fr, again, enc)
			}
		case *resiot.Reply:
			enc, err := resiot.EncodeReply(*fr)
			if err != nil {
				t.Fatalf("EncodeReply: %v", err)
			}
			again, err := resiot.Decode(enc)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", enc, err)
			}
			if r2, ok := again.(*resiot.Reply); !ok || *r2 != *fr {
				t.Fatalf("round trip changed the reply: %+v -> %+v", fr, again)
			}
		default:
			t.Fatalf("Decode returned %T", frame)
		}
	})
}

func FuzzDecodeTX(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := resiot.DecodeTX(b)
		if err != nil {
			if k := resiot.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v (kind %q)", err, k)
			}
			return
		}
		enc, err := resiot.EncodeTX(tx)
		if err != nil {
			if !errors.Is(err, resiot.ErrBadHex) || tx.Raw {
				t.Fatalf("EncodeTX(%+v): %v", tx, err)
			}
			return
		}
		again, err := resiot.DecodeTX(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if tx.Function == "" {
			tx.Function = resiot.FunctionTX
		}
		tx.HasPort = true // EncodeTX always writes Port
		if again != tx {
			t.Fatalf("round trip changed the command:\n in  %+v\n out %+v", tx, again)
		}
	})
}
