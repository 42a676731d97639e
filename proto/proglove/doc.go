// Package proglove is the wire codec for the ProGlove Insight Mobile
// "WebSocket integration": the Streams API that the Insight Mobile app
// (Android) serves at ws://<host>:<port> (9998 unless configured) for web
// apps on the same device or network.
//
// Sources: the vendor page "WebSockets integration" (kept as seed 000), and
// section 1 of the project's upstreams/PROTOCOLS.md, which gathers the
// Streams API pages (scan, scanner state, button press, error, gateway
// state events; feedback, display, trigger block and gateway state
// commands) with their JSON examples.
//
// The package does no I/O, imports nothing from relay/, and builds for
// GOOS=js GOARCH=wasm, so that a browser in "direct mode" (a WebView on the
// device that runs Insight Mobile) can talk to the app with the same code
// the relay uses. Its parts:
//
//   - Split cuts a received frame into messages; Decode turns one message
//     into a Message (*Scan, *ScannerState, *ButtonPressed, *ErrorEvent,
//     *GatewayState, *Other); EncodeMessage writes the gateway's shape
//     (for the simulator).
//   - EncodeCommand validates and writes a Command (*Feedback, *Display,
//     *TriggerBlock, *GatewayStateRequest); DecodeCommand reads and
//     validates one on the server side (the simulator). NewEventID makes
//     the lowercase UUID every command needs.
//   - ValidatePort and ValidateURL check the app's address: ports must be
//     in [1024, 65536).
//   - Normalize, NormalizeFrame and CommandFrame map between the Streams
//     API and fieldrelay's events and command bodies (package event), and
//     Roster keeps a link's view of its scanners. These are what the relay's
//     connector and the browser bridge's direct mode share.
//
// # Wasm
//
// Direct mode puts this package in the browser's wasm, whose size is
// budgeted, so it avoids what would grow it most: it reads JSON with its
// own small reader (json.go, checked against encoding/json by
// FuzzJSONParity) instead of encoding/json's reflective decoder, parses
// URLs by hand instead of with net/url, and draws event ids from
// math/rand/v2 (seeded by the runtime) instead of crypto/rand. Encoding
// uses encoding/json's encoder, which the msgp runtime links anyway.
// Measured on top of wasm/client (GOOS=js, -ldflags="-s -w", gzip -9):
// NormalizeFrame alone adds about 64 KB, the whole package about 86 KB.
//
// # Errors
//
// Every error wraps one sentinel (ErrMalformedJSON, ErrWrongType, ErrNoType,
// ErrUnknownCommand, ErrMissing, ErrBadValue, ErrBadPort, ErrBadURL); errors
// about one field are *FieldError values naming the field (as the vendor
// spells it) and the rule broken. ErrorKind maps an error to a short stable
// label for metrics. Decoding never panics and limits no sizes: the
// connector bounds frames before they reach Decode.
//
// # Acknowledgements
//
// The Streams API has no positive acknowledgement. A command fails when an
// "errors" event whose event_reference_id is the command's event_id
// arrives; silence means success. The one command with an answer is
// gateway_state!, answered by a gateway_state event with the same
// event_reference_id.
//
// # Tolerance
//
// The notes leave some things open or contradict the examples; the choices
// made here:
//
//   - Framing: the WebSocket server sends one object per text frame, but
//     the serial/TCP paths end messages with LF. Split takes a frame that
//     is one JSON value as one message (pretty-printed too), else a
//     sequence of JSON values, else one message per non-blank line, each
//     trimmed of white space and "\r".
//   - Numbers as strings: the scan example writes decimals as strings
//     ("scan_duration":"1.23", "device_temperature":"22.30"). Decode
//     accepts a string or a number for every numeric field (time_created,
//     scan_session_id, durations, display_field_id too), keeps decimals as
//     the text sent (so EncodeMessage reproduces the example) and checks
//     that it parses; integers may be written "3000" or 3000.0.
//   - scan_code may end in "\r" (seen in the vendor's reference app):
//     Scan.ScanCode keeps it, Scan.Code and the normalised event drop one
//     trailing "\r" (or "\r\n").
//   - scan_bytes is documented as URL-safe Base64; the standard alphabet
//     and missing padding are accepted too. A scan whose scan_bytes does
//     not decode is rejected (ErrBadValue) rather than delivered without it.
//   - Required on receive: scan_code and device_serial on scan;
//     device_serial and device_connected_state on scanner_state;
//     device_serial on button_pressed; device_serial in each
//     device_connected_list entry. Everything else is optional, including
//     the whole envelope but event_type. Values of enumerations
//     (device_model, scan_mode, states, gestures, error codes) are not
//     checked on receive: new vendor values pass through.
//   - api_version is a string; a bare number (1.0) is kept as its text.
//   - Unknown event types decode to *Other and normalise to
//     event.ScannerOther; unknown keys are ignored.
//   - gateway_state is documented for Gateways, not Insight Mobile; it is
//     optional everywhere: the connector asks for it after connecting but
//     does not need an answer.
//   - Commands are validated exactly as the notes state: api_version "1.0"
//     or "1.1" (a feedback's event_time_to_live_duration needs "1.1"),
//     event_id a lowercase UUID, time_created in 1546300800000..99999999999999,
//     device_serial 1..128 characters, feedback_action_id in its enumeration,
//     display_template_id 1..15 characters (its "PG<n>[A|E|C|I]" form is not
//     enforced: the notes give it as a description, not a rule),
//     display_refresh_type in its enumeration, at most 12 display_fields
//     with id ≥ 1, header ≤ 40 and text ≤ 80 characters, durations ≥ 0,
//     gesture lists of at most 15 known gestures. Lengths count characters,
//     not bytes. Required on a command: device_serial, feedback_action_id,
//     display_template_id and trigger_block_state; display_fields,
//     display_refresh_type, time_validity_duration and the gesture lists may
//     be left out. Field ids need not be unique, and an unblocking
//     trigger_block! may carry gesture lists (ignored).
//   - Non-ASCII text in commands is written as \uXXXX escapes, as the
//     display command asks; EncodeCommand does it for every command.
//   - Errors without a device_serial (a command that was not JSON) are
//     published on the gateway's channel, scanner/gateway/<gateway>/error.
//   - Channel levels are lower case (package event), ProGlove serials upper
//     case: Roster.Serial maps a level back to the gateway's own spelling
//     when it has seen the scanner, and otherwise upper-cases it.
package proglove
