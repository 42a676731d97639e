// Package batch turns a batch of client events into what the browser
// bridge hands to JavaScript in one call: one JSON text and one block of
// bytes.
//
// Building JavaScript objects from Go one property at a time costs a call
// across the wasm boundary per property (and a UTF-8 decode per property
// name); a JSON text costs one call, and JSON.parse builds the objects
// faster than any of that. JSON has no bytes, so every []byte is appended
// to the batch's Bytes and written in the text as a pair [start, end]; the
// JavaScript side (jsbindings/src/index.js, assemble) replaces each pair by
// a Uint8Array, at the places Paths lists per kind.
//
// The text is an array with one row per event:
//
//	[channel, epoch, offset, prev, kind, flags, value]         known kind
//	[channel, epoch, offset, prev, kind, flags, null, [s, e]]  otherwise: the raw msgpack
//
// flags has bit 0 for Latest and bit 1 for Replayed.
//
// value is the event as its Go type (package event) would be written by
// encoding/json after msgp decoded it: property names from the json tags,
// omitempty honoured, a missing property given its zero value. It is not
// made that way, though: decoding into the struct and walking it with
// reflect costs some 11 µs an event in the browser, ten times the budget
// of the whole pipeline. The Writer transcodes the msgpack straight to
// JSON instead, following a plan built once per type from the struct's
// msg and json tags, reading every value with the same msgp functions the
// generated decoder calls (so a value the typed decoder would refuse is
// refused too: the row then carries the raw msgpack, as for unknown kinds).
// The tests check the result against msgp's decoder and encoding/json for
// every kind. Where it departs from encoding/json:
//
//   - []byte is a pair, not Base64 (inside an interface value, which has
//     no static path, an array of numbers);
//   - a nil or empty slice or map is [] or {}, never null;
//   - a NaN or infinite float, a time, a complex number or a msgpack
//     extension inside an interface value is null.
package batch

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Limits of the generated decoders (the //msgp:limit directive of package
// event), enforced the same way.
const (
	limitArrays = 1024
	limitMaps   = 256
	maxDepth    = 64 // of interface values, which have no limit of their own
)

var errLimit = errors.New("batch: limit exceeded")

// Writer builds one batch. The zero value is ready; Reset reuses its
// buffers.
type Writer struct {
	// Text is the JSON so far.
	Text []byte
	// Bytes holds the contents of every []byte of the batch.
	Bytes []byte
	n     int
}

// Reset empties the writer, keeping its buffers.
func (w *Writer) Reset() {
	w.Text = w.Text[:0]
	w.Bytes = w.Bytes[:0]
	w.n = 0
}

// Len returns the number of events added since Reset.
func (w *Writer) Len() int { return w.n }

// Add appends one event, transcoding its Data (its Value is not used: the
// bridge's client leaves it nil, see client.Options.RawEvents).
func (w *Writer) Add(ev *client.Event) {
	if w.n == 0 {
		w.Text = append(w.Text, "[["...)
	} else {
		w.Text = append(w.Text, ",["...)
	}
	w.n++
	b := appendString(w.Text, ev.Channel)
	b = append(b, ',')
	b = appendString(b, ev.Position.Epoch)
	b = append(b, ',')
	b = strconv.AppendUint(b, ev.Position.Offset, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, ev.Prev, 10)
	b = append(b, ',')
	b = appendString(b, ev.Kind)
	flags := byte('0')
	if ev.Latest {
		flags |= 1
	}
	if ev.Replayed {
		flags |= 2
	}
	w.Text = append(b, ',', flags, ',')
	if !w.transcodeKind(ev.Kind, ev.Data) {
		w.Text = append(w.Text, "null,"...)
		w.appendBytes(ev.Data)
	}
	w.Text = append(w.Text, ']')
}

// transcodeKind writes data as the kind's value and reports whether it
// could; if not, it has written nothing.
func (w *Writer) transcodeKind(kind string, data []byte) bool {
	p := planOfKind(kind)
	if p == nil {
		return false
	}
	text, bytes := len(w.Text), len(w.Bytes)
	if _, _, err := w.transcode(p, data, 0); err != nil {
		w.Text, w.Bytes = w.Text[:text], w.Bytes[:bytes]
		return false
	}
	return true
}

// Close ends the text and returns it; it is valid JSON (an empty batch is
// "[]").
func (w *Writer) Close() []byte {
	if w.n == 0 {
		w.Text = append(w.Text[:0], "[]"...)
	} else {
		w.Text = append(w.Text, ']')
	}
	return w.Text
}

// Value writes one msgp-encoded value of type t alone (a command's result)
// as Add writes an event's: Text is its JSON, its []byte pairs into Bytes
// at the places BytesPaths(t) lists.
func (w *Writer) Value(t reflect.Type, data []byte) error {
	w.Reset()
	_, _, err := w.transcode(planOf(t), data, 0)
	return err
}

// appendBytes writes p as a pair [start, end] of Bytes.
func (w *Writer) appendBytes(p []byte) {
	start := len(w.Bytes)
	w.Bytes = append(w.Bytes, p...)
	b := append(w.Text, '[')
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(len(w.Bytes)), 10)
	w.Text = append(b, ']')
}

