package navixy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Decoding helpers. Known fields are first captured as json.RawMessage so
// that their JSON type can be checked and reported by name.

// parseObject trims b and unmarshals it into v, a pointer to a struct of
// json.RawMessage fields. It rejects anything but one JSON object.
func parseObject(field string, b []byte, v any) error {
	data := bytes.TrimSpace(b)
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", ErrMalformedJSON)
	}
	if data[0] != '{' {
		if field == "" {
			return fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
		}
		return wrongType(field, data, "object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%w: %w", ErrWrongType, err)
		}
		if field == "" {
			return fmt.Errorf("%w: %w", ErrMalformedJSON, err)
		}
		return &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	return nil
}

// absent reports a missing field or JSON null; the vendor omits null
// fields at times and says to treat both alike.
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func jsonKind(raw []byte) string {
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
	}
	return "number"
}

func wrongType(field string, raw []byte, want string) error {
	return &FieldError{Field: field, Err: ErrWrongType, Detail: "got " + jsonKind(raw) + ", want " + want}
}

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

func decodeOptBool(field string, raw json.RawMessage) (*bool, error) {
	if absent(raw) {
		return nil, nil
	}
	v, err := decodeBool(field, raw)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// numberText returns the text of a JSON number, or of a string holding
// one (tolerated: some servers quote ids).
func numberText(field string, raw json.RawMessage, want string) (string, error) {
	if raw[0] == '"' {
		s, err := decodeString(field, raw)
		if err != nil {
			return "", err
		}
		return s, nil
	}
	if jsonKind(raw) != "number" {
		return "", wrongType(field, raw, want)
	}
	return string(raw), nil
}

// decodeInt decodes an integer: a JSON number without fraction (1e3 and
// 5.0 are accepted) or a string holding one. Absent is 0.
func decodeInt(field string, raw json.RawMessage) (int64, error) {
	if absent(raw) {
		return 0, nil
	}
	text, err := numberText(field, raw, "integer")
	if err != nil {
		return 0, err
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, &FieldError{Field: field, Err: ErrBadNumber, Detail: "want an integer, got " + truncate(text)}
	}
	return int64(f), nil
}

// decodeFloat decodes a number or a string holding one. Absent is 0.
func decodeFloat(field string, raw json.RawMessage) (float64, error) {
	if absent(raw) {
		return 0, nil
	}
	text, err := numberText(field, raw, "number")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &FieldError{Field: field, Err: ErrBadNumber, Detail: "want a number, got " + truncate(text)}
	}
	return f, nil
}

func decodeOptInt(field string, raw json.RawMessage) (*int, error) {
	if absent(raw) {
		return nil, nil
	}
	n, err := decodeInt(field, raw)
	if err != nil {
		return nil, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, &FieldError{Field: field, Err: ErrBadNumber, Detail: "out of range"}
	}
	v := int(n)
	return &v, nil
}

// decodeArray splits a JSON array into its elements; absent is nil.
func decodeArray(field string, raw json.RawMessage) ([]json.RawMessage, error) {
	if absent(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType(field, raw, "array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return items, nil
}

func decodeStrings(field string, raw json.RawMessage) ([]string, error) {
	items, err := decodeArray(field, raw)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		if absent(it) {
			return nil, wrongType(f, it, "string")
		}
		if out[i], err = decodeString(f, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeInts(field string, raw json.RawMessage) ([]int64, error) {
	items, err := decodeArray(field, raw)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]int64, len(items))
	for i, it := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		if absent(it) {
			return nil, wrongType(f, it, "integer")
		}
		if out[i], err = decodeInt(f, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeBools(field string, raw json.RawMessage) ([]bool, error) {
	items, err := decodeArray(field, raw)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]bool, len(items))
	for i, it := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		if absent(it) {
			return nil, wrongType(f, it, "boolean")
		}
		if out[i], err = decodeBool(f, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// member is one key and value of a JSON object, in wire order.
type member struct {
	key string
	val json.RawMessage
}

// members lists an object's members in wire order (a repeated key appears
// twice; callers decide). raw must be a JSON object.
func members(field string, raw json.RawMessage) ([]member, error) {
	if absent(raw) || raw[0] != '{' {
		return nil, wrongType(field, raw, "object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, &FieldError{Field: field, Err: ErrMalformedJSON, Cause: err}
		}
		out = append(out, member{key, val})
	}
	return out, nil
}

func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// compact returns raw without insignificant white space, or raw itself if
// it is not valid JSON.
func compact(raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// Encoding: a small writer that keeps keys in the vendor's order and writes
// null where the vendor does.

type writer struct {
	b     []byte
	err   error
	first []bool // per open object or array: nothing written yet
}

func (w *writer) open(c byte) {
	w.b = append(w.b, c)
	w.first = append(w.first, true)
}

func (w *writer) close(c byte) {
	w.b = append(w.b, c)
	w.first = w.first[:len(w.first)-1]
}

// sep writes the comma before a member or element.
func (w *writer) sep() {
	top := len(w.first) - 1
	if !w.first[top] {
		w.b = append(w.b, ',')
	}
	w.first[top] = false
}

func (w *writer) key(k string) {
	w.sep()
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *writer) str(k, v string) { w.key(k); w.b = appendString(w.b, v) }

// strOrNull writes "" as null, as the vendor does for missing times.
func (w *writer) strOrNull(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

func (w *writer) null(k string)             { w.key(k); w.b = append(w.b, "null"...) }
func (w *writer) integer(k string, v int64) { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }
func (w *writer) boolean(k string, v bool)  { w.key(k); w.b = strconv.AppendBool(w.b, v) }

func (w *writer) optBool(k string, v *bool) {
	if v == nil {
		w.null(k)
		return
	}
	w.boolean(k, *v)
}

func (w *writer) optInt(k string, v *int) {
	if v == nil {
		w.null(k)
		return
	}
	w.integer(k, int64(*v))
}

func (w *writer) float(k string, v float64) {
	w.key(k)
	w.b = appendFloat(w, w.b, v)
}

// raw writes a JSON value verbatim; empty means null.
func (w *writer) raw(k string, v json.RawMessage) {
	w.key(k)
	if len(v) == 0 {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, compact(v)...)
}

func (w *writer) strings(k string, vs []string) {
	w.key(k)
	w.open('[')
	for _, v := range vs {
		w.sep()
		w.b = appendString(w.b, v)
	}
	w.close(']')
}

func (w *writer) ints(k string, vs []int64) {
	w.key(k)
	w.open('[')
	for _, v := range vs {
		w.sep()
		w.b = strconv.AppendInt(w.b, v, 10)
	}
	w.close(']')
}

func (w *writer) bools(k string, vs []bool) {
	w.key(k)
	if vs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open('[')
	for _, v := range vs {
		w.sep()
		w.b = strconv.AppendBool(w.b, v)
	}
	w.close(']')
}

// appendFloat writes v as encoding/json does (shortest representation that
// reads back the same). NaN and infinities are not JSON: they set w.err.
func appendFloat(w *writer, b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if w.err == nil {
			w.err = fmt.Errorf("navixy: cannot encode %v as JSON", v)
		}
		return append(b, '0')
	}
	enc, _ := json.Marshal(v) // cannot fail for finite values
	return append(b, enc...)
}

// appendString writes s as a JSON string without HTML escaping; invalid
// UTF-8 becomes U+FFFD, as with encoding/json.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
