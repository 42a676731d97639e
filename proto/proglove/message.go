package proglove

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Event types the gateway sends (server → client).
const (
	TypeScan          = "scan"
	TypeScannerState  = "scanner_state"
	TypeButtonPressed = "button_pressed"
	TypeErrors        = "errors"
	TypeGatewayState  = "gateway_state"
)

// API versions. Commands are written with APIVersion10 unless a field needs
// APIVersion11 (a feedback's time to live).
const (
	APIVersion10 = "1.0"
	APIVersion11 = "1.1"
)

// Values of ScannerState.ConnectedState.
const (
	StateConnected    = "STATE_CONNECTED"
	StateDisconnected = "STATE_DISCONNECTED"
)

// DisconnectUnknown is the only documented disconnect reason.
const DisconnectUnknown = "UNKNOWN"

// Error codes of an ErrorEvent. Newer vendor pages add more (photo
// reports); any value decodes.
const (
	ErrorUnknown        = "ERROR_UNKNOWN"         // e.g. a display command to a scanner without a display
	ErrorInvalidCommand = "ERROR_INVALID_COMMAND" // bad JSON or event_type (the simulator: any invalid field)
	ErrorTimeout        = "ERROR_TIMEOUT"
	ErrorDeviceNotFound = "ERROR_DEVICE_NOT_FOUND" // no connected scanner has the serial
)

// Error severities.
const (
	SeverityWarning  = "WARNING"
	SeverityError    = "ERROR"
	SeverityCritical = "CRITICAL"
)

// MaxErrorMessage is the longest error_message, in characters.
const MaxErrorMessage = 128

// Envelope holds the fields every Streams API message has.
type Envelope struct {
	APIVersion string // api_version: "1.0" (some commands "1.1")
	Type       string // event_type; commands end in "!"
	ID         string // event_id: a lowercase UUID
	// Created is time_created in Unix milliseconds; 0 when absent.
	Created int64
}

// Header returns the envelope; every message and command type has one.
func (e *Envelope) Header() *Envelope { return e }

// Message is what Decode returns: *Scan, *ScannerState, *ButtonPressed,
// *ErrorEvent, *GatewayState, or *Other for any other event_type.
type Message interface {
	Header() *Envelope
	// Bytes returns the message exactly as it was passed to Decode.
	Bytes() []byte
}

// Scan is a barcode read (event_type "scan").
//
// Numbers the vendor writes as strings are kept as the text sent; the
// accessor methods give typed values (Decode has checked they parse).
type Scan struct {
	Envelope
	// ScanCode is the content, UTF-8, as sent: it may end in "\r". See Code.
	ScanCode string
	// ScanBytes is URL-safe Base64 as sent ("" when absent). See Decoded.
	ScanBytes     string
	DeviceSerial  string
	DeviceModel   string // LEO, MARK Basic, MARK 2, MARK 3, MARK Display, MAI
	GatewaySerial string
	ScanMode      string // SCAN_MODE_SINGLE, SCAN_MODE_CONTINUOUS, SCAN_MODE_MULTISCAN
	// ScanDuration is the scan's duration in seconds as sent ("1.23"), or "".
	ScanDuration string
	// DeviceTemperature is in °C as sent ("22.30"), or "".
	DeviceTemperature string
	// ScanSessionID is nil when absent.
	ScanSessionID *int64
	Raw           []byte
}

// ScannerState reports a scanner connecting or disconnecting (event_type
// "scanner_state").
type ScannerState struct {
	Envelope
	DeviceSerial     string
	GatewaySerial    string
	ConnectedState   string // StateConnected or StateDisconnected
	DisconnectReason string // device_disconnect_reason ("UNKNOWN")
	Raw              []byte
}

// ButtonPressed reports a trigger gesture (event_type "button_pressed").
type ButtonPressed struct {
	Envelope
	DeviceSerial   string
	GatewaySerial  string
	TriggerGesture string // TRIGGER_DOUBLE_CLICK
	Raw            []byte
}

// ErrorEvent is the gateway's only acknowledgement: the failure of the
// command whose event_id is ReferenceID (event_type "errors").
type ErrorEvent struct {
	Envelope
	ReferenceID   string // event_reference_id
	Severity      string // error_severity: WARNING, ERROR, CRITICAL
	Message       string // error_message, ≤ 128 characters
	Code          string // error_code: ERROR_UNKNOWN, …
	DeviceSerial  string
	GatewaySerial string
	Raw           []byte
}