// A plan says how to transcode one Go type.
type plan struct {
	kind   reflect.Kind
	elem   *plan   // slice, array, map value, pointer
	n      int     // array length
	fields []field // struct: its JSON properties, in order
	// wire lists a struct's msg keys in field order, which is the order
	// msgp writes them in: looked for from where the last key was found,
	// a key is found in a comparison or two, where byKey would hash it.
	wire  []wireKey
	byKey map[string]int
	bytes bool // []byte
}

// wireKey is a msg key and the index of its field, -1 for a field that
// is not a JSON property.
type wireKey struct {
	key   string
	field int
}

// field is a struct field that is a JSON property.
type field struct {
	name   string // JSON name
	key    string // `"name":`
	omit   bool   // json omitempty
	onWire bool   // has a msg key (else always its zero value)
	plan   *plan
}

var (
	plansMu sync.Mutex
	plans   = map[reflect.Type]*plan{}
	// kindPlans maps every event kind to the plan of its type; built on
	// first use, read-only after.
	kindPlans = sync.OnceValue(func() map[string]*plan {
		m := make(map[string]*plan)
		for _, k := range event.Kinds() {
			m[k] = planOf(reflect.TypeOf(event.New(k)).Elem())
		}
		return m
	})
)

// planOfKind returns the plan of an event kind's type, or nil if the kind
// is unknown.
func planOfKind(kind string) *plan { return kindPlans()[kind] }

// planOf returns the plan of t, built on first use.
func planOf(t reflect.Type) *plan {
	plansMu.Lock()
	defer plansMu.Unlock()
	return buildPlan(t)
}

func buildPlan(t reflect.Type) *plan {
	if p := plans[t]; p != nil {
		return p
	}
	p := &plan{kind: t.Kind()}
	plans[t] = p // before the fields: a recursive type finds it
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			p.bytes = true
		} else {
			p.elem = buildPlan(t.Elem())
		}
	case reflect.Array:
		p.elem, p.n = buildPlan(t.Elem()), t.Len()
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			p.kind = reflect.Invalid // msgp cannot either
		} else {
			p.elem = buildPlan(t.Elem())
		}
	case reflect.Pointer:
		p.elem = buildPlan(t.Elem())
	case reflect.Struct:
		p.byKey = make(map[string]int)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, jopts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			key, _, _ := strings.Cut(sf.Tag.Get("msg"), ",")
			if name == "-" {
				name = "" // not a property; still read past on the wire
			} else if name == "" {
				name = sf.Name
			}
			if key == "" {
				key = sf.Name
			}
			fp := buildPlan(sf.Type)
			index := len(p.fields)
			if name == "" {
				index = -1
			}
			if key != "-" {
				p.byKey[key] = index
				p.wire = append(p.wire, wireKey{key, index})
			}
			if name == "" {
				continue
			}
			p.fields = append(p.fields, field{
				name:   name,
				key:    string(appendString(nil, name)) + ":",
				omit:   hasOption(jopts, "omitempty"),
				onWire: key != "-",
				plan:   fp,
			})
		}
	case reflect.Bool, reflect.String, reflect.Interface, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		p.kind = reflect.Invalid
	}
	return p
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

