package batch

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// row is one decoded row of a batch.
type row struct {
	channel, epoch, kind string
	offset, prev         float64
	flags                float64
	value                any
	data                 []byte // the raw msgpack of a row without value
}

// decodeBatch parses a batch as the JavaScript side does, with []byte pairs
// replaced by their bytes as Base64 strings (what encoding/json writes).
func decodeBatch(t *testing.T, text, bytes []byte) []row {
	t.Helper()
	var rows [][]any
	if err := json.Unmarshal(text, &rows); err != nil {
		t.Fatalf("batch is not JSON: %v\n%s", err, text)
	}
	paths := Paths()
	var out []row
	for _, r := range rows {
		if len(r) != 7 && len(r) != 8 {
			t.Fatalf("row of %d elements: %v", len(r), r)
		}
		x := row{channel: r[0].(string), epoch: r[1].(string), offset: r[2].(float64), prev: r[3].(float64),
			kind: r[4].(string), flags: r[5].(float64), value: r[6]}
		if x.value == nil {
			pair := r[7].([]any)
			x.data = bytes[int(pair[0].(float64)):int(pair[1].(float64))]
		} else {
			for _, p := range paths[x.kind] {
				x.value = fixBytes(t, x.value, p, bytes)
			}
		}
		out = append(out, x)
	}
	return out
}

func fixBytes(t *testing.T, v any, path []string, bytes []byte) any {
	if len(path) == 0 {
		pair, ok := v.([]any)
		if !ok || len(pair) != 2 {
			t.Fatalf("not a bytes pair: %#v", v)
		}
		return base64.StdEncoding.EncodeToString(bytes[int(pair[0].(float64)):int(pair[1].(float64))])
	}
	switch x := v.(type) {
	case map[string]any:
		if path[0] == "*" {
			for k := range x {
				x[k] = fixBytes(t, x[k], path[1:], bytes)
			}
		} else if e, ok := x[path[0]]; ok && e != nil {
			x[path[0]] = fixBytes(t, e, path[1:], bytes)
		}
	case []any:
		if path[0] != "*" {
			t.Fatalf("path %v into an array", path)
		}
		for i := range x {
			x[i] = fixBytes(t, x[i], path[1:], bytes)
		}
	}
	return v
}

// decodeExact is the Go client's typed decoding (wasm/client): data must
// be exactly one value of the kind's type.
func decodeExact(kind string, data []byte) (event.Event, error) {
	ev := event.New(kind)
	if ev == nil {
		return nil, event.ErrUnknownKind
	}
	rest, err := ev.UnmarshalMsg(data)
	if err == nil && len(rest) != 0 {
		err = errTrailing
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// typedJSON is what the Go client's typed decoding and encoding/json make
// of data: the reference the transcoding must match.
func typedJSON(t *testing.T, kind string, data []byte) (any, bool) {
	t.Helper()
	ev, err := decodeExact(kind, data)
	if err != nil {
		return nil, false
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v, true
}

// same compares a transcoded value with encoding/json's, where null (a nil
// slice, map or []byte) and [], {} or no bytes are the same, and so are
// the Base64 of a []byte in an interface value and its array of numbers.
func same(got, want any) bool {
	switch w := want.(type) {
	case nil:
		switch g := got.(type) {
		case nil:
			return true
		case []any:
			return len(g) == 0
		case map[string]any:
			return len(g) == 0
		case string: // an empty bytes pair
			return g == ""
		}
		return false
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !same(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !same(g[i], w[i]) {
				return false
			}
		}
		return true
	case string:
		// A bin inside an interface value is an array of numbers where
		// encoding/json writes Base64.
		if g, ok := got.([]any); ok {
			b, err := base64.StdEncoding.DecodeString(w)
			if err != nil || len(b) != len(g) {
				return false
			}
			for i, c := range b {
				if g[i] != float64(c) {
					return false
				}
			}
			return true
		}
	}
	return reflect.DeepEqual(got, want)
}

// fill sets v to random contents: every kind of value an event can hold,
// strings with quotes, control characters and invalid UTF-8, floats with
// long fractions, extreme integers, nil and empty slices and maps.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch r.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(int64(r.IntN(128)))
		case 2:
			v.SetInt(-1 << (bits - 1))
		default:
			v.SetInt(r.Int64() >> (64 - bits))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		switch r.IntN(4) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(uint64(r.IntN(128)))
		default:
			v.SetUint(r.Uint64() >> (64 - bits))
		}
	case reflect.Float32, reflect.Float64:
		var f float64
		switch r.IntN(6) {
		case 0:
			f = 0
		case 1:
			f = float64(r.IntN(2000)-1000) / 10 // 7.5, -71.3
		case 2:
			f = float64(r.IntN(1_000_000)) / 1000 // 868.125
		case 3:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		case 4:
			f = math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(2046)+1)<<52)
		default:
			f = 0.1 + 0.2
		}
		if v.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 {
			f = 1.5
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if r.IntN(4) > 0 {
				b := make([]byte, r.IntN(40))
				for i := range b {
					b[i] = byte(r.IntN(256))
				}
				v.SetBytes(b)
			}
			return
		}
		if depth > 3 || r.IntN(4) == 0 {
			return // nil
		}
		n := r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth > 3 || r.IntN(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(4) {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		if x := randDynamic(r, depth); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	}
}

