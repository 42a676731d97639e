// Package atmosphere is the framing of the Atmosphere protocol as it is used
// on a WebSocket: the handshake frame, heartbeats, and the optional length
// prefix. It knows nothing of what the messages mean; package navixy does.
//
// Sources: the iTrack/Navixy "WebSocket API" page (seed 003), which gives the
// query string and the first frame b623a15d-…|30000|X|, and the behaviour of
// the atmosphere-javascript client and the Atmosphere server's heartbeat and
// message-size interceptors as summarised in PROTOCOLS.md §4.
//
// The package does no I/O and uses only the standard library, so it builds
// for GOOS=js GOARCH=wasm.
//
//   - Query is the query string atmosphere-javascript 2.3.6 sends; URL puts
//     it on an endpoint.
//   - ParseHandshake reads the server's first frame
//     "<uuid>|<clientHeartbeatMs>|<padding>|[message]" and EncodeHandshake
//     writes it.
//   - Split turns one text frame into its messages, removing "<len>|"
//     prefixes if the server tracks message sizes; EncodeTracked adds one.
//   - IsHeartbeat and IsBlank recognise frames to ignore.
//
// # Errors
//
// Every error wraps one sentinel (ErrNotHandshake, ErrBadInterval,
// ErrBadLength); ErrorKind maps an error to a short stable label for
// metrics. Nothing here panics or limits sizes: the caller bounds frames.
//
// # Tolerance
//
// What the sources leave open, and the reading chosen:
//
//   - The length prefix is only sent when the client asks for it
//     (X-Atmosphere-TrackMessageSize=true), and Navixy's sample does not.
//     Split strips a leading "<digits>|" whenever it is there, asked for or
//     not: no JSON message and no heartbeat starts that way.
//   - Atmosphere counts the length in UTF-16 code units (Java's and
//     JavaScript's String.length). Split accepts that count and, failing
//     that, a count in bytes, so a server that counts bytes works too. A
//     frame may hold several prefixed messages; a message split across
//     frames is not reassembled (WebSocket frames carry whole messages) and
//     is an ErrBadLength.
//   - The handshake may itself carry a length prefix; it is recognised when
//     the first field is all digits and the third one is too (the interval),
//     since an Atmosphere uuid is never all digits. If the frame does not
//     parse that way, it is read without a prefix.
//   - White space around the uuid, the interval and heartbeat frames is
//     ignored. An interval of 0 means the server asked for no client
//     heartbeat (Handshake.HeartbeatInterval is then 0). An empty padding
//     means DefaultPadding ("X").
//   - A heartbeat is a message made only of the padding, once or repeated
//     (two heartbeats may arrive together), with white space around.
package atmosphere
