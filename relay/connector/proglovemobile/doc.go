// Package proglovemobile is the connector for ProGlove's Insight Mobile
// app: the Streams API WebSocket server the app runs at ws://<host>:<port>
// (9998 unless configured; the port must be in [1024, 65536)) for web apps
// on the device or the local network. No auth, no TLS.
//
// It dials the app, normalises every Streams API message with package
// proglove (the same code a browser uses in direct mode) and publishes:
//
//	scan           → event.Scan           on scanner/<serial>/scan
//	scanner_state  → event.ScannerState   on scanner/<serial>/state (retained)
//	button_pressed → event.ScannerButton  on scanner/<serial>/button
//	errors         → event.ScannerError   on scanner/<serial>/error
//	                 (scanner/gateway/<gateway>/error without a serial)
//	gateway_state  → event.ScannerGateway on scanner/gateway/<gateway>/state (retained)
//	other types    → event.ScannerOther   on scanner/<serial>/other
//
// Serials are lower-cased in channel names.
//
// # Commands
//
// Browsers send event.CmdScannerFeedback, CmdScannerDisplay and
// CmdScannerTriggerBlock to scanner/<serial>/cmd, and
// CmdScannerGatewayState to scanner/gateway/<gateway>/cmd (any gateway
// level, "_" if unknown). A body is validated as the protocol notes state
// before anything is sent (codes.BadRequest naming the rule), then sent with
// a fresh lowercase UUID event_id and time_created in ms. The gateway never
// acknowledges success: an errors event whose event_reference_id is the
// command's event_id fails it with codes.DeviceRejected and the message
// "<error_code>: <error_message>" (for example "ERROR_DEVICE_NOT_FOUND: …");
// silence for Config.CommandTimeout (2 s) is success. gateway_state! is
// answered by a gateway_state, which settles it at once. A successful reply
// carries an event.ScannerCommandResult: the event_id used, and whether the
// gateway answered or success was inferred from silence. A link that drops
// while a command waits gives codes.UnknownOutcome; a link that is down,
// codes.Unavailable.
//
// The channel level is lower case; the serial sent is the gateway's own
// spelling when the link has seen the scanner, else the level upper-cased
// (proglove.Roster).
//
// # Liveness and reconnects
//
// The Streams API has no heartbeat: the link sends WebSocket pings every
// PingInterval and re-dials when a pong is later than PongTimeout (the app
// may be frozen or the Wi-Fi gone without a close). It reconnects with
// capped exponential backoff and full jitter, publishing each state on
// link/<name>/status. After every connect it sends its own gateway_state!
// (unless SkipGatewayState) instead of assuming the scanners it knew are
// still there: the answer reconciles the link's view, publishing a derived
// scanner state (event.ScannerState.Derived "gateway_state") for each
// scanner that connected or disconnected meanwhile. If the app refuses the
// request (errors event), that errors event is logged once and not
// published, and scanners become known from scanner_state events.
//
// # Bad input
//
// Each frame may hold several LF-separated messages (proglove.Split).
// A message that does not decode is counted by its proglove.ErrorKind,
// logged once per kind and dropped; a message larger than MaxMessage is read
// through without being held, counted as "oversize" and dropped; a binary
// frame is counted as "binary". None of them takes the link down.
package proglovemobile