var errUnsupported = errors.New("batch: type cannot be transcoded")

// transcode reads one value of plan p from b, writes it as JSON, and
// returns the rest of b and whether the value is empty in the sense of
// omitempty.
func (w *Writer) transcode(p *plan, b []byte, depth int) (rest []byte, empty bool, err error) {
	if rest, empty, ok := w.fast(p, b); ok {
		return rest, empty, nil
	}
	switch p.kind {
	case reflect.Bool:
		var v bool
		v, rest, err = msgp.ReadBoolBytes(b)
		if v {
			w.Text = append(w.Text, "true"...)
		} else {
			w.Text = append(w.Text, "false"...)
		}
		return rest, !v, err
	case reflect.Int, reflect.Int64:
		var v int64
		v, rest, err = msgp.ReadInt64Bytes(b)
		return rest, v == 0, w.int(v, err)
	case reflect.Int32:
		var v int32
		v, rest, err = msgp.ReadInt32Bytes(b)
		return rest, v == 0, w.int(int64(v), err)
	case reflect.Int16:
		var v int16
		v, rest, err = msgp.ReadInt16Bytes(b)
		return rest, v == 0, w.int(int64(v), err)
	case reflect.Int8:
		var v int8
		v, rest, err = msgp.ReadInt8Bytes(b)
		return rest, v == 0, w.int(int64(v), err)
	case reflect.Uint, reflect.Uint64:
		var v uint64
		v, rest, err = msgp.ReadUint64Bytes(b)
		return rest, v == 0, w.uint(v, err)
	case reflect.Uint32:
		var v uint32
		v, rest, err = msgp.ReadUint32Bytes(b)
		return rest, v == 0, w.uint(uint64(v), err)
	case reflect.Uint16:
		var v uint16
		v, rest, err = msgp.ReadUint16Bytes(b)
		return rest, v == 0, w.uint(uint64(v), err)
	case reflect.Uint8:
		var v uint8
		v, rest, err = msgp.ReadUint8Bytes(b)
		return rest, v == 0, w.uint(uint64(v), err)
	case reflect.Float64:
		var v float64
		v, rest, err = msgp.ReadFloat64Bytes(b)
		w.Text = appendFloat(w.Text, v, 64)
		return rest, v == 0, err
	case reflect.Float32:
		var v float32
		v, rest, err = msgp.ReadFloat32Bytes(b)
		w.Text = appendFloat(w.Text, float64(v), 32)
		return rest, v == 0, err
	case reflect.String:
		var v []byte
		v, rest, err = msgp.ReadStringZC(b)
		w.Text = appendString(w.Text, unsafeString(v))
		return rest, len(v) == 0, err
	case reflect.Slice:
		if p.bytes {
			var v []byte
			v, rest, err = msgp.ReadBytesZC(b)
			w.appendBytes(v)
			return rest, len(v) == 0, err
		}
		return w.list(p, b, depth, -1)
	case reflect.Array:
		return w.list(p, b, depth, p.n)
	case reflect.Map:
		return w.object(p, b, depth)
	case reflect.Pointer:
		if msgp.IsNil(b) {
			rest, err = msgp.ReadNilBytes(b)
			w.Text = append(w.Text, "null"...)
			return rest, true, err
		}
		rest, _, err = w.transcode(p.elem, b, depth)
		return rest, false, err
	case reflect.Struct:
		return w.structure(p, b, depth)
	case reflect.Interface:
		return w.dynamic(b, depth)
	}
	return b, false, errUnsupported
}

