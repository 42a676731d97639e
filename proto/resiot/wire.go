package resiot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Helpers shared by the decoders. Every known field is first captured as a
// json.RawMessage so that its JSON type can be checked and reported by name,
// instead of surfacing encoding/json's generic type errors.

// parseObject trims b and unmarshals it into v, which must be a pointer to a
// struct of json.RawMessage fields. It rejects anything but a JSON object.
func parseObject(b []byte, v any) error {
	data := bytes.TrimSpace(b)
	if len(data) == 0 {
		return fmt.Errorf("%w: empty frame", ErrMalformedJSON)
	}
	if data[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// Cannot happen with RawMessage fields, but classify it sanely.
			return fmt.Errorf("%w: %w", ErrWrongType, err)
		}
		return fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	return nil
}

// absent reports whether a field was missing or JSON null. The vendor says
// fields "can be empty or nil"; both mean "no value".
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// jsonKind names the JSON type of a non-empty raw value, for error details.
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

// decodeBool decodes a boolean field; absent means false.
func decodeBool(field string, raw json.RawMessage) (bool, error) {
	switch {
	case absent(raw):
		return false, nil
	case string(raw) == "true":
		return true, nil
	case string(raw) == "false":
		return false, nil
	}
	return false, wrongType(field, raw, "boolean")
}

// decodeStrings decodes an array of strings; absent means nil, [] means an
// empty, non-nil slice.
func decodeStrings(field string, raw json.RawMessage) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType(field, raw, "array of strings")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := decodeString(field+"["+strconv.Itoa(i)+"]", item)
		if err != nil {
			return nil, err
		}
		if absent(item) {
			// A null element has no string to keep; reject rather than
			// invent an empty EUI.
			return nil, wrongType(field+"["+strconv.Itoa(i)+"]", item, "string")
		}
		out = append(out, s)
	}
	return out, nil
}

// compactText returns a non-string JSON value as compact JSON text.
func compactText(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		// raw was validated by json.Unmarshal; keep it verbatim regardless.
		return string(raw)
	}
	return buf.String()
}

// marshal encodes v without HTML escaping, so that values such as a
// Reference containing '<' or '&' go on the wire as the caller wrote them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
