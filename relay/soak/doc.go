// Package soak checks the delivery contract end to end under faults: a
// ResIOT simulator emits a known sequence of uplinks at a steady rate
// through the real upstream path into a relay (memory broker), many Go
// clients subscribe with recovery through a fault proxy that cuts every
// client connection at a steady cadence, and afterwards every client's
// received sequence is checked against what was published.
//
// The contract (docs/reliability.md): each client receives every event
// of its subscription exactly once and in order, or, where the relay's
// history no longer held what it missed, is told so by recovered=false at
// that point. A gap anywhere else is a silent loss. `fieldrelay soak`
// runs it and prints the figures; Run is what it and the tests call.
package soak
