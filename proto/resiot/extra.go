package resiot

import (
	"encoding/json"
	"iter"
	"slices"
	"strconv"
)

// Extra holds the additional per-communication data ResIOT attaches to a
// communication: radio metadata on comm_rx, priority and window on comm_tx,
// or the "Custom" fields configured on the connector.
//
// The vendor sends it in two shapes and both decode to the same map:
//
//	{"rssi":"-18","sf":"7"}                           (every example)
//	[{"fieldname":"rssi","fieldvalue":"-18"}, ...]    (the schema table)
//
// String values are kept as they are; any other JSON value is kept as its
// compact JSON text (0 becomes "0", true becomes "true", {"a": 1} becomes
// `{"a":1}`). A JSON null value is kept as "", the vendor's own "empty".
// When a key repeats, the last occurrence wins.
type Extra map[string]string

// Keys returns the keys in ascending byte order.
func (e Extra) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// All iterates over the key/value pairs in ascending key order.
func (e Extra) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, k := range e.Keys() {
			if !yield(k, e[k]) {
				return
			}
		}
	}
}

// extraValue turns one JSON value into its Extra text.
func extraValue(raw json.RawMessage) (string, error) {
	switch {
	case absent(raw):
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	default:
		return compactText(raw), nil
	}
}

// extraItem is one element of the schema's list form. Field matching is
// case-insensitive (encoding/json), so "FieldName" is accepted too.
type extraItem struct {
	FieldName  json.RawMessage `json:"fieldname"`
	FieldValue json.RawMessage `json:"fieldvalue"`
}

// decodeExtra accepts the object form, the list form, null and absence.
// Absent and null give a nil map; {} and [] give an empty one.
func decodeExtra(raw json.RawMessage) (Extra, error) {
	if absent(raw) {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, &FieldError{Field: "Extra", Err: ErrMalformedJSON, Cause: err}
		}
		out := make(Extra, len(fields))
		for k, v := range fields {
			s, err := extraValue(v)
			if err != nil {
				return nil, &FieldError{Field: "Extra." + k, Err: ErrMalformedJSON, Cause: err}
			}
			out[k] = s
		}
		return out, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, &FieldError{Field: "Extra", Err: ErrMalformedJSON, Cause: err}
		}
		out := make(Extra, len(items))
		for i, item := range items {
			field := "Extra[" + strconv.Itoa(i) + "]"
			if len(item) == 0 || item[0] != '{' {
				return nil, wrongType(field, item, `object {"fieldname","fieldvalue"}`)
			}
			var it extraItem
			if err := json.Unmarshal(item, &it); err != nil {
				return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
			}
			if absent(it.FieldName) {
				return nil, &FieldError{Field: field + ".fieldname", Err: ErrWrongType, Detail: "missing"}
			}
			name, err := decodeString(field+".fieldname", it.FieldName)
			if err != nil {
				return nil, err
			}
			value, err := extraValue(it.FieldValue)
			if err != nil {
				return nil, &FieldError{Field: field + ".fieldvalue", Err: ErrMalformedJSON, Cause: err}
			}
			out[name] = value
		}
		return out, nil
	}
	return nil, wrongType("Extra", raw, "object or array")
}