// Device is one entry of a gateway's device_connected_list.
type Device struct {
	Serial          string // device_serial
	FirmwareVersion string // device_firmware_version
	Model           string // device_model
	Manufacturer    string // device_manufacturer
}

// GatewayState answers gateway_state! (ReferenceID is the request's
// event_id) or is sent by a gateway at boot (event_type "gateway_state").
type GatewayState struct {
	Envelope
	ReferenceID   string
	GatewaySerial string
	AppVersion    string   // gateway_app_version ("v1.5.0")
	Devices       []Device // device_connected_list, nil when absent
	Raw           []byte
}

// Other is a message of any other event_type, kept whole in Raw.
type Other struct {
	Envelope
	DeviceSerial  string
	GatewaySerial string
	Raw           []byte
}

func (m *Scan) Bytes() []byte          { return m.Raw }
func (m *ScannerState) Bytes() []byte  { return m.Raw }
func (m *ButtonPressed) Bytes() []byte { return m.Raw }
func (m *ErrorEvent) Bytes() []byte    { return m.Raw }
func (m *GatewayState) Bytes() []byte  { return m.Raw }
func (m *Other) Bytes() []byte         { return m.Raw }

// Code returns ScanCode without one trailing "\r" (or "\r\n"), which some
// gateways append (seen in the vendor's reference application).
func (m *Scan) Code() string {
	s := strings.TrimSuffix(m.ScanCode, "\n")
	return strings.TrimSuffix(s, "\r")
}

// Decoded returns ScanBytes decoded, or nil when absent. Both Base64
// alphabets are accepted, with or without padding.
func (m *Scan) Decoded() ([]byte, error) {
	if m.ScanBytes == "" {
		return nil, nil
	}
	return decodeBase64("scan_bytes", m.ScanBytes)
}

// Duration returns ScanDuration in seconds (0 when absent).
func (m *Scan) Duration() (float64, error) {
	if m.ScanDuration == "" {
		return 0, nil
	}
	return parseFloat("scan_duration", m.ScanDuration)
}

// Temperature returns DeviceTemperature in °C; ok is false when absent.
func (m *Scan) Temperature() (celsius float64, ok bool, err error) {
	if m.DeviceTemperature == "" {
		return 0, false, nil
	}
	f, err := parseFloat("device_temperature", m.DeviceTemperature)
	return f, err == nil, err
}

