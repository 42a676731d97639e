//go:build js && wasm

package main

import (
	"context"
	"errors"
	"syscall/js"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

var (
	jsObject     = js.Global().Get("Object")
	jsPromise    = js.Global().Get("Promise")
	jsError      = js.Global().Get("Error")
	jsUint8Array = js.Global().Get("Uint8Array")
	jsArrayBuf   = js.Global().Get("ArrayBuffer")
	jsArray      = js.Global().Get("Array")
	jsConsole    = js.Global().Get("console")
)

// promise returns a Promise settled by work, which runs in a goroutine: with
// its value, or rejected with its error (or a panic) as an Error.
func promise(work func() (any, error)) js.Value {
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(panicError(r))
				}
			}()
			v, err := work()
			if err != nil {
				reject.Invoke(errorValue(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	defer exec.Release() // the executor runs within the constructor
	return jsPromise.New(exec)
}

// method wraps a synchronous method. Go cannot throw into JavaScript, so a
// panic is returned as an Error object, which jsbindings throws.
func method(fn func(args []js.Value) any) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = panicError(r)
			}
		}()
		return fn(args)
	})
}

// call calls a JavaScript callback from Go. A callback that throws is
// reported to report (or the console) rather than unwinding the Go
// goroutine that called it.
func call(report func(error), fn js.Value, args ...any) (v js.Value, ok bool) {
	if fn.Type() != js.TypeFunction {
		return js.Undefined(), false
	}
	defer func() {
		if r := recover(); r != nil {
			err := &bridgeError{code: codes.Internal, msg: "callback threw: " + panicText(r)}
			if report != nil {
				report(err)
			} else {
				jsConsole.Call("error", "fieldrelay:", err.msg)
			}
			v, ok = js.Undefined(), false
		}
	}()
	return fn.Invoke(args...), true
}

// isThenable reports whether v is a Promise or another thenable.
func isThenable(v js.Value) bool {
	return (v.Type() == js.TypeObject || v.Type() == js.TypeFunction) && v.Get("then").Type() == js.TypeFunction
}

// await waits for a thenable to settle, or until ctx ends. The callbacks
// are released once it settles (not when ctx ends: a released function
// called later would only log an error, but a settled one is never called
// again).
func await(ctx context.Context, v js.Value) (js.Value, error) {
	if !isThenable(v) {
		return v, nil
	}
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var onOK, onErr js.Func
	release := func() { onOK.Release(); onErr.Release() }
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg(args, 0)}
		release()
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: fromJSError(arg(args, 0))}
		release()
		return nil
	})
	v.Call("then", onOK, onErr)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// bridgeError is an error the bridge makes, with its code.
type bridgeError struct {
	code codes.Code
	msg  string
}

func (e *bridgeError) Error() string { return e.msg }

func badRequest(msg string) error { return &bridgeError{code: codes.BadRequest, msg: msg} }

// codeOf maps an error to the code JavaScript sees. It unwraps by hand:
// errors.As would link internal/reflectlite's conversions, some 10 KB of
// gzip, for three type switches.
func codeOf(err error) codes.Code {
	for e := err; e != nil; e = unwrap(e) {
		for _, hook := range codeHooks {
			if c, ok := hook(e); ok {
				return c
			}
		}
		switch e := e.(type) {
		case *bridgeError:
			return e.code
		case *client.ReplyError:
			return e.Code
		case *client.CloseError:
			return e.Code
		}
		switch e {
		case client.ErrClosed, context.Canceled:
			return codes.Normal
		case context.DeadlineExceeded:
			return codes.Timeout
		case channel.ErrEmpty, channel.ErrTooLong, channel.ErrBadChar, channel.ErrWildcard:
			return codes.BadRequest
		}
	}
	return codes.Internal
}

// codeHooks give the codes of errors of packages only some builds link
// (direct.go).
var codeHooks []func(error) (codes.Code, bool)

// unwrap follows Unwrap() error, and the first of Unwrap() []error (the
// client's connect error puts the context's error first).
func unwrap(err error) error {
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		return e.Unwrap()
	case interface{ Unwrap() []error }:
		if errs := e.Unwrap(); len(errs) > 0 {
			return errs[0]
		}
	}
	return nil
}

// errorValue makes a JavaScript Error with code and message.
func errorValue(err error) js.Value {
	e := jsError.New(err.Error())
	e.Set("name", "FieldRelayError")
	e.Set("code", int(codeOf(err)))
	return e
}

func panicError(r any) js.Value {
	msg := "fieldrelay: internal error: " + panicText(r)
	jsConsole.Call("error", msg)
	return errorValue(&bridgeError{code: codes.Internal, msg: msg})
}

func panicText(r any) string {
	switch r := r.(type) {
	case error:
		return r.Error()
	case string:
		return r
	}
	return "panic"
}

// fromJSError turns a rejection reason into an error.
func fromJSError(v js.Value) error {
	msg := "rejected"
	switch {
	case v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString:
		msg = v.Get("message").String()
	case v.Type() != js.TypeUndefined && v.Type() != js.TypeNull:
		msg = js.Global().Call("String", v).String()
	}
	return errors.New(msg)
}

// errorOrNull is err as an Error object, or null.
func errorOrNull(err error) any {
	if err == nil {
		return nil
	}
	return errorValue(err)
}

// Property readers for option objects; undefined and null read as absent.

func present(v js.Value) bool { return v.Type() != js.TypeUndefined && v.Type() != js.TypeNull }

// options reads an options object, keeping the first error: read every
// property, then check err once.
type options struct {
	o   js.Value
	err error
}

func (r *options) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *options) str(key string) string {
	s, err := optString(r.o, key)
	r.keep(err)
	return s
}

func (r *options) fn(key string) js.Value {
	f, err := optFunc(r.o, key)
	r.keep(err)
	return f
}

// ms reads a duration given in milliseconds.
func (r *options) ms(key string) time.Duration {
	n, err := optNumber(r.o, key)
	r.keep(err)
	return time.Duration(n * float64(time.Millisecond))
}

func optString(o js.Value, key string) (string, error) {
	if !present(o) {
		return "", nil
	}
	v := o.Get(key)
	switch {
	case !present(v):
		return "", nil
	case v.Type() != js.TypeString:
		return "", badRequest(key + " must be a string")
	}
	return v.String(), nil
}

func optBool(o js.Value, key string) bool {
	return present(o) && o.Get(key).Truthy()
}

func optFunc(o js.Value, key string) (js.Value, error) {
	if !present(o) {
		return js.Undefined(), nil
	}
	v := o.Get(key)
	switch {
	case !present(v):
		return js.Undefined(), nil
	case v.Type() != js.TypeFunction:
		return js.Undefined(), badRequest(key + " must be a function")
	}
	return v, nil
}

// optNumber reads a non-negative number, 0 if absent.
func optNumber(o js.Value, key string) (float64, error) {
	if !present(o) {
		return 0, nil
	}
	v := o.Get(key)
	switch {
	case !present(v):
		return 0, nil
	case v.Type() != js.TypeNumber || v.Float() < 0 || v.Float() != v.Float():
		return 0, badRequest(key + " must be a non-negative number")
	}
	return v.Float(), nil
}
