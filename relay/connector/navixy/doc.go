// Package navixy is the connector for GPS trackers on the Navixy platform
// and its white labels (iTrack: https://api.itrack.live/v2). It follows the
// vendor's workflow (seed 003; PROTOCOLS.md §4):
//
//  1. POST {base}/user/auth with the login and password (a form, or JSON
//     with Config.AuthJSON) → a session hash; or use Config.APIKey as the
//     hash and skip this step.
//  2. POST {base}/tracker/list with the hash, to map the source_id that
//     events carry to tracker ids (Tracker.Source.ID → Tracker.ID). The
//     hash goes in the form body, which the vendor accepts like the query,
//     so that it never appears in a URL that an error might quote.
//  3. Open {base}/event/subscription with the Atmosphere query
//     (atmosphere.Query), read the handshake "<uuid>|<ms>|X|", keep the
//     uuid, and send the padding "X" every <ms> (Config.HeartbeatInterval
//     if the handshake gives none).
//  4. Subscribe, in the current form ({"requests":[…]}, the default) or
//     the old one ({"events":[…],"trackers":[…]}); Config.SubscribeForm.
//     The trackers are Config.Trackers, or every tracker of the list. A
//     current-form "state" request names them with "trackers", as the
//     vendor's sample does; "state_batch" uses "target" ({"type":"all"}
//     unless Config.Trackers is set). The handshake must arrive within
//     Config.Timeout; a first frame that is not one is taken as a message
//     and the heartbeat falls back to Config.HeartbeatInterval.
//  5. Read: server "X" and blank frames are ignored, a "<len>|" prefix is
//     stripped; events are normalised and published.
//
// On error 3 or 4 (wrong hash, session ended) or a "logout" event the
// connector logs in again (step 1) and resubscribes; on a close, a dial
// failure or silence it reconnects (step 3) after a backoff of about
// Config.MinBackoff (default 2 s, as atmosphere-javascript's
// reconnectInterval) growing to Config.MaxBackoff, with full jitter, and
// resubscribes. A login the vendor refuses (102 wrong login or password,
// 103 not activated), a refused API key, and a subscribe refused as
// malformed (5, 7) or forbidden (11) are reported as "failed" and retried
// every Config.MaxBackoff: they need a human. Silence is no frame at all,
// not even the server's "X" heartbeat (every 60 s by default), for
// Config.SilenceTimeout (default 150 s).
//
// # Events
//
//	state, state_batch elements → event.TrackerState        on gps/<trackerId>/state (retained)
//	subscribe response statuses → event.TrackerSubscription on gps/<trackerId>/subscription (retained)
//	lifecycle                   → event.TrackerLifecycle    on gps/<trackerId>/lifecycle
//	                              (block and unblock also update gps/<trackerId>/subscription)
//	other events                → event.GPSOther            on gps/other/<event>
//
// A state whose source_id is not in the tracker list is still published,
// on gps/src-<sourceId>/state with TrackerID 0, and counted as bad input
// of kind "unknown_source". A state identical to the last one published
// for its tracker (what the vendor re-sends after every subscribe) is not
// published again, so a reconnect neither loses nor doubles a position.
// Each event keeps the upstream message verbatim in Meta.Raw (for a
// state_batch element, the element); Meta.Time is the state's last_update
// (else its gps.updated, else the message's user_time).
//
// The link status on link/<name>/status is "connected" once the subscribe
// response arrives, with a reason summarising the trackers' statuses
// ("state: 1 normal; blocked 15565; unknown 15568").
//
// # Times
//
// The vendor writes times as "YYYY-MM-DD HH:MM:SS" in the user's time zone
// (a setting of the account) without an offset. Config.TimeZone names that
// zone: an IANA name ("America/Guatemala", which needs the system's time
// zone database or a binary built with time/tzdata), "UTC" (the default),
// or a fixed offset ("-06:00", "UTC+2").
//
// # Bad input
//
// Malformed frames are counted per kind (the codecs' ErrorKind labels:
// "json", "type", "missing", "number", "time", "length", …; "binary" for a
// binary frame; "oversize" for a frame over Config.MaxMessage, which also
// drops the socket, as the WebSocket library must; "no_handshake" when the
// first frame is not a handshake; "api_error" for an error message after
// subscribing; "rest_<kind>" for a REST answer that does not decode;
// "unknown_source", which is published nonetheless), logged once per kind,
// and dropped.
//
// The connector carries no commands: Serves always reports false.
package navixy
