//go:build js && wasm

package main

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"syscall/js"
)

// fromJS fills dst, a pointer to a command body, from a JavaScript value,
// matching properties to the struct's json tags (the names events use
// too). Absent, undefined and null properties leave their field zero; a
// property the type does not have, a value of the wrong type, a
// non-integer or out-of-range number for an integer field is a
// BAD_REQUEST naming the property. Bytes may be a Uint8Array, an
// ArrayBuffer or an array of numbers. Interface-typed fields, which no
// command body has, cannot be set.
func fromJS(v js.Value, dst any, path string) error {
	return setValue(reflect.ValueOf(dst).Elem(), v, path)
}

func setValue(dst reflect.Value, v js.Value, path string) error {
	if !present(v) {
		return nil
	}
	t := dst.Type()
	switch t.Kind() {
	case reflect.Bool:
		if v.Type() != js.TypeBoolean {
			return typeError(path, "a boolean")
		}
		dst.SetBool(v.Bool())
	case reflect.String:
		if v.Type() != js.TypeString {
			return typeError(path, "a string")
		}
		dst.SetString(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, err := integer(v, path)
		if err != nil {
			return err
		}
		if f < math.MinInt64 || f >= math.MaxInt64 || dst.OverflowInt(int64(f)) {
			return badRequest(path + ": " + strconv.FormatFloat(f, 'g', -1, 64) + " is out of range for " + t.Kind().String())
		}
		dst.SetInt(int64(f))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f, err := integer(v, path)
		if err != nil {
			return err
		}
		if f < 0 || f >= math.MaxUint64 || dst.OverflowUint(uint64(f)) {
			return badRequest(path + ": " + strconv.FormatFloat(f, 'g', -1, 64) + " is out of range for " + t.Kind().String())
		}
		dst.SetUint(uint64(f))
	case reflect.Float32, reflect.Float64:
		if v.Type() != js.TypeNumber {
			return typeError(path, "a number")
		}
		dst.SetFloat(v.Float())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b, err := bytesFromJS(v, path)
			if err != nil {
				return err
			}
			dst.SetBytes(b)
			return nil
		}
		if !jsArray.Call("isArray", v).Bool() {
			return typeError(path, "an array")
		}
		n := v.Length()
		s := reflect.MakeSlice(t, n, n)
		for i := 0; i < n; i++ {
			if err := setValue(s.Index(i), v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Map:
		if t.Key() != stringType || v.Type() != js.TypeObject {
			return typeError(path, "an object")
		}
		keys := jsObject.Call("keys", v)
		m := reflect.MakeMapWithSize(t, keys.Length())
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			e := reflect.New(t.Elem()).Elem()
			if err := setValue(e, v.Get(k), path+"."+k); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		dst.Set(m)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := setValue(p.Elem(), v, path); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Struct:
		return setStruct(dst, v, path)
	default:
		return badRequest(path + ": cannot be set from JavaScript")
	}
	return nil
}

func setStruct(dst reflect.Value, v js.Value, path string) error {
	if v.Type() != js.TypeObject || jsArray.Call("isArray", v).Bool() {
		return typeError(path, "an object")
	}
	t := dst.Type()
	byName := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		byName[name] = i
	}
	keys := jsObject.Call("keys", v)
	for i := 0; i < keys.Length(); i++ {
		k := keys.Index(i).String()
		fi, ok := byName[k]
		if !ok {
			return badRequest(path + ": unknown property " + quote(k))
		}
		if err := setValue(dst.Field(fi), v.Get(k), path+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// integer reads a number that must be an integer.
func integer(v js.Value, path string) (float64, error) {
	if v.Type() != js.TypeNumber {
		return 0, typeError(path, "a number")
	}
	f := v.Float()
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, badRequest(path + ": " + strconv.FormatFloat(f, 'g', -1, 64) + " is not an integer")
	}
	return f, nil
}

// bytesFromJS reads a Uint8Array, an ArrayBuffer, or an array of numbers
// 0–255.
func bytesFromJS(v js.Value, path string) ([]byte, error) {
	switch {
	case v.InstanceOf(jsUint8Array):
		b := make([]byte, v.Length())
		js.CopyBytesToGo(b, v)
		return b, nil
	case v.InstanceOf(jsArrayBuf):
		u := jsUint8Array.New(v)
		b := make([]byte, u.Length())
		js.CopyBytesToGo(b, u)
		return b, nil
	case jsArray.Call("isArray", v).Bool():
		b := make([]byte, v.Length())
		for i := range b {
			e := v.Index(i)
			f, err := integer(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			if f < 0 || f > 255 {
				return nil, badRequest(path + "[" + strconv.Itoa(i) + "]: not a byte")
			}
			b[i] = byte(f)
		}
		return b, nil
	}
	return nil, typeError(path, "a Uint8Array, an ArrayBuffer or an array of numbers")
}

var stringType = reflect.TypeFor[string]()

func typeError(path, want string) error {
	return badRequest(path + ": must be " + want)
}

func quote(s string) string { return strconv.Quote(s) }
