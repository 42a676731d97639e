package proglove

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader, so that the browser bridge's direct mode does not
// link encoding/json's reflection-based decoder (about 70 KB of gzipped
// wasm). It follows RFC 8259 and encoding/json's choices: invalid UTF-8
// and lone surrogates in strings become U+FFFD, nesting is limited to
// 10 000 levels, a repeated key keeps its last value. Values are handed
// out raw (json.RawMessage, a plain byte slice type) and decoded on demand.
// FuzzJSONParity checks it against encoding/json.

const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// syntaxError reports where the input stopped being JSON.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return e.msg + " at offset " + strconv.Itoa(e.off) }
func (e *syntaxError) Unwrap() error { return errSyntax }

type reader struct {
	b []byte
	i int
}

func (r *reader) fail(msg string) error { return &syntaxError{msg, r.i} }

func (r *reader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value skips one value (after white space) and returns its bounds.
func (r *reader) value(depth int) (start, end int, err error) {
	r.space()
	start = r.i
	if r.i >= len(r.b) {
		return 0, 0, r.fail("unexpected end of input")
	}
	switch c := r.b[r.i]; {
	case c == '{':
		err = r.object(depth+1, nil)
	case c == '[':
		err = r.array(depth+1, nil)
	case c == '"':
		err = r.str()
	case c == '-' || '0' <= c && c <= '9':
		err = r.number()
	case c == 't':
		err = r.literal("true")
	case c == 'f':
		err = r.literal("false")
	case c == 'n':
		err = r.literal("null")
	default:
		err = r.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
	return start, r.i, err
}

func (r *reader) literal(lit string) error {
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		return r.fail("invalid literal")
	}
	r.i += len(lit)
	return nil
}

func (r *reader) digits() int {
	n := 0
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
		n++
	}
	return n
}

func (r *reader) number() error {
	if r.b[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i < len(r.b) && r.b[r.i] == '0':
		r.i++
	case r.digits() == 0:
		return r.fail("invalid number")
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if r.digits() == 0 {
			return r.fail("invalid number")
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if r.digits() == 0 {
			return r.fail("invalid number")
		}
	}
	return nil
}

// str skips a string literal, checking its escapes and that it has no
// control characters.
func (r *reader) str() error {
	r.i++ // opening quote
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			return nil
		case c < 0x20:
			return r.fail("control character in string")
		case c == '\\':
			r.i++
			if r.i >= len(r.b) {
				return r.fail("unexpected end of input")
			}
			switch r.b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				if len(r.b)-r.i < 5 || !isHex4(r.b[r.i+1:r.i+5]) {
					return r.fail("invalid \\u escape")
				}
				r.i += 5
			default:
				return r.fail("invalid escape")
			}
		default:
			r.i++
		}
	}
	return r.fail("unexpected end of input")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// object skips an object, calling fn (if not nil) with each key's raw
// string literal and raw value.
func (r *reader) object(depth int, fn func(key, val []byte)) error {
	if depth > maxDepth {
		return r.fail("nested too deeply")
	}
	r.i++ // {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return nil
	}
	for {
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return r.fail("want a string key")
		}
		ks := r.i
		if err := r.str(); err != nil {
			return err
		}
		key := r.b[ks:r.i]
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return r.fail("want ':'")
		}
		r.i++
		vs, ve, err := r.value(depth)
		if err != nil {
			return err
		}
		if fn != nil {
			fn(key, r.b[vs:ve])
		}
		r.space()
		if r.i >= len(r.b) {
			return r.fail("unexpected end of input")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.fail("want ',' or '}'")
		}
	}
}

// array skips an array, calling fn (if not nil) with each raw element.
func (r *reader) array(depth int, fn func(val []byte)) error {
	if depth > maxDepth {
		return r.fail("nested too deeply")
	}
	r.i++ // [
	r.space()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		return nil
	}
	for {
		vs, ve, err := r.value(depth)
		if err != nil {
			return err
		}
		if fn != nil {
			fn(r.b[vs:ve])
		}
		r.space()
		if r.i >= len(r.b) {
			return r.fail("unexpected end of input")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.fail("want ',' or ']'")
		}
	}
}

// end checks that only white space follows.
func (r *reader) end() error {
	r.space()
	if r.i != len(r.b) {
		return r.fail("data after the top-level value")
	}
	return nil
}

// validJSON reports whether b is exactly one JSON value (with optional
// white space around it), as json.Valid does.
func validJSON(b []byte) bool {
	r := reader{b: b}
	if _, _, err := r.value(0); err != nil {
		return false
	}
	return r.end() == nil
}

// readObject parses b, which must be one JSON object, into its keys and
// raw values; a repeated key keeps its last value. Keys are unquoted.
func readObject(b []byte) (object, error) {
	r := reader{b: b}
	r.space()
	if r.i >= len(b) || b[r.i] != '{' {
		return nil, r.fail("want an object")
	}
	o := object{}
	err := r.object(1, func(key, val []byte) {
		k, _ := unquote(key) // checked by str
		o[k] = json.RawMessage(val)
	})
	if err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return o, nil
}

// readArray parses b, which must be one JSON array, into its raw elements.
func readArray(b []byte) ([]json.RawMessage, error) {
	r := reader{b: b}
	r.space()
	if r.i >= len(b) || b[r.i] != '[' {
		return nil, r.fail("want an array")
	}
	out := []json.RawMessage{}
	if err := r.array(1, func(val []byte) { out = append(out, json.RawMessage(val)) }); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// nextValue returns the first value of b and the rest after it, for
// splitting a concatenation of values.
func nextValue(b []byte) (val, rest []byte, err error) {
	r := reader{b: b}
	s, e, err := r.value(0)
	if err != nil {
		return nil, nil, err
	}
	return b[s:e], b[e:], nil
}

// unquote decodes a JSON string literal (quotes included) as encoding/json
// does: invalid UTF-8 and unpaired surrogates become U+FFFD. ok is false if
// s is not a well-formed literal.
func unquote(s []byte) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = s[1 : len(s)-1]
	// Fast path: nothing to decode.
	simple := true
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return string(s), true
	}
	out := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/':
				out = append(out, s[i+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r1, ok := hex4(s[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r1) {
					if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
						if r2, ok := hex4(s[i+2:]); ok {
							if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
								i += 6
								out = utf8.AppendRune(out, dec)
								continue
							}
						}
					}
					r1 = utf8.RuneError
				}
				out = utf8.AppendRune(out, r1)
				continue
			default:
				return "", false
			}
			i += 2
		case c == '"' || c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			i += size
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
		}
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 || !isHex4(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
