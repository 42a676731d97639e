package proglove

import (
	"fmt"
	"strconv"
)

// Command types a client sends (client → server). Every command type ends
// in "!".
const (
	TypeFeedback            = "feedback!"
	TypeDisplay             = "display!"
	TypeTriggerBlock        = "trigger_block!"
	TypeGatewayStateRequest = "gateway_state!"
)

// Feedback actions (feedback_action_id).
const (
	FeedbackPositive      = "FEEDBACK_POSITIVE"
	FeedbackNegative      = "FEEDBACK_NEGATIVE"
	FeedbackSpecialYellow = "FEEDBACK_SPECIAL_YELLOW"
	FeedbackSpecialPurple = "FEEDBACK_SPECIAL_PURPLE"
	FeedbackSpecialCyan   = "FEEDBACK_SPECIAL_CYAN"
)

// Display refresh types (display_refresh_type).
const (
	RefreshDefault = "DEFAULT"
	RefreshFull    = "FULL_REFRESH"
	RefreshPartial = "PARTIAL_REFRESH"
)

// Trigger gestures.
const (
	GestureSingleClick = "TRIGGER_SINGLE_CLICK"
	GestureDoubleClick = "TRIGGER_DOUBLE_CLICK"
	GestureTripleClick = "TRIGGER_TRIPLE_CLICK"
)

// Limits of the Streams API (lengths in characters).
const (
	MinTimeCreated   = 1546300800000  // time_created lower bound, Unix ms (2019-01-01)
	MaxTimeCreated   = 99999999999999 // time_created upper bound, Unix ms
	MaxSerial        = 128            // device_serial, gateway_serial: 1..128
	MaxTemplateID    = 15             // display_template_id: 1..15
	MaxDisplayFields = 12
	MaxFieldHeader   = 40
	MaxFieldText     = 80
	MaxGestures      = 15 // per gesture list of trigger_block!
)

var (
	feedbackActions = []string{FeedbackPositive, FeedbackNegative, FeedbackSpecialYellow, FeedbackSpecialPurple, FeedbackSpecialCyan}
	refreshTypes    = []string{RefreshDefault, RefreshFull, RefreshPartial}
	gestures        = []string{GestureSingleClick, GestureDoubleClick, GestureTripleClick}
)

// Command is a Streams API command: *Feedback, *Display, *TriggerBlock,
// *GatewayStateRequest, or (from DecodeCommand only) *UnknownCommand.
type Command interface {
	Header() *Envelope
	// Validate checks every rule of the protocol notes: the envelope
	// (api_version, event_type, a lowercase UUID event_id, time_created in
	// range) and the command's fields (enumerations, ranges, lengths).
	// Errors are *FieldError values naming the field and the rule.
	Validate() error
	// Serial is the device_serial the command addresses, "" for none.
	Serial() string
}

// Feedback plays a feedback sequence on a scanner (event_type "feedback!").
type Feedback struct {
	Envelope
	DeviceSerial  string
	GatewaySerial string // optional
	Action        string // feedback_action_id: FeedbackPositive, …
	// TimeToLive is event_time_to_live_duration in ms, 0 for none; it
	// needs APIVersion11 (EncodeCommand picks it when APIVersion is empty).
	TimeToLive int64
}

// DisplayField is one entry of display_fields.
type DisplayField struct {
	ID     int64  // display_field_id, ≥ 1
	Header string // display_field_header, ≤ 40 characters
	Text   string // display_field_text, ≤ 80 characters
}

// Display shows a template on a display scanner (event_type "display!").
type Display struct {
	Envelope
	DeviceSerial  string
	GatewaySerial string // optional
	TemplateID    string // display_template_id, 1..15 characters: "PG3", "PG2A", …
	RefreshType   string // display_refresh_type; "" is written as DEFAULT
	// ValidityDuration is time_validity_duration in ms: 0 permanent, > 0 a
	// notification shown that long.
	ValidityDuration int64
	Fields           []DisplayField // at most 12
}

// TriggerBlock blocks or unblocks a scanner's trigger (event_type
// "trigger_block!").
type TriggerBlock struct {
	Envelope
	DeviceSerial    string
	GatewaySerial   string   // optional
	BlockState      bool     // trigger_block_state: true blocks, false unblocks
	BlockGestures   []string // trigger_block_gesture_list; empty blocks every gesture
	UnblockGestures []string // trigger_unblock_gesture_list: gestures that lift the block
	// ValidityDuration is time_validity_duration in ms; 0 blocks until
	// unblocked.
	ValidityDuration int64
}

