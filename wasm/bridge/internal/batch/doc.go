// Package batch turns a batch of client events into what the browser
// bridge hands to JavaScript in one call: one JSON text and one block of
// bytes.
//
// Building JavaScript objects from Go one property at a time costs a call
// across the wasm boundary per property (and a UTF-8 decode per property
// name); a JSON text costs one call, and JSON.parse builds the objects
// faster than any of that. JSON has no bytes, so every []byte is appended
// to the batch's Bytes and written in the text as a pair [start, end]; the
// JavaScript side (jsbindings/src/index.js, assemble) replaces each pair by
// a Uint8Array, at the places Paths lists per kind.
//
// The text is an array with one row per event:
//
//	[channel, epoch, offset, prev, kind, flags, value]         known kind
//	[channel, epoch, offset, prev, kind, flags, null, [s, e]]  otherwise: the raw msgpack
//
// flags has bit 0 for Latest and bit 1 for Replayed.
//
// value is the event as its Go type (package event) would be written by
// encoding/json after msgp decoded it: property names from the json tags,
// omitempty honoured, a missing property given its zero value. It is not
// made that way, though: decoding into the struct and walking it with
// reflect costs some 11 µs an event in the browser, ten times the budget
// of the whole pipeline, and package event's decoders and msgp's runtime
// would cost the wasm some 350 KB of gzip. The Writer transcodes the
// msgpack straight to JSON instead, following the plan of the kind's type
// (plan.go: data generated from the struct's msg and json tags), reading
// every value with package wire's readers, which accept what the
// generated decoder's msgp functions accept, within the same limits (so a
// value the typed decoder would refuse is refused too, and so is data that
// is not exactly one value: the row then carries the raw msgpack, as for
// unknown kinds). The tests check the
// result against msgp's decoder and encoding/json for every kind. Where
// it departs from encoding/json:
//
//   - []byte is a pair, not Base64 (inside an interface value, which has
//     no static path, an array of numbers);
//   - a nil or empty slice or map is [] or {}, never null;
//   - a NaN or infinite float, a time, a complex number or a msgpack
//     extension inside an interface value is null.
//
// Commands go the other way: EncodeBody writes a JavaScript value as the
// msgpack of a command kind's body, following the same plans. The package
// links neither reflect nor package event nor msgp; TestPlansCurrent fails
// when the generated plans no longer match package event's types.
package batch
