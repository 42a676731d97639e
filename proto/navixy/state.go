package navixy

import (
	"encoding/json"
	"slices"
)

// State formats a subscription may ask for.
const (
	FormatFull    = "full"    // every field (the default)
	FormatCompact = "compact" // source_id, gps, statuses, ignition, last_update
)

// Connection statuses (State.ConnectionStatus).
const (
	ConnSignalLost     = "signal_lost"
	ConnJustRegistered = "just_registered"
	ConnJustReplaced   = "just_replaced"
	ConnOffline        = "offline"
	ConnIdle           = "idle"
	ConnActive         = "active"
)

// Movement statuses (State.MovementStatus).
const (
	MovingMoving  = "moving"
	MovingStopped = "stopped"
	MovingParked  = "parked"
)

// State is a tracker's state as the "state" event (and each element of
// "state_batch") carries it. Times are in the user's zone (see LocalTime).
// Absent and null fields decode alike: nil pointers, "" times, 0 numbers.
type State struct {
	// SourceID identifies the device. It is not the tracker id: map it
	// with the tracker list (Tracker.Source.ID). Required.
	SourceID int64
	// GPS is the last position fix; nil when the message has none.
	GPS                  *GPS
	ConnectionStatus     string // one of the Conn* values
	MovementStatus       string // one of the Moving* values
	MovementStatusUpdate LocalTime
	Ignition             *bool // nil when unknown (null)
	IgnitionUpdate       LocalTime
	// GSM is the cellular state; nil when null (as in the vendor's sample).
	GSM               *GSM
	LastUpdate        LocalTime // when the tracker last reported anything
	BatteryLevel      *int      // percent; nil when null
	BatteryUpdate     LocalTime
	Inputs            []bool // discrete inputs; nil when absent
	InputsUpdate      LocalTime
	Outputs           []bool // discrete outputs; nil when absent
	OutputsUpdate     LocalTime
	ActualTrackUpdate LocalTime
	// Raw is the state object exactly as received (a sub-slice of the
	// message for a state_batch element). Encoders ignore it.
	Raw []byte
}

// GPS is State.GPS.
type GPS struct {
	Updated     LocalTime
	SignalLevel int // percent
	// Location is nil when the tracker has no fix (null or absent).
	Location *Location
	Heading  float64 // degrees, 0–360
	Speed    float64 // km/h
	Alt      float64 // metres
}

// Location is a WGS84 position.
type Location struct {
	Lat float64
	Lng float64
}

// GSM is State.GSM.
type GSM struct {
	Updated     LocalTime
	SignalLevel *int // percent; nil when null
	NetworkName string
	Roaming     *bool
}

// Equal reports whether two states say the same, ignoring Raw.
func (s *State) Equal(o *State) bool {
	return s.SourceID == o.SourceID && eqPtr(s.GPS, o.GPS, func(a, b *GPS) bool {
		return a.Updated == b.Updated && a.SignalLevel == b.SignalLevel && a.Heading == b.Heading &&
			a.Speed == b.Speed && a.Alt == b.Alt && eqPtr(a.Location, b.Location, func(x, y *Location) bool { return *x == *y })
	}) && s.ConnectionStatus == o.ConnectionStatus && s.MovementStatus == o.MovementStatus &&
		s.MovementStatusUpdate == o.MovementStatusUpdate && eqPtr(s.Ignition, o.Ignition, eqVal) &&
		s.IgnitionUpdate == o.IgnitionUpdate && eqPtr(s.GSM, o.GSM, func(a, b *GSM) bool {
		return a.Updated == b.Updated && eqPtr(a.SignalLevel, b.SignalLevel, eqVal) && a.NetworkName == b.NetworkName && eqPtr(a.Roaming, b.Roaming, eqVal)
	}) && s.LastUpdate == o.LastUpdate && eqPtr(s.BatteryLevel, o.BatteryLevel, eqVal) &&
		s.BatteryUpdate == o.BatteryUpdate && slices.Equal(s.Inputs, o.Inputs) && s.InputsUpdate == o.InputsUpdate &&
		slices.Equal(s.Outputs, o.Outputs) && s.OutputsUpdate == o.OutputsUpdate && s.ActualTrackUpdate == o.ActualTrackUpdate
}

func eqVal[T comparable](a, b *T) bool { return *a == *b }

