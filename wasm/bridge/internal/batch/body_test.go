package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto/event"
)

// jsv is a JavaScript value made of Go values, for EncodeBody: nil is
// null, undefined undefined, bool, float64 (or an int, for short), string,
// []any an Array, obj an object (its properties in order), map[string]any
// an object (its properties sorted), []byte a Uint8Array, arrayBuffer an
// ArrayBuffer, fn a function.
type jsv struct{ v any }

type (
	undefinedT struct{}
	obj        []prop
	prop       struct {
		k string
		v any
	}
	arrayBuffer []byte
	fn          struct{}
)

var undefined = undefinedT{}

func (j jsv) Type() Type {
	switch j.v.(type) {
	case undefinedT:
		return TypeUndefined
	case nil:
		return TypeNull
	case bool:
		return TypeBoolean
	case float64, int:
		return TypeNumber
	case string:
		return TypeString
	case fn:
		return TypeFunction
	}
	return TypeObject
}

func (j jsv) Bool() bool { return j.v.(bool) }

func (j jsv) Float() float64 {
	if i, ok := j.v.(int); ok {
		return float64(i)
	}
	return j.v.(float64)
}

func (j jsv) String() string { return j.v.(string) }

func (j jsv) IsArray() bool { _, ok := j.v.([]any); return ok }

func (j jsv) Len() int { return len(j.v.([]any)) }

func (j jsv) Index(i int) Value {
	if a := j.v.([]any); i < len(a) {
		return jsv{a[i]}
	}
	return jsv{undefined}
}

func (j jsv) Keys() []string {
	switch x := j.v.(type) {
	case obj:
		var keys []string
		for _, p := range x {
			keys = append(keys, p.k)
		}
		return keys
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	case loopObj:
		return jsv{x.get()}.Keys()
	case []any:
		var keys []string
		for i := range x {
			keys = append(keys, strconv.Itoa(i))
		}
		return keys
	case []byte:
		var keys []string
		for i := range x {
			keys = append(keys, strconv.Itoa(i))
		}
		return keys
	}
	return nil
}

func (j jsv) Get(key string) Value {
	switch x := j.v.(type) {
	case obj:
		for _, p := range x {
			if p.k == key {
				return jsv{p.v}
			}
		}
	case map[string]any:
		if v, ok := x[key]; ok {
			return jsv{v}
		}
	case loopObj:
		return jsv{x.get()}.Get(key)
	}
	return jsv{undefined}
}

func (j jsv) Bytes() ([]byte, bool) {
	switch x := j.v.(type) {
	case []byte:
		return slices.Clone(x), true
	case arrayBuffer:
		return slices.Clone([]byte(x)), true
	}
	return nil, false
}

// toJS turns a Go value into the JavaScript value a page would pass for
// it: structs as objects with their json names (zero values and nil
// slices sometimes given, sometimes absent, undefined or null), []byte as
// a Uint8Array, an ArrayBuffer or an array of numbers.
func toJS(r *rand.Rand, v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.String:
		return v.String()
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := v.Bytes()
			switch r.IntN(3) {
			case 0:
				return slices.Clone(b)
			case 1:
				return arrayBuffer(slices.Clone(b))
			}
			a := make([]any, len(b))
			for i, c := range b {
				a[i] = float64(c)
			}
			return a
		}
		a := make([]any, v.Len())
		for i := range a {
			a[i] = toJS(r, v.Index(i))
		}
		return a
	case reflect.Map:
		m := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = toJS(r, it.Value())
		}
		return m
	case reflect.Pointer:
		return toJS(r, v.Elem())
	case reflect.Struct:
		var o obj
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			f := v.Field(i)
			if f.IsZero() {
				switch r.IntN(4) {
				case 0:
					continue // absent
				case 1:
					o = append(o, prop{name, undefined})
					continue
				case 2:
					o = append(o, prop{name, nil})
					continue
				}
				if f.Kind() == reflect.Slice || f.Kind() == reflect.Map || f.Kind() == reflect.Pointer {
					continue // nil: absent
				}
			}
			o = append(o, prop{name, toJS(r, f)})
		}
		r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		return o
	}
	panic("toJS: " + v.Type().String())
}

