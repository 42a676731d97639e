// Package proglovesim simulates the WebSocket server of ProGlove's Insight
// Mobile app (the Streams API: vendor page "WebSockets integration", kept
// as seed 000, and section 1 of upstreams/PROTOCOLS.md) so that the relay's
// connector, the demo and browsers in direct mode can be developed and
// tested without a phone and scanners.
//
// Like the app, it listens on ws://<host>:<port> (DefaultAddr, port 9998;
// Start refuses ports outside [1024, 65536), and port 0 picks a free one),
// takes no auth, no query and no TLS, accepts several clients at once, and
// sends one JSON object per text frame, in the shapes and key order of the
// documented examples (decimals as strings: "scan_duration":"1.23"):
//
//   - scan when a connected scanner's trigger is single-clicked: every
//     Config.ScanEvery (round-robin over connected scanners), or on Scan /
//     Trigger;
//   - button_pressed on a double click (Trigger);
//   - scanner_state when a simulated scanner connects or disconnects
//     (ConnectScanner, DisconnectScanner);
//   - gateway_state in answer to gateway_state! (to the asking client only),
//     on EmitGatewayState, and to each new client if Config.AnnounceGateway;
//   - errors in answer to a refused command (to the sending client only).
//
// Commands are validated as the protocol notes state (proglove.DecodeCommand:
// JSON, event_type, envelope, fields, enumerations, ranges, lengths). A
// command the gateway would refuse gets an errors event whose
// event_reference_id is the command's event_id (always written; "" when the
// command had none that could be read) and whose error_code is:
//
//   - ERROR_INVALID_COMMAND for bad JSON, an unknown or missing event_type,
//     or any field breaking a rule (the notes name the code for the first
//     two; the simulator uses it for all, with a message naming the field
//     and the rule), including a display! frame with raw non-ASCII bytes
//     (the notes ask for \uXXXX escapes);
//   - ERROR_DEVICE_NOT_FOUND when device_serial names no connected scanner
//     (serials match exactly);
//   - ERROR_UNKNOWN for display! to a scanner without a display.
//
// An accepted command gets no answer at all, as with the gateway; it is
// listed by Received. trigger_block! takes effect at once: while a block is
// in force (until unblocked, until time_validity_duration ms have passed on
// Config.Now's clock, or until the scanner disconnects) the blocked gestures
// report nothing, so scans are suppressed; one of the block's unblock
// gestures lifts it.
//
// Like the app, the simulator sends no application heartbeat and no
// WebSocket pings; it answers the client's pings while reading.
//
// # Test hooks
//
// Emit injects any bytes verbatim; Scan, Trigger, ConnectScanner,
// DisconnectScanner and EmitGatewayState send exact frames and return them;
// Received and Rejected list the commands accepted and the errors sent;
// Clients and WaitClients observe connections; DropClients cuts them
// abruptly (a killed app); Stall makes the app go silent without closing
// anything (no pongs, no frames), to exercise ping deadlines.
//
// # Goroutines
//
// New starts nothing. Each accepted connection has its reader (the
// ServeHTTP call) and one writer draining a bounded queue; a client whose
// queue overflows is cut rather than allowed to stall the others. The scan
// generator starts with the first client. Start adds the HTTP server.
// Close stops all of them, closes clients with StatusGoingAway, and waits.
package proglovesim
