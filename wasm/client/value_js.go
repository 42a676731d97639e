//go:build js

package client

// Value is nil in the browser build: package event's decoders would add
// some 130 KB of gzipped WebAssembly, and the bridge transcodes each
// event's Data straight to JavaScript instead (wasm/bridge/internal/batch).
type Value = any

func decodeValue(kind string, data []byte) (Value, bool) { return nil, true }
