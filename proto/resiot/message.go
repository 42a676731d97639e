package resiot

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Communication types seen in the vendor's examples. Other values decode
// fine and are passed through in Message.Type.
const (
	TypeRx           = "comm_rx"      // uplink from a device
	TypeTx           = "comm_tx"      // downlink sent by the platform, as logged
	TypeJoin         = "comm_join"    // join request
	TypeGatewayAlive = "comm_gwalive" // gateway heartbeat
)

// Frame is what Decode returns: either a *Message or a *Reply.
type Frame interface {
	frame()
}

func (*Message) frame() {}
func (*Reply) frame()   {}

// Message is one device or gateway communication pushed by the server.
//
// Strings are kept as sent; use the accessor methods for typed values.
type Message struct {
	// Type is CommType, or MsgType when CommType is absent or empty.
	Type string
	// Connector is the hex connector ID the communication arrived on.
	Connector string
	AppEUI    string // "AppEui"
	DevEUI    string // "DevEui" (or "DevEUI")
	// Port is the LoRaWAN FPort as sent: "128", or "" when there is none.
	// A number is accepted too and kept as its JSON text. See PortNumber.
	Port string
	// GatewayEUIs lists the gateways that heard the communication. nil when
	// the key is absent (as in comm_tx), empty when it is [].
	GatewayEUIs []string
	// Payload is the hex string as sent. See PayloadBytes.
	Payload string
	// Extra is the additional data; see Extra and Radio.
	Extra Extra
	// DT is when the network server sent or received the communication,
	// with the sender's zone offset preserved. Zero when absent or "".
	DT time.Time
	// Command, Reference and Confirmation appear on comm_tx.
	Command      string
	Reference    string
	Confirmation bool
	// Raw is a copy of the frame exactly as it was passed to Decode.
	Raw []byte
}

// Reply answers a TX command sent on the socket.
type Reply struct {
	Result    string // ResultSuccess or ResultFail
	Details   string // error description when Result is ResultFail
	Reference string // the command's Reference, echoed
}

// Reply results.
const (
	ResultSuccess = "Success"
	ResultFail    = "Fail"
)

// OK reports whether the reply is a "Success". The vendor notes that
// success only means the request was valid and forwarded, not that the
// device received it.
func (r Reply) OK() bool { return r.Result == ResultSuccess }

// EncodeReply encodes r with the vendor's key order: Result, Details,
// Reference (all three always present).
func EncodeReply(r Reply) ([]byte, error) {
	return marshal(struct {
		Result    string `json:"Result"`
		Details   string `json:"Details"`
		Reference string `json:"Reference"`
	}{r.Result, r.Details, r.Reference})
}

// wireFrame captures every key Decode knows. encoding/json matches keys
// case-insensitively, so "DevEUI" lands in DevEui and "appeui" in AppEui;
// when a key repeats, the last occurrence wins.
type wireFrame struct {
	CommType     json.RawMessage
	MsgType      json.RawMessage
	Connector    json.RawMessage
	AppEui       json.RawMessage
	DevEui       json.RawMessage
	Port         json.RawMessage
	GatewayEUIs  json.RawMessage
	Payload      json.RawMessage
	Extra        json.RawMessage
	DT           json.RawMessage
	Command      json.RawMessage
	Reference    json.RawMessage
	Confirmation json.RawMessage
	Result       json.RawMessage
	Details      json.RawMessage
}

// Decode decodes one frame received from the server: a communication
// (*Message) or the reply to a TX command (*Reply). A reply is an object
// with a Result key and neither CommType nor MsgType. Leading and trailing
// white space is ignored. Decode never panics and imposes no size limit.
//
// Errors wrap one of the package's sentinels (see ErrorKind); field errors
// are *FieldError values naming the field.
func Decode(b []byte) (Frame, error) {
	var w wireFrame
	if err := parseObject(b, &w); err != nil {
		return nil, err
	}
	commType, err := decodeString("CommType", w.CommType)
	if err != nil {
		return nil, err
	}
	msgType, err := decodeString("MsgType", w.MsgType)
	if err != nil {
		return nil, err
	}
	typ := commType
	if typ == "" {
		typ = msgType
	}
	if typ == "" {
		if len(w.Result) > 0 && absent(w.CommType) && absent(w.MsgType) {
			r, err := decodeReply(&w)
			if err != nil {
				return nil, err // not a typed nil in the Frame
			}
			return r, nil
		}
		return nil, ErrNoType
	}

	m := &Message{Type: typ}
	strs := []struct {
		dst   *string
		field string
		raw   json.RawMessage
	}{
		{&m.Connector, "Connector", w.Connector},
		{&m.AppEUI, "AppEui", w.AppEui},
		{&m.DevEUI, "DevEui", w.DevEui},
		{&m.Payload, "Payload", w.Payload},
		{&m.Command, "Command", w.Command},
		{&m.Reference, "Reference", w.Reference},
	}
	for _, s := range strs {
		if *s.dst, err = decodeString(s.field, s.raw); err != nil {
			return nil, err
		}
	}
	if m.Port, err = decodePortText(w.Port); err != nil {
		return nil, err
	}
	if m.GatewayEUIs, err = decodeStrings("GatewayEUIs", w.GatewayEUIs); err != nil {
		return nil, err
	}
	if m.Extra, err = decodeExtra(w.Extra); err != nil {
		return nil, err
	}
	if m.DT, err = decodeTime(w.DT); err != nil {
		return nil, err
	}
	if m.Confirmation, err = decodeBool("Confirmation", w.Confirmation); err != nil {
		return nil, err
	}
	m.Raw = append([]byte(nil), b...)
	return m, nil
}