// randDynamic is a free-form value as msgp decodes one from JSON.
func randDynamic(r *rand.Rand, depth int) any {
	k := r.IntN(8)
	if depth > 4 && k >= 6 {
		k = 0
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 1
	case 2:
		return r.Int64() >> r.IntN(64)
	case 3:
		return float64(r.IntN(100000)) / 100
	case 4, 5:
		return randString(r)
	case 6:
		s := make([]any, r.IntN(3))
		for i := range s {
			s[i] = randDynamic(r, depth+1)
		}
		return s
	}
	m := map[string]any{}
	for range r.IntN(3) {
		m[randString(r)] = randDynamic(r, depth+1)
	}
	return m
}

func randString(r *rand.Rand) string {
	pieces := []string{"", "a", "lora/70b3d57e/up", `"`, `\`, "\n", "\x00", "\x1f", "é", "😀", "\xff", "\xe2\x82", "\u2028", "</script>"}
	var b strings.Builder
	for range r.IntN(5) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func TestTranscodeEveryKind(t *testing.T) {
	kinds := event.Kinds()
	slices.Sort(kinds)
	if len(kinds) == 0 {
		t.Fatal("no event kinds")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			for i := range 300 {
				ev := event.New(kind)
				fill(r, reflect.ValueOf(ev).Elem(), 0)
				data, err := ev.MarshalMsg(nil)
				if err != nil {
					t.Fatal(err)
				}
				want, ok := typedJSON(t, kind, data)
				if !ok {
					t.Fatalf("msgp cannot decode what it encoded: %+v", ev)
				}
				var w Writer
				w.Add(&client.Event{Channel: "c/" + kind, Position: client.Position{Epoch: "e", Offset: uint64(i + 1)},
					Prev: uint64(i), Kind: kind, Data: data, Latest: i%2 == 0, Replayed: i%3 == 0})
				rows := decodeBatch(t, w.Close(), w.Bytes)
				got := rows[0]
				if got.value == nil {
					t.Fatalf("not transcoded: %+v", ev)
				}
				if !same(got.value, want) {
					gb, _ := json.Marshal(got.value)
					wb, _ := json.Marshal(want)
					t.Fatalf("transcoded\n%s\nwant (msgp + encoding/json)\n%s", gb, wb)
				}
				flags := float64(0)
				if i%2 == 0 {
					flags++
				}
				if i%3 == 0 {
					flags += 2
				}
				if got.channel != "c/"+kind || got.epoch != "e" || got.offset != float64(i+1) || got.prev != float64(i) || got.kind != kind || got.flags != flags {
					t.Fatalf("row header %+v", got)
				}
			}
		})
	}
}

// TestTranscodeMutated feeds corrupted events: whatever msgp's decoder
// accepts must transcode to the same value, and anything else must give
// valid JSON, with the raw msgpack when it cannot be transcoded.
func TestTranscodeMutated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := event.Kinds()
	slices.Sort(kinds)
	accepted, refused := 0, 0
	for i := range 20000 {
		kind := kinds[i%len(kinds)]
		ev := event.New(kind)
		fill(r, reflect.ValueOf(ev).Elem(), 0)
		data, _ := ev.MarshalMsg(nil)
		switch r.IntN(3) {
		case 0:
			data = data[:r.IntN(len(data)+1)]
		default:
			for range 1 + r.IntN(3) {
				data[r.IntN(len(data))] = byte(r.IntN(256))
			}
		}
		var w Writer
		w.Add(&client.Event{Channel: "c", Kind: kind, Data: data})
		rows := decodeBatch(t, w.Close(), w.Bytes)
		if dupKeys(data, 0) {
			// msgp merges the values of a repeated key (last wins, but
			// structs and pointers are decoded into, not replaced); the
			// transcoding writes both and JavaScript keeps the last. Not
			// something msgp's encoder writes.
			return
		}
		var want any
		ev, err := decodeExact(kind, data)
		ok := err == nil
		if ok {
			b, err := json.Marshal(ev)
			if err != nil {
				// NaN or an infinity, which encoding/json refuses and the
				// transcoding writes as null.
				return
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case ok && rows[0].value == nil:
			t.Fatalf("%s: msgp decodes % x, the transcoding refused it", kind, data)
		case ok && !same(rows[0].value, want):
			gb, _ := json.Marshal(rows[0].value)
			wb, _ := json.Marshal(want)
			t.Fatalf("%s: % x transcoded\n%s\nwant\n%s", kind, data, gb, wb)
		case rows[0].value == nil && string(rows[0].data) != string(data):
			t.Fatalf("%s: raw data not kept", kind)
		}
		if ok {
			accepted++
		} else {
			refused++
		}
	}
	t.Logf("%d mutated events decodable, %d not", accepted, refused)
}

func TestUnknownKind(t *testing.T) {
	var w Writer
	w.Add(&client.Event{Channel: "x/y", Position: client.Position{Epoch: "e", Offset: 9}, Kind: "future.kind", Data: msgp.AppendMapHeader(nil, 0)})
	rows := decodeBatch(t, w.Close(), w.Bytes)
	if rows[0].value != nil || string(rows[0].data) != "\x80" {
		t.Fatalf("row %+v, want no value and the raw msgpack", rows[0])
	}
}

// TestNotOneValue: an event frame's d is a bin the frame decoder does not
// look into, so Data may be part of a value or a value and more. Such a
// row carries the raw bytes without a value, like an unknown kind's; the
// rows around it are not affected.
func TestNotOneValue(t *testing.T) {
	good := SampleUplink(nil, 1)
	cases := map[string][]byte{
		"partial value":      good[:len(good)/2],
		"trailing bytes":     append(SampleUplink(nil, 1), 0xc0),
		"two values":         append(SampleUplink(nil, 1), good...),
		"empty":              nil,
		"not msgpack":        {0xc1},
		"the value in a bin": wire.AppendBytes(nil, good),
	}
	for name, data := range cases {
		var w Writer
		w.Add(&client.Event{Channel: "a", Kind: KindUplink, Data: good})
		w.Add(&client.Event{Channel: "b", Kind: KindUplink, Data: data})
		w.Add(&client.Event{Channel: "c", Kind: KindUplink, Data: good})
		rows := decodeBatch(t, w.Close(), w.Bytes)
		if len(rows) != 3 || rows[0].value == nil || rows[2].value == nil {
			t.Fatalf("%s: the rows around it: %+v", name, rows)
		}
		if rows[1].value != nil || string(rows[1].data) != string(data) {
			t.Errorf("%s: row %+v, want no value and the raw bytes", name, rows[1])
		}
	}
}

func TestEmptyBatch(t *testing.T) {
	var w Writer
	if got := string(w.Close()); got != "[]" {
		t.Fatalf("empty batch %q", got)
	}
	w.Reset()
	w.Add(&client.Event{Kind: "k"})
	w.Add(&client.Event{Kind: "k"})
	rows := decodeBatch(t, w.Close(), w.Bytes)
	if len(rows) != 2 || w.Len() != 2 {
		t.Fatalf("%d rows", len(rows))
	}
}

func TestPaths(t *testing.T) {
	p := Paths()
	if got := p[event.KindUplink]; !reflect.DeepEqual(got, [][]string{{"meta", "raw"}, {"payload"}}) {
		t.Errorf("uplink paths %v", got)
	}
	for _, kind := range event.Kinds() {
		if !slices.ContainsFunc(p[kind], func(path []string) bool { return slices.Equal(path, []string{"meta", "raw"}) }) {
			t.Errorf("%s: no meta.raw among %v", kind, p[kind])
		}
	}
	type inner struct {
		B []byte `json:"b"`
	}
	type outer struct {
		L []inner           `json:"l"`
		M map[string][]byte `json:"m"`
		P *inner            `json:"p"`
		S []string          `json:"s"`
	}
	want := [][]string{{"l", "*", "b"}, {"m", "*"}, {"p", "b"}}
	if got := bytesPaths(testPlan(t, reflect.TypeFor[outer]())); !reflect.DeepEqual(got, want) {
		t.Errorf("bytesPaths = %v, want %v", got, want)
	}
	if got := ResultPaths(event.CmdLoRaDownlink); len(got) != 0 {
		t.Errorf("ResultPaths(%s) = %v", event.CmdLoRaDownlink, got)
	}
}

func TestResult(t *testing.T) {
	data, _ := (&event.DownlinkResult{Reference: "r-1"}).MarshalMsg(nil)
	var w Writer
	if err := w.Result(event.CmdLoRaDownlink, data); err != nil {
		t.Fatal(err)
	}
	if got := string(w.Text); got != `{"reference":"r-1"}` {
		t.Fatalf("Result = %s", got)
	}
	if err := w.Result(event.CmdLoRaDownlink, []byte{0x93}); err == nil {
		t.Fatal("Result accepted an array for a struct")
	}
	if err := w.Result(event.CmdLoRaDownlink, append(data, 0xc0)); err == nil {
		t.Fatal("Result accepted bytes after the value")
	}
	data, _ = (&event.ScannerCommandResult{EventID: "e-1"}).MarshalMsg(nil)
	if err := w.Result(event.CmdScannerFeedback, data); err != nil {
		t.Fatal(err)
	}
	if got := string(w.Text); got != `{"eventId":"e-1"}` {
		t.Fatalf("Result = %s", got)
	}
	if err := w.Result("no.such.kind", data); err == nil {
		t.Fatal("Result of an unknown kind")
	}
}

func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(f float64) {
		b := appendFloat(nil, f, 64)
		var back float64
		if err := json.Unmarshal(b, &back); err != nil || back != f {
			t.Fatalf("appendFloat(%v) = %s, reads back as %v (%v)", f, b, back, err)
		}
	}
	for _, f := range []float64{0, 1, -1, 7.5, 868.1, 868.125, -71, 0.1, 0.30000000000000004, 1e-7, 123456.789012, 1e15, 1e300, -5e-324, 999999999999999.9} {
		check(f)
	}
	for range 200000 {
		switch r.IntN(3) {
		case 0:
			check(float64(r.Int64N(1e12)-5e11) / math.Pow(10, float64(r.IntN(8))))
		case 1:
			check(r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15)))
		default:
			check(math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(2046)+1)<<52))
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, f, 64)); got != "null" {
			t.Errorf("appendFloat(%v) = %s", f, got)
		}
	}
}

// TestJSConstants checks the Kinds and Commands of the npm package against
// package event: every event kind has a constant, every command constant
// is a command kind.
func TestJSConstants(t *testing.T) {
	src, err := os.ReadFile("../../../../jsbindings/src/index.js")
	if err != nil {
		t.Fatal(err)
	}
	block := func(name string) []string {
		_, rest, ok := strings.Cut(string(src), "export const "+name+" = Object.freeze({")
		body, _, ok2 := strings.Cut(rest, "});")
		if !ok || !ok2 {
			t.Fatalf("no %s in index.js", name)
		}
		var values []string
		for _, m := range regexp.MustCompile(`: '([^']+)'`).FindAllStringSubmatch(body, -1) {
			values = append(values, m[1])
		}
		return values
	}
	kinds := block("Kinds")
	for _, k := range event.Kinds() {
		if !slices.Contains(kinds, k) {
			t.Errorf("event kind %q has no constant in Kinds (jsbindings/src/index.js and index.d.ts)", k)
		}
	}
	for _, k := range kinds {
		if event.New(k) == nil {
			t.Errorf("Kinds has %q, which package event does not know", k)
		}
	}
	for _, k := range block("Commands") {
		if event.NewCommand(k) == nil {
			t.Errorf("Commands has %q, which package event does not know", k)
		}
	}
}

