package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/auth"

	"github.com/fieldrelay/fieldrelay/relay/loadgen"
)

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--subscriber-proc" || args[0] == "-subscriber-proc") {
		return runSubscriberProc(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("loadgen", "[flags]", `
Measure fan-out on loopback, side by side in one run: N subscribers get
events published at a fixed rate, once through a bare broadcast of
pre-encoded frames over the same WebSocket library (no hub, no history, no
auth: the limit of the machine) and once through the relay (hub, memory
broker, auth, the Go client), then through the same relay with
encoding/json frames and JSON event data, decoded by the subscribers with
encoding/json (what msgpack buys). Prints deliveries per second, each as a
percentage of the bare broadcast, latency from publication to the
subscriber's callback (p50, p99, p99.9, max), CPU time and memory.

Events go round-robin over --channels channels bench/ch0, bench/ch1, …;
subscriber j subscribes bench/ch<j mod channels> (bench/# with
--wildcard) and must get exactly that channel's events. With
--subscribers 1000 --channels 1000 --rate 10000 each subscriber gets 10
events/s: 10 000 deliveries/s, one dashboard per device.

Latency is the subscriber's clock at delivery minus the event's stamp,
taken right before it enters the broker (where the relay's connectors put
what they receive upstream); one machine, one clock.

By default subscribers, relay and publisher share this process and its
cores. With --procs K the subscribers run in K child processes (this
binary, re-executed), so that this process is the relay (or the bare
server) and the publisher alone: its CPU time, and its heap and stacks
(after a GC before the subscribers connect and once they have
subscribed, and the peak sampled every 100 ms while publishing), are the
relay's; the subscribers' CPU time is reported apart. Connections come
from --sources loopback addresses (127.0.0.1, .2, …); the relay's Go
client takes no dialer, so with --procs 0 its subscribers all connect
from 127.0.0.1.

With --idle N it measures instead the relay's memory per idle connection:
it starts a relay process (serve --dev), opens N connections from
--sources loopback addresses, each connected and subscribed, and reads
the relay's heap and stacks before and after (after a GC). It raises its
own open-files limit to the hard limit first.`, stderr)
	var cfg loadgen.Config
	fs.IntVar(&cfg.Subscribers, "subscribers", 200, "subscribers")
	fs.Float64Var(&cfg.Rate, "rate", 2_000, "events a second")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "publishing time")
	fs.IntVar(&cfg.Payload, "payload", 64, "bytes of each event's data")
	fs.BoolVar(&cfg.Wildcard, "wildcard", false, "subscribe bench/# (every event) instead of one channel")
	fs.IntVar(&cfg.Channels, "channels", 1, "channels the events are published on, round-robin; subscriber j subscribes the (j mod channels)-th")
	fs.IntVar(&cfg.Procs, "procs", 0, "run the subscribers in this many child processes (0: in this process)")
	idle := fs.Int("idle", 0, "measure memory per idle connection with this many connections instead")
	fs.IntVar(&cfg.Sources, "sources", 8, "loopback source addresses to spread connections over")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if *idle > 0 {
		return runIdle(ctx, *idle, cfg.Sources, stdout, stderr)
	}
	loadgen.RaiseFileLimit()
	cfg.SubscriberCommand = []string{os.Args[0], "loadgen", "--subscriber-proc"}
	cfg.Stderr = stderr
	bare, err := loadgen.Bare(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bare broadcast: %w", err)
	}
	relay, err := loadgen.Relay(ctx, cfg)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	js, err := loadgen.JSON(ctx, cfg)
	if err != nil {
		return fmt.Errorf("relay, JSON frames: %w", err)
	}
	loadgen.Print(stdout, cfg, bare, relay, js)
	return nil
}

// runSubscriberProc is a subscriber process of loadgen --procs (not in
// the help: the parent starts it). Its stdin and stdout are the parent's
// pipes.
func runSubscriberProc(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadgen --subscriber-proc", "[flags]", `
A subscriber process of loadgen --procs: connects its share of the
subscribers, says "ready", and reports its tally as JSON when told to
finish on stdin.`, stderr)
	var p loadgen.SubscriberProc
	p.Flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	loadgen.RaiseFileLimit()
	return loadgen.RunSubscriberProc(ctx, p, os.Stdin, stdout)
}

// runIdle starts a relay process and measures it with loadgen.Idle.
func runIdle(ctx context.Context, n, sources int, stdout, stderr io.Writer) error {
	limit := loadgen.RaiseFileLimit()
	fmt.Fprintf(stderr, "open files limit: %d\n", limit)
	const secret = "loadgen-idle"
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--dev", "--listen", "127.0.0.1:0", "--secret", secret,
		"--sim-every", "1h", "--log-level", "error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 && strings.Contains(sc.Text(), "listening on") {
				base <- f[len(f)-1]
			}
		}
	}()
	var url string
	select {
	case url = <-base:
	case <-time.After(time.Minute):
		return errors.New("the relay did not start")
	}
	minter := &auth.HS256{Secret: []byte(secret)}
	token := func(i int) string {
		tok, _ := minter.Mint(auth.Claims{Subject: fmt.Sprint("idle-", i), Tenant: fmt.Sprint("idle-", i/5000), Subscribe: []string{"#"}}, time.Hour)
		return tok
	}
	res, err := loadgen.Idle(ctx, url, token, "idle/#", n, sources)
	if err != nil {
		return err
	}
	res.Print(stdout)
	return nil
}
