package wire

import (
	"errors"
	"math"
	"unsafe"
)

// Errors of the reader. They say what was wrong, not where: a caller that
// reports a frame as malformed adds the frame's type and field.
var (
	ErrShort    = errors.New("msgpack: truncated value")
	ErrType     = errors.New("msgpack: value of the wrong type")
	ErrOverflow = errors.New("msgpack: integer out of range")
	ErrLimit    = errors.New("msgpack: array or map over the limit")
)

// Kind is the type of a msgpack value as its first byte tells it.
type Kind uint8

// Kinds of msgpack values. Int is any integer encoded signed, or a
// positive fixint; Uint one encoded unsigned.
const (
	KindInvalid Kind = iota
	KindNil
	KindBool
	KindInt
	KindUint
	KindFloat32
	KindFloat64
	KindStr
	KindBin
	KindArray
	KindMap
	KindExt
)

// NextKind returns the kind of the value at the start of b (KindInvalid
// for an empty b or the one unused lead byte, 0xc1).
func NextKind(b []byte) Kind {
	if len(b) == 0 {
		return KindInvalid
	}
	c := b[0]
	switch {
	case c <= 0x7f, c >= 0xe0:
		return KindInt
	case c <= 0x8f:
		return KindMap
	case c <= 0x9f:
		return KindArray
	case c <= 0xbf:
		return KindStr
	}
	switch c {
	case 0xc0:
		return KindNil
	case 0xc2, 0xc3:
		return KindBool
	case 0xc4, 0xc5, 0xc6:
		return KindBin
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return KindExt
	case 0xca:
		return KindFloat32
	case 0xcb:
		return KindFloat64
	case 0xcc, 0xcd, 0xce, 0xcf:
		return KindUint
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return KindInt
	case 0xd9, 0xda, 0xdb:
		return KindStr
	case 0xdc, 0xdd:
		return KindArray
	case 0xde, 0xdf:
		return KindMap
	}
	return KindInvalid
}

// be reads n (1, 2, 4 or 8) big-endian bytes after the lead byte.
func be(b []byte, n int) (uint64, []byte, error) {
	if len(b) < 1+n {
		return 0, b, ErrShort
	}
	var v uint64
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, b[1+n:], nil
}

// IsNil reports whether b starts with nil.
func IsNil(b []byte) bool { return len(b) > 0 && b[0] == 0xc0 }

// ReadNil reads a nil.
func ReadNil(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, ErrShort
	}
	if b[0] != 0xc0 {
		return b, ErrType
	}
	return b[1:], nil
}

// ReadBool reads a bool.
func ReadBool(b []byte) (bool, []byte, error) {
	if len(b) == 0 {
		return false, b, ErrShort
	}
	switch b[0] {
	case 0xc3:
		return true, b[1:], nil
	case 0xc2:
		return false, b[1:], nil
	}
	return false, b, ErrType
}

// ReadInt64 reads an integer of either signedness that fits an int64.
func ReadInt64(b []byte) (int64, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrShort
	}
	c := b[0]
	if c <= 0x7f {
		return int64(c), b[1:], nil
	}
	if c >= 0xe0 {
		return int64(int8(c)), b[1:], nil
	}
	var n int
	switch c {
	case 0xcc, 0xd0:
		n = 1
	case 0xcd, 0xd1:
		n = 2
	case 0xce, 0xd2:
		n = 4
	case 0xcf, 0xd3:
		n = 8
	default:
		return 0, b, ErrType
	}
	u, rest, err := be(b, n)
	if err != nil {
		return 0, b, err
	}
	switch c {
	case 0xd0:
		return int64(int8(u)), rest, nil
	case 0xd1:
		return int64(int16(u)), rest, nil
	case 0xd2:
		return int64(int32(u)), rest, nil
	case 0xd3:
		return int64(u), rest, nil
	case 0xcf:
		if u > math.MaxInt64 {
			return 0, b, ErrOverflow
		}
	}
	return int64(u), rest, nil
}

// ReadUint64 reads an integer of either signedness that is not negative.
func ReadUint64(b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrShort
	}
	c := b[0]
	if c <= 0x7f {
		return uint64(c), b[1:], nil
	}
	if c >= 0xe0 {
		return 0, b, ErrOverflow
	}
	switch c {
	case 0xcc:
		return be(b, 1)
	case 0xcd:
		return be(b, 2)
	case 0xce:
		return be(b, 4)
	case 0xcf:
		return be(b, 8)
	case 0xd0, 0xd1, 0xd2, 0xd3:
		v, rest, err := ReadInt64(b)
		if err != nil {
			return 0, b, err
		}
		if v < 0 {
			return 0, b, ErrOverflow
		}
		return uint64(v), rest, nil
	}
	return 0, b, ErrType
}