// FuzzTranscode feeds arbitrary data as an event of a known kind: whatever
// msgp's decoder accepts must transcode to what encoding/json writes of
// the decoded value, anything else must keep the raw msgpack, and the
// batch must always be JSON.
func FuzzTranscode(f *testing.F) {
	kinds := event.Kinds()
	slices.Sort(kinds)
	r := rand.New(rand.NewPCG(9, 10))
	for i, kind := range kinds {
		ev := event.New(kind)
		fill(r, reflect.ValueOf(ev).Elem(), 0)
		data, err := ev.MarshalMsg(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), data)
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := kinds[int(k)%len(kinds)]
		var w Writer
		w.Add(&client.Event{Channel: "c", Kind: kind, Data: data})
		rows := decodeBatch(t, w.Close(), w.Bytes)
		if dupKeys(data, 0) {
			// msgp merges the values of a repeated key (last wins, but
			// structs and pointers are decoded into, not replaced); the
			// transcoding writes both and JavaScript keeps the last. Not
			// something msgp's encoder writes.
			return
		}
		var want any
		ev, err := decodeExact(kind, data)
		ok := err == nil
		if ok {
			b, err := json.Marshal(ev)
			if err != nil {
				// NaN or an infinity, which encoding/json refuses and the
				// transcoding writes as null.
				return
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case ok && rows[0].value == nil:
			t.Fatalf("%s: msgp decodes % x, the transcoding refused it", kind, data)
		case ok && !same(rows[0].value, want):
			gb, _ := json.Marshal(rows[0].value)
			wb, _ := json.Marshal(want)
			t.Fatalf("%s: % x transcoded\n%s\nwant\n%s", kind, data, gb, wb)
		case !ok && rows[0].value != nil:
			t.Fatalf("%s: msgp refuses % x, the transcoding accepted it", kind, data)
		case rows[0].value == nil && string(rows[0].data) != string(data):
			t.Fatalf("%s: raw data not kept", kind)
		}
	})
}