func decodeReply(w *wireFrame) (*Reply, error) {
	var r Reply
	var err error
	if r.Result, err = decodeString("Result", w.Result); err != nil {
		return nil, err
	}
	if r.Details, err = decodeString("Details", w.Details); err != nil {
		return nil, err
	}
	if r.Reference, err = decodeString("Reference", w.Reference); err != nil {
		return nil, err
	}
	return &r, nil
}

// decodePortText keeps a communication's Port as text: the vendor sends a
// string, but a number is tolerated and kept as its JSON text.
func decodePortText(raw json.RawMessage) (string, error) {
	if !absent(raw) && jsonKind(raw) == "number" {
		return string(raw), nil
	}
	s, err := decodeString("Port", raw)
	if err != nil {
		return "", wrongType("Port", raw, "string or number")
	}
	return s, nil
}

// decodeTime parses DT as RFC 3339 with optional fraction, keeping the
// offset. Absent, null and "" give the zero time.
func decodeTime(raw json.RawMessage) (time.Time, error) {
	s, err := decodeString("DT", raw)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &FieldError{Field: "DT", Err: ErrBadTime, Cause: err}
	}
	return t, nil
}

// PayloadBytes hex-decodes Payload (either case). An empty Payload gives an
// empty, non-nil slice.
func (m *Message) PayloadBytes() ([]byte, error) {
	b, err := hex.DecodeString(m.Payload)
	if err != nil {
		return nil, &FieldError{Field: "Payload", Err: ErrBadHex, Cause: err}
	}
	return b, nil
}

// PortNumber parses Port as a LoRaWAN FPort (0..255). It returns ErrNoPort
// when Port is "" (gateway alive and join communications carry none) and a
// *FieldError wrapping ErrBadPort when Port is not a decimal integer in range.
func (m *Message) PortNumber() (uint8, error) {
	if m.Port == "" {
		return 0, &FieldError{Field: "Port", Err: ErrNoPort}
	}
	n, err := strconv.ParseUint(m.Port, 10, 8)
	if err != nil {
		return 0, &FieldError{Field: "Port", Err: ErrBadPort, Detail: "want an integer in 0..255", Cause: err}
	}
	return uint8(n), nil
}

// timeLayout is how EncodeMessage writes DT: RFC 3339 with the fraction
// trimmed of trailing zeros and the offset kept.
const timeLayout = time.RFC3339Nano

// EncodeMessage encodes m in the vendor's shape and key order: CommType,
// Connector, AppEui, DevEui, Port, GatewayEUIs, Payload, Extra, DT, with
// Command, Reference and Confirmation before Extra when Type is comm_tx or
// any of them is set. GatewayEUIs is written as [] when empty, except on
// comm_tx where the vendor omits it. Extra is always written as an object of
// strings, so a comm_tx "priority":0 comes back as "priority":"0"; Decode
// maps both to the same Extra. Raw is ignored.
func EncodeMessage(m *Message) ([]byte, error) {
	type wire struct {
		CommType     string    `json:"CommType"`
		Connector    string    `json:"Connector"`
		AppEui       string    `json:"AppEui"`
		DevEui       string    `json:"DevEui"`
		Port         string    `json:"Port"`
		GatewayEUIs  *[]string `json:"GatewayEUIs,omitempty"`
		Payload      string    `json:"Payload"`
		Command      *string   `json:"Command,omitempty"`
		Reference    *string   `json:"Reference,omitempty"`
		Confirmation *bool     `json:"Confirmation,omitempty"`
		Extra        Extra     `json:"Extra"`
		DT           string    `json:"DT"`
	}
	w := wire{
		CommType:  m.Type,
		Connector: m.Connector,
		AppEui:    m.AppEUI,
		DevEui:    m.DevEUI,
		Port:      m.Port,
		Payload:   m.Payload,
		Extra:     m.Extra,
	}
	if w.Extra == nil {
		w.Extra = Extra{}
	}
	isTx := m.Type == TypeTx
	if !isTx || len(m.GatewayEUIs) > 0 {
		gws := m.GatewayEUIs
		if gws == nil {
			gws = []string{}
		}
		w.GatewayEUIs = &gws
	}
	if isTx || m.Command != "" || m.Reference != "" || m.Confirmation {
		w.Command, w.Reference, w.Confirmation = &m.Command, &m.Reference, &m.Confirmation
	}
	if !m.DT.IsZero() {
		w.DT = m.DT.Format(timeLayout)
	}
	return marshal(w)
}
