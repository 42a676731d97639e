// Package wire is the client's side of the fieldrelay browser protocol
// (docs/protocol.md) written by hand over a small msgpack reader and
// writer, for builds that must not link package proto's generated code.
//
// Package proto defines the frames once, as Go types whose codecs
// tinylib/msgp generates; the relay, the tools and the native tests use
// it. Importing msgp's runtime links fmt, reflect and encoding/json, which
// in the browser costs some 350 KB of gzipped WebAssembly before a single
// frame is decoded. The browser client (wasm/client, wasm/bridge) uses this
// package instead: the same frames, the same keys and limits, no imports
// beyond math, unsafe and errors.
//
// Two codecs of one format could drift apart; three things keep them
// together. The frame type numbers, the subprotocol and the decode errors
// are defined here and only re-exported by proto. The tests encode every
// frame with each codec and decode it with the other, byte for byte. And
// FuzzDecodeFrame feeds the same input to both decoders and fails when they
// disagree on whether it is a frame or on what it says.
//
// Decoding is zero-copy: strings and byte fields of a decoded frame alias
// the input, which therefore must not be modified while the frame is in
// use. The clients' transports hand every message over in a fresh buffer,
// which is what makes decoding an event frame allocation-free.
package wire