// jsSafe makes the numbers of v ones a JavaScript number holds exactly.
func jsSafe(v reflect.Value) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x := v.Int(); int64(float64(x)) != x || float64(x) >= math.MaxInt64 {
			v.SetInt(x >> 11)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if x := v.Uint(); uint64(float64(x)) != x || float64(x) >= math.MaxUint64 {
			v.SetUint(x >> 12)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := range v.Len() {
				jsSafe(v.Index(i))
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			jsSafe(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				jsSafe(v.Field(i))
			}
		}
	}
}

// TestEncodeBodyEveryKind encodes random bodies of every command kind,
// given as JavaScript values, and checks that the bytes are msgp's
// encoding of the same struct, which msgp's decoder reads back.
func TestEncodeBodyEveryKind(t *testing.T) {
	cmds := slices.Sorted(func(yield func(string) bool) {
		for k := range commandPlans {
			if !yield(k) {
				return
			}
		}
	})
	if len(cmds) == 0 {
		t.Fatal("no command kinds")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, kind := range cmds {
		t.Run(kind, func(t *testing.T) {
			for range 500 {
				want := event.NewCommand(kind)
				fill(r, reflect.ValueOf(want).Elem(), 0)
				jsSafe(reflect.ValueOf(want).Elem())
				in := toJS(r, reflect.ValueOf(want).Elem())
				got, err := EncodeBody(kind, jsv{in})
				if err != nil {
					t.Fatalf("%+v: %v", in, err)
				}
				wantBytes, err := want.MarshalMsg(nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, wantBytes) {
					t.Fatalf("body %+v\nencoded % x\nmsgp    % x (%+v)", in, got, wantBytes, want)
				}
				back := event.NewCommand(kind)
				if rest, err := back.UnmarshalMsg(got); err != nil || len(rest) != 0 {
					t.Fatalf("msgp cannot decode % x: %v", got, err)
				}
			}
		})
	}
}

func TestEncodeBody(t *testing.T) {
	marshal := func(c event.Command) []byte {
		b, err := c.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name string
		kind string
		in   any
		want []byte
	}{
		{"downlink", event.CmdLoRaDownlink, obj{{"port", 2}, {"payload", []byte{1, 2, 3}}, {"confirm", true}},
			marshal(&event.LoRaDownlink{Port: 2, Payload: []byte{1, 2, 3}, Confirm: true})},
		{"array payload", event.CmdLoRaDownlink, obj{{"payload", []any{1, 255}}, {"port", 255}, {"connector", "c"}},
			marshal(&event.LoRaDownlink{Port: 255, Payload: []byte{1, 255}, Connector: "c"})},
		{"ArrayBuffer payload", event.CmdLoRaDownlink, obj{{"port", 1}, {"payload", arrayBuffer{9}}},
			marshal(&event.LoRaDownlink{Port: 1, Payload: []byte{9}})},
		{"absent body", event.CmdLoRaDownlink, undefined, marshal(&event.LoRaDownlink{})},
		{"null body", event.CmdScannerDisplay, nil, marshal(&event.ScannerDisplay{})},
		{"empty body", event.CmdScannerGatewayState, obj{}, marshal(&event.ScannerGatewayState{})},
		{"nulls", event.CmdLoRaDownlink, obj{{"port", nil}, {"payload", undefined}, {"confirm", nil}},
			marshal(&event.LoRaDownlink{})},
		{"display", event.CmdScannerDisplay, obj{{"template", "PG3"}, {"fields", []any{
			obj{{"id", 1}, {"header", "h"}, {"text", "t"}}, nil, obj{{"text", "only"}}}}, {"durationMs", 1e12}},
			marshal(&event.ScannerDisplay{Template: "PG3", DurationMS: 1e12, Fields: []event.ScannerDisplayField{
				{ID: 1, Header: "h", Text: "t"}, {}, {Text: "only"}}})},
		{"empty gestures are sent", event.CmdScannerTriggerBlock, obj{{"block", true}, {"blockGestures", []any{}}},
			marshal(&event.ScannerTriggerBlock{Block: true, BlockGestures: []string{}})},
		{"negative ttl", event.CmdScannerFeedback, obj{{"action", "FEEDBACK_POSITIVE"}, {"timeToLiveMs", -5}},
			marshal(&event.ScannerFeedback{Action: "FEEDBACK_POSITIVE", TimeToLiveMS: -5})},
	} {
		got, err := EncodeBody(c.kind, jsv{c.in})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: encoded % x, msgp % x", c.name, got, c.want)
		}
	}
}

