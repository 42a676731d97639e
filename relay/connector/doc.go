// Package connector holds what every upstream link shares: the Link
// interface each vendor connector implements, publishing normalised events
// into a tenant's log, link status reporting, reconnect backoff, counting
// of bad upstream input, and the Registry that routes browser commands to
// the right link (with idempotency on the client's command id).
//
// Vendor connectors live in sub-packages (resiot, …). Each is a small state
// machine: dial, handshake, read loop → normalise → publish, commands,
// reconnect with capped exponential backoff and full jitter.
package connector
