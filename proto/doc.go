// Package proto holds fieldrelay's browser protocol: the frames a client and
// the relay exchange over one WebSocket, and how they are put on the wire.
//
// # Wire format
//
// The WebSocket subprotocol is [Subprotocol] ("fieldrelay.v1+msgpack") and
// every message is binary. A message holds one or more frames concatenated;
// each frame is a msgpack array of two elements, [type, body], where type is
// a [Type] and body a msgpack map with the short keys given by the struct
// tags of the frame types in this package. Decoders skip unknown keys, so
// adding an optional key is a compatible change; a new frame type is not.
//
// The payloads (Event.Data, Reply.Data, Command.Body) are msgpack bin whose
// bytes are one msgpack value: a decoder takes them whole, in O(1), without
// looking inside, and whoever wants the value decodes it (package event).
//
// The relay batches: whatever a client has queued is written as one message.
// Clients may batch too. [AppendFrame] and [DecodeFrame] are the only codec
// entry points; the frame structs' msgp methods are generated (frame_gen.go)
// and bounded by the //msgp:limit directive in frame.go.
//
// Sub-packages: codes (the close and error code table), channel (channel
// names and MQTT-style patterns), event (normalised device events) and one
// codec package per upstream vendor protocol (resiot, …).
//
// docs/protocol.md is the normative description for implementers in other
// languages; this package is its reference implementation.
package proto