func TestEncodeBodyErrors(t *testing.T) {
	for _, c := range []struct {
		kind string
		in   any
		want string
	}{
		{event.CmdLoRaDownlink, obj{{"port", 300}, {"payload", []any{}}}, "body.port: 300 is out of range for uint8"},
		{event.CmdLoRaDownlink, obj{{"port", -1}}, "body.port: -1 is out of range for uint8"},
		{event.CmdLoRaDownlink, obj{{"port", 1.5}}, "body.port: 1.5 is not an integer"},
		{event.CmdLoRaDownlink, obj{{"port", math.NaN()}}, "body.port: NaN is not an integer"},
		{event.CmdLoRaDownlink, obj{{"port", math.Inf(1)}}, "body.port: +Inf is not an integer"},
		{event.CmdLoRaDownlink, obj{{"port", "2"}}, "body.port: must be a number"},
		{event.CmdLoRaDownlink, obj{{"payload", []any{1, 256}}}, "body.payload[1]: not a byte"},
		{event.CmdLoRaDownlink, obj{{"payload", []any{1, "x"}}}, "body.payload[1]: must be a number"},
		{event.CmdLoRaDownlink, obj{{"payload", "AQI="}}, "body.payload: must be a Uint8Array, an ArrayBuffer or an array of numbers"},
		{event.CmdLoRaDownlink, obj{{"confirm", 1}}, "body.confirm: must be a boolean"},
		{event.CmdLoRaDownlink, obj{{"connector", 1}}, "body.connector: must be a string"},
		{event.CmdLoRaDownlink, obj{{"port", 1}, {"nope", 1}, {"port2", 1}}, `body: unknown property "nope"`},
		{event.CmdLoRaDownlink, obj{{"Port", 1}}, `body: unknown property "Port"`},
		{event.CmdLoRaDownlink, "x", "body: must be an object"},
		{event.CmdLoRaDownlink, []any{}, "body: must be an object"},
		{event.CmdLoRaDownlink, fn{}, "body: must be an object"},
		{event.CmdScannerDisplay, obj{{"fields", obj{}}}, "body.fields: must be an array"},
		{event.CmdScannerDisplay, obj{{"fields", []any{obj{}, obj{{"id", "a"}}}}}, "body.fields[1].id: must be a number"},
		{event.CmdScannerDisplay, obj{{"fields", []any{7}}}, "body.fields[0]: must be an object"},
		{event.CmdScannerDisplay, obj{{"fields", []any{obj{{"id", 1 << 31}}}}}, "body.fields[0].id: 2.147483648e+09 is out of range for int32"},
		{event.CmdScannerFeedback, obj{{"timeToLiveMs", 9.3e18}}, "body.timeToLiveMs: 9.3e+18 is out of range for int64"},
		{event.CmdScannerTriggerBlock, obj{{"blockGestures", []any{"a", false}}}, "body.blockGestures[1]: must be a string"},
		{event.CmdScannerGatewayState, obj{{"x", 1}}, `body: unknown property "x"`},
		{"no.such.kind", obj{}, `unknown command kind "no.such.kind"`},
	} {
		_, err := EncodeBody(c.kind, jsv{c.in})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s %+v: error %v, want %q", c.kind, c.in, err, c.want)
		}
	}
}

