// Package codes is fieldrelay's one table of close and error codes.
//
// Two kinds of code share one numbering:
//
//   - Reply codes (1–999) answer a single request (Reply.Code); the
//     connection stays open. They follow HTTP's meanings where one fits.
//   - Close codes (1000–4999) end a connection: they are the WebSocket close
//     status and the Disconnect frame's code.
//
// The range contract for close codes, which clients rely on without knowing
// every code:
//
//	1000          normal closure by the client: terminal
//	1001–3999     WebSocket and transport codes: reconnect, except 1002,
//	              1003, 1007, 1008, 1009 and 1010 (protocol faults): terminal
//	4000–4499     fieldrelay: reconnect (with backoff, resuming subscriptions)
//	4500–4999     fieldrelay: terminal (do not reconnect without a change)
//
// docs/codes.md and jsbindings' codes module are generated from [Table]
// (go generate ./proto/codes); a test fails if they drift.
package codes
