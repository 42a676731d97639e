package wire

import "math"

// The appenders write each value in its shortest form, choosing forms
// exactly as msgp's do, so that both codecs give the same bytes.

func put(b []byte, lead byte, v uint64, n int) []byte {
	b = append(b, lead)
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// AppendNil appends nil.
func AppendNil(b []byte) []byte { return append(b, 0xc0) }

// AppendBool appends a bool.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendUint appends an unsigned integer.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return put(b, 0xcc, v, 1)
	case v <= math.MaxUint16:
		return put(b, 0xcd, v, 2)
	case v <= math.MaxUint32:
		return put(b, 0xce, v, 4)
	}
	return put(b, 0xcf, v, 8)
}

// AppendInt appends a signed integer.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= math.MaxInt8:
		return append(b, byte(v))
	case v >= -32 && v < 0:
		return append(b, byte(v))
	case v >= math.MinInt8 && v < 0:
		return put(b, 0xd0, uint64(v), 1)
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return put(b, 0xd1, uint64(v), 2)
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return put(b, 0xd2, uint64(v), 4)
	}
	return put(b, 0xd3, uint64(v), 8)
}

// AppendFloat64 appends a float64.
func AppendFloat64(b []byte, v float64) []byte {
	return put(b, 0xcb, math.Float64bits(v), 8)
}

// AppendFloat32 appends a float32.
func AppendFloat32(b []byte, v float32) []byte {
	return put(b, 0xca, uint64(math.Float32bits(v)), 4)
}

// AppendStringHeader appends the header of a str of n bytes.
func AppendStringHeader(b []byte, n int) []byte {
	switch {
	case n <= 31:
		return append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return put(b, 0xd9, uint64(n), 1)
	case n <= math.MaxUint16:
		return put(b, 0xda, uint64(n), 2)
	}
	return put(b, 0xdb, uint64(n), 4)
}

// AppendString appends a str.
func AppendString(b []byte, s string) []byte {
	return append(AppendStringHeader(b, len(s)), s...)
}

// AppendBytes appends a bin.
func AppendBytes(b []byte, v []byte) []byte {
	switch n := len(v); {
	case n <= math.MaxUint8:
		b = put(b, 0xc4, uint64(n), 1)
	case n <= math.MaxUint16:
		b = put(b, 0xc5, uint64(n), 2)
	default:
		b = put(b, 0xc6, uint64(n), 4)
	}
	return append(b, v...)
}

func appendHeader(b []byte, fix, c16 byte, n uint32) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return put(b, c16, uint64(n), 2)
	}
	return put(b, c16+1, uint64(n), 4)
}

// AppendArrayHeader appends the header of an array of n values.
func AppendArrayHeader(b []byte, n uint32) []byte { return appendHeader(b, 0x90, 0xdc, n) }

// AppendMapHeader appends the header of a map of n pairs.
func AppendMapHeader(b []byte, n uint32) []byte { return appendHeader(b, 0x80, 0xde, n) }
