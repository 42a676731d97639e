package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/loadgen"
)

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadgen", "[flags]", `
Measure fan-out on loopback, side by side in one run: N subscribers get
events published at a fixed rate, once through a bare broadcast of
pre-encoded frames over the same WebSocket library (no hub, no history, no
auth: the limit of the machine) and once through the relay (hub, memory
broker, auth, the Go client). Prints deliveries per second, the relay as a
percentage of the bare broadcast, latency from publication to the
subscriber's callback (p50, p99, p99.9, max) and the CPU time used.
Subscribers, relay and publisher share the process and its cores.`, stderr)
	var cfg loadgen.Config
	fs.IntVar(&cfg.Subscribers, "subscribers", 200, "subscribers")
	fs.Float64Var(&cfg.Rate, "rate", 2_000, "events a second")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "publishing time")
	fs.IntVar(&cfg.Payload, "payload", 64, "bytes of each event's data")
	fs.BoolVar(&cfg.Wildcard, "wildcard", false, "subscribe bench/# instead of the exact channel")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	bare, err := loadgen.Bare(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bare broadcast: %w", err)
	}
	relay, err := loadgen.Relay(ctx, cfg)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	loadgen.Print(stdout, cfg, bare, relay)
	return nil
}
