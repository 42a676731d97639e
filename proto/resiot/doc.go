// Package resiot is the wire codec for the ResIOT LoRaWAN "Websocket Server"
// data connector: the socket on which a ResIOT application server pushes
// every device communication as JSON and accepts downlink commands.
//
// Source: the vendor page "Websocket Server"
// (docs.resiot.io/Connector_WebsocketServer/, kept as seed 002), which gives
// a schema table and one example per communication type (comm_gwalive,
// comm_join, comm_rx, comm_tx), the TX command and its reply.
//
// The package does no I/O and uses only the standard library, so it builds
// for GOOS=js GOARCH=wasm as well. It has three parts:
//
//   - Decode turns a frame received from the server into a Frame: a
//     *Message (a communication) or a *Reply (the answer to a TX command).
//     Message keeps strings as sent; PayloadBytes, PortNumber and Radio
//     give typed values. EncodeMessage writes the vendor's shape back.
//   - EncodeTX writes the downlink command a client sends; DecodeTX reads
//     it on the server side (used by the simulator).
//   - EncodeReply writes the server's reply.
//
// # Errors
//
// Every error wraps one sentinel (ErrMalformedJSON, ErrWrongType, ErrNoType,
// ErrBadTime, ErrBadHex, ErrNoPort, ErrBadPort, ErrBadValue); errors about
// one field are *FieldError values naming it. ErrorKind maps an error to a
// short stable label for metrics. Decoding never panics, and nothing here
// limits sizes: the connector bounds frames before they reach Decode.
//
// # Tolerance
//
// The vendor's page contradicts itself in places; where it does, the decoder
// accepts every documented form and the encoders write the one the examples
// use (marked "inferred" where the page gives no example):
//
//   - Type: the schema table calls it MsgType, every example sends CommType.
//     Decode reads CommType and falls back to MsgType.
//   - Extra: the schema table describes a list of {"fieldname","fieldvalue"}
//     objects, every example sends an object. Both decode to Extra, a
//     map[string]string; non-string values (comm_tx's "priority":0) keep
//     their compact JSON text, null becomes "" (inferred).
//   - Port: a string in communications ("128", "" when none); a number in
//     the TX command schema, a string ("15") in other references. Decode
//     tolerates a number in a communication (inferred); DecodeTX accepts a
//     number or a numeric string; EncodeTX writes a number.
//   - DevEUI: the TX schema table writes "DevEUI", its example "DevEui".
//     Keys are matched case-insensitively everywhere (as encoding/json
//     does), and EncodeTX writes "DevEUI".
//   - Absent keys and JSON null mean "no value", as the page says fields
//     "can be empty or nil". Unknown communication types and unknown keys
//     are passed through or ignored, never rejected.
//   - DT is RFC 3339 with a fraction of any length (the examples have 7
//     digits) and a zone offset, which is preserved.
package resiot
