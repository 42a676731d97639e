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
	fs := newFlags("loadgen", "[flags]", `
Measure fan-out on loopback, side by side in one run: N subscribers get
events published at a fixed rate, once through a bare broadcast of
pre-encoded frames over the same WebSocket library (no hub, no history, no
auth: the limit of the machine) and once through the relay (hub, memory
broker, auth, the Go client). Prints deliveries per second, the relay as a
percentage of the bare broadcast, latency from publication to the
subscriber's callback (p50, p99, p99.9, max) and the CPU time used.
Subscribers, relay and publisher share the process and its cores.

With --idle N it measures instead the relay's memory per idle connection:
it starts a relay process (serve --dev), opens N connections from
--sources loopback addresses (127.0.0.1, .2, …), each connected and
subscribed, and reads the relay's heap and stacks before and after (after
a GC). It raises its own open-files limit to the hard limit first.`, stderr)
	var cfg loadgen.Config
	fs.IntVar(&cfg.Subscribers, "subscribers", 200, "subscribers")
	fs.Float64Var(&cfg.Rate, "rate", 2_000, "events a second")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "publishing time")
	fs.IntVar(&cfg.Payload, "payload", 64, "bytes of each event's data")
	fs.BoolVar(&cfg.Wildcard, "wildcard", false, "subscribe bench/# instead of the exact channel")
	idle := fs.Int("idle", 0, "measure memory per idle connection with this many connections instead")
	sources := fs.Int("sources", 8, "with --idle: loopback source addresses to spread connections over")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if *idle > 0 {
		return runIdle(ctx, *idle, *sources, stdout, stderr)
	}
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