// fast transcodes the encodings msgp writes most often (positive fixint,
// float64, booleans, short strings and bins) without msgp's general
// readers, which cost a good part of the transcoding in the browser. It
// handles nothing those readers would read differently, and reports
// whether it handled b.
func (w *Writer) fast(p *plan, b []byte) (rest []byte, empty, ok bool) {
	if len(b) == 0 {
		return b, false, false
	}
	lead := b[0]
	switch p.kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if lead < 0x80 { // positive fixint fits every integer type
			w.Text = strconv.AppendUint(w.Text, uint64(lead), 10)
			return b[1:], lead == 0, true
		}
	case reflect.Float64:
		if lead == 0xcb && len(b) >= 9 {
			v := math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
			w.Text = appendFloat(w.Text, v, 64)
			return b[9:], v == 0, true
		}
	case reflect.Bool:
		if lead == 0xc2 || lead == 0xc3 {
			if lead == 0xc3 {
				w.Text = append(w.Text, "true"...)
			} else {
				w.Text = append(w.Text, "false"...)
			}
			return b[1:], lead == 0xc2, true
		}
	case reflect.String:
		var n, h int
		switch {
		case lead&0xe0 == 0xa0: // fixstr
			n, h = int(lead&0x1f), 1
		case lead == 0xd9 && len(b) >= 2: // str8
			n, h = int(b[1]), 2
		default:
			return b, false, false
		}
		if len(b) < h+n {
			return b, false, false
		}
		w.Text = appendString(w.Text, unsafeString(b[h:h+n]))
		return b[h+n:], n == 0, true
	case reflect.Slice:
		if p.bytes && lead == 0xc4 && len(b) >= 2 && len(b) >= 2+int(b[1]) { // bin8
			n := int(b[1])
			w.appendBytes(b[2 : 2+n])
			return b[2+n:], n == 0, true
		}
	}
	return b, false, false
}

func (w *Writer) int(v int64, err error) error {
	w.Text = strconv.AppendInt(w.Text, v, 10)
	return err
}

func (w *Writer) uint(v uint64, err error) error {
	w.Text = strconv.AppendUint(w.Text, v, 10)
	return err
}

// list writes an array or a slice (want < 0) of p.elem.
func (w *Writer) list(p *plan, b []byte, depth, want int) ([]byte, bool, error) {
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	switch {
	case err != nil:
		return b, false, err
	case want < 0 && n > limitArrays:
		return b, false, errLimit
	case want >= 0 && int(n) != want:
		return b, false, msgp.ArrayError{Wanted: uint32(want), Got: n}
	}
	w.Text = append(w.Text, '[')
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			w.Text = append(w.Text, ',')
		}
		if b, _, err = w.transcode(p.elem, b, depth); err != nil {
			return b, false, err
		}
	}
	w.Text = append(w.Text, ']')
	return b, n == 0, nil
}

// object writes a map with string keys.
func (w *Writer) object(p *plan, b []byte, depth int) ([]byte, bool, error) {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	switch {
	case err != nil:
		return b, false, err
	case n > limitMaps:
		return b, false, errLimit
	}
	w.Text = append(w.Text, '{')
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			w.Text = append(w.Text, ',')
		}
		var k []byte
		if k, b, err = msgp.ReadStringZC(b); err != nil {
			return b, false, err
		}
		w.Text = append(appendString(w.Text, unsafeString(k)), ':')
		if b, _, err = w.transcode(p.elem, b, depth); err != nil {
			return b, false, err
		}
	}
	w.Text = append(w.Text, '}')
	return b, n == 0, nil
}