// GatewayStateRequest asks the gateway for a GatewayState (event_type
// "gateway_state!"); it has no fields besides the envelope.
type GatewayStateRequest struct {
	Envelope
}

// UnknownCommand is what DecodeCommand returns, with ErrNoType or
// ErrUnknownCommand, for an object whose event_type is no command: it
// keeps the envelope so that a server can still name the event_id.
type UnknownCommand struct {
	Envelope
}

func (c *Feedback) Serial() string            { return c.DeviceSerial }
func (c *Display) Serial() string             { return c.DeviceSerial }
func (c *TriggerBlock) Serial() string        { return c.DeviceSerial }
func (c *GatewayStateRequest) Serial() string { return "" }
func (c *UnknownCommand) Serial() string      { return "" }

// Validate implements Command.
func (c *Feedback) Validate() error {
	if err := validateEnvelope(c.Envelope, TypeFeedback); err != nil {
		return err
	}
	if err := validateSerials(c.DeviceSerial, c.GatewaySerial); err != nil {
		return err
	}
	if c.Action == "" {
		return missing("feedback_action_id")
	}
	if err := oneOf("feedback_action_id", c.Action, feedbackActions); err != nil {
		return err
	}
	if c.TimeToLive < 0 {
		return badValue("event_time_to_live_duration", "must be ≥ 0 ms, got "+strconv.FormatInt(c.TimeToLive, 10))
	}
	if c.TimeToLive > 0 && c.APIVersion != APIVersion11 {
		return badValue("event_time_to_live_duration", `needs api_version "1.1", got `+strconv.Quote(c.APIVersion))
	}
	return nil
}

