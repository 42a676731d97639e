// Package faultproxy is a TCP proxy on loopback for fault tests: it sits
// between two real peers (a simulator and the relay, or the relay and a
// client) and injects the faults real networks have, per direction (Up is
// from the side that connected to the proxy towards the target, Down the
// way back):
//
//   - Cut closes every connection at once (both directions);
//   - CutAfter forwards exactly n more bytes in a direction, then cuts:
//     a WebSocket frame split in the middle;
//   - Stall reads what one side sends and delivers none of it, and does
//     not pass on its close either: a half-open link, as a mobile network
//     that lost the device gives (no FIN, no RST), until the peers' own
//     deadlines notice. What a stall swallowed is lost: after Stall(off)
//     the byte stream has a hole, so tests stall current connections and
//     let the peers reconnect, or cut;
//   - Pause stops a direction without losing anything: the proxy stops
//     reading, the sender's writes back up through TCP flow control (a
//     peer that does not read), and Pause(off) delivers everything;
//   - Delay holds every chunk for a while before forwarding it (latency);
//   - Throttle forwards at most so many bytes a second;
//   - Refuse closes new connections as they arrive.
//
// Faults apply to a Scope: the connections open now (Current), those
// accepted from now on (Future), or both (All). The Proxy's own methods
// apply to All, except CutAfter (Current: a byte budget for every later
// connection would cut each reconnection too); Proxy.On picks a scope.
//
// Everything is bounded. Each connection has one goroutine per direction
// and holds at most one read (32 KiB) per direction: a stalled direction
// discards what it reads (counted by Stalled); a paused, delayed or
// throttled one stops reading meanwhile, so TCP's own flow control pushes
// back on the sender. A direction blocked on its receiver never blocks the
// other one. Close ends every connection and waits for every goroutine,
// whatever fault is on.
package faultproxy
