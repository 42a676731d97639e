package batch

import (
	"errors"
	"math"
	"math/bits"
	"slices"
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
	w.Text = slices.Grow(w.Text, reserve)
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
	b = appendUint(b, ev.Position.Offset)
	b = append(b, ',')
	b = appendUint(b, ev.Prev)
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

// reserve is the room Add makes in Text before an event, so that the
// fast paths, which write whole words, mostly find it there (they fall
// back to append when they do not).
const reserve = 2048

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
	b = appendUint(b, uint64(start))
	b = append(b, ',')
	b = appendUint(b, uint64(len(w.Bytes)))
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
	return w.general(p, b, depth)
}

// general is transcode without the fast paths.
func (w *Writer) general(p *plan, b []byte, depth int) (rest []byte, empty bool, err error) {
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
// int64 and uint64, float64, booleans, short strings and bins) without
// the general readers, which cost a good part of the transcoding in the
// browser. It handles nothing those readers would read differently, and
// reports whether it handled b.
func (w *Writer) fast(p *plan, b []byte) (rest []byte, empty, ok bool) {
	if len(b) == 0 {
		return b, false, false
	}
	lead := b[0]
	switch p.kind {
	case kInt, kInt8, kInt16, kInt32, kInt64, kUint, kUint8, kUint16, kUint32, kUint64:
		switch { // positive fixint fits every integer type
		case lead < 10:
			w.Text = append(w.Text, '0'+lead)
			return b[1:], lead == 0, true
		case lead < 100:
			w.Text = append(w.Text, '0'+lead/10, '0'+lead%10)
			return b[1:], false, true
		case lead < 0x80:
			w.Text = append(w.Text, '1', '0'+lead/10%10, '0'+lead%10)
			return b[1:], false, true
		case lead == 0xd3 && (p.kind == kInt || p.kind == kInt64) && len(b) >= 9:
			v := int64(be64(b[1:]))
			w.Text = appendInt(w.Text, v)
			return b[9:], v == 0, true
		case lead == 0xcf && (p.kind == kUint || p.kind == kUint64) && len(b) >= 9:
			v := be64(b[1:])
			w.Text = appendUint(w.Text, v)
			return b[9:], v == 0, true
		}
	case kFloat64:
		if lead == 0xcb && len(b) >= 9 {
			v := math.Float64frombits(be64(b[1:]))
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
		// Up to sixteen bytes that need no escaping (an EUI, a name) are
		// two loads and two stores: b holds sixteen bytes from the
		// string's start more often than not (the rest of the message).
		if t := w.Text; n <= 16 && len(b) >= h+16 && cap(t)-len(t) >= 18 {
			x0, x1 := load64(unsafeString(b[h:])), load64(unsafeString(b[h+8:]))
			m0, m1 := uint64(1)<<(8*min(n, 8))-1, uint64(1)<<(8*(max(n, 8)-8))-1
			if plain8(x0&m0|ones*' '&^m0) && plain8(x1&m1|ones*' '&^m1) {
				l := len(t)
				t = t[l : l+18]
				t[0] = '"'
				store64(t[1:], x0)
				store64(t[9:], x1)
				t[n+1] = '"'
				w.Text = w.Text[:l+n+2]
				return b[h+n:], n == 0, true
			}
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
	w.Text = appendInt(w.Text, v)
	return err
}

func (w *Writer) uint(v uint64, err error) error {
	w.Text = appendUint(w.Text, v)
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
		i := -1
		// The key that comes next in field order, written as a fixstr, as
		// msgp writes it, is recognised in one comparison.
		if next < len(p.fields) && len(b) >= 8 {
			if f := &p.fields[next]; f.keyLen != 0 && load64(unsafeString(b))&f.keyMask == f.keyWord {
				i, b = next, b[f.keyLen:]
			}
		}
		if i < 0 {
			var k []byte
			if len(b) > 0 && b[0]&0xe0 == 0xa0 && len(b) > int(b[0]&0x1f) { // fixstr
				k, b = b[1:1+b[0]&0x1f], b[1+b[0]&0x1f:]
			} else if k, b, err = wire.ReadMapKey(b); err != nil {
				return b, false, err
			}
			if i = p.find(k, next); i < 0 {
				if b, err = wire.Skip(b); err != nil {
					return b, false, err
				}
				continue
			}
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
		if t := w.Text; f.jsonLen != 0 && cap(t)-len(t) >= 17 {
			t = t[len(t) : len(t)+17]
			c := 0
			if !first {
				t[0] = ','
				c = 1
			}
			store64(t[c:], f.jsonWords[0])
			store64(t[c+8:], f.jsonWords[1])
			w.Text = w.Text[:mark+c+f.jsonLen]
		} else {
			if !first {
				w.Text = append(w.Text, ',')
			}
			w.Text = append(w.Text, f.json...)
		}
		fp := &plans[f.plan]
		rest, empty, ok := w.fast(fp, b)
		if ok {
			b = rest
		} else if b, empty, err = w.general(fp, b, depth); err != nil {
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
		w.Text = appendInt(w.Text, v)
	case wire.KindUint:
		var v uint64
		v, rest, err = wire.ReadUint64(b)
		w.Text = appendUint(w.Text, v)
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
	u := uint64(n)
	if k == 0 {
		return appendUint(b, u)
	}
	d := digits(u)
	l := len(b)
	if d <= k { // 0.000ddd
		b = slices.Grow(b, k+2)[:l+k+2]
		b[l], b[l+1] = '0', '.'
		putDigits(b[l+2:], u)
		return b
	}
	b = slices.Grow(b, d+1)[:l+d+1]
	p := pow10u[k]
	putDigits(b[l:l+d-k], u/p)
	b[l+d-k] = '.'
	putDigits(b[l+d-k+1:], u%p)
	return b
}

var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// digits returns the number of decimal digits of v.
func digits(v uint64) int {
	d := (bits.Len64(v|1)*1233)>>12 + 1 // log10(2) ≈ 1233/4096: d or d-1
	if v < pow10u[d-1] {
		d--
	}
	return d
}

// appendUint is strconv.AppendUint(b, v, 10), writing the digits in place
// (strconv costs three calls in wasm: its own, its formatter's, a copy).
func appendUint(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	d := digits(v)
	l := len(b)
	b = slices.Grow(b, d)[:l+d]
	putDigits(b[l:], v)
	return b
}

// appendInt is strconv.AppendInt(b, v, 10).
func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		return appendUint(append(b, '-'), -uint64(v))
	}
	return appendUint(b, uint64(v))
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// putDigits writes v in decimal to all of dst, right-aligned and padded
// with zeros on the left.
func putDigits(dst []byte, v uint64) {
	i := len(dst)
	for v >= 100 && i >= 2 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		dst[i], dst[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	for i > 0 {
		i--
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as with encoding/json.
//
// It looks at eight bytes at a time for one that needs more than a copy
// (a control character, '"', '\\' or a byte of a multi-byte sequence),
// and copies each run of the others at once: in wasm, a comparison per
// byte and an append per run are what the time went to.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(load64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
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

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether none of the eight bytes of x needs escaping in
// a JSON string or is part of a multi-byte sequence. It may say no for
// plain bytes (never yes for others): the caller then looks byte by byte.
func plain8(x uint64) bool {
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	return (x|(x-ones*0x20)&^x|(quote-ones)&^quote|(backslash-ones)&^backslash)&highs == 0
}

// store64 writes x to the first eight bytes of b, little-endian (one
// store).
func store64(b []byte, x uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	b[4], b[5], b[6], b[7] = byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56)
}

// be64 reads the first eight bytes of b, big-endian.
func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// load64 reads the first eight bytes of s, little-endian (the compiler
// makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// unsafeString views b as a string for appendString, which copies it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
