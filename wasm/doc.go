// Package wasm is the root of fieldrelay's client side in Go: client/ is
// the session logic (connect, subscribe with recovery, gap detection,
// reconnect, commands) with one API natively and in the browser, where it
// is compiled with GOOS=js GOARCH=wasm and wrapped by the npm package in
// jsbindings/.
package wasm
