// Package navixysim simulates the iTrack (Navixy white label) tracking
// API for the relay's Navixy connector: the REST calls user/auth and
// tracker/list, and the WebSocket at event/subscription speaking the
// Atmosphere protocol (seed 003; PROTOCOLS.md §4), so the connector can be
// tested against real HTTP and WebSocket servers without an account.
//
// Everything lives under Config.APIPrefix (default "/v2"), like the
// vendor's API base https://api.itrack.live/v2/:
//
//   - POST or GET {prefix}/user/auth with login, password and optional
//     dealer_id as a form, a JSON body or a query: {"success":true,
//     "hash":"<32 hex>"} or the vendor's error JSON, e.g.
//     {"success":false,"status":{"code":102,"description":"Wrong login or
//     password"}} (HTTP 400), 103 for a user not activated, 7 for missing
//     parameters.
//   - POST or GET {prefix}/tracker/list with hash (query, form or JSON):
//     {"success":true,"list":[{"id":…,"label":…,"source":{"id":…,…}}]},
//     or error 3 (a hash never issued) or 4 (an expired one).
//   - {prefix}/event/subscription (a trailing slash is accepted): the
//     WebSocket. Unknown query parameters are ignored. With
//     X-atmo-protocol=true the first frame is the handshake
//     "<uuid>|<Config.HeartbeatInterval ms>|X|"; then "X" every
//     Config.ServerHeartbeat. The client's "X" frames are counted and a
//     client that sends none for Config.ClientTimeout is dropped. With
//     X-Atmosphere-TrackMessageSize=true in the query, or
//     Config.TrackMessageSize, every frame is "<len>|<message>".
//
// On the socket the simulator answers subscribe and unsubscribe in both
// forms, old ({"events":[…],"trackers":[…]}) and current ({"requests":[…]}
// with "trackers" or "target", and "format"), for the event types state and
// state_batch, with the vendor's response shapes: per tracker normal,
// blocked, disallowed (as configured) or unknown (not configured). After a
// subscribe it pushes the current state of every normal tracker it names,
// then a new state whenever a tracker changes (Move). A hash that was never
// issued gets error 3 "Wrong hash", an expired one error 4; a frame that
// is not an action gets error 5 with action "null"; an event type it does
// not simulate gets error 7. Times are written in Config.Location (the
// user's zone; default UTC).
//
// # Test hooks
//
// Move moves trackers (and pushes their states), Lifecycle sends a
// lifecycle event (block stops a tracker's states, unblock resumes them and
// pushes its state), Logout sends "logout" and expires the hashes in use
// (not API keys, which IssueHash makes), ExpireHashes expires every hash
// silently (the next subscribe gets error 4), Silence stops the server's heartbeats, Emit and EmitMessage inject
// any frame, DropClients cuts every socket. Stats, Wait and WaitClients
// observe what happened; LastQuery shows the socket URL's query.
//
// What the vendor does not document, the simulator chooses: a state_batch
// is pushed at once for the trackers a Move changed (rate_limit is not
// enforced); a client whose hash is logged out keeps its socket but loses
// its subscriptions; the heartbeat deadline is reset by "X" frames only.
//
// # Goroutines
//
// New starts nothing. Each socket has its reader (the ServeHTTP call) and
// one writer that drains a bounded queue and sends heartbeats; a client
// whose queue overflows is cut. The movement generator (Config.MoveEvery)
// starts with the first socket. Start adds the HTTP server. Close stops
// them all, closes sockets with StatusGoingAway, and waits.
package navixysim
