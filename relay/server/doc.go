// Package server is the relay's HTTP side: the browser WebSocket endpoint
// (coder/websocket) in front of a hub, plus health and metrics.
//
// The endpoint negotiates the subprotocol proto.Subprotocol, checks the
// Origin header against an allow-list, limits inbound message size, pings
// every client and drops those whose pong does not arrive in time. All
// protocol logic lives in package hub; this package moves bytes.
//
// It keeps an idle connection cheap: one goroutine (the read loop, on a
// fresh goroutine so that net/http's, with the request, ends after the
// upgrade), pings on a timer, 1 KiB buffers each way instead of net/http's
// 4 KiB, and frames handled on short-lived goroutines so the read loop's
// stack stays small.
package server
