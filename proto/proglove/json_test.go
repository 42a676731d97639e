package proglove

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The hand-written JSON reader agrees with encoding/json on what is JSON,
// on an object's keys and raw values, on an array's elements and on every
// string's value.
func checkParity(t *testing.T, b []byte) {
	if got, want := validJSON(b), json.Valid(b); got != want {
		t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
	}
	var m map[string]json.RawMessage
	werr := json.Unmarshal(b, &m)
	o, err := readObject(b)
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '{' {
		if (err == nil) != (werr == nil) {
			t.Fatalf("readObject(%q): %v, encoding/json: %v", b, err, werr)
		}
		if err == nil {
			if len(o) != len(m) {
				t.Fatalf("readObject(%q) has %d keys, encoding/json %d", b, len(o), len(m))
			}
			for k, v := range m {
				if !bytes.Equal(o[k], v) {
					t.Fatalf("key %q: %q, encoding/json %q", k, o[k], v)
				}
			}
		}
	}
	var arr []json.RawMessage
	werr = json.Unmarshal(b, &arr)
	a, err := readArray(b)
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '[' {
		if (err == nil) != (werr == nil) {
			t.Fatalf("readArray(%q): %v, encoding/json: %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(a, append([]json.RawMessage{}, arr...)) {
			t.Fatalf("readArray(%q) = %q, encoding/json %q", b, a, arr)
		}
	}
	if trimmed := bytes.TrimSpace(b); json.Valid(trimmed) && len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if err := json.Unmarshal(trimmed, &s); err != nil {
			t.Fatal(err)
		}
		got, ok := unquote(trimmed)
		if !ok || got != s {
			t.Fatalf("unquote(%q) = %q, %v; encoding/json %q", trimmed, got, ok, s)
		}
	}
}

func TestJSONParity(t *testing.T) {
	for _, s := range []string{
		``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-`, `01`, `1.`, `.5`, `1e`, `+1`,
		`{"a":1,"a":2}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1}x`, `{"a":1} {"b":2}`, `[1,2,]`, `[1 2]`, `[[[[]]]]`,
		`"\u00e9\ud83d\udce6\ud800x\udc00\n\t\"\\\/"`, `"\x"`, `"\u12"`, "\"a\x01b\"", "\"\xff\xfe\"", "\"caf\xc3\xa9\"",
		`{"k\u0041":"v"}`, `tru`, `nul`, `nulll`, `[1,{"a":[true,false,null]}]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `"\ud83d\u0041"`, `"\udce6\ud83d"`,
	} {
		checkParity(t, []byte(s))
	}
}

func FuzzJSONParity(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `"\ud83d\udce6"`, `[1,2]`, `{"a":1}{"b":2}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkParity(t, b) })
}