func decodeBase64(field, s string) ([]byte, error) {
	t := strings.TrimRight(s, "=")
	enc := base64.RawURLEncoding
	if strings.ContainsAny(t, "+/") {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(t)
	if err != nil {
		return nil, &FieldError{Field: field, Err: ErrBadValue, Detail: "want URL-safe Base64", Cause: err}
	}
	return b, nil
}

// Decode decodes one Streams API message received from the gateway (one
// JSON object; use Split first when a frame may hold several). Leading and
// trailing white space is ignored. Unknown keys are ignored and unknown
// event types decode to *Other. Decode never panics and imposes no size
// limit.
//
// Errors wrap one of the package's sentinels (see ErrorKind); field errors
// are *FieldError values naming the field.
func Decode(b []byte) (Message, error) {
	o, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	env, err := decodeEnvelope(o)
	if err != nil {
		return nil, err
	}
	if env.Type == "" {
		return nil, ErrNoType
	}
	raw := append([]byte(nil), b...)
	d := decoder{o: o}
	var m Message
	switch env.Type {
	case TypeScan:
		s := &Scan{Envelope: env, Raw: raw}
		d.str(&s.ScanCode, "scan_code")
		d.str(&s.ScanBytes, "scan_bytes")
		d.str(&s.DeviceSerial, "device_serial")
		d.str(&s.DeviceModel, "device_model")
		d.str(&s.GatewaySerial, "gateway_serial")
		d.str(&s.ScanMode, "scan_mode")
		d.float(&s.ScanDuration, "scan_duration")
		d.float(&s.DeviceTemperature, "device_temperature")
		if n, ok, err := o.integer("scan_session_id"); err != nil {
			d.keep(err)
		} else if ok {
			s.ScanSessionID = &n
		}
		d.require("scan_code", "device_serial")
		if d.err == nil && s.ScanBytes != "" {
			_, err := s.Decoded()
			d.keep(err)
		}
		m = s
	case TypeScannerState:
		s := &ScannerState{Envelope: env, Raw: raw}
		d.str(&s.DeviceSerial, "device_serial")
		d.str(&s.GatewaySerial, "gateway_serial")
		d.str(&s.ConnectedState, "device_connected_state")
		d.str(&s.DisconnectReason, "device_disconnect_reason")
		d.require("device_serial", "device_connected_state")
		m = s
	case TypeButtonPressed:
		s := &ButtonPressed{Envelope: env, Raw: raw}
		d.str(&s.DeviceSerial, "device_serial")
		d.str(&s.GatewaySerial, "gateway_serial")
		d.str(&s.TriggerGesture, "trigger_gesture")
		d.require("device_serial")
		m = s
	case TypeErrors:
		s := &ErrorEvent{Envelope: env, Raw: raw}
		d.str(&s.ReferenceID, "event_reference_id")
		d.str(&s.Severity, "error_severity")
		d.str(&s.Message, "error_message")
		d.str(&s.Code, "error_code")
		d.str(&s.DeviceSerial, "device_serial")
		d.str(&s.GatewaySerial, "gateway_serial")
		m = s
	case TypeGatewayState:
		s := &GatewayState{Envelope: env, Raw: raw}
		d.str(&s.ReferenceID, "event_reference_id")
		d.str(&s.GatewaySerial, "gateway_serial")
		d.str(&s.AppVersion, "gateway_app_version")
		list, err := o.objects("device_connected_list")
		d.keep(err)
		if list != nil {
			s.Devices = make([]Device, 0, len(list))
		}
		for i, item := range list {
			dd := decoder{o: item, prefix: "device_connected_list[" + strconv.Itoa(i) + "]."}
			var dev Device
			dd.str(&dev.Serial, "device_serial")
			dd.str(&dev.FirmwareVersion, "device_firmware_version")
			dd.str(&dev.Model, "device_model")
			dd.str(&dev.Manufacturer, "device_manufacturer")
			dd.require("device_serial")
			d.keep(dd.err)
			s.Devices = append(s.Devices, dev)
		}
		m = s
	default:
		s := &Other{Envelope: env, Raw: raw}
		d.str(&s.DeviceSerial, "device_serial")
		d.str(&s.GatewaySerial, "gateway_serial")
		m = s
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// decoder collects the first error while decoding fields of one object.
type decoder struct {
	o      object
	prefix string // for nested objects' field names
	err    error
}

func (d *decoder) keep(err error) {
	if err != nil && d.err == nil {
		if fe, ok := err.(*FieldError); ok && d.prefix != "" {
			cp := *fe
			cp.Field = d.prefix + cp.Field
			err = &cp
		}
		d.err = err
	}
}

func (d *decoder) str(dst *string, field string) {
	s, err := d.o.str(field)
	if err != nil {
		d.keep(err)
		return
	}
	*dst = s
}

func (d *decoder) float(dst *string, field string) {
	s, err := d.o.float(field)
	if err != nil {
		d.keep(err)
		return
	}
	*dst = s
}

func (d *decoder) integer(dst *int64, field string) bool {
	n, ok, err := d.o.integer(field)
	if err != nil {
		d.keep(err)
		return false
	}
	*dst = n
	return ok
}

func (d *decoder) boolean(dst *bool, field string) {
	v, err := d.o.boolean(field)
	if err != nil {
		d.keep(err)
		return
	}
	*dst = v
}

func (d *decoder) stringList(dst *[]string, field string) {
	v, err := d.o.stringList(field)
	if err != nil {
		d.keep(err)
		return
	}
	*dst = v
}

// require records ErrMissing for the first field that is absent, null or "".
func (d *decoder) require(fields ...string) {
	for _, f := range fields {
		raw := d.o[f]
		if absent(raw) || string(raw) == `""` {
			d.keep(missing(f))
			return
		}
	}
}

func decodeEnvelope(o object) (Envelope, error) {
	var env Envelope
	var err error
	// api_version is a string; a bare number (1.0) is kept as its text.
	if raw := o["api_version"]; !absent(raw) && jsonKind(raw) == "number" {
		env.APIVersion = string(raw)
	} else if env.APIVersion, err = o.str("api_version"); err != nil {
		return env, err
	}
	if env.Type, err = o.str("event_type"); err != nil {
		return env, err
	}
	if env.ID, err = o.str("event_id"); err != nil {
		return env, err
	}
	if env.Created, _, err = o.integer("time_created"); err != nil {
		return env, err
	}
	return env, nil
}

// Event encoders: the vendor's key order and JSON types (decimals as
// strings), for the simulator and for tests.

type wireEnvelope struct {
	APIVersion string `json:"api_version"`
	Type       string `json:"event_type"`
	ID         string `json:"event_id"`
	Created    int64  `json:"time_created"`
}

func wireEnv(e Envelope, typ string) wireEnvelope {
	if e.APIVersion == "" {
		e.APIVersion = APIVersion10
	}
	if e.Type == "" {
		e.Type = typ
	}
	return wireEnvelope{e.APIVersion, e.Type, e.ID, e.Created}
}

// EncodeMessage encodes m as the gateway sends it, with the key order of
// the vendor's examples: optional fields are left out when empty, decimals
// are written as strings ("scan_duration":"1.23"), event_reference_id is
// always written on errors. An empty APIVersion is written as "1.0" and an
// empty Type as the type's own. Raw is ignored.
func EncodeMessage(m Message) ([]byte, error) {
	switch m := m.(type) {
	case *Scan:
		return marshal(struct {
			wireEnvelope
			ScanCode          string `json:"scan_code"`
			ScanBytes         string `json:"scan_bytes,omitempty"`
			DeviceSerial      string `json:"device_serial"`
			DeviceModel       string `json:"device_model,omitempty"`
			GatewaySerial     string `json:"gateway_serial,omitempty"`
			ScanMode          string `json:"scan_mode,omitempty"`
			ScanDuration      string `json:"scan_duration,omitempty"`
			DeviceTemperature string `json:"device_temperature,omitempty"`
			ScanSessionID     *int64 `json:"scan_session_id,omitempty"`
		}{wireEnv(m.Envelope, TypeScan), m.ScanCode, m.ScanBytes, m.DeviceSerial, m.DeviceModel, m.GatewaySerial,
			m.ScanMode, m.ScanDuration, m.DeviceTemperature, m.ScanSessionID})
	case *ScannerState:
		return marshal(struct {
			wireEnvelope
			GatewaySerial    string `json:"gateway_serial,omitempty"`
			ConnectedState   string `json:"device_connected_state"`
			DisconnectReason string `json:"device_disconnect_reason,omitempty"`
			DeviceSerial     string `json:"device_serial"`
		}{wireEnv(m.Envelope, TypeScannerState), m.GatewaySerial, m.ConnectedState, m.DisconnectReason, m.DeviceSerial})
	case *ButtonPressed:
		return marshal(struct {
			wireEnvelope
			DeviceSerial   string `json:"device_serial"`
			GatewaySerial  string `json:"gateway_serial,omitempty"`
			TriggerGesture string `json:"trigger_gesture"`
		}{wireEnv(m.Envelope, TypeButtonPressed), m.DeviceSerial, m.GatewaySerial, m.TriggerGesture})
	case *ErrorEvent:
		return marshal(struct {
			wireEnvelope
			ReferenceID   string `json:"event_reference_id"`
			Severity      string `json:"error_severity"`
			Message       string `json:"error_message"`
			Code          string `json:"error_code"`
			DeviceSerial  string `json:"device_serial,omitempty"`
			GatewaySerial string `json:"gateway_serial,omitempty"`
		}{wireEnv(m.Envelope, TypeErrors), m.ReferenceID, m.Severity, m.Message, m.Code, m.DeviceSerial, m.GatewaySerial})
	case *GatewayState:
		type wireDevice struct {
			Serial          string `json:"device_serial"`
			FirmwareVersion string `json:"device_firmware_version,omitempty"`
			Model           string `json:"device_model,omitempty"`
			Manufacturer    string `json:"device_manufacturer,omitempty"`
		}
		devs := make([]wireDevice, len(m.Devices))
		for i, d := range m.Devices {
			devs[i] = wireDevice(d)
		}
		return marshal(struct {
			wireEnvelope
			ReferenceID   string       `json:"event_reference_id,omitempty"`
			GatewaySerial string       `json:"gateway_serial"`
			AppVersion    string       `json:"gateway_app_version,omitempty"`
			Devices       []wireDevice `json:"device_connected_list"`
		}{wireEnv(m.Envelope, TypeGatewayState), m.ReferenceID, m.GatewaySerial, m.AppVersion, devs})
	case *Other:
		return marshal(struct {
			wireEnvelope
			DeviceSerial  string `json:"device_serial,omitempty"`
			GatewaySerial string `json:"gateway_serial,omitempty"`
		}{wireEnv(m.Envelope, ""), m.DeviceSerial, m.GatewaySerial})
	}
	return nil, &FieldError{Field: "event_type", Err: ErrNoType, Detail: "not a message type of this package"}
}