func eqPtr[T any](a, b *T, eq func(a, b *T) bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return eq(a, b)
}

type wireState struct {
	SourceID             json.RawMessage `json:"source_id"`
	GPS                  json.RawMessage `json:"gps"`
	ConnectionStatus     json.RawMessage `json:"connection_status"`
	MovementStatus       json.RawMessage `json:"movement_status"`
	MovementStatusUpdate json.RawMessage `json:"movement_status_update"`
	Ignition             json.RawMessage `json:"ignition"`
	IgnitionUpdate       json.RawMessage `json:"ignition_update"`
	GSM                  json.RawMessage `json:"gsm"`
	LastUpdate           json.RawMessage `json:"last_update"`
	BatteryLevel         json.RawMessage `json:"battery_level"`
	BatteryUpdate        json.RawMessage `json:"battery_update"`
	Inputs               json.RawMessage `json:"inputs"`
	InputsUpdate         json.RawMessage `json:"inputs_update"`
	Outputs              json.RawMessage `json:"outputs"`
	OutputsUpdate        json.RawMessage `json:"outputs_update"`
	ActualTrackUpdate    json.RawMessage `json:"actual_track_update"`
}

type wireGPS struct {
	Updated     json.RawMessage `json:"updated"`
	SignalLevel json.RawMessage `json:"signal_level"`
	Location    json.RawMessage `json:"location"`
	Heading     json.RawMessage `json:"heading"`
	Speed       json.RawMessage `json:"speed"`
	Alt         json.RawMessage `json:"alt"`
}

type wireLocation struct {
	Lat json.RawMessage `json:"lat"`
	Lng json.RawMessage `json:"lng"`
}

type wireGSM struct {
	Updated     json.RawMessage `json:"updated"`
	SignalLevel json.RawMessage `json:"signal_level"`
	NetworkName json.RawMessage `json:"network_name"`
	Roaming     json.RawMessage `json:"roaming"`
}

// decodeState decodes one state object; p is its path ("data",
// "data[3]") for error messages.
func decodeState(p string, raw json.RawMessage) (State, error) {
	var s State
	var w wireState
	if absent(raw) {
		return s, wrongType(p, raw, "object")
	}
	if err := parseObject(p, raw, &w); err != nil {
		return s, err
	}
	if absent(w.SourceID) {
		return s, &FieldError{Field: p + ".source_id", Err: ErrMissing}
	}
	var err error
	if s.SourceID, err = decodeInt(p+".source_id", w.SourceID); err != nil {
		return s, err
	}
	if s.GPS, err = decodeGPS(p+".gps", w.GPS); err != nil {
		return s, err
	}
	for _, f := range []struct {
		dst   *string
		field string
		raw   json.RawMessage
	}{
		{&s.ConnectionStatus, "connection_status", w.ConnectionStatus},
		{&s.MovementStatus, "movement_status", w.MovementStatus},
	} {
		if *f.dst, err = decodeString(p+"."+f.field, f.raw); err != nil {
			return s, err
		}
	}
	for _, f := range []struct {
		dst   *LocalTime
		field string
		raw   json.RawMessage
	}{
		{&s.MovementStatusUpdate, "movement_status_update", w.MovementStatusUpdate},
		{&s.IgnitionUpdate, "ignition_update", w.IgnitionUpdate},
		{&s.LastUpdate, "last_update", w.LastUpdate},
		{&s.BatteryUpdate, "battery_update", w.BatteryUpdate},
		{&s.InputsUpdate, "inputs_update", w.InputsUpdate},
		{&s.OutputsUpdate, "outputs_update", w.OutputsUpdate},
		{&s.ActualTrackUpdate, "actual_track_update", w.ActualTrackUpdate},
	} {
		if *f.dst, err = decodeTime(p+"."+f.field, f.raw); err != nil {
			return s, err
		}
	}
	if s.Ignition, err = decodeOptBool(p+".ignition", w.Ignition); err != nil {
		return s, err
	}
	if s.GSM, err = decodeGSM(p+".gsm", w.GSM); err != nil {
		return s, err
	}
	if s.BatteryLevel, err = decodeOptInt(p+".battery_level", w.BatteryLevel); err != nil {
		return s, err
	}
	if s.Inputs, err = decodeBools(p+".inputs", w.Inputs); err != nil {
		return s, err
	}
	if s.Outputs, err = decodeBools(p+".outputs", w.Outputs); err != nil {
		return s, err
	}
	s.Raw = raw
	return s, nil
}

