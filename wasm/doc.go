// Package wasm is the root of fieldrelay's client side in Go: client/ is
// the session logic (connect, subscribe with recovery, gap detection,
// reconnect, commands) with one API natively and in the browser; bridge/
// is the program compiled with GOOS=js GOARCH=wasm that exposes it to
// JavaScript, wrapped by the npm package in jsbindings/ (built by
// .ci/build-web.sh).
package wasm