// TestEncodeTypes encodes what no command body has yet (maps, pointers,
// arrays, nested and recursive structs, omitempty of every kind) and
// transcodes the result back: it must be what encoding/json writes of the
// Go value the JavaScript one describes.
func TestEncodeTypes(t *testing.T) {
	type leaf struct {
		F32 float32 `msg:"f" json:"f32,omitempty"`
		U   uint    `msg:"u,omitempty" json:"u"`
	}
	type tree struct {
		Name  string            `msg:"n" json:"name"`
		Kids  []tree            `msg:"k,omitempty" json:"kids"`
		Next  *tree             `msg:"x,omitempty" json:"next"`
		Tags  map[string]string `msg:"t" json:"tags"`
		Leaf  leaf              `msg:"l,omitempty" json:"leaf"`
		PLeaf *leaf             `msg:"pl" json:"pleaf"`
		Pair  [2]int16          `msg:"p,omitempty" json:"pair"`
		Any   any               `msg:"a" json:"any"`
		Bytes map[string][]byte `msg:"b" json:"bytes"`
		Hide  bool              `msg:"-" json:"hide"`
	}
	p := testPlan(t, reflect.TypeFor[tree]())
	for _, c := range []struct {
		in   any
		want tree
		wire int // keys on the wire
	}{
		{obj{}, tree{}, 6},
		{obj{{"name", "root"}, {"hide", true}, {"tags", map[string]any{"b": "2", "a": nil}},
			{"kids", []any{obj{{"name", "k1"}, {"leaf", obj{{"u", 3}}}}, nil}},
			{"next", obj{{"pleaf", obj{{"f32", 0.1}}}, {"next", obj{{"name", "deep"}}}}},
			{"bytes", obj{{"x", []byte{1}}, {"y", nil}}}},
			tree{Name: "root", Hide: true, Tags: map[string]string{"a": "", "b": "2"},
				Kids:  []tree{{Name: "k1", Leaf: leaf{U: 3}}, {}},
				Next:  &tree{PLeaf: &leaf{F32: 0.1}, Next: &tree{Name: "deep"}},
				Bytes: map[string][]byte{"x": {1}, "y": nil}}, 8},
	} {
		b, _, err := encode(nil, p, jsv{c.in}, "body", 0)
		if err != nil {
			t.Fatalf("%+v: %v", c.in, err)
		}
		n, _, err := msgp.ReadMapHeaderBytes(b)
		if err != nil || int(n) != c.wire {
			t.Errorf("%+v: %d keys on the wire, want %d (% x)", c.in, n, c.wire, b)
		}
		var w Writer
		if _, _, err := w.transcode(p, b, 0); err != nil {
			t.Fatalf("%+v: transcoding % x: %v", c.in, b, err)
		}
		c.want.Hide = false // not on the wire
		wantJSON, _ := json.Marshal(c.want)
		var got, want any
		json.Unmarshal(w.Text, &got)
		json.Unmarshal(wantJSON, &want)
		for _, path := range bytesPaths(p) {
			got = fixBytes(t, got, path, w.Bytes)
		}
		if !same(got, want) {
			t.Errorf("%+v: encoded and transcoded\n%s\nencoding/json\n%s", c.in, w.Text, wantJSON)
		}
	}
	for in, want := range map[string]string{
		`array`:     "body.pair: cannot be set from JavaScript",
		`interface`: "body.any: cannot be set from JavaScript",
		`map`:       "body.tags: must be an object",
		`map value`: "body.tags.k: must be a string",
		`deep`:      "body.next.next.kids[0].leaf.f32: must be a number",
	} {
		var v obj
		switch in {
		case "array":
			v = obj{{"pair", []any{1, 2}}}
		case "interface":
			v = obj{{"any", 1}}
		case "map":
			v = obj{{"tags", "x"}}
		case "map value":
			v = obj{{"tags", obj{{"k", 1}}}}
		case "deep":
			v = obj{{"next", obj{{"next", obj{{"kids", []any{obj{{"leaf", obj{{"f32", "1"}}}}}}}}}}}
		}
		if _, _, err := encode(nil, p, jsv{v}, "body", 0); err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
	// msgp leaves out a nil []byte, slice or map with omitempty, not an
	// empty one.
	type omitting struct {
		Bin []byte          `msg:"b,omitempty" json:"bin"`
		S   []string        `msg:"s,omitempty" json:"s"`
		M   map[string]bool `msg:"m,omitempty" json:"m"`
		N   int             `msg:"n,omitempty" json:"n"`
	}
	po := testPlan(t, reflect.TypeFor[omitting]())
	for _, c := range []struct {
		in   obj
		want string
	}{
		{obj{}, "80"},
		{obj{{"bin", nil}, {"s", undefined}, {"n", 0}}, "80"},
		{obj{{"bin", []byte{}}, {"s", []any{}}, {"m", obj{}}, {"n", -0.0}}, "83 a1 62 c4 00 a1 73 90 a1 6d 80"},
		{obj{{"n", 1}, {"bin", arrayBuffer{}}}, "82 a1 62 c4 00 a1 6e 01"},
	} {
		b, _, err := encode(nil, po, jsv{c.in}, "body", 0)
		if got := strings.TrimSpace(fmt.Sprintf("% x", b)); err != nil || got != c.want {
			t.Errorf("%+v: encoded %s (%v), want %s", c.in, got, err, c.want)
		}
	}

	// A cycle of JavaScript objects ends in an error, not a stack overflow.
	cyclic := obj{{"name", "c"}}
	cyclic = append(cyclic, prop{"next", nil})
	loop := &cyclic
	(*loop)[1].v = loopObj{loop}
	if _, _, err := encode(nil, p, jsv{loopObj{loop}}, "body", 0); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("cyclic object: %v", err)
	}
}

