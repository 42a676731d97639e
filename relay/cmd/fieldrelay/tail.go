package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/fieldrelay/fieldrelay/wasm/client"
)

func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", "[flags] pattern [pattern ...]", `
Connect to a relay as a client, subscribe to channel patterns (MQTT-style:
'+' one level, '#' the rest) and print one JSON object per event on stdout.
Reconnects by itself and recovers what it missed; subscription confirmations
(with the recovered flag) go to stderr.

  fieldrelay tail --token "$TOKEN" 'lora/#'`, stderr)
	url := fs.String("url", envOr("FIELDRELAY_URL", "ws://127.0.0.1:8080/v1/ws"), "relay WebSocket URL (env FIELDRELAY_URL)")
	token := fs.String("token", envOr("FIELDRELAY_TOKEN", ""), "token (env FIELDRELAY_TOKEN)")
	latest := fs.Bool("latest", false, "first print the last value of every matching state channel")
	since := fs.String("since", "", "resume from a position EPOCH:OFFSET (as printed in each event)")
	count := fs.Int("n", 0, "exit after this many events (0 = run until interrupted)")
	logLevel := fs.String("log-level", "warn", "client log level")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if *token == "" {
		return errors.New("no token: pass --token or set FIELDRELAY_TOKEN (mint one with 'fieldrelay token')")
	}
	var pos *client.Position
	if *since != "" {
		ep, off, ok := strings.Cut(*since, ":")
		o, err := strconv.ParseUint(off, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("--since %q: want EPOCH:OFFSET", *since)
		}
		pos = &client.Position{Epoch: ep, Offset: o}
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	c, err := client.Dial(ctx, *url, &client.Options{Token: *token, Name: "fieldrelay-tail",
		Log: func(l client.Level, msg string, args ...any) { log.Log(ctx, slog.Level(l), msg, args...) }})
	if err != nil {
		return err
	}
	defer c.Close()

	out := bufio.NewWriter(stdout)
	var mu sync.Mutex
	printed := 0
	finished := false // set once run returns: callbacks write nothing more
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, pattern := range fs.Args() {
		_, err := c.Subscribe(ctx, pattern, &client.SubscribeOptions{
			Since: pos, Recover: pos != nil, Latest: *latest,
			OnSubscribed: func(info client.SubscribedInfo) {
				fmt.Fprintf(stderr, "subscribed %s at %s:%d recovered=%v replayed=%d resumed=%v\n",
					pattern, info.Position.Epoch, info.Position.Offset, info.Recovered, info.Replayed, info.Resumed)
			},
			OnEvents: func(batch []client.Event) {
				mu.Lock()
				defer mu.Unlock()
				if finished {
					return
				}
				for _, ev := range batch {
					if *count > 0 && printed >= *count {
						return
					}
					line, err := eventJSON(pattern, ev)
					if err != nil {
						fmt.Fprintf(stderr, "event %d: %v\n", ev.Position.Offset, err)
						continue
					}
					out.Write(line)
					out.WriteByte('\n')
					printed++
					if *count > 0 && printed == *count {
						out.Flush()
						cancel()
						return
					}
				}
				out.Flush()
			},
		})
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", pattern, err)
		}
	}
	<-ctx.Done()
	// No callback may write once this returns: the caller owns stdout.
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	finished = true
	return out.Flush()
}

// eventJSON renders one event: its position and the typed event, with the
// upstream's verbatim message inlined when it is JSON.
func eventJSON(pattern string, ev client.Event) ([]byte, error) {
	var value any = nil
	if ev.Value != nil {
		b, err := json.Marshal(ev.Value)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		if meta, ok := m["meta"].(map[string]any); ok {
			raw := ev.Value.Header().Raw
			if json.Valid(raw) {
				meta["raw"] = json.RawMessage(raw)
			}
		}
		value = m
	}
	return json.Marshal(struct {
		Subscription string `json:"subscription"`
		Channel      string `json:"channel"`
		Epoch        string `json:"epoch"`
		Offset       uint64 `json:"offset"`
		Prev         uint64 `json:"prev,omitempty"`
		Kind         string `json:"kind"`
		Replayed     bool   `json:"replayed,omitempty"`
		Latest       bool   `json:"latest,omitempty"`
		Event        any    `json:"event"`
	}{pattern, ev.Channel, ev.Position.Epoch, ev.Position.Offset, ev.Prev, ev.Kind, ev.Replayed, ev.Latest, value})
}
