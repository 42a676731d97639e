// Package direct is the browser library's "direct mode": a session with
// ProGlove's Insight Mobile app itself, over the Streams API WebSocket the
// app serves at ws://localhost:<port> (9998 unless configured), with no
// relay in between. A web app in a WebView on the Android device that runs
// Insight Mobile gets the same typed events, on the same channels, and
// sends the same scanner commands as through the relay, so that it can
// switch between the two without rewriting its event handling.
//
// The same package runs natively (tests, tools) and in js/wasm, over
// package wasm/internal/ws: coder/websocket natively, the page's own
// WebSocket object in the browser.
//
// # What it mirrors
//
// Everything the relay's connector for the same server
// (relay/connector/proglovemobile) does, with the same codec (package
// proto/proglove):
//
//   - Each text frame is split into messages and normalised
//     (proglove.NormalizeFrame): scan → event.Scan on scanner/<serial>/scan,
//     scanner_state → event.ScannerState on scanner/<serial>/state,
//     button_pressed → scanner/<serial>/button, errors →
//     scanner/<serial>/error (scanner/gateway/<gateway>/error without a
//     serial), gateway_state → scanner/gateway/<gateway>/state, other
//     types → event.ScannerOther on scanner/<serial>/other. Serials are
//     lower-cased in channel names. Meta.Link is Options.Link ("direct"
//     unless set), Meta.Raw the message verbatim.
//   - After every connect the session sends its own gateway_state! (unless
//     Options.SkipGatewayState) rather than assume the scanners it knew
//     are still there; the answer reconciles its view (proglove.Roster),
//     publishing a derived event.ScannerState for each scanner that
//     connected or disconnected meanwhile. An errors event refusing that
//     request is not published.
//   - The link's own state is published on link/<Link>/status as an
//     event.LinkStatus: connecting, connected, backing_off (with the
//     reason, the attempt and the wait).
//   - Commands ([Session.Command]) are validated before anything is sent
//     and sent with a fresh lowercase UUID event_id. The app never
//     acknowledges success: an errors event whose event_reference_id is
//     the command's event_id fails it (codes.DeviceRejected,
//     "<error_code>: <error_message>"); a gateway_state answering
//     gateway_state! succeeds at once; silence for Options.CommandTimeout
//     (2 s) is success. The link dropping meanwhile gives
//     codes.UnknownOutcome; a link that is down, codes.Unavailable (nothing
//     sent); a target no link of this kind serves, codes.NotFound, as the
//     relay answers.
//   - Bad input from the app (malformed JSON, no event_type, wrong types,
//     binary frames, messages over Options.MaxMessage) is counted by kind
//     (proglove.ErrorKind labels, "binary", "oversize"; [Session.Stats]),
//     reported to Options.OnError, and dropped; the session goes on.
//     Unknown event types are not bad input: they pass through as
//     event.ScannerOther, as through the relay.
//   - Reconnects use capped exponential backoff with full jitter between
//     Options.MinBackoff and MaxBackoff (500 ms and 30 s, the connector's
//     defaults); the backoff starts afresh once a connection has carried
//     a good message (or stayed up for MaxBackoff: an app with nothing to
//     say is not a failing one).
//
// # What it mirrors of the relay client (package wasm/client)
//
// The API has the client's shape (Dial, Subscribe, Command, Close, State,
// Stats, OnState with the same state names) and [Event] is the client's
// Event, so that code written for one reads the other:
//
//   - Every event gets a [Position] in the session's own log: Epoch is a
//     fresh random id per Dial, Offset counts every event of the session
//     from 1, across reconnects. Prev is the offset of the previous event
//     on the same channel (0 if none). Data is the msgp encoding of the
//     event, Value the typed event (nil with Options.RawEvents).
//   - Subscriptions take MQTT-style patterns ('+' one level, '#' the
//     rest) and receive every matching event in offset order, on a
//     channel or through OnEvents. With SubscribeOptions.Latest a new
//     subscription first receives the last event of each matching state
//     channel (the kinds proto/event registers as retained:
//     scanner.state, scanner.gateway, link.status), marked Latest.
//   - There is no history: nothing is replayed after a reconnect, so
//     Replayed is always false, and events the app sent while the link was
//     down are lost at the app. A new gateway_state! after each connect
//     is what catches the scanners up.
//
// # Liveness
//
// The Streams API has no heartbeat and a page cannot send WebSocket
// pings, so the session pings nothing: the app is on the same device, and
// when it dies the system closes its sockets, which the session sees.
// In the browser, the page coming back online or visible ends a backoff at
// once (ws.WatchPage).
//
// # Wasm
//
// Under GOOS=js GOARCH=wasm the API is the same. Blocking calls (Dial,
// Command, Close) must not run inside a js.FuncOf callback: run them in
// goroutines. The package links no net/http, no log/slog, and nothing of
// relay/.
package direct