// structure writes a struct: the properties on the wire, in wire order,
// then the zero value of every other one.
func (w *Writer) structure(p *plan, b []byte, depth int) ([]byte, bool, error) {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	switch {
	case err != nil:
		return b, false, err
	case n > limitMaps:
		return b, false, errLimit
	}
	var seenSmall uint64
	var seenBig []bool
	if len(p.fields) > 64 {
		seenBig = make([]bool, len(p.fields))
	}
	w.Text = append(w.Text, '{')
	first := true
	next := 0 // in p.wire
	for ; n > 0; n-- {
		var k []byte
		if len(b) > 0 && b[0]&0xe0 == 0xa0 && len(b) > int(b[0]&0x1f) { // fixstr
			k, b = b[1:1+b[0]&0x1f], b[1+b[0]&0x1f:]
		} else if k, b, err = msgp.ReadMapKeyZC(b); err != nil {
			return b, false, err
		}
		i, ok := 0, false
		for j := next; j < len(p.wire); j++ {
			if p.wire[j].key == string(k) {
				i, ok, next = p.wire[j].field, true, j+1
				break
			}
		}
		if !ok {
			i, ok = p.byKey[string(k)]
		}
		if !ok || i < 0 {
			if b, err = msgp.Skip(b); err != nil {
				return b, false, err
			}
			continue
		}
		f := &p.fields[i]
		if seenBig != nil {
			seenBig[i] = true
		} else {
			seenSmall |= 1 << i
		}
		mark, marks := len(w.Text), len(w.Bytes)
		if !first {
			w.Text = append(w.Text, ',')
		}
		w.Text = append(w.Text, f.key...)
		var empty bool
		if b, empty, err = w.transcode(f.plan, b, depth); err != nil {
			return b, false, err
		}
		if f.omit && empty {
			w.Text, w.Bytes = w.Text[:mark], w.Bytes[:marks]
			continue
		}
		first = false
	}
	for i := range p.fields {
		f := &p.fields[i]
		seen := seenSmall&(1<<i) != 0
		if seenBig != nil {
			seen = seenBig[i]
		}
		if seen || f.omit {
			continue
		}
		if !first {
			w.Text = append(w.Text, ',')
		}
		first = false
		w.Text = append(w.Text, f.key...)
		w.zero(f.plan)
	}
	w.Text = append(w.Text, '}')
	return b, false, nil
}

// zero writes the zero value of p, as its Go type would be written.
func (w *Writer) zero(p *plan) {
	switch p.kind {
	case reflect.Bool:
		w.Text = append(w.Text, "false"...)
	case reflect.String:
		w.Text = append(w.Text, `""`...)
	case reflect.Slice:
		if p.bytes {
			w.appendBytes(nil)
		} else {
			w.Text = append(w.Text, "[]"...)
		}
	case reflect.Array:
		w.Text = append(w.Text, '[')
		for i := 0; i < p.n; i++ {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			w.zero(p.elem)
		}
		w.Text = append(w.Text, ']')
	case reflect.Map:
		w.Text = append(w.Text, "{}"...)
	case reflect.Struct:
		w.Text = append(w.Text, '{')
		first := true
		for i := range p.fields {
			f := &p.fields[i]
			if f.omit {
				continue
			}
			if !first {
				w.Text = append(w.Text, ',')
			}
			first = false
			w.Text = append(w.Text, f.key...)
			w.zero(f.plan)
		}
		w.Text = append(w.Text, '}')
	case reflect.Pointer, reflect.Interface, reflect.Invalid:
		w.Text = append(w.Text, "null"...)
	default: // numbers
		w.Text = append(w.Text, '0')
	}
}

// dynamic writes a value of an interface field as msgp.ReadIntfBytes reads
// it: maps with string keys, arrays, strings, numbers, booleans, nil; bin
// as an array of numbers; times, complex numbers and extensions as null.
func (w *Writer) dynamic(b []byte, depth int) (rest []byte, empty bool, err error) {
	if depth >= maxDepth {
		return b, false, errLimit
	}
	switch msgp.NextType(b) {
	case msgp.MapType:
		var n uint32
		if n, b, err = msgp.ReadMapHeaderBytes(b); err != nil {
			return b, false, err
		}
		w.Text = append(w.Text, '{')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			var k []byte
			if k, b, err = msgp.ReadMapKeyZC(b); err != nil {
				return b, false, err
			}
			w.Text = append(appendString(w.Text, unsafeString(k)), ':')
			if b, _, err = w.dynamic(b, depth+1); err != nil {
				return b, false, err
			}
		}
		w.Text = append(w.Text, '}')
		return b, false, nil
	case msgp.ArrayType:
		var n uint32
		if n, b, err = msgp.ReadArrayHeaderBytes(b); err != nil {
			return b, false, err
		}
		w.Text = append(w.Text, '[')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			if b, _, err = w.dynamic(b, depth+1); err != nil {
				return b, false, err
			}
		}
		w.Text = append(w.Text, ']')
		return b, false, nil
	case msgp.Float32Type:
		var v float32
		v, rest, err = msgp.ReadFloat32Bytes(b)
		w.Text = appendFloat(w.Text, float64(v), 32)
	case msgp.Float64Type:
		var v float64
		v, rest, err = msgp.ReadFloat64Bytes(b)
		w.Text = appendFloat(w.Text, v, 64)
	case msgp.IntType:
		var v int64
		v, rest, err = msgp.ReadInt64Bytes(b)
		w.Text = strconv.AppendInt(w.Text, v, 10)
	case msgp.UintType:
		var v uint64
		v, rest, err = msgp.ReadUint64Bytes(b)
		w.Text = strconv.AppendUint(w.Text, v, 10)
	case msgp.BoolType:
		var v bool
		v, rest, err = msgp.ReadBoolBytes(b)
		w.Text = strconv.AppendBool(w.Text, v)
	case msgp.StrType:
		var v []byte
		v, rest, err = msgp.ReadStringZC(b)
		w.Text = appendString(w.Text, unsafeString(v))
	case msgp.BinType:
		var v []byte
		v, rest, err = msgp.ReadBytesZC(b)
		w.Text = append(w.Text, '[')
		for i, c := range v {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			w.Text = strconv.AppendUint(w.Text, uint64(c), 10)
		}
		w.Text = append(w.Text, ']')
	case msgp.NilType:
		rest, err = msgp.ReadNilBytes(b)
		w.Text = append(w.Text, "null"...)
		return rest, true, err
	default: // times, complex numbers, extensions
		rest, err = msgp.Skip(b)
		w.Text = append(w.Text, "null"...)
	}
	return rest, false, err
}

