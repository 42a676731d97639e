// Package doshii is the wire codec for Doshii's App (partner) WebSocket, v3:
// the socket on which Doshii pushes thin event notifications (orders,
// transactions, bookings, check-ins, tables, menus, locations, loyalty) to
// an ordering app, and on which both sides exchange JSON heartbeats.
//
// Sources: the help pages "Connection" (seed 004), "Heartbeats" and "Upon
// Message", the official partner SDK (doshii-partner-node-sdk), as digested
// in PROTOCOLS.md section 5.
//
// The package does no I/O and uses only the standard library, so it builds
// for GOOS=js GOARCH=wasm as well. It has four parts:
//
//   - Decode turns a received message into a Frame: an *Event, a *Ping (a
//     client's or server's ping, or a POS health_check) or a *Pong. Servers
//     (the simulator) decode their clients' heartbeats with it too.
//   - EncodeEvent, EncodePing and EncodePong write every shape Decode reads.
//   - AuthToken, ClientIDFromAuth and SocketURL build and check the
//     socket's only credential, auth=base64(clientId), and its address.
//   - Canonical, Category and Known file event names.
//
// # Errors
//
// Every error wraps one sentinel (ErrMalformedJSON, ErrWrongType,
// ErrNoEnvelope, ErrNoName, ErrBadHeartbeat, ErrBadValue, ErrBadURL,
// ErrBadAuth); errors about one field are *FieldError values naming it.
// ErrorKind maps an error to a short stable label for metrics. Decoding
// never panics, and nothing here limits sizes: the connector bounds
// messages before they reach Decode. No error text contains a client id
// or an auth token.
//
// # Tolerance
//
// The sources disagree or say nothing in places; where they do, the decoder
// accepts every form in circulation and the encoders write the documented
// one (marked inferred where nothing is documented):
//
//   - Envelopes: the SDK parses {"emit":["<name>",{payload}]}, the app
//     pages show {"event":"<name>","data":{…}}, the older POS pages
//     {"type":"<name>","data":{…}}. All three decode to an Event; the first
//     of the keys emit, event, type, doshii that is present and not null
//     decides. Elements of "emit" after the payload are ignored, as the SDK
//     ignores them; other top-level keys are ignored (Raw keeps them).
//   - Heartbeats: the documented pong is {"type":"message","data":{"doshii":
//     {"pong":ms,"version":v}}}, the SDK's mock sends a bare {"doshii":
//     {"pong":ms}}: both are a Pong. A "message" in the other two envelopes
//     is read the same way (inferred). A doshii object with both "pong" and
//     "ping" is a Pong, so that a peer's liveness is never missed
//     (inferred). The server's ping has the shape of its pong with "ping";
//     the answer is the client's bare {"doshii":{"pong":<same ms>,
//     "version":v}} (inferred). A POS's {"event":"health_check","data":
//     {"ping":ms}} is a Ping with HealthCheck set, answered the same way
//     (inferred: the page says only that it expects a pong).
//   - Times are Unix milliseconds, JSON integers; a string of digits is
//     tolerated (inferred). A fraction or exponent is ErrBadValue.
//   - Payloads are thin and only partly documented: id, status, uri,
//     locationId, mappedLocationId are typed (ids may be numbers, kept as
//     their JSON text, since app.id is a number in the POS example); every
//     other key is kept verbatim in Payload.Other. A missing or null
//     payload is {}. Keys are matched exactly (camelCase), not
//     case-insensitively; a repeated key keeps its last value.
//   - Event names are passed through as sent, known or not; Canonical
//     corrects the SDK's "ckeckin_updated" to "checkin_updated". The names
//     "message" and "health_check" are heartbeats, never events.
//   - auth is base64 of the client id with the standard alphabet and
//     padding (btoa). ClientIDFromAuth also accepts the URL-safe alphabet,
//     missing padding, and a '+' turned into a space by an unescaped query.
package doshii