func decodeGPS(p string, raw json.RawMessage) (*GPS, error) {
	if absent(raw) {
		return nil, nil
	}
	var w wireGPS
	if err := parseObject(p, raw, &w); err != nil {
		return nil, err
	}
	g := &GPS{}
	var err error
	if g.Updated, err = decodeTime(p+".updated", w.Updated); err != nil {
		return nil, err
	}
	sl, err := decodeOptInt(p+".signal_level", w.SignalLevel)
	if err != nil {
		return nil, err
	}
	if sl != nil {
		g.SignalLevel = *sl
	}
	if !absent(w.Location) {
		var l wireLocation
		if err := parseObject(p+".location", w.Location, &l); err != nil {
			return nil, err
		}
		g.Location = &Location{}
		if g.Location.Lat, err = decodeFloat(p+".location.lat", l.Lat); err != nil {
			return nil, err
		}
		if g.Location.Lng, err = decodeFloat(p+".location.lng", l.Lng); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		dst   *float64
		field string
		raw   json.RawMessage
	}{
		{&g.Heading, "heading", w.Heading},
		{&g.Speed, "speed", w.Speed},
		{&g.Alt, "alt", w.Alt},
	} {
		if *f.dst, err = decodeFloat(p+"."+f.field, f.raw); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func decodeGSM(p string, raw json.RawMessage) (*GSM, error) {
	if absent(raw) {
		return nil, nil
	}
	var w wireGSM
	if err := parseObject(p, raw, &w); err != nil {
		return nil, err
	}
	g := &GSM{}
	var err error
	if g.Updated, err = decodeTime(p+".updated", w.Updated); err != nil {
		return nil, err
	}
	if g.SignalLevel, err = decodeOptInt(p+".signal_level", w.SignalLevel); err != nil {
		return nil, err
	}
	if g.NetworkName, err = decodeString(p+".network_name", w.NetworkName); err != nil {
		return nil, err
	}
	if g.Roaming, err = decodeOptBool(p+".roaming", w.Roaming); err != nil {
		return nil, err
	}
	return g, nil
}

// writeState writes s in the key order of the vendor's sample. The compact
// format keeps source_id, gps, the statuses with their update times,
// ignition with its update time, and last_update.
func writeState(w *writer, s *State, format string) {
	compact := format == FormatCompact
	w.open('{')
	w.integer("source_id", s.SourceID)
	if s.GPS == nil {
		w.null("gps")
	} else {
		g := s.GPS
		w.key("gps")
		w.open('{')
		w.strOrNull("updated", string(g.Updated))
		w.integer("signal_level", int64(g.SignalLevel))
		if g.Location == nil {
			w.null("location")
		} else {
			w.key("location")
			w.open('{')
			w.float("lat", g.Location.Lat)
			w.float("lng", g.Location.Lng)
			w.close('}')
		}
		w.float("heading", g.Heading)
		w.float("speed", g.Speed)
		w.float("alt", g.Alt)
		w.close('}')
	}
	w.str("connection_status", s.ConnectionStatus)
	w.str("movement_status", s.MovementStatus)
	w.strOrNull("movement_status_update", string(s.MovementStatusUpdate))
	w.optBool("ignition", s.Ignition)
	w.strOrNull("ignition_update", string(s.IgnitionUpdate))
	if !compact {
		if s.GSM == nil {
			w.null("gsm")
		} else {
			g := s.GSM
			w.key("gsm")
			w.open('{')
			w.strOrNull("updated", string(g.Updated))
			w.optInt("signal_level", g.SignalLevel)
			w.str("network_name", g.NetworkName)
			w.optBool("roaming", g.Roaming)
			w.close('}')
		}
	}
	w.strOrNull("last_update", string(s.LastUpdate))
	if !compact {
		w.optInt("battery_level", s.BatteryLevel)
		w.strOrNull("battery_update", string(s.BatteryUpdate))
		w.bools("inputs", s.Inputs)
		w.strOrNull("inputs_update", string(s.InputsUpdate))
		w.bools("outputs", s.Outputs)
		w.strOrNull("outputs_update", string(s.OutputsUpdate))
		w.strOrNull("actual_track_update", string(s.ActualTrackUpdate))
	}
	w.close('}')
}
