package proglove

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
)

// Protocol is the value of event.Meta.Protocol on normalised events.
const Protocol = "proglove"

// Out is one normalised event and the channel it belongs on.
type Out struct {
	Channel string
	Event   event.Event
}

// Normalize turns a decoded message into fieldrelay events (one, for every
// message type):
//
//	scan           → event.Scan           on scanner/<serial>/scan
//	scanner_state  → event.ScannerState   on scanner/<serial>/state (retained)
//	button_pressed → event.ScannerButton  on scanner/<serial>/button
//	errors         → event.ScannerError   on scanner/<serial>/error, or
//	                 scanner/gateway/<gateway>/error without a device_serial
//	gateway_state  → event.ScannerGateway on scanner/gateway/<gateway>/state (retained)
//	other types    → event.ScannerOther   on scanner/<serial>/other (or the gateway's)
//
// Each event's Meta has the link name, Protocol, event_id, time_created in
// µs, received in µs and the message verbatim. Messages from Decode always
// normalise; an error is only possible for a hand-made message whose
// scan_bytes or decimals do not parse.
func Normalize(m Message, link string, received time.Time) ([]Out, error) {
	env := m.Header()
	meta := event.Meta{Link: link, Protocol: Protocol, ID: env.ID, Time: env.Created * 1000, Received: received.UnixMicro(), Raw: m.Bytes()}
	switch m := m.(type) {
	case *Scan:
		b, err := m.Decoded()
		if err != nil {
			return nil, err
		}
		dur, err := m.Duration()
		if err != nil {
			return nil, err
		}
		e := &event.Scan{Meta: meta, Serial: m.DeviceSerial, Code: m.Code(), Bytes: b, Gateway: m.GatewaySerial,
			Model: m.DeviceModel, Mode: m.ScanMode, Duration: dur}
		temp, ok, err := m.Temperature()
		if err != nil {
			return nil, err
		}
		if ok {
			e.Temperature = &temp
		}
		if m.ScanSessionID != nil {
			e.Session = *m.ScanSessionID
		}
		return []Out{{event.ScannerChannel(m.DeviceSerial, "scan"), e}}, nil
	case *ScannerState:
		e := &event.ScannerState{Meta: meta, Serial: m.DeviceSerial, Gateway: m.GatewaySerial, State: m.ConnectedState,
			Connected: m.ConnectedState == StateConnected, Reason: m.DisconnectReason}
		return []Out{{event.ScannerChannel(m.DeviceSerial, "state"), e}}, nil
	case *ButtonPressed:
		e := &event.ScannerButton{Meta: meta, Serial: m.DeviceSerial, Gateway: m.GatewaySerial, Gesture: m.TriggerGesture}
		return []Out{{event.ScannerChannel(m.DeviceSerial, "button"), e}}, nil
	case *ErrorEvent:
		e := &event.ScannerError{Meta: meta, Serial: m.DeviceSerial, Gateway: m.GatewaySerial, Code: m.Code,
			Severity: m.Severity, Message: m.Message, Reference: m.ReferenceID}
		return []Out{{deviceOrGateway(m.DeviceSerial, m.GatewaySerial, "error"), e}}, nil
	case *GatewayState:
		devs := make([]event.ScannerDevice, len(m.Devices))
		for i, d := range m.Devices {
			devs[i] = event.ScannerDevice{Serial: d.Serial, Firmware: d.FirmwareVersion, Model: d.Model, Manufacturer: d.Manufacturer}
		}
		e := &event.ScannerGateway{Meta: meta, Gateway: m.GatewaySerial, AppVersion: m.AppVersion, Reference: m.ReferenceID, Devices: devs}
		return []Out{{event.ScannerGatewayChannel(m.GatewaySerial, "state"), e}}, nil
	case *Other:
		e := &event.ScannerOther{Meta: meta, Type: m.Type, Serial: m.DeviceSerial, Gateway: m.GatewaySerial}
		return []Out{{deviceOrGateway(m.DeviceSerial, m.GatewaySerial, "other"), e}}, nil
	}
	return nil, fmt.Errorf("%w: %T is not a message of this package", ErrNoType, m)
}

func deviceOrGateway(device, gateway, leaf string) string {
	if device == "" {
		return event.ScannerGatewayChannel(gateway, leaf)
	}
	return event.ScannerChannel(device, leaf)
}