// TestSampleUplink checks that the benchmark's uplink is msgp's encoding
// of the event it describes.
func TestSampleUplink(t *testing.T) {
	raw := []byte(sampleRaw)
	for i := range 300 {
		up := event.Uplink{
			Meta:   event.Meta{Link: "bench", Protocol: "resiot", Time: 1_763_800_000_000_000, Received: 1_763_800_000_000_100, Raw: raw},
			AppEUI: "70b3d57ed000ac4a", DevEUI: "0004a30b001c0530", Port: 2, Payload: []byte{1, 2, 3, 4, byte(i)},
			FCnt: uint32(i), RSSI: -71, SNR: 7.5, SF: 7, Frequency: 868.1, Bandwidth: 125,
			Gateways: []string{"b827ebfffe6c3b7a", "b827ebfffe6c3b7b"}, ADR: true, Connector: "sim-resiot",
		}
		want, err := up.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := SampleUplink([]byte{9}, i); string(got[1:]) != string(want) || got[0] != 9 {
			t.Fatalf("SampleUplink(%d)\n% x\nmsgp\n% x", i, got, want)
		}
	}
	if KindUplink != event.KindUplink {
		t.Fatal("KindUplink")
	}
}

// dupKeys reports whether a map in the msgpack value at the start of b
// has a key twice.
func dupKeys(b []byte, depth int) bool {
	_, dup := walkDup(b, depth)
	return dup
}