// ReadUint reads an unsigned integer of at most bits bits.
func ReadUint(b []byte, bits int) (uint64, []byte, error) {
	v, rest, err := ReadUint64(b)
	if err == nil && bits < 64 && v>>bits != 0 {
		return 0, b, ErrOverflow
	}
	return v, rest, err
}

// ReadInt reads a signed integer of at most bits bits.
func ReadInt(b []byte, bits int) (int64, []byte, error) {
	v, rest, err := ReadInt64(b)
	if err == nil && bits < 64 && (v < -1<<(bits-1) || v > 1<<(bits-1)-1) {
		return 0, b, ErrOverflow
	}
	return v, rest, err
}

// ReadFloat64 reads a float32 or a float64.
func ReadFloat64(b []byte) (float64, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrShort
	}
	switch b[0] {
	case 0xca:
		u, rest, err := be(b, 4)
		return float64(math.Float32frombits(uint32(u))), rest, err
	case 0xcb:
		u, rest, err := be(b, 8)
		return math.Float64frombits(u), rest, err
	}
	return 0, b, ErrType
}

// ReadFloat32 reads a float32 (only: msgp's float32 fields accept no
// float64).
func ReadFloat32(b []byte) (float32, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrShort
	}
	if b[0] != 0xca {
		return 0, b, ErrType
	}
	u, rest, err := be(b, 4)
	return math.Float32frombits(uint32(u)), rest, err
}

// sized reads a length-prefixed value's bytes: n is the size of a fixed
// form's length, or -1 when lead byte c has none.
func sized(b []byte, n int, fixed int) ([]byte, []byte, error) {
	l := uint64(fixed)
	rest := b[1:]
	if n > 0 {
		var err error
		l, rest, err = be(b, n)
		if err != nil {
			return nil, b, err
		}
	}
	if uint64(len(rest)) < l {
		return nil, b, ErrShort
	}
	return rest[:l:l], rest[l:], nil
}

// ReadStringBytes reads a str and returns its bytes, aliasing b.
func ReadStringBytes(b []byte) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, b, ErrShort
	}
	c := b[0]
	switch {
	case c >= 0xa0 && c <= 0xbf:
		return sized(b, 0, int(c&0x1f))
	case c == 0xd9:
		return sized(b, 1, 0)
	case c == 0xda:
		return sized(b, 2, 0)
	case c == 0xdb:
		return sized(b, 4, 0)
	}
	return nil, b, ErrType
}

// ReadString reads a str. The string aliases b (see the package comment).
func ReadString(b []byte) (string, []byte, error) {
	v, rest, err := ReadStringBytes(b)
	return unsafe.String(unsafe.SliceData(v), len(v)), rest, err
}

// ReadBytes reads a bin and returns its bytes, aliasing b.
func ReadBytes(b []byte) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, b, ErrShort
	}
	switch b[0] {
	case 0xc4:
		return sized(b, 1, 0)
	case 0xc5:
		return sized(b, 2, 0)
	case 0xc6:
		return sized(b, 4, 0)
	}
	return nil, b, ErrType
}

// ReadMapKey reads a map key: a str, or a bin as msgp also accepts.
func ReadMapKey(b []byte) ([]byte, []byte, error) {
	k, rest, err := ReadStringBytes(b)
	if err == ErrType && NextKind(b) == KindBin {
		return ReadBytes(b)
	}
	return k, rest, err
}

// header reads an array or map header: fix is the lead byte of the
// zero-sized fixed form, c16 that of the 16-bit one (32-bit is c16+1).
func header(b []byte, fix, c16 byte) (uint32, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrShort
	}
	c := b[0]
	switch {
	case c >= fix && c <= fix+15:
		return uint32(c - fix), b[1:], nil
	case c == c16:
		n, rest, err := be(b, 2)
		return uint32(n), rest, err
	case c == c16+1:
		n, rest, err := be(b, 4)
		return uint32(n), rest, err
	}
	return 0, b, ErrType
}

// ReadArrayHeader reads an array's length.
func ReadArrayHeader(b []byte) (uint32, []byte, error) { return header(b, 0x90, 0xdc) }

// ReadMapHeader reads a map's number of pairs.
func ReadMapHeader(b []byte) (uint32, []byte, error) { return header(b, 0x80, 0xde) }

