// Package client is fieldrelay's Go client: it connects to a relay over one
// WebSocket, subscribes to channels of device events, and sends commands
// to devices. The same package runs natively (CLIs, load generators,
// tests) and in the browser as WebAssembly, where the js/wasm bridge and
// the npm package wrap it.
//
// # Sessions
//
// [Dial] connects and returns once the relay has accepted the connection.
// From then on the client keeps itself connected: when the link drops it
// reconnects with capped exponential backoff and full jitter
// (Options.MinBackoff, Options.MaxBackoff), and a relay's close code
// decides whether it may (package codes states the range contract). A
// terminal close ends the client with a [*CloseError]. The client pings at
// the interval the relay asks for and drops a link on which nothing has
// arrived for two intervals, since a half-open link gives no other sign.
// With Options.GetToken it refreshes its token before it expires, and gets
// a fresh one for every reconnect. [Client.Close] ends it all.
//
// # Subscriptions and recovery
//
// [Client.Subscribe] takes an MQTT-style pattern ("lora/+/+/up",
// "link/#"). Every event has a [Position] in the tenant's log, and each
// subscription remembers the last one it was given. After a reconnect the
// client resubscribes from there and the relay replays exactly what was
// missed (SubscribedInfo.Recovered), or says it cannot. While connected,
// every event names the offset of the previous event on its channel, so
// the client notices an event that never arrived and recovers the same
// way. A subscription sees each offset at most once, in increasing order.
// Events arrive on [Subscription.Events] or, batched per WebSocket message,
// through SubscribeOptions.OnEvents.
//
// # Commands
//
// [Client.Command] sends a command with a fresh idempotency key and waits
// for the relay's reply. When the link drops in between, the outcome is
// unknown and the error says so (codes.UnknownOutcome) rather than
// guessing; the command is not resent.
//
// # Wasm
//
// Under GOOS=js GOARCH=wasm the API is the same; what differs:
//
//   - The transport is the browser's WebSocket object through syscall/js
//     (transport_js.go), not coder/websocket, which would link net/http.
//     Writes have no backpressure (the browser queues them), and a close
//     the browser reports without a close frame (code 1006) is a dropped
//     link, not a [*CloseError].
//   - The browser cannot set headers on a WebSocket: the token travels in
//     the Connect frame, as it does natively.
//   - Blocking calls (Dial, Subscribe, Command) must not run inside a
//     js.FuncOf callback: the bridge runs them in goroutines and returns
//     Promises.
//   - OnEvents is the way to hand events to JavaScript: one call per
//     WebSocket message, with every event of that message.
//   - Browsers report closes without a reliable code on some platforms
//     (mobile Safari may report none at all); the ping deadline covers
//     that. When the page comes back online, or visible, the client checks
//     its link at once: connected, it pings and drops the link if nothing
//     arrives within 5 s; waiting out a backoff, it dials at once.
//   - Options.Log replaces a *slog.Logger, which would cost the wasm build
//     some 60 KB of gzip; adapt one in a line (see Options.Log).
package client
