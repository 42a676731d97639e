package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/soak"
)

func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("soak", "[flags]", `
Check the delivery contract under faults, all on 127.0.0.1: a ResIOT
simulator emits a known sequence of uplinks at a steady rate into a relay,
clients subscribe with recovery through a fault proxy that cuts every
client connection at a steady cadence, and afterwards each client's
sequence is checked: every event exactly once and in order, or announced
missed by recovered=false. Prints published, delivered, lost, duplicated,
reordered, recovered=false episodes and reconnects; exits 1 on any silent
loss, duplicate or reorder. The defaults force 1 000 disconnects and finish
in well under a minute; --history small with --outage larger shows
recovered=false instead of silent gaps.`, stderr)
	var cfg soak.Config
	fs.IntVar(&cfg.Clients, "clients", 20, "clients subscribed to every uplink")
	fs.IntVar(&cfg.Events, "events", 20_000, "uplinks to publish")
	fs.Float64Var(&cfg.Rate, "rate", 1_000, "uplinks a second")
	fs.IntVar(&cfg.Cuts, "cuts", 1_000, "forced client disconnects in all (each proxy cut drops every client)")
	fs.IntVar(&cfg.History, "history", 100_000, "events the relay keeps (memory broker)")
	fs.IntVar(&cfg.Outage, "outage", 0, "events published while reconnecting is refused, after each cut")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "bound of the whole run")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.Log = stderr
	res, err := soak.Run(ctx, cfg)
	res.Print(stdout)
	if err != nil {
		return err
	}
	if !res.OK() {
		return errors.New("soak: the delivery contract did not hold")
	}
	return nil
}
