// Package ws is the WebSocket connection the browser library's Go code
// uses, one API on both of its platforms:
//
//   - natively (conn_native.go, //go:build !js) over
//     github.com/coder/websocket, for CLIs, load generators and tests;
//   - in js/wasm (conn_js.go, //go:build js && wasm) over the page's own
//     WebSocket object through syscall/js. coder/websocket would work
//     there too, but on js it links net/http and crypto/tls, about 1 MB of
//     gzip, so the js build must never import it.
//
// wasm/client (the relay protocol: binary messages) and wasm/direct (the
// ProGlove Insight Mobile Streams API: text messages) are both built on
// it, which is why a Conn carries text and binary alike; each caller
// decides which it accepts.
//
// # What differs between the platforms
//
//   - The browser runs the socket itself: Write queues in the browser
//     (bufferedAmount) without backpressure, so its ctx is unused there.
//   - A page may only send close codes 1000 and 3000–4999: Close sends 1000
//     for any other code in the browser. Reasons are cut to 123 bytes on
//     both platforms, the protocol's limit.
//   - A browser cannot drop a connection without a closing handshake:
//     CloseNow starts one and stops listening at once.
//   - A close the browser reports without a close frame (code 1006, or
//     wasClean false) is a dropped link, not a [*CloseError].
//   - WatchPage listens to the page's online and visibilitychange events
//     in the browser; natively there is no page and it does nothing.
//
// # Errors
//
// Read returns a [*CloseError] when the peer closed the connection with a
// close frame; any other error means the link dropped, or ctx ended, after
// which the connection is not to be used again (CloseNow it). Use
// errors.As.
package ws
