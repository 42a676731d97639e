//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"

	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch"
)

// encodeBody encodes a command's body, a JavaScript value, to the
// msgpack of the command kind's body type (batch.EncodeBody states the
// rules: properties are the json names, absent, undefined and null are
// zero; a bad body is a BAD_REQUEST naming the property).
func encodeBody(kind string, body js.Value) ([]byte, error) {
	b, err := batch.EncodeBody(kind, jsValue{body})
	if err != nil {
		return nil, badRequest(err.Error())
	}
	return b, nil
}

// jsValue is a js.Value as batch.EncodeBody reads it.
type jsValue struct{ v js.Value }

func (j jsValue) Type() batch.Type {
	switch j.v.Type() {
	case js.TypeUndefined:
		return batch.TypeUndefined
	case js.TypeNull:
		return batch.TypeNull
	case js.TypeBoolean:
		return batch.TypeBoolean
	case js.TypeNumber:
		return batch.TypeNumber
	case js.TypeString:
		return batch.TypeString
	case js.TypeSymbol:
		return batch.TypeSymbol
	case js.TypeFunction:
		return batch.TypeFunction
	}
	return batch.TypeObject
}

func (j jsValue) Bool() bool                 { return j.v.Bool() }
func (j jsValue) Float() float64             { return j.v.Float() }
func (j jsValue) String() string             { return j.v.String() }
func (j jsValue) IsArray() bool              { return jsArray.Call("isArray", j.v).Bool() }
func (j jsValue) Len() int                   { return j.v.Length() }
func (j jsValue) Index(i int) batch.Value    { return jsValue{j.v.Index(i)} }
func (j jsValue) Get(key string) batch.Value { return jsValue{j.v.Get(key)} }

func (j jsValue) Keys() []string {
	keys := jsObject.Call("keys", j.v)
	out := make([]string, keys.Length())
	for i := range out {
		out[i] = keys.Index(i).String()
	}
	return out
}

func (j jsValue) Bytes() ([]byte, bool) {
	switch {
	case j.v.InstanceOf(jsUint8Array):
		b := make([]byte, j.v.Length())
		js.CopyBytesToGo(b, j.v)
		return b, true
	case j.v.InstanceOf(jsArrayBuf):
		u := jsUint8Array.New(j.v)
		b := make([]byte, u.Length())
		js.CopyBytesToGo(b, u)
		return b, true
	}
	return nil, false
}

func quote(s string) string { return strconv.Quote(s) }
