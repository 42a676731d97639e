//go:build js && wasm

// Command bridge is fieldrelay's browser client as a WebAssembly program:
// it runs the Go client of package wasm/client in the page and exposes it
// to JavaScript as one global object, globalThis.__fieldrelay, then blocks
// forever (a Go wasm program that returns cannot be called any more).
//
// The object is the bridge's whole surface, and jsbindings/src/bridge.d.ts
// describes it exactly; the npm package (jsbindings/src/index.js) wraps it
// in the public API. Its rules:
//
//   - Calls that wait (connect, subscribe, command, unsubscribe, close)
//     return a Promise and do their work in a goroutine: blocking inside a
//     js.FuncOf callback would stop every goroutine, the one that would
//     answer included.
//   - Failures are Error objects with a numeric code from proto/codes
//     (codes.go). A Go panic inside a call rejects its Promise with code
//     500, or, for the synchronous calls, is returned as such an Error,
//     since Go cannot throw into JavaScript.
//   - Events reach JavaScript in batches, one call per WebSocket message
//     and subscription, as a JSON text and a block of bytes (package
//     internal/batch); jsbindings turns them into objects with a dozen
//     lines of JavaScript.
//   - Every js.Func is released when what it belongs to ends: a Promise's
//     executor at once, a subscription's methods when it ends, a
//     connection's when it is closed.
package main

import (
	"runtime/debug"
	"syscall/js"

	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch"
)

// version is the bridge's interface version; jsbindings checks it so that
// a stale fieldrelay.wasm next to a newer index.js fails clearly.
const version = 1

func main() {
	// A burst of events allocates fast over a small live heap, and the
	// wasm collector shares the page's one thread: collecting at 400 %
	// growth instead of 100 % gave some 5–10 % more events/s in the
	// in-page benchmark (Chromium, noisy), for a heap of a few MB more.
	debug.SetGCPercent(400)
	api := jsObject.New()
	api.Set("version", version)
	paths := map[string]any{}
	for kind, ps := range batch.Paths() {
		paths[kind] = pathsValue(ps)
	}
	api.Set("bytesPaths", paths)
	connect := js.FuncOf(func(_ js.Value, args []js.Value) any {
		return connectCall(arg(args, 0), arg(args, 1))
	})
	api.Set("connect", connect)
	benchmark := js.FuncOf(func(_ js.Value, args []js.Value) any {
		return benchmarkCall(arg(args, 0), arg(args, 1), arg(args, 2))
	})
	api.Set("benchmark", benchmark)
	for _, extend := range extensions {
		extend(api)
	}
	// Kept for the program's life, like the object: there is no unload.
	js.Global().Set("__fieldrelay", api)
	select {}
}

// extensions add to the API object; build-tagged files register them in
// init (direct.go: connectDirect, in fieldrelay-direct.wasm only).
var extensions []func(api js.Value)

// arg returns args[i], or undefined.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// pathsValue converts paths for js.ValueOf.
func pathsValue(ps [][]string) []any {
	list := make([]any, len(ps))
	for i, p := range ps {
		path := make([]any, len(p))
		for j, name := range p {
			path[j] = name
		}
		list[i] = path
	}
	return list
}
