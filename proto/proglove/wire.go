package proglove

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

// Helpers shared by the decoders. Every known field is first captured raw
// (json.go reads the JSON) so that its JSON type can be checked and
// reported by name. Encoding uses encoding/json's encoder.

// object is a JSON object with its keys, matched exactly (the Streams API's
// keys are all lower-case snake case). A repeated key keeps its last value.
type object map[string]json.RawMessage

// parseObject trims b and decodes it as a JSON object.
func parseObject(b []byte) (object, error) {
	data := bytes.TrimSpace(b)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformedJSON)
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
	}
	o, err := readObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	return o, nil
}

// absent reports whether a field was missing or JSON null.
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

// str decodes a string field; absent (or null) means "".
func (o object) str(field string) (string, error) {
	return decodeString(field, o[field])
}

func decodeString(field string, raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", wrongType(field, raw, "string")
	}
	s, ok := unquote(raw)
	if !ok {
		return "", &FieldError{Field: field, Err: ErrMalformedJSON, Detail: "bad string"}
	}
	return s, nil
}

// has reports whether the field is present and not null.
func (o object) has(field string) bool { return !absent(o[field]) }

// boolean decodes a boolean field; absent means false.
func (o object) boolean(field string) (bool, error) {
	raw := o[field]
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

// integer decodes an integer sent as a JSON number or as a string of
// digits (the Streams API writes some numbers as strings). A number with a
// zero fraction ("3000.0") is accepted; absent gives 0, false.
func (o object) integer(field string) (int64, bool, error) {
	return decodeInteger(field, o[field])
}

func decodeInteger(field string, raw json.RawMessage) (int64, bool, error) {
	text, ok, err := numberText(field, raw)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err == nil {
		return n, true, nil
	}
	f, ferr := strconv.ParseFloat(text, 64)
	if ferr != nil || f != float64(int64(f)) || f > 9.2e18 || f < -9.2e18 {
		return 0, false, &FieldError{Field: field, Err: ErrBadValue, Detail: "want an integer, got " + strconv.Quote(text)}
	}
	return int64(f), true, nil
}

// numberText returns the text of a number sent as a JSON number or a
// string. Absent and "" give "", false.
func numberText(field string, raw json.RawMessage) (string, bool, error) {
	if absent(raw) {
		return "", false, nil
	}
	switch jsonKind(raw) {
	case "number":
		return string(raw), true, nil
	case "string":
		s, err := decodeString(field, raw)
		if err != nil || s == "" {
			return "", false, err
		}
		return s, true, nil
	}
	return "", false, wrongType(field, raw, "number or numeric string")
}

// float decodes a decimal sent as a string ("1.23", the Streams API's
// form) or a number, keeping the text as sent. Absent gives "".
func (o object) float(field string) (string, error) {
	text, ok, err := numberText(field, o[field])
	if err != nil || !ok {
		return "", err
	}
	if _, err := parseFloat(field, text); err != nil {
		return "", err
	}
	return text, nil
}

func parseFloat(field, text string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, &FieldError{Field: field, Err: ErrBadValue, Detail: "number out of range", Cause: err}
		}
		return 0, &FieldError{Field: field, Err: ErrBadValue, Detail: "want a decimal number, got " + strconv.Quote(text)}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &FieldError{Field: field, Err: ErrBadValue, Detail: "want a finite decimal number, got " + strconv.Quote(text)}
	}
	return f, nil
}

// strings decodes an array of strings; absent gives nil, [] an empty,
// non-nil slice. Null elements are rejected.
func (o object) stringList(field string) ([]string, error) {
	raw := o[field]
	if absent(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType(field, raw, "array of strings")
	}
	items, err := readArray(raw)
	if err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		name := field + "[" + strconv.Itoa(i) + "]"
		if absent(item) {
			return nil, wrongType(name, item, "string")
		}
		s, err := decodeString(name, item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// objects decodes an array of objects; absent gives nil.
func (o object) objects(field string) ([]object, error) {
	raw := o[field]
	if absent(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType(field, raw, "array of objects")
	}
	items, err := readArray(raw)
	if err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	out := make([]object, 0, len(items))
	for i, item := range items {
		if absent(item) || item[0] != '{' {
			return nil, wrongType(field+"["+strconv.Itoa(i)+"]", item, "object")
		}
		e, err := readObject(item)
		if err != nil {
			return nil, &FieldError{Field: field + "[" + strconv.Itoa(i) + "]", Err: ErrMalformedJSON, Cause: err}
		}
		out = append(out, e)
	}
	return out, nil
}

// marshal encodes v without HTML escaping and without the encoder's
// trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// asciiJSON rewrites every non-ASCII character of a JSON text as a \uXXXX
// escape (a surrogate pair above U+FFFF), as the display command asks for.
// In JSON produced by encoding/json non-ASCII bytes occur only inside
// strings, so the result is the same JSON value.
func asciiJSON(b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, len(b)+16)
	esc := func(r rune) {
		out = append(out, '\\', 'u', hexdigits[r>>12&0xf], hexdigits[r>>8&0xf], hexdigits[r>>4&0xf], hexdigits[r&0xf])
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r > 0xffff {
			r -= 0x10000
			esc(0xd800 + (r>>10)&0x3ff)
			esc(0xdc00 + r&0x3ff)
			continue
		}
		esc(r) // utf8.RuneError for invalid bytes, which encoding/json never writes
	}
	return out
}

// runes counts characters, the unit of the Streams API's length limits.
func runes(s string) int { return utf8.RuneCountInString(s) }

func checkLen(field, s string, min, max int) error {
	n := runes(s)
	if n < min || n > max {
		if min == max {
			return badValue(field, fmt.Sprintf("must be %d characters, got %d", min, n))
		}
		if min == 0 {
			return badValue(field, fmt.Sprintf("at most %d characters, got %d", max, n))
		}
		return badValue(field, fmt.Sprintf("must be %d..%d characters, got %d", min, max, n))
	}
	return nil
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return badValue(field, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
}
