package doshii

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Helpers shared by the decoders. Objects are captured as maps of
// json.RawMessage so that each value's JSON type can be checked and
// reported by name, instead of surfacing encoding/json's generic errors.

// parseObject trims b and unmarshals it as a JSON object.
func parseObject(b []byte) (object, error) {
	data := bytes.TrimSpace(b)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformedJSON)
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
	}
	var obj object
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	return obj, nil
}

// decodeObject decodes a field that must be an object; absent or null gives
// an empty object.
func decodeObject(field string, raw json.RawMessage) (object, error) {
	if absent(raw) {
		return object{}, nil
	}
	if raw[0] != '{' {
		return nil, wrongType(field, raw, "object")
	}
	var obj object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	return obj, nil
}

// absent reports whether a field was missing or JSON null: both mean "no
// value".
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// jsonKind names the JSON type of a raw value, for error details.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func wrongType(field string, raw json.RawMessage, want string) error {
	return &FieldError{Field: field, Err: ErrWrongType, Detail: "got " + jsonKind(raw) + ", want " + want}
}

// decodeString decodes a string field; absent means "".
func decodeString(field string, raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", wrongType(field, raw, "string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	return s, nil
}

// decodeText decodes an id-like field: a string, or a number kept as its
// JSON text; absent means "".
func decodeText(field string, raw json.RawMessage) (string, error) {
	if !absent(raw) && jsonKind(raw) == "number" {
		return string(raw), nil
	}
	if !absent(raw) && raw[0] != '"' {
		return "", wrongType(field, raw, "string or number")
	}
	return decodeString(field, raw)
}

// compactText returns a JSON value as compact JSON text.
func compactText(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		// raw was validated by json.Unmarshal; keep it verbatim regardless.
		return string(raw)
	}
	return buf.String()
}

// marshal encodes v without HTML escaping, so that names and versions go on
// the wire as the caller wrote them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
