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
// of the whole pipeline, and package event's decoders and msgp's runtime
// would cost the wasm some 350 KB of gzip. The Writer transcodes the
// msgpack straight to JSON instead, following the plan of the kind's type
// (plan.go: data generated from the struct's msg and json tags), reading
// every value with package wire's readers, which accept what the
// generated decoder's msgp functions accept, within the same limits (so a
// value the typed decoder would refuse is refused too, and so is data that
// is not exactly one value: the row then carries the raw msgpack, as for
// unknown kinds). The tests check the
// result against msgp's decoder and encoding/json for every kind. Where
// it departs from encoding/json:
//
//   - []byte is a pair, not Base64 (inside an interface value, which has
//     no static path, an array of numbers);
//   - a nil or empty slice or map is [] or {}, never null;
//   - a NaN or infinite float, a time, a complex number or a msgpack
//     extension inside an interface value is null.
//
// Commands go the other way: EncodeBody writes a JavaScript value as the
// msgpack of a command kind's body, following the same plans. The package
// links neither reflect nor package event nor msgp; TestPlansCurrent fails
// when the generated plans no longer match package event's types.
package batch

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// maxDepth bounds the nesting of interface values, which have no limit of
// their own; the plans carry the generated decoders' limits of arrays,
// maps and bins (the //msgp:limit directive and limit= tags of package
// event).
const maxDepth = 64

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
// could; if not, it has written nothing. data must be exactly one value:
// the event frame carries it as a bin, which the frame decoder does not
// look into.
func (w *Writer) transcodeKind(kind string, data []byte) bool {
	p := planOfKind(kind)
	if p == nil {
		return false
	}
	text, bytes := len(w.Text), len(w.Bytes)
	if err := w.transcodeAll(p, data); err != nil {
		w.Text, w.Bytes = w.Text[:text], w.Bytes[:bytes]
		return false
	}
	return true
}

var errTrailing = errors.New("batch: bytes after the value")

