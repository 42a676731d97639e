package proglovecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Helpers shared by the decoders. Objects are first split into their keys'
// raw JSON values, so that each known field's JSON type can be checked and
// reported by name and unknown keys can be kept (Extra).

// parseObject trims b and splits a JSON object into its members. It rejects
// anything but an object. When a key repeats, the last occurrence wins.
func parseObject(b []byte) (map[string]json.RawMessage, error) {
	data := bytes.TrimSpace(b)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformedJSON)
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	return m, nil
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

// numberText returns the text of a numeric field: a JSON number, or a
// string holding one (the Streams API sends numbers as strings; this API is
// tolerated doing the same). ok is false when the field is absent, null or
// the empty string.
func numberText(field string, raw json.RawMessage, want string) (text string, ok bool, err error) {
	if absent(raw) {
		return "", false, nil
	}
	switch jsonKind(raw) {
	case "number":
		return string(raw), true, nil
	case "string":
		s, err := decodeString(field, raw)
		if err != nil {
			return "", false, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", false, nil
		}
		return s, true, nil
	}
	return "", false, wrongType(field, raw, want)
}

// decodeFloat decodes a finite number; absent means 0.
func decodeFloat(field string, raw json.RawMessage) (float64, error) {
	text, ok, err := numberText(field, raw, "number")
	if !ok || err != nil {
		return 0, err
	}
	return parseFloat(field, text)
}

func parseFloat(field, text string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !numeric(text) {
		if err == nil {
			err = errors.New("not a finite decimal number")
		}
		return 0, &FieldError{Field: field, Err: ErrBadNumber, Detail: strconv.Quote(text), Cause: unwrapNum(err)}
	}
	return f, nil
}

// numeric reports whether text looks like a decimal number, refusing what
// strconv accepts beyond JSON ("Inf", "NaN", hex floats, underscores).
func numeric(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// unwrapNum drops strconv's "strconv.ParseFloat: parsing …" wrapper, which
// repeats the input.
func unwrapNum(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// decodeInt decodes an integer; absent means 0. An integral number written
// with a fraction or exponent (1598259269761.0, 1.5e3) is accepted.
func decodeInt(field string, raw json.RawMessage) (int64, error) {
	text, ok, err := numberText(field, raw, "integer")
	if !ok || err != nil {
		return 0, err
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := parseFloat(field, text)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, &FieldError{Field: field, Err: ErrBadNumber, Detail: strconv.Quote(text) + " is not an integer in range"}
	}
	return int64(f), nil
}

// maxMillis is the largest |time| in Unix ms whose µs still fit an int64.
const maxMillis = math.MaxInt64 / 1000

// decodeMillis decodes a Unix time in milliseconds that can be converted to
// microseconds without overflow.
func decodeMillis(field string, raw json.RawMessage) (int64, error) {
	n, err := decodeInt(field, raw)
	if err != nil {
		return 0, err
	}
	if n > maxMillis || n < -maxMillis {
		return 0, &FieldError{Field: field, Err: ErrBadNumber, Detail: "time out of range"}
	}
	return n, nil
}

// compactText returns a JSON value as text: strings unquoted, anything else
// as compact JSON.
func compactText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	s := buf.String()
	if !utf8.ValidString(s) {
		// Replace each invalid byte, as encoding/json does for strings, so
		// that the text survives being written as a JSON string.
		s = string([]rune(s))
	}
	return s
}

// marshal encodes v without HTML escaping, so that values such as a scan
// code containing '<' or '&' go on the wire as they were read.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
