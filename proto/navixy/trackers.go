package navixy

import (
	"encoding/json"
	"strconv"
)

// Tracker is one entry of the tracker/list answer. Only what a connector
// needs is decoded; other keys are ignored.
type Tracker struct {
	ID      int64 // the tracker id (object id) subscriptions name
	Label   string
	GroupID int64
	Clone   bool
	Source  Source
}

// Source is Tracker.Source: the device behind the tracker.
type Source struct {
	// ID is what state and lifecycle events call source_id.
	ID       int64
	DeviceID string // IMEI or similar
	Model    string
	Blocked  bool
	Phone    string
}

// DecodeTrackerList reads {"success":true,"list":[…]}. "success":false
// gives an *APIError (3 wrong hash, 4 session ended, …).
func DecodeTrackerList(b []byte) ([]Tracker, error) {
	w, err := decodeAnswer(b)
	if err != nil {
		return nil, err
	}
	items, err := decodeArray("list", w.List)
	if err != nil {
		return nil, err
	}
	out := make([]Tracker, 0, len(items))
	for i, it := range items {
		p := "list[" + strconv.Itoa(i) + "]"
		t, err := decodeTracker(p, it)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func decodeTracker(p string, raw json.RawMessage) (Tracker, error) {
	var t Tracker
	var w struct {
		ID      json.RawMessage `json:"id"`
		Label   json.RawMessage `json:"label"`
		GroupID json.RawMessage `json:"group_id"`
		Clone   json.RawMessage `json:"clone"`
		Source  json.RawMessage `json:"source"`
	}
	if absent(raw) {
		return t, wrongType(p, raw, "object")
	}
	if err := parseObject(p, raw, &w); err != nil {
		return t, err
	}
	if absent(w.ID) {
		return t, &FieldError{Field: p + ".id", Err: ErrMissing}
	}
	var err error
	if t.ID, err = decodeInt(p+".id", w.ID); err != nil {
		return t, err
	}
	if t.Label, err = decodeString(p+".label", w.Label); err != nil {
		return t, err
	}
	if t.GroupID, err = decodeInt(p+".group_id", w.GroupID); err != nil {
		return t, err
	}
	if t.Clone, err = decodeBool(p+".clone", w.Clone); err != nil {
		return t, err
	}
	if absent(w.Source) {
		return t, &FieldError{Field: p + ".source", Err: ErrMissing}
	}
	var s struct {
		ID       json.RawMessage `json:"id"`
		DeviceID json.RawMessage `json:"device_id"`
		Model    json.RawMessage `json:"model"`
		Blocked  json.RawMessage `json:"blocked"`
		Phone    json.RawMessage `json:"phone"`
	}
	if err := parseObject(p+".source", w.Source, &s); err != nil {
		return t, err
	}
	if absent(s.ID) {
		return t, &FieldError{Field: p + ".source.id", Err: ErrMissing}
	}
	if t.Source.ID, err = decodeInt(p+".source.id", s.ID); err != nil {
		return t, err
	}
	if t.Source.DeviceID, err = decodeString(p+".source.device_id", s.DeviceID); err != nil {
		return t, err
	}
	if t.Source.Model, err = decodeString(p+".source.model", s.Model); err != nil {
		return t, err
	}
	if t.Source.Blocked, err = decodeBool(p+".source.blocked", s.Blocked); err != nil {
		return t, err
	}
	if t.Source.Phone, err = decodeString(p+".source.phone", s.Phone); err != nil {
		return t, err
	}
	return t, nil
}

// EncodeTrackerList writes {"success":true,"list":[…]} with each tracker's
// id, label, group_id, clone and source (id, device_id, model, blocked,
// phone), in that order.
func EncodeTrackerList(list []Tracker) []byte {
	w := &writer{}
	w.open('{')
	w.boolean("success", true)
	w.key("list")
	w.open('[')
	for _, t := range list {
		w.sep()
		w.open('{')
		w.integer("id", t.ID)
		w.str("label", t.Label)
		w.integer("group_id", t.GroupID)
		w.boolean("clone", t.Clone)
		w.key("source")
		w.open('{')
		w.integer("id", t.Source.ID)
		w.str("device_id", t.Source.DeviceID)
		w.str("model", t.Source.Model)
		w.boolean("blocked", t.Source.Blocked)
		w.str("phone", t.Source.Phone)
		w.close('}')
		w.close('}')
	}
	w.close(']')
	w.close('}')
	return w.b
}