// transcodeAll transcodes data, which must be exactly one value of plan p.
func (w *Writer) transcodeAll(p *plan, data []byte) error {
	rest, _, err := w.transcode(p, data, 0)
	if err == nil && len(rest) != 0 {
		err = errTrailing
	}
	return err
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

var errNoResult = errors.New("batch: command result not known")

// Result writes the data of a successful reply to a command of the kind
// (its msgpack) alone, as Add writes an event's value: Text is its JSON,
// its []byte pairs into Bytes at the places ResultPaths(kind) lists. It
// fails for a kind whose result this version does not know, for data
// msgp's decoder of the result type would refuse, and for data that is
// more than one value.
func (w *Writer) Result(kind string, data []byte) error {
	w.Reset()
	p := resultPlan(kind)
	if p == nil {
		return errNoResult
	}
	return w.transcodeAll(p, data)
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

var errUnsupported = errors.New("batch: type cannot be transcoded")

// transcode reads one value of plan p from b, writes it as JSON, and
// returns the rest of b and whether the value is empty in the sense of
// omitempty.
func (w *Writer) transcode(p *plan, b []byte, depth int) (rest []byte, empty bool, err error) {
	if rest, empty, ok := w.fast(p, b); ok {
		return rest, empty, nil
	}
	switch p.kind {
	case kBool:
		var v bool
		v, rest, err = wire.ReadBool(b)
		if v {
			w.Text = append(w.Text, "true"...)
		} else {
			w.Text = append(w.Text, "false"...)
		}
		return rest, !v, err
	case kInt, kInt64:
		var v int64
		v, rest, err = wire.ReadInt64(b)
		return rest, v == 0, w.int(v, err)
	case kInt32:
		var v int64
		v, rest, err = wire.ReadInt(b, 32)
		return rest, v == 0, w.int(v, err)
	case kInt16:
		var v int64
		v, rest, err = wire.ReadInt(b, 16)
		return rest, v == 0, w.int(v, err)
	case kInt8:
		var v int64
		v, rest, err = wire.ReadInt(b, 8)
		return rest, v == 0, w.int(v, err)
	case kUint, kUint64:
		var v uint64
		v, rest, err = wire.ReadUint64(b)
		return rest, v == 0, w.uint(v, err)
	case kUint32:
		var v uint64
		v, rest, err = wire.ReadUint(b, 32)
		return rest, v == 0, w.uint(v, err)
	case kUint16:
		var v uint64
		v, rest, err = wire.ReadUint(b, 16)
		return rest, v == 0, w.uint(v, err)
	case kUint8:
		var v uint64
		v, rest, err = wire.ReadUint(b, 8)
		return rest, v == 0, w.uint(v, err)
	case kFloat64:
		var v float64
		v, rest, err = wire.ReadFloat64(b)
		w.Text = appendFloat(w.Text, v, 64)
		return rest, v == 0, err
	case kFloat32:
		var v float32
		v, rest, err = wire.ReadFloat32(b)
		w.Text = appendFloat(w.Text, float64(v), 32)
		return rest, v == 0, err
	case kString:
		var v []byte
		v, rest, err = wire.ReadStringBytes(b)
		w.Text = appendString(w.Text, unsafeString(v))
		return rest, len(v) == 0, err
	case kBytes:
		var v []byte
		v, rest, err = wire.ReadBytes(b)
		if err == nil && p.limit != 0 && len(v) > int(p.limit) {
			return b, false, errLimit
		}
		w.appendBytes(v)
		return rest, len(v) == 0, err
	case kSlice:
		return w.list(p, b, depth, -1)
	case kArray:
		return w.list(p, b, depth, p.n)
	case kMap:
		return w.object(p, b, depth)
	case kPointer:
		if wire.IsNil(b) {
			rest, err = wire.ReadNil(b)
			w.Text = append(w.Text, "null"...)
			return rest, true, err
		}
		rest, _, err = w.transcode(&plans[p.elem], b, depth)
		return rest, false, err
	case kStruct:
		return w.structure(p, b, depth)
	case kInterface:
		return w.dynamic(b, depth)
	}
	return b, false, errUnsupported
}

// fast transcodes the encodings msgp writes most often (positive fixint,
// float64, booleans, short strings and bins) without the general readers,
// which cost a good part of the transcoding in the browser. It handles
// nothing those readers would read differently, and reports whether it
// handled b.
func (w *Writer) fast(p *plan, b []byte) (rest []byte, empty, ok bool) {
	if len(b) == 0 {
		return b, false, false
	}
	lead := b[0]
	switch p.kind {
	case kInt, kInt8, kInt16, kInt32, kInt64, kUint, kUint8, kUint16, kUint32, kUint64:
		if lead < 0x80 { // positive fixint fits every integer type
			w.Text = strconv.AppendUint(w.Text, uint64(lead), 10)
			return b[1:], lead == 0, true
		}
	case kFloat64:
		if lead == 0xcb && len(b) >= 9 {
			v := math.Float64frombits(uint64(b[1])<<56 | uint64(b[2])<<48 | uint64(b[3])<<40 | uint64(b[4])<<32 |
				uint64(b[5])<<24 | uint64(b[6])<<16 | uint64(b[7])<<8 | uint64(b[8]))
			w.Text = appendFloat(w.Text, v, 64)
			return b[9:], v == 0, true
		}
	case kBool:
		if lead == 0xc2 || lead == 0xc3 {
			if lead == 0xc3 {
				w.Text = append(w.Text, "true"...)
			} else {
				w.Text = append(w.Text, "false"...)
			}
			return b[1:], lead == 0xc2, true
		}
	case kString:
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
	case kBytes:
		// bin8: at most 255 bytes, under every limit of package event.
		if lead == 0xc4 && len(b) >= 2 && len(b) >= 2+int(b[1]) && (p.limit == 0 || uint32(b[1]) <= p.limit) {
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

var errArrayLen = errors.New("batch: array of the wrong length")

// list writes an array or a slice (want < 0) of p.elem.
func (w *Writer) list(p *plan, b []byte, depth, want int) ([]byte, bool, error) {
	n, b, err := wire.ReadArrayHeader(b)
	switch {
	case err != nil:
		return b, false, err
	case want < 0 && n > p.limit:
		return b, false, errLimit
	case want >= 0 && int64(n) != int64(want):
		return b, false, errArrayLen
	}
	elem := &plans[p.elem]
	w.Text = append(w.Text, '[')
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			w.Text = append(w.Text, ',')
		}
		if b, _, err = w.transcode(elem, b, depth); err != nil {
			return b, false, err
		}
	}
	w.Text = append(w.Text, ']')
	return b, n == 0, nil
}

// object writes a map with string keys.
func (w *Writer) object(p *plan, b []byte, depth int) ([]byte, bool, error) {
	n, b, err := wire.ReadMapHeader(b)
	switch {
	case err != nil:
		return b, false, err
	case n > p.limit:
		return b, false, errLimit
	}
	elem := &plans[p.elem]
	w.Text = append(w.Text, '{')
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			w.Text = append(w.Text, ',')
		}
		var k []byte
		if k, b, err = wire.ReadStringBytes(b); err != nil {
			return b, false, err
		}
		w.Text = append(appendString(w.Text, unsafeString(k)), ':')
		if b, _, err = w.transcode(elem, b, depth); err != nil {
			return b, false, err
		}
	}
	w.Text = append(w.Text, '}')
	return b, n == 0, nil
}

// structure writes a struct: the properties on the wire, in wire order,
// then the zero value of every other one.
func (w *Writer) structure(p *plan, b []byte, depth int) ([]byte, bool, error) {
	n, b, err := wire.ReadMapHeader(b)
	switch {
	case err != nil:
		return b, false, err
	case n > p.limit:
		return b, false, errLimit
	}
	var seenSmall uint64
	var seenBig []bool
	if len(p.fields) > 64 {
		seenBig = make([]bool, len(p.fields))
	}
	w.Text = append(w.Text, '{')
	first := true
	next := 0 // in p.fields: the keys come in field order, as msgp writes them
	for ; n > 0; n-- {
		var k []byte
		if len(b) > 0 && b[0]&0xe0 == 0xa0 && len(b) > int(b[0]&0x1f) { // fixstr
			k, b = b[1:1+b[0]&0x1f], b[1+b[0]&0x1f:]
		} else if k, b, err = wire.ReadMapKey(b); err != nil {
			return b, false, err
		}
		i := p.find(k, next)
		if i < 0 {
			if b, err = wire.Skip(b); err != nil {
				return b, false, err
			}
			continue
		}
		next = i + 1
		f := &p.fields[i]
		if f.name == "" { // on the wire, not a JSON property
			if b, _, err = w.discard(&plans[f.plan], b, depth); err != nil {
				return b, false, err
			}
			continue
		}
		if seenBig != nil {
			seenBig[i] = true
		} else {
			seenSmall |= 1 << i
		}
		mark, marks := len(w.Text), len(w.Bytes)
		if !first {
			w.Text = append(w.Text, ',')
		}
		w.Text = append(w.Text, f.json...)
		var empty bool
		if b, empty, err = w.transcode(&plans[f.plan], b, depth); err != nil {
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
		if seen || f.omit || f.name == "" {
			continue
		}
		if !first {
			w.Text = append(w.Text, ',')
		}
		first = false
		w.Text = append(w.Text, f.json...)
		w.zero(&plans[f.plan])
	}
	w.Text = append(w.Text, '}')
	return b, false, nil
}

// find returns the index of the field whose msgpack key is k, looking
// from field next on first (msgp writes the keys in field order, so the
// key is found in a comparison or two), or -1.
func (p *plan) find(k []byte, next int) int {
	for j := next; j < len(p.fields); j++ {
		if p.fields[j].key == string(k) && p.fields[j].key != "" {
			return j
		}
	}
	for j := 0; j < next && j < len(p.fields); j++ {
		if p.fields[j].key == string(k) && p.fields[j].key != "" {
			return j
		}
	}
	return -1
}

// discard reads a value of a field that is no JSON property, as the
// decoder does (so that it refuses what the decoder refuses), and writes
// nothing.
func (w *Writer) discard(p *plan, b []byte, depth int) ([]byte, bool, error) {
	text, bytes := len(w.Text), len(w.Bytes)
	rest, empty, err := w.transcode(p, b, depth)
	w.Text, w.Bytes = w.Text[:text], w.Bytes[:bytes]
	return rest, empty, err
}

// zero writes the zero value of p, as its Go type would be written.
func (w *Writer) zero(p *plan) {
	switch p.kind {
	case kBool:
		w.Text = append(w.Text, "false"...)
	case kString:
		w.Text = append(w.Text, `""`...)
	case kBytes:
		w.appendBytes(nil)
	case kSlice:
		w.Text = append(w.Text, "[]"...)
	case kArray:
		w.Text = append(w.Text, '[')
		for i := 0; i < p.n; i++ {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			w.zero(&plans[p.elem])
		}
		w.Text = append(w.Text, ']')
	case kMap:
		w.Text = append(w.Text, "{}"...)
	case kStruct:
		w.Text = append(w.Text, '{')
		first := true
		for i := range p.fields {
			f := &p.fields[i]
			if f.omit || f.name == "" {
				continue
			}
			if !first {
				w.Text = append(w.Text, ',')
			}
			first = false
			w.Text = append(w.Text, f.json...)
			w.zero(&plans[f.plan])
		}
		w.Text = append(w.Text, '}')
	case kPointer, kInterface, kInvalid:
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
	switch wire.NextKind(b) {
	case wire.KindMap:
		var n uint32
		if n, b, err = wire.ReadMapHeader(b); err != nil {
			return b, false, err
		}
		w.Text = append(w.Text, '{')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			var k []byte
			if k, b, err = wire.ReadMapKey(b); err != nil {
				return b, false, err
			}
			w.Text = append(appendString(w.Text, unsafeString(k)), ':')
			if b, _, err = w.dynamic(b, depth+1); err != nil {
				return b, false, err
			}
		}
		w.Text = append(w.Text, '}')
		return b, false, nil
	case wire.KindArray:
		var n uint32
		if n, b, err = wire.ReadArrayHeader(b); err != nil {
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
	case wire.KindFloat32:
		var v float32
		v, rest, err = wire.ReadFloat32(b)
		w.Text = appendFloat(w.Text, float64(v), 32)
	case wire.KindFloat64:
		var v float64
		v, rest, err = wire.ReadFloat64(b)
		w.Text = appendFloat(w.Text, v, 64)
	case wire.KindInt:
		var v int64
		v, rest, err = wire.ReadInt64(b)
		w.Text = strconv.AppendInt(w.Text, v, 10)
	case wire.KindUint:
		var v uint64
		v, rest, err = wire.ReadUint64(b)
		w.Text = strconv.AppendUint(w.Text, v, 10)
	case wire.KindBool:
		var v bool
		v, rest, err = wire.ReadBool(b)
		w.Text = strconv.AppendBool(w.Text, v)
	case wire.KindStr:
		var v []byte
		v, rest, err = wire.ReadStringBytes(b)
		w.Text = appendString(w.Text, unsafeString(v))
	case wire.KindBin:
		var v []byte
		v, rest, err = wire.ReadBytes(b)
		w.Text = append(w.Text, '[')
		for i, c := range v {
			if i > 0 {
				w.Text = append(w.Text, ',')
			}
			w.Text = strconv.AppendUint(w.Text, uint64(c), 10)
		}
		w.Text = append(w.Text, ']')
	case wire.KindNil:
		rest, err = wire.ReadNil(b)
		w.Text = append(w.Text, "null"...)
		return rest, true, err
	default: // times, complex numbers, extensions
		rest, err = wire.Skip(b)
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

// unsafeString views b as a string for appendString, which copies it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
