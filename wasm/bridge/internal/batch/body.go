package batch

import (
	"errors"
	"math"
	"strconv"

	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// Type is the type of a JavaScript value, as typeof tells it (with null
// apart).
type Type int

// Types of JavaScript values.
const (
	TypeUndefined Type = iota
	TypeNull
	TypeBoolean
	TypeNumber
	TypeString
	TypeSymbol
	TypeObject
	TypeFunction
)

// Value is a JavaScript value as EncodeBody reads it. The bridge
// implements it over syscall/js; the tests over Go values.
type Value interface {
	Type() Type
	Bool() bool
	Float() float64
	String() string
	// IsArray reports whether the value is an Array (Array.isArray).
	IsArray() bool
	// Len is an Array's length.
	Len() int
	// Index is an Array's element i.
	Index(i int) Value
	// Keys is Object.keys(value): its own enumerable property names, in
	// JavaScript's order.
	Keys() []string
	// Get is a property.
	Get(key string) Value
	// Bytes returns a copy of the contents of a Uint8Array or an
	// ArrayBuffer, and false for any other value.
	Bytes() ([]byte, bool)
}

// present reports whether v is neither absent, undefined nor null.
func present(v Value) bool {
	if v == nil {
		return false
	}
	t := v.Type()
	return t != TypeUndefined && t != TypeNull
}

// EncodeBody encodes a command body given as a JavaScript value to the
// msgpack the command kind's body type encodes to (see package event):
// the bytes msgp's generated encoder would write of the struct the value
// describes. A property is a field's json name; what is absent, undefined
// or null is the field's zero value (left out if the field's msg tag says
// omitempty and msgp would leave it out). Numbers must fit the field's
// type (integers for integer fields), []byte fields take a Uint8Array,
// an ArrayBuffer or an array of numbers 0–255, maps an object. A property
// the type does not have, a value of the wrong type, a non-integer or
// out-of-range number for an integer field is an error naming the
// property's path ("body.fields[2].id: must be a number"). Fixed-size
// arrays and interfaces, which no command body has, cannot be set.
//
// The caller checks the kind with IsCommand; an unknown kind is an error.
func EncodeBody(kind string, v Value) ([]byte, error) {
	c, ok := commandPlans[kind]
	if !ok {
		return nil, errors.New("unknown command kind " + strconv.Quote(kind))
	}
	b, _, err := encode(nil, &plans[c.body], v, "body", 0)
	return b, err
}

// BodyError is an invalid command body; its message names the property.
type BodyError struct{ msg string }

func (e *BodyError) Error() string { return e.msg }

func bodyError(path, msg string) error { return &BodyError{path + ": " + msg} }

func typeError(path, want string) error { return bodyError(path, "must be "+want) }

// encode appends the msgpack of v as a value of p and reports whether it
// is the zero value in the sense of msgp's omitempty (a number 0, false,
// "", a nil slice, map or pointer: an absent one).
func encode(b []byte, p *plan, v Value, path string, depth int) (_ []byte, zero bool, err error) {
	if depth > maxDepth {
		return b, false, bodyError(path, "nested too deeply")
	}
	if !present(v) {
		return encodeZero(b, p, depth), true, nil
	}
	switch p.kind {
	case kBool:
		if v.Type() != TypeBoolean {
			return b, false, typeError(path, "a boolean")
		}
		x := v.Bool()
		return wire.AppendBool(b, x), !x, nil
	case kString:
		if v.Type() != TypeString {
			return b, false, typeError(path, "a string")
		}
		s := v.String()
		return wire.AppendString(b, s), s == "", nil
	case kInt, kInt8, kInt16, kInt32, kInt64:
		f, err := integer(v, path)
		if err != nil {
			return b, false, err
		}
		bits := intBits(p.kind)
		if f < math.MinInt64 || f >= math.MaxInt64 || bits < 64 && (int64(f) < -1<<(bits-1) || int64(f) > 1<<(bits-1)-1) {
			return b, false, rangeError(path, f, p.kind)
		}
		return wire.AppendInt(b, int64(f)), f == 0, nil
	case kUint, kUint8, kUint16, kUint32, kUint64:
		f, err := integer(v, path)
		if err != nil {
			return b, false, err
		}
		bits := intBits(p.kind)
		if f < 0 || f >= math.MaxUint64 || bits < 64 && uint64(f)>>bits != 0 {
			return b, false, rangeError(path, f, p.kind)
		}
		return wire.AppendUint(b, uint64(f)), f == 0, nil
	case kFloat32:
		if v.Type() != TypeNumber {
			return b, false, typeError(path, "a number")
		}
		f := float32(v.Float())
		return wire.AppendFloat32(b, f), f == 0, nil
	case kFloat64:
		if v.Type() != TypeNumber {
			return b, false, typeError(path, "a number")
		}
		f := v.Float()
		return wire.AppendFloat64(b, f), f == 0, nil
	case kBytes:
		x, err := bytesOf(v, path)
		if err != nil {
			return b, false, err
		}
		return wire.AppendBytes(b, x), false, nil
	case kSlice:
		if !v.IsArray() {
			return b, false, typeError(path, "an array")
		}
		n := v.Len()
		b = wire.AppendArrayHeader(b, uint32(n))
		for i := 0; i < n; i++ {
			if b, _, err = encode(b, &plans[p.elem], v.Index(i), path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return b, false, err
			}
		}
		return b, false, nil
	case kMap:
		if v.Type() != TypeObject {
			return b, false, typeError(path, "an object")
		}
		keys := v.Keys()
		b = wire.AppendMapHeader(b, uint32(len(keys)))
		for _, k := range keys {
			b = wire.AppendString(b, k)
			if b, _, err = encode(b, &plans[p.elem], v.Get(k), path+"."+k, depth+1); err != nil {
				return b, false, err
			}
		}
		return b, false, nil
	case kPointer:
		b, _, err = encode(b, &plans[p.elem], v, path, depth+1)
		return b, false, err
	case kStruct:
		return encodeStruct(b, p, v, path, depth)
	}
	return b, false, bodyError(path, "cannot be set from JavaScript")
}

// encodeStruct writes a struct as msgp does: a map of the keys of its
// fields in their order, less the omitempty ones that are zero. The
// properties are read in the object's order, so that the first bad one is
// the one reported.
func encodeStruct(b []byte, p *plan, v Value, path string, depth int) ([]byte, bool, error) {
	if v != nil && (v.Type() != TypeObject || v.IsArray()) {
		return b, false, typeError(path, "an object")
	}
	type given struct {
		enc  []byte
		zero bool
		ok   bool
	}
	var vals []given
	if v != nil {
		for _, k := range v.Keys() {
			i := p.property(k)
			if i < 0 {
				return b, false, bodyError(path, "unknown property "+strconv.Quote(k))
			}
			x := v.Get(k)
			if !present(x) {
				continue
			}
			enc, zero, err := encode(nil, &plans[p.fields[i].plan], x, path+"."+k, depth+1)
			if err != nil {
				return b, false, err
			}
			if vals == nil {
				vals = make([]given, len(p.fields))
			}
			vals[i] = given{enc, zero, true}
		}
	}
	n := 0
	zero := true
	for i := range p.fields {
		f := &p.fields[i]
		if f.key == "" {
			continue
		}
		z := true
		if vals != nil && vals[i].ok {
			z = vals[i].zero
		}
		zero = zero && z
		if !omitted(f, z) {
			n++
		}
	}
	b = wire.AppendMapHeader(b, uint32(n))
	for i := range p.fields {
		f := &p.fields[i]
		if f.key == "" {
			continue
		}
		if vals != nil && vals[i].ok {
			if !omitted(f, vals[i].zero) {
				b = append(wire.AppendString(b, f.key), vals[i].enc...)
			}
			continue
		}
		if !omitted(f, true) {
			b = encodeZero(wire.AppendString(b, f.key), &plans[f.plan], depth+1)
		}
	}
	return b, zero, nil
}

// omitted reports whether msgp leaves out field f when its value is zero
// (in the sense of encode) or not: msgp cannot tell whether an array is
// empty.
func omitted(f *field, zero bool) bool {
	return f.omitWire && zero && plans[f.plan].kind != kArray
}

// property returns the index of the field whose JSON name is name, or -1.
// Like encoding/json, the last of two fields of one name wins.
func (p *plan) property(name string) int {
	for i := len(p.fields) - 1; i >= 0; i-- {
		if p.fields[i].name == name && name != "" {
			return i
		}
	}
	return -1
}

// encodeZero appends the msgpack msgp writes of p's zero value.
func encodeZero(b []byte, p *plan, depth int) []byte {
	switch p.kind {
	case kBool:
		return wire.AppendBool(b, false)
	case kString:
		return wire.AppendString(b, "")
	case kInt, kInt8, kInt16, kInt32, kInt64, kUint, kUint8, kUint16, kUint32, kUint64:
		return wire.AppendUint(b, 0)
	case kFloat32:
		return wire.AppendFloat32(b, 0)
	case kFloat64:
		return wire.AppendFloat64(b, 0)
	case kBytes:
		return wire.AppendBytes(b, nil)
	case kSlice:
		return wire.AppendArrayHeader(b, 0)
	case kMap:
		return wire.AppendMapHeader(b, 0)
	case kArray:
		b = wire.AppendArrayHeader(b, uint32(p.n))
		for i := 0; i < p.n; i++ {
			b = encodeZero(b, &plans[p.elem], depth+1)
		}
		return b
	case kStruct:
		if depth > maxDepth {
			return wire.AppendNil(b) // unreachable: a struct holds itself only through a pointer, slice or map
		}
		b, _, _ = encodeStruct(b, p, nil, "", depth)
		return b
	}
	return wire.AppendNil(b) // pointers, interfaces
}

// integer reads a number that must be an integer.
func integer(v Value, path string) (float64, error) {
	if v.Type() != TypeNumber {
		return 0, typeError(path, "a number")
	}
	f := v.Float()
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, bodyError(path, strconv.FormatFloat(f, 'g', -1, 64)+" is not an integer")
	}
	return f, nil
}

func rangeError(path string, f float64, k kind) error {
	return bodyError(path, strconv.FormatFloat(f, 'g', -1, 64)+" is out of range for "+k.String())
}

// intBits is the size of an integer kind; int and uint are 64 bits in
// the browser as on the relay.
func intBits(k kind) int {
	switch k {
	case kInt8, kUint8:
		return 8
	case kInt16, kUint16:
		return 16
	case kInt32, kUint32:
		return 32
	}
	return 64
}

// bytesOf reads a Uint8Array, an ArrayBuffer, or an array of numbers
// 0–255.
func bytesOf(v Value, path string) ([]byte, error) {
	if b, ok := v.Bytes(); ok {
		return b, nil
	}
	if !v.IsArray() {
		return nil, typeError(path, "a Uint8Array, an ArrayBuffer or an array of numbers")
	}
	b := make([]byte, v.Len())
	for i := range b {
		p := path + "[" + strconv.Itoa(i) + "]"
		f, err := integer(v.Index(i), p)
		if err != nil {
			return nil, err
		}
		if f < 0 || f > 255 {
			return nil, bodyError(p, "not a byte")
		}
		b[i] = byte(f)
	}
	return b, nil
}
