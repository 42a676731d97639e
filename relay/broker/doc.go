// Package broker is the seam between publishers (upstream connectors) and
// the hub: an ordered, bounded log of events per tenant.
//
// Every published message gets a [Position]: the log's epoch and an offset
// that grows by one per message, so a subscriber can say exactly where it
// stopped and the broker can tell whether it still holds everything after
// that point. Recovery is all or nothing: [Broker.Read] either yields every
// entry in a range or fails with [ErrUnrecoverable].
//
// Each entry also records Prev, the offset of the previous entry on the same
// channel, which lets a client that sees only some channels check that it
// missed nothing (see docs/protocol.md).
//
// [Memory] is the in-process implementation: history bounded by count and
// age, a new epoch per process. It has no OS dependencies and builds for
// GOOS=js so the edge deployment can host it.
//
// Lock order: a Broker's locks are leaves. Callers may hold their own locks
// while calling any method except Follow, whose callback runs with no broker
// lock held.
package broker
