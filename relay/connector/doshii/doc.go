// Package doshii is the connector for Doshii's App (partner) WebSocket, v3:
// it keeps one partner app's socket open and publishes every event Doshii
// pushes on it as an event.POSEvent.
//
// # Connection
//
// The address is Config.URL (default the sandbox's
// wss://socket.sandbox.doshii.co/app/socket/v3; older paths and hosts such
// as …/app/socket work alike) with auth=base64(Config.ClientID) and, if
// Config.DeviceID is set, deviceId=… added by the connector. The client id
// is the socket's only credential: it and its base64 are redacted from
// every log line and status reason.
//
// Right after the socket opens, and every Config.PingInterval (30 s), the
// connector sends {"doshii":{"ping":<unix ms>,"version":Config.AppVersion}}.
// Pongs count in both shapes in circulation ({"type":"message","data":
// {"doshii":{"pong":…}}} and the bare {"doshii":{"pong":…}}); when
// Config.MissedPongs (2) pings in a row get no pong before the next is due,
// the link is dead and is redialled. Server pings ({"type":"message",
// "data":{"doshii":{"ping":t}}}) and POS health checks ({"event":
// "health_check","data":{"ping":t}}) are answered with {"doshii":{"pong":t,
// "version":…}}.
//
// # Events
//
// The three envelopes ({"emit":[name,payload]}, {"event":name,"data":…},
// {"type":name,"data":…}) decode alike (package proto/doshii). Each event
// becomes one event.POSEvent (kind "pos.event") with the canonical name
// (the SDK's "ckeckin_updated" becomes "checkin_updated"), its category,
// the payload's id, status, uri, locationId and mappedLocationId, its
// other keys in Fields, and the message verbatim in Meta.Raw, published on
//
//	pos/<locationId>/<category>
//
// where category is order, transaction, booking, checkin, table, menu,
// location (location_subscription, location_hours_updated,
// app_store_status_updated), loyalty (loyalty_checkin_*,
// points_redemption, reward_redemption), card (card_activate,
// card_enquiry), or other for names the codec does not know (passed
// through, not rejected). An event without a locationId goes to
// pos/_/<category>. Levels are lower-cased like every channel level; the
// event keeps the exact ids. The full objects are behind the events' REST
// uri; fetching them needs the partner's REST credentials and is left to
// the application.
//
// # Reconnecting
//
// Every connection attempt counts against a budget of Config.RetryBudget
// (10) attempts within any Config.RetryWindow (5 min), as Doshii asks apps
// to retry "a certain number of times within a given period". Between
// attempts the link backs off (capped exponential, full jitter, reset after
// a connection that got a pong) and reports backing_off with the reason.
// When the budget is spent it reports failed ("retry budget exhausted…",
// with the last reason) and waits until the window allows another attempt.
// An upgrade refused with 401 or 403 (a wrong client id or device) is
// reported failed at once, with the server's reason, and retried on the
// same schedule. Doshii does not replay what was pushed while the link was
// down; apps reconcile over REST.
//
// Malformed messages are counted per kind (the codec's ErrorKind labels),
// logged once per kind and dropped. A message over Config.MaxMessage is
// read to its end, counted as "oversize" and dropped without dropping the
// link. The link carries no commands.
package doshii
