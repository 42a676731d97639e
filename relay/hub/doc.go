// Package hub is the relay's fan-out core: it holds the browser sessions,
// their subscriptions and per-client queues, follows each tenant's log in
// the broker and delivers every event to the sessions whose subscriptions
// match it.
//
// # How the parts fit
//
//   - A [Session] is one client connection. The transport (the relay's
//     WebSocket server, or the edge's Durable Object) calls Session.Handle
//     with every inbound message and writes what the session's writer hands
//     its [Sink]. The hub never touches sockets, so it builds for GOOS=js.
//   - Tenants live in shards keyed by a hash of the tenant name. A tenant
//     has a subscription trie (MQTT-style '+' and '#'), the set of its
//     sessions, and one follower goroutine reading the tenant's log from
//     the broker in order. Each event is encoded into its frame once and
//     the same bytes are queued to every matching session.
//   - Each session has one bounded queue and at most one writer goroutine,
//     running only while the queue has something: it writes whatever is
//     queued as one WebSocket message and exits when the queue is empty.
//     A session whose queue passes Config.QueueBytes is closed with
//     codes.Slow; the follower never waits for it.
//   - Subscribing takes the tenant lock, so the history read for recovery
//     and the switch to live delivery are atomic: no event is lost or
//     doubled between replay and live.
//
// Lock order: shard.mu → tenant.mu → Session.mu → Session.qmu. Broker
// locks are leaves.
package hub
