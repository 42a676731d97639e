// Package loadgen measures the relay's fan-out against the limit of the
// machine, side by side in one run: N subscribers on loopback receive
// events published at a fixed rate, once through the relay (hub, memory
// broker, auth, the Go client of wasm/client) and once through a bare
// broadcast of pre-encoded frames over the same WebSocket library (no hub,
// no history, no auth, one goroutine and queue per connection). JSON runs
// it once more through the same relay with encoding/json frames
// (hub.Config.Codec), JSON event data and subscribers that decode with
// encoding/json: what msgpack buys.
//
// Events go round-robin over Config.Channels channels (bench/ch0, …);
// subscriber j subscribes bench/ch<j mod Channels>, or bench/# with a
// wildcard, and must get exactly that channel's events: one channel is
// every subscriber getting every event, as many channels as subscribers
// is one dashboard per device. Both report deliveries per second and the
// latency from publication (the stamp is taken right before the event
// enters the broker, where the relay's connectors put what they receive
// upstream) to the subscriber's callback (p50, p99, p99.9, max, from
// log-bucket histograms 1 % wide), with CPU time and memory.
//
// The subscribers run in this process, or with Config.Procs in child
// processes (RunSubscriberProc, started with Config.SubscriberCommand)
// that connect their share, say "ready", and report their counts and
// histograms as one JSON line when told to finish; the parent merges
// them. Then the parent's CPU time and its heap and stacks (before the
// subscribers connect, once they have subscribed, and the peak while
// publishing) are the relay's (or the bare server's) and the publisher's
// alone, and the subscribers' CPU time is reported apart. Connections are
// spread over Config.Sources loopback source addresses (127.0.0.1, .2,
// …).
//
// Idle measures the memory per idle connection of a relay process, from
// its /metrics gauges.
//
// `fieldrelay loadgen` prints the table; docs/benchmarks.md records it.
package loadgen