// NormalizeFrame is the whole receive path for one text frame, for a
// browser talking to the app directly: Split, Decode and Normalize. It
// returns the events of every good message, in order, and the errors of the
// bad ones joined (each wraps a sentinel; see ErrorKind). Meta.Raw of each
// event is its message verbatim.
func NormalizeFrame(frame []byte, link string, received time.Time) ([]Out, error) {
	var outs []Out
	var errs []error
	for _, msg := range Split(frame) {
		m, err := Decode(msg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o, err := Normalize(m, link, received)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outs = append(outs, o...)
	}
	return outs, errors.Join(errs...)
}

// CommandFrame is the whole send path for one command body, for the relay's
// connector and for a browser talking to the app directly: it turns a
// fieldrelay command body (event.ScannerFeedback, ScannerDisplay,
// ScannerTriggerBlock, ScannerGatewayState) for the scanner serial into the
// Streams API command, validates it (see Command.Validate) and encodes it.
// An empty id gets NewEventID, a zero created time.Now; the id used is
// returned so that the caller can match an ErrorEvent's ReferenceID.
// serial is ignored for ScannerGatewayState.
func CommandFrame(serial string, body event.Command, id string, created time.Time) (frame []byte, eventID string, err error) {
	if id == "" {
		id = NewEventID()
	}
	if created.IsZero() {
		created = time.Now()
	}
	env := Envelope{ID: id, Created: created.UnixMilli()}
	var c Command
	switch b := body.(type) {
	case *event.ScannerFeedback:
		c = &Feedback{Envelope: env, DeviceSerial: serial, Action: b.Action, TimeToLive: b.TimeToLiveMS}
	case *event.ScannerDisplay:
		d := &Display{Envelope: env, DeviceSerial: serial, TemplateID: b.Template, RefreshType: b.Refresh, ValidityDuration: b.DurationMS}
		if len(b.Fields) > 0 {
			d.Fields = make([]DisplayField, len(b.Fields))
		}
		for i, f := range b.Fields {
			d.Fields[i] = DisplayField{ID: int64(f.ID), Header: f.Header, Text: f.Text}
		}
		c = d
	case *event.ScannerTriggerBlock:
		c = &TriggerBlock{Envelope: env, DeviceSerial: serial, BlockState: b.Block, BlockGestures: b.BlockGestures,
			UnblockGestures: b.UnblockGestures, ValidityDuration: b.DurationMS}
	case *event.ScannerGatewayState:
		c = &GatewayStateRequest{Envelope: env}
	default:
		return nil, "", &FieldError{Field: "kind", Err: ErrUnknownCommand, Detail: fmt.Sprintf("%T is not a scanner command body", body)}
	}
	frame, err = EncodeCommand(c)
	if err != nil {
		return nil, "", err
	}
	return frame, id, nil
}

// TargetLevel checks a command's target channel for its kind and returns
// the level that names the addressee: the serial (as lower-cased in the
// channel) of scanner/<serial>/cmd for scanner commands, the gateway level
// of scanner/gateway/<gateway>/cmd for event.CmdScannerGatewayState (any
// level will do there, "_" when the gateway's serial is not known yet).
// Errors wrap ErrBadValue and state the expected form, or ErrUnknownCommand
// for a kind that is not a scanner command.
func TargetLevel(kind, target string) (string, error) {
	levels := strings.Split(target, "/")
	switch kind {
	case event.CmdScannerGatewayState:
		if len(levels) != 4 || levels[0] != "scanner" || levels[1] != "gateway" || levels[2] == "" || levels[3] != "cmd" {
			return "", badValue("target", "a "+kind+" command's target must be scanner/gateway/<gateway>/cmd, got "+target)
		}
		return levels[2], nil
	case event.CmdScannerFeedback, event.CmdScannerDisplay, event.CmdScannerTriggerBlock:
		if len(levels) != 3 || levels[0] != "scanner" || levels[1] == "" || levels[2] != "cmd" || levels[1] == "+" || levels[1] == "#" {
			return "", badValue("target", "a "+kind+" command's target must be scanner/<serial>/cmd, got "+target)
		}
		return levels[1], nil
	}
	return "", &FieldError{Field: "kind", Err: ErrUnknownCommand, Detail: fmt.Sprintf("%q is not a scanner command", kind)}
}