// skipLead says how to skip a value by its lead byte: a scalar is 1+size
// bytes; a str, bin or ext has a length of n bytes after the lead (or size
// in the lead itself when n is 0) and then that many bytes (plus the ext's
// type byte); an array or a map has count (fixed forms) or a count of n
// bytes, and then that many values (twice as many for a map).
type skipLead struct {
	op   uint8 // opScalar, opSized, opExt, opArray, opMap, opInvalid
	n    uint8 // bytes of the length or count after the lead
	size uint8 // scalar payload, fixed str length, fixed count
}

const (
	opInvalid = iota
	opScalar
	opSized
	opExt
	opArray
	opMap
)

var skipLeads = func() (t [256]skipLead) {
	for c := 0; c < 256; c++ {
		l := &t[c]
		switch {
		case c <= 0x7f, c >= 0xe0:
			*l = skipLead{op: opScalar}
		case c <= 0x8f:
			*l = skipLead{op: opMap, size: uint8(c & 0x0f)}
		case c <= 0x9f:
			*l = skipLead{op: opArray, size: uint8(c & 0x0f)}
		case c <= 0xbf:
			*l = skipLead{op: opSized, size: uint8(c & 0x1f)}
		}
	}
	for c, l := range map[int]skipLead{
		0xc0: {op: opScalar}, 0xc2: {op: opScalar}, 0xc3: {op: opScalar},
		0xc4: {op: opSized, n: 1}, 0xc5: {op: opSized, n: 2}, 0xc6: {op: opSized, n: 4},
		0xc7: {op: opExt, n: 1}, 0xc8: {op: opExt, n: 2}, 0xc9: {op: opExt, n: 4},
		0xca: {op: opScalar, size: 4}, 0xcb: {op: opScalar, size: 8},
		0xcc: {op: opScalar, size: 1}, 0xcd: {op: opScalar, size: 2},
		0xce: {op: opScalar, size: 4}, 0xcf: {op: opScalar, size: 8},
		0xd0: {op: opScalar, size: 1}, 0xd1: {op: opScalar, size: 2},
		0xd2: {op: opScalar, size: 4}, 0xd3: {op: opScalar, size: 8},
		0xd4: {op: opScalar, size: 2}, 0xd5: {op: opScalar, size: 3},
		0xd6: {op: opScalar, size: 5}, 0xd7: {op: opScalar, size: 9},
		0xd8: {op: opScalar, size: 17},
		0xd9: {op: opSized, n: 1}, 0xda: {op: opSized, n: 2}, 0xdb: {op: opSized, n: 4},
		0xdc: {op: opArray, n: 2}, 0xdd: {op: opArray, n: 4},
		0xde: {op: opMap, n: 2}, 0xdf: {op: opMap, n: 4},
	} {
		t[c] = l
	}
	return t
}()

// Skip returns b after its first value, nested values included. It keeps
// a count of the values still to skip instead of recursing, so nesting
// costs no stack.
func Skip(b []byte) ([]byte, error) {
	orig := b
	pending := uint64(1)
	for ; pending > 0; pending-- {
		if len(b) == 0 {
			return orig, ErrShort
		}
		// The forms events are mostly made of, without the table.
		switch c := b[0]; {
		case c < 0x80, c >= 0xe0: // fixint
			b = b[1:]
			continue
		case c >= 0xa0 && c <= 0xbf: // fixstr
			n := 1 + int(c&0x1f)
			if len(b) < n {
				return orig, ErrShort
			}
			b = b[n:]
			continue
		case c <= 0x8f: // fixmap
			pending += 2 * uint64(c&0x0f)
			b = b[1:]
			continue
		case c <= 0x9f: // fixarray
			pending += uint64(c & 0x0f)
			b = b[1:]
			continue
		}
		l := &skipLeads[b[0]]
		var v uint64 // the size or count
		if l.n == 0 {
			v = uint64(l.size)
		} else {
			if len(b) < 1+int(l.n) {
				return orig, ErrShort
			}
			for _, c := range b[1 : 1+l.n] {
				v = v<<8 | uint64(c)
			}
		}
		b = b[1+l.n:]
		switch l.op {
		case opScalar:
			v = uint64(l.size)
		case opExt:
			v++ // the type byte
		case opArray:
			pending += v
			continue
		case opMap:
			pending += 2 * v
			continue
		case opInvalid:
			return orig, ErrType
		}
		if uint64(len(b)) < v {
			return orig, ErrShort
		}
		b = b[v:]
	}
	return b, nil
}