// Validate implements Command.
func (c *Display) Validate() error {
	if err := validateEnvelope(c.Envelope, TypeDisplay); err != nil {
		return err
	}
	if err := validateSerials(c.DeviceSerial, c.GatewaySerial); err != nil {
		return err
	}
	if c.TemplateID == "" {
		return missing("display_template_id")
	}
	if err := checkLen("display_template_id", c.TemplateID, 1, MaxTemplateID); err != nil {
		return err
	}
	if c.RefreshType != "" {
		if err := oneOf("display_refresh_type", c.RefreshType, refreshTypes); err != nil {
			return err
		}
	}
	if c.ValidityDuration < 0 {
		return badValue("time_validity_duration", "must be ≥ 0 ms, got "+strconv.FormatInt(c.ValidityDuration, 10))
	}
	if len(c.Fields) > MaxDisplayFields {
		return badValue("display_fields", fmt.Sprintf("at most %d fields, got %d", MaxDisplayFields, len(c.Fields)))
	}
	for i, f := range c.Fields {
		name := "display_fields[" + strconv.Itoa(i) + "]."
		if f.ID < 1 {
			return badValue(name+"display_field_id", "must be ≥ 1, got "+strconv.FormatInt(f.ID, 10))
		}
		if err := checkLen(name+"display_field_header", f.Header, 0, MaxFieldHeader); err != nil {
			return err
		}
		if err := checkLen(name+"display_field_text", f.Text, 0, MaxFieldText); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements Command.
func (c *TriggerBlock) Validate() error {
	if err := validateEnvelope(c.Envelope, TypeTriggerBlock); err != nil {
		return err
	}
	if err := validateSerials(c.DeviceSerial, c.GatewaySerial); err != nil {
		return err
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"trigger_block_gesture_list", c.BlockGestures}, {"trigger_unblock_gesture_list", c.UnblockGestures}} {
		if len(l.list) > MaxGestures {
			return badValue(l.field, fmt.Sprintf("at most %d gestures, got %d", MaxGestures, len(l.list)))
		}
		for i, g := range l.list {
			if err := oneOf(l.field+"["+strconv.Itoa(i)+"]", g, gestures); err != nil {
				return err
			}
		}
	}
	if c.ValidityDuration < 0 {
		return badValue("time_validity_duration", "must be ≥ 0 ms, got "+strconv.FormatInt(c.ValidityDuration, 10))
	}
	return nil
}

// Validate implements Command.
func (c *GatewayStateRequest) Validate() error {
	return validateEnvelope(c.Envelope, TypeGatewayStateRequest)
}

// Validate implements Command: an unknown command is never valid.
func (c *UnknownCommand) Validate() error {
	if c.Type == "" {
		return ErrNoType
	}
	return &FieldError{Field: "event_type", Err: ErrUnknownCommand, Detail: fmt.Sprintf("%q is not feedback!, display!, trigger_block! or gateway_state!", c.Type)}
}

func validateEnvelope(e Envelope, typ string) error {
	switch {
	case e.APIVersion == "":
		return missing("api_version")
	case e.APIVersion != APIVersion10 && e.APIVersion != APIVersion11:
		return badValue("api_version", `must be "1.0" or "1.1", got `+strconv.Quote(e.APIVersion))
	case e.Type != typ:
		return badValue("event_type", fmt.Sprintf("must be %q for this command, got %q", typ, e.Type))
	case e.ID == "":
		return missing("event_id")
	case !ValidEventID(e.ID):
		return badValue("event_id", "must be a lowercase UUID, got "+strconv.Quote(e.ID))
	case e.Created == 0:
		return missing("time_created")
	case e.Created < MinTimeCreated || e.Created > MaxTimeCreated:
		return badValue("time_created", fmt.Sprintf("must be Unix ms in %d..%d, got %d", int64(MinTimeCreated), int64(MaxTimeCreated), e.Created))
	}
	return nil
}

func validateSerials(device, gateway string) error {
	if device == "" {
		return missing("device_serial")
	}
	if err := checkLen("device_serial", device, 1, MaxSerial); err != nil {
		return err
	}
	if gateway != "" {
		return checkLen("gateway_serial", gateway, 1, MaxSerial)
	}
	return nil
}

// EncodeCommand validates c and encodes it with the key order of the
// vendor's examples. Before validating it fills an empty Type with the
// command's own and an empty APIVersion with "1.0" ("1.1" for a Feedback
// with a TimeToLive); it does not invent an event_id or a time (see
// NewEventID, CommandFrame). Optional fields are left out when empty;
// display_refresh_type is written as DEFAULT when empty, and the gesture
// lists as [] when nil. Every non-ASCII character is written as a \uXXXX
// escape, as the display command requires.
func EncodeCommand(c Command) ([]byte, error) {
	var v any
	switch c := c.(type) {
	case *Feedback:
		cp := *c
		fillEnvelope(&cp.Envelope, TypeFeedback)
		if c.APIVersion == "" && cp.TimeToLive > 0 {
			cp.APIVersion = APIVersion11
		}
		if err := cp.Validate(); err != nil {
			return nil, err
		}
		v = struct {
			wireEnvelope
			DeviceSerial  string `json:"device_serial"`
			GatewaySerial string `json:"gateway_serial,omitempty"`
			Action        string `json:"feedback_action_id"`
			TimeToLive    int64  `json:"event_time_to_live_duration,omitempty"`
		}{wireEnv(cp.Envelope, ""), cp.DeviceSerial, cp.GatewaySerial, cp.Action, cp.TimeToLive}
	case *Display:
		cp := *c
		fillEnvelope(&cp.Envelope, TypeDisplay)
		if err := cp.Validate(); err != nil {
			return nil, err
		}
		if cp.RefreshType == "" {
			cp.RefreshType = RefreshDefault
		}
		type wireField struct {
			ID     int64  `json:"display_field_id"`
			Header string `json:"display_field_header"`
			Text   string `json:"display_field_text"`
		}
		fields := make([]wireField, len(cp.Fields))
		for i, f := range cp.Fields {
			fields[i] = wireField(f)
		}
		v = struct {
			wireEnvelope
			DeviceSerial     string      `json:"device_serial"`
			GatewaySerial    string      `json:"gateway_serial,omitempty"`
			TemplateID       string      `json:"display_template_id"`
			RefreshType      string      `json:"display_refresh_type"`
			ValidityDuration int64       `json:"time_validity_duration"`
			Fields           []wireField `json:"display_fields"`
		}{wireEnv(cp.Envelope, ""), cp.DeviceSerial, cp.GatewaySerial, cp.TemplateID, cp.RefreshType, cp.ValidityDuration, fields}
	case *TriggerBlock:
		cp := *c
		fillEnvelope(&cp.Envelope, TypeTriggerBlock)
		if err := cp.Validate(); err != nil {
			return nil, err
		}
		v = struct {
			wireEnvelope
			DeviceSerial     string   `json:"device_serial"`
			GatewaySerial    string   `json:"gateway_serial,omitempty"`
			BlockState       bool     `json:"trigger_block_state"`
			BlockGestures    []string `json:"trigger_block_gesture_list"`
			UnblockGestures  []string `json:"trigger_unblock_gesture_list"`
			ValidityDuration int64    `json:"time_validity_duration"`
		}{wireEnv(cp.Envelope, ""), cp.DeviceSerial, cp.GatewaySerial, cp.BlockState, nonNil(cp.BlockGestures), nonNil(cp.UnblockGestures), cp.ValidityDuration}
	case *GatewayStateRequest:
		cp := *c
		fillEnvelope(&cp.Envelope, TypeGatewayStateRequest)
		if err := cp.Validate(); err != nil {
			return nil, err
		}
		v = wireEnv(cp.Envelope, "")
	case *UnknownCommand:
		return nil, c.Validate()
	default:
		return nil, &FieldError{Field: "event_type", Err: ErrUnknownCommand, Detail: fmt.Sprintf("%T is not a command of this package", c)}
	}
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return asciiJSON(b), nil
}

func fillEnvelope(e *Envelope, typ string) {
	if e.Type == "" {
		e.Type = typ
	}
	if e.APIVersion == "" {
		e.APIVersion = APIVersion10
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DecodeCommand decodes and validates a command as the gateway receives it
// (the simulator uses it). Whenever b is a JSON object it returns a
// non-nil Command, even with an error, so that a server can answer with the
// command's event_id: a *UnknownCommand with ErrNoType or
// ErrUnknownCommand when event_type is absent or not a command, otherwise
// the command with every field that decoded and the first error found
// (wrong JSON type, ErrMissing for a required field, then Validate's
// rules). Unknown keys are ignored.
func DecodeCommand(b []byte) (Command, error) {
	o, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	var env Envelope
	d := decoder{o: o}
	if raw := o["api_version"]; !absent(raw) && jsonKind(raw) == "number" {
		env.APIVersion = string(raw)
	} else {
		d.str(&env.APIVersion, "api_version")
	}
	d.str(&env.Type, "event_type")
	d.str(&env.ID, "event_id")
	d.integer(&env.Created, "time_created")

	var c Command
	switch env.Type {
	case TypeFeedback:
		f := &Feedback{Envelope: env}
		d.str(&f.DeviceSerial, "device_serial")
		d.str(&f.GatewaySerial, "gateway_serial")
		d.str(&f.Action, "feedback_action_id")
		d.integer(&f.TimeToLive, "event_time_to_live_duration")
		d.require("device_serial", "feedback_action_id")
		c = f
	case TypeDisplay:
		f := &Display{Envelope: env}
		d.str(&f.DeviceSerial, "device_serial")
		d.str(&f.GatewaySerial, "gateway_serial")
		d.str(&f.TemplateID, "display_template_id")
		d.str(&f.RefreshType, "display_refresh_type")
		d.integer(&f.ValidityDuration, "time_validity_duration")
		list, err := o.objects("display_fields")
		d.keep(err)
		for i, item := range list {
			dd := decoder{o: item, prefix: "display_fields[" + strconv.Itoa(i) + "]."}
			var df DisplayField
			dd.integer(&df.ID, "display_field_id")
			dd.str(&df.Header, "display_field_header")
			dd.str(&df.Text, "display_field_text")
			dd.require("display_field_id")
			d.keep(dd.err)
			f.Fields = append(f.Fields, df)
		}
		d.require("device_serial", "display_template_id")
		c = f
	case TypeTriggerBlock:
		f := &TriggerBlock{Envelope: env}
		d.str(&f.DeviceSerial, "device_serial")
		d.str(&f.GatewaySerial, "gateway_serial")
		d.boolean(&f.BlockState, "trigger_block_state")
		d.stringList(&f.BlockGestures, "trigger_block_gesture_list")
		d.stringList(&f.UnblockGestures, "trigger_unblock_gesture_list")
		d.integer(&f.ValidityDuration, "time_validity_duration")
		d.require("device_serial", "trigger_block_state")
		c = f
	case TypeGatewayStateRequest:
		c = &GatewayStateRequest{Envelope: env}
	default:
		u := &UnknownCommand{Envelope: env}
		if d.err != nil {
			return u, d.err
		}
		return u, u.Validate()
	}
	if d.err != nil {
		return c, d.err
	}
	return c, c.Validate()
}