func walkDup(b []byte, depth int) ([]byte, bool) {
	if depth > 100 {
		return nil, false
	}
	switch wire.NextKind(b) {
	case wire.KindMap:
		n, rest, err := wire.ReadMapHeader(b)
		if err != nil {
			return nil, false
		}
		keys := map[string]bool{}
		for ; n > 0; n-- {
			start := rest
			var k []byte
			if k, rest, err = wire.ReadMapKey(rest); err != nil {
				if rest, err = wire.Skip(start); err != nil {
					return nil, false
				}
			} else if keys[string(k)] {
				return nil, true
			} else {
				keys[string(k)] = true
			}
			var dup bool
			if rest, dup = walkDup(rest, depth+1); dup || rest == nil {
				return nil, dup
			}
		}
		return rest, false
	case wire.KindArray:
		n, rest, err := wire.ReadArrayHeader(b)
		if err != nil {
			return nil, false
		}
		for ; n > 0; n-- {
			var dup bool
			if rest, dup = walkDup(rest, depth+1); dup || rest == nil {
				return nil, dup
			}
		}
		return rest, false
	}
	rest, err := wire.Skip(b)
	if err != nil {
		return nil, false
	}
	return rest, false
}

// TestAppendString compares appendString, which looks at eight bytes at a
// time, with the byte-at-a-time loop it replaced, on strings made of the
// bytes that matter around every position of a word.
func TestAppendString(t *testing.T) {
	want := func(s string) string {
		b := []byte{'"'}
		start := 0
		for i := 0; i < len(s); {
			c := s[i]
			if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
				i++
				continue
			}
			if c >= utf8.RuneSelf {
				r, size := utf8.DecodeRuneInString(s[i:])
				if r != utf8.RuneError || size != 1 {
					i += size
					continue
				}
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
		}
		return string(append(append(b, s[start:]...), '"'))
	}
	check := func(s string) {
		t.Helper()
		if got := string(appendString([]byte("x"), s)); got != "x"+want(s) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got[1:], want(s))
		}
	}
	special := []string{"\x00", "\x1f", " ", "!", "\"", "#", "[", "\\", "]", "\x7f", "\x80", "\xff", "é", "€", "😀", "\xe2\x82", "\n", "\t", "\r"}
	for n := 0; n <= 24; n++ {
		for at := 0; at < n; at++ {
			for _, c := range special {
				check(strings.Repeat("a", at) + c + strings.Repeat("b", n-at))
			}
		}
		check(strings.Repeat("z", n))
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			switch r.IntN(4) {
			case 0:
				b[i] = byte(r.IntN(256))
			default:
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(string(b))
	}
}

// TestAppendInt compares appendUint and appendInt with strconv around
// every power of ten.
func TestAppendInt(t *testing.T) {
	check := func(u uint64) {
		t.Helper()
		if got, want := string(appendUint([]byte("x"), u)), "x"+strconv.FormatUint(u, 10); got != want {
			t.Fatalf("appendUint(%d) = %s", u, got)
		}
		v := int64(u)
		if got, want := string(appendInt([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
			t.Fatalf("appendInt(%d) = %s", v, got)
		}
	}
	for p := uint64(1); ; p *= 10 {
		for _, u := range []uint64{p - 1, p, p + 1, 2*p - 1, 2 * p} {
			check(u)
			check(-u)
		}
		if p > math.MaxUint64/10 {
			break
		}
	}
	for _, u := range []uint64{0, math.MaxUint64, math.MaxInt64, 1 << 63, 1<<63 + 1} {
		check(u)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 100000 {
		check(r.Uint64() >> r.IntN(64))
	}
}