// loopObj is an object that may contain itself.
type loopObj struct{ o *obj }

func (l loopObj) get() obj { return *l.o }

// fromMsgpack is the JavaScript value a msgpack value stands for in
// FuzzEncodeBody: maps are objects, bins Uint8Arrays, numbers float64.
func fromMsgpack(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, string, []byte:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case []any:
		out := make([]any, len(x))
		for i := range x {
			var ok bool
			if out[i], ok = fromMsgpack(x[i]); !ok {
				return nil, false
			}
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var ok bool
			if out[k], ok = fromMsgpack(e); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// FuzzEncodeBody encodes arbitrary JavaScript values (read from msgpack)
// as command bodies: whatever it encodes, msgp's decoder on the relay
// must read, as the struct encoding/json makes of the same value as JSON.
func FuzzEncodeBody(f *testing.F) {
	cmds := slices.Sorted(func(yield func(string) bool) {
		for k := range commandPlans {
			if !yield(k) {
				return
			}
		}
	})
	add := func(kind string, v any) {
		b, err := msgp.AppendIntf(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(slices.Index(cmds, kind)), b)
	}
	add(event.CmdLoRaDownlink, map[string]any{"port": 2, "payload": []byte{1, 2, 3}, "confirm": true})
	add(event.CmdLoRaDownlink, map[string]any{"port": 300, "payload": []any{1, 2}})
	add(event.CmdScannerDisplay, map[string]any{"template": "PG3", "fields": []any{map[string]any{"id": 1, "header": "h", "text": "t"}, nil}})
	add(event.CmdScannerFeedback, map[string]any{"action": "FEEDBACK_POSITIVE", "timeToLiveMs": 1.5})
	add(event.CmdScannerTriggerBlock, map[string]any{"block": true, "blockGestures": []any{}, "durationMs": -1})
	add(event.CmdScannerGatewayState, map[string]any{})
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		if len(data) > 32<<10 {
			return // bins over the body's limits are the relay's to refuse
		}
		kind := cmds[int(k)%len(cmds)]
		v, _, err := msgp.ReadIntfBytes(data)
		if err != nil {
			return
		}
		in, ok := fromMsgpack(v)
		if !ok {
			return
		}
		out, err := EncodeBody(kind, jsv{in})
		if err != nil {
			if _, ok := err.(*BodyError); !ok || !strings.HasPrefix(err.Error(), "body") {
				t.Fatalf("error %v", err)
			}
			return
		}
		got := event.NewCommand(kind)
		if rest, err := got.UnmarshalMsg(out); err != nil || len(rest) != 0 {
			t.Fatalf("%s %+v: msgp cannot decode % x: %v", kind, in, out, err)
		}
		// The same value as JSON, as encoding/json reads it (a JavaScript
		// string is valid UTF-8; JSON has no NaN; -0 is no unsigned
		// integer to encoding/json).
		text, err := json.Marshal(in)
		if err != nil || !utf8.Valid(data) {
			return
		}
		want := event.NewCommand(kind)
		if json.Unmarshal(text, want) != nil {
			return
		}
		var g, w any
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		json.Unmarshal(gb, &g)
		json.Unmarshal(wb, &w)
		if !same(g, w) {
			t.Fatalf("%s %s: encoded\n% x\nwhich msgp reads as\n%s\nencoding/json reads the JSON as\n%s", kind, text, out, gb, wb)
		}
	})
}
