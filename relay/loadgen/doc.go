// Package loadgen measures the relay's fan-out against the limit of the
// machine, side by side in one run: N subscribers on loopback receive
// events published at a fixed rate, once through the relay (hub, memory
// broker, auth, the Go client of wasm/client) and once through a bare
// broadcast of pre-encoded frames over the same WebSocket library (no hub,
// no history, no auth, one goroutine and queue per connection). Both
// report deliveries per second and the latency from publication to the
// subscriber's callback (p50, p99, p99.9, max), with the process's CPU
// time. Idle measures the memory per idle connection of a relay process,
// from its /metrics gauges.
//
// `fieldrelay loadgen` prints the table; docs/benchmarks.md records it.
package loadgen