// appendFloat writes f as the shortest decimal that reads back as the
// same float (of the given bits), as encoding/json would (modulo the
// exponent's spelling), and NaN and infinities as null. Small decimal
// fractions, which sensors send (7.5 dB, 868.1 MHz), skip strconv's
// general algorithm: if f·10ᵏ is an integer n for some k ≤ 6 and n/10ᵏ
// rounds back to f, the k-digit fraction is what JavaScript will read.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if bits == 64 && math.Abs(f) < 1e15 {
		for k := 0; k <= 6; k++ {
			n := f * pow10[k]
			if n != math.Trunc(n) || math.Abs(n) >= 1<<53 || float64(int64(n))/pow10[k] != f {
				continue
			}
			if f == 0 {
				return append(b, '0')
			}
			return appendFixed(b, int64(n), k)
		}
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}

// appendFixed writes n/10ᵏ with k decimals, trailing zeros trimmed.
func appendFixed(b []byte, n int64, k int) []byte {
	for k > 0 && n%10 == 0 {
		n /= 10
		k--
	}
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [24]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	if k == 0 {
		return append(b, d...)
	}
	if len(d) <= k {
		b = append(b, "0."...)
		for i := len(d); i < k; i++ {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	b = append(b, d[:len(d)-k]...)
	b = append(b, '.')
	return append(b, d[len(d)-k:]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as with encoding/json.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
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
	b = append(b, s[start:]...)
	return append(b, '"')
}

// BytesPaths returns the JSON paths of the []byte properties of values of
// t: each a list of property names, where "*" stands for every element of
// an array or every value of an object.
func BytesPaths(t reflect.Type) [][]string {
	var paths [][]string
	bytesPaths(planOf(t), nil, map[*plan]bool{}, &paths)
	return paths
}

// Paths returns BytesPaths for the type of every known event kind that
// has []byte properties.
func Paths() map[string][][]string {
	out := make(map[string][][]string)
	for _, kind := range event.Kinds() {
		if paths := BytesPaths(reflect.TypeOf(event.New(kind)).Elem()); len(paths) > 0 {
			out[kind] = paths
		}
	}
	return out
}

func bytesPaths(p *plan, path []string, seen map[*plan]bool, out *[][]string) {
	for p.kind == reflect.Pointer {
		p = p.elem
	}
	if p.bytes {
		*out = append(*out, append([]string(nil), path...))
		return
	}
	if seen[p] {
		return // a recursive type: its paths would be endless
	}
	seen[p] = true
	defer delete(seen, p)
	switch p.kind {
	case reflect.Struct:
		for _, f := range p.fields {
			bytesPaths(f.plan, append(path, f.name), seen, out)
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		bytesPaths(p.elem, append(path, "*"), seen, out)
	}
}

// unsafeString views b as a string for appendString, which copies it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
