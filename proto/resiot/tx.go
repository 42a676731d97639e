package resiot

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// FunctionTX is the only command function the vendor documents.
const FunctionTX = "TX"

// TX is the downlink command a client sends on the socket:
//
//	{"function":"TX","Payload":"484921","AppEui":"…","DevEUI":"…",
//	 "Connector":"","Port":50,"WSCommand":"","Reference":"abcdefgh",
//	 "Raw":false,"Confirm":true}
//
// The server answers with a Reply echoing Reference.
type TX struct {
	// Function is "TX"; EncodeTX fills it in when empty.
	Function string
	// Payload is hex unless Raw is true, in which case it is sent as is.
	Payload string
	AppEUI  string // "AppEui", required by the server
	// DevEUI is written as "DevEUI" (the schema table's spelling); DecodeTX
	// also accepts "DevEui" (the example's spelling). Required.
	DevEUI string
	// Connector is the connector ID to use; "" lets ResIOT choose.
	Connector string
	// Port is the LoRaWAN FPort. Required by the server; the vendor's
	// application range is 1..223.
	Port uint8
	// HasPort is set by DecodeTX when the command carried a Port (a number
	// or a non-empty numeric string). EncodeTX ignores it and always
	// writes Port, since the server requires it.
	HasPort bool
	// WSCommand is only used when the device sits behind a WebSocket
	// connector.
	WSCommand string
	// Reference is echoed in the Reply and in the resulting comm_tx; set a
	// unique one to correlate them.
	Reference string
	// Raw sends Payload as text rather than hex.
	Raw bool
	// Confirm requests a confirmed downlink.
	Confirm bool
}

// EncodeTX encodes tx with the schema's key order and JSON types (Port is a
// number). It fills Function with "TX" when empty and rejects a Payload that
// is not hex while Raw is false (ErrBadHex). Other checks (required EUIs,
// port range, known device) are the server's.
func EncodeTX(tx TX) ([]byte, error) {
	if tx.Function == "" {
		tx.Function = FunctionTX
	}
	if !tx.Raw {
		if _, err := hex.DecodeString(tx.Payload); err != nil {
			return nil, &FieldError{Field: "Payload", Err: ErrBadHex, Detail: "set Raw to send text", Cause: err}
		}
	}
	return marshal(struct {
		Function  string `json:"function"`
		Payload   string `json:"Payload"`
		AppEUI    string `json:"AppEui"`
		DevEUI    string `json:"DevEUI"`
		Connector string `json:"Connector"`
		Port      uint8  `json:"Port"`
		WSCommand string `json:"WSCommand"`
		Reference string `json:"Reference"`
		Raw       bool   `json:"Raw"`
		Confirm   bool   `json:"Confirm"`
	}{tx.Function, tx.Payload, tx.AppEUI, tx.DevEUI, tx.Connector, tx.Port, tx.WSCommand, tx.Reference, tx.Raw, tx.Confirm})
}

// wireTX captures the command's keys; matching is case-insensitive, so
// "DevEui", "DevEUI" and "Function" all land where expected.
type wireTX struct {
	Function  json.RawMessage `json:"function"`
	Payload   json.RawMessage
	AppEui    json.RawMessage
	DevEui    json.RawMessage
	Connector json.RawMessage
	Port      json.RawMessage
	WSCommand json.RawMessage
	Reference json.RawMessage
	Raw       json.RawMessage
	Confirm   json.RawMessage
}

// DecodeTX decodes a TX command as a server receives it. Missing fields are
// left zero; it does not check that Function is "TX", that EUIs are set or
// that Payload is hex: that is the server's job. Port may be a JSON number
// or a numeric string ("15"); "" or null count as absent.
//
// When the frame is a JSON object but a field is wrong, DecodeTX returns the
// error for the first such field together with every field it could decode,
// so a server can still echo Reference in its Fail reply.
func DecodeTX(b []byte) (TX, error) {
	var w wireTX
	if err := parseObject(b, &w); err != nil {
		return TX{}, err
	}
	var tx TX
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	str := func(dst *string, field string, raw json.RawMessage) {
		s, err := decodeString(field, raw)
		if err != nil {
			keep(err)
			return
		}
		*dst = s
	}
	boolean := func(dst *bool, field string, raw json.RawMessage) {
		v, err := decodeBool(field, raw)
		if err != nil {
			keep(err)
			return
		}
		*dst = v
	}
	str(&tx.Function, "function", w.Function)
	str(&tx.Payload, "Payload", w.Payload)
	str(&tx.AppEUI, "AppEui", w.AppEui)
	str(&tx.DevEUI, "DevEUI", w.DevEui)
	str(&tx.Connector, "Connector", w.Connector)
	port, has, err := decodeTXPort(w.Port)
	if err != nil {
		keep(err)
	} else {
		tx.Port, tx.HasPort = port, has
	}
	str(&tx.WSCommand, "WSCommand", w.WSCommand)
	str(&tx.Reference, "Reference", w.Reference)
	boolean(&tx.Raw, "Raw", w.Raw)
	boolean(&tx.Confirm, "Confirm", w.Confirm)
	return tx, first
}

// decodeTXPort accepts a JSON number or a numeric string in 0..255.
func decodeTXPort(raw json.RawMessage) (port uint8, present bool, err error) {
	var text string
	switch {
	case absent(raw):
		return 0, false, nil
	case raw[0] == '"':
		if text, err = decodeString("Port", raw); err != nil {
			return 0, false, err
		}
		if text == "" {
			return 0, false, nil
		}
	case jsonKind(raw) == "number":
		text = string(raw)
	default:
		return 0, false, wrongType("Port", raw, "number")
	}
	n, err := strconv.ParseUint(text, 10, 8)
	if err != nil {
		return 0, false, &FieldError{Field: "Port", Err: ErrBadPort, Detail: "want an integer in 0..255", Cause: err}
	}
	return uint8(n), true, nil
}
