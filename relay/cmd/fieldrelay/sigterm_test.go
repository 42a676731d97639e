package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/internal/syncbuf"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// TestSIGTERMWithConfig runs the real binary as an operator would: `serve
// --config file`, a tenant whose ResIOT link points at a simulator this
// test runs. SIGTERM makes it close every client with SHUTDOWN (a code
// that means "reconnect"), stop its upstream link (it logs the link
// stopped) and exit 0 within a bound. A new process on the same address
// is a new log: the client, which reconnects by itself, is told
// recovered=false, never resumed silently, and gets the new process's
// events.
func TestSIGTERMWithConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	leaktest.Check(t)
	bin := filepath.Join(t.TempDir(), "fieldrelay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dev := resiotsim.Device{AppEUI: "006c3b194374ac7f", DevEUI: "0732227a557d8679", Connector: "636f6e313332"}
	sim := resiotsim.New(&resiotsim.Config{Devices: []resiotsim.Device{dev}, GatewayAliveEvery: -1, UplinkEvery: -1})
	simURL, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "sigterm-test"
	config, err := json.Marshal(map[string]any{
		"listen": addr, "secret": secret, "shutdown_timeout": "5s",
		"tenants": map[string]any{"acme": map[string]any{"links": []any{
			map[string]any{"name": "lora", "protocol": "resiot", "url": simURL},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(t.TempDir(), "fieldrelay.json")
	if err := os.WriteFile(configFile, config, 0o600); err != nil {
		t.Fatal(err)
	}

	type process struct {
		cmd            *exec.Cmd
		stdout, stderr *syncbuf.Buffer
		exited         chan struct{}
		err            error // Wait's, once exited is closed
	}
	serve := func() *process {
		t.Helper()
		p := &process{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
		p.cmd = exec.Command(bin, "serve", "--config", configFile, "--log-level", "info")
		p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			p.err = p.cmd.Wait()
			close(p.exited)
		}()
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			<-p.exited
		})
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(p.stdout.String(), "listening on") {
			if time.Now().After(deadline) {
				t.Fatalf("the relay did not start:\n%s\n%s", p.stdout, p.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sim.WaitClients(ctx, 1); err != nil {
			t.Fatalf("the relay's link did not reach the simulator: %v\n%s", err, p.stderr)
		}
		return p
	}
	// stop sends SIGTERM and waits for the exit, bounded.
	stop := func(p *process) time.Duration {
		t.Helper()
		start := time.Now()
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.err != nil {
				t.Fatalf("the relay exited with %v, want 0\n%s", p.err, p.stderr)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the relay did not exit within 30 s of SIGTERM\n%s", p.stderr)
		}
		return time.Since(start)
	}

	first := serve()
	tok, err := (&auth.HS256{Secret: []byte(secret)}).Mint(auth.Claims{Subject: "t", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	states := make(chan stateChange, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+addr+"/v1/ws", &client.Options{
		Token: tok, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnState: func(s client.State, err error) { states <- stateChange{s, err} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	infos := make(chan client.SubscribedInfo, 4)
	sub, err := c.Subscribe(ctx, "lora/#", &client.SubscribeOptions{OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	if err != nil {
		t.Fatal(err)
	}
	before := <-infos
	uplink := func(fcnt uint32) client.Event {
		t.Helper()
		sim.EmitRx(dev, 10, []byte{byte(fcnt)}, &resiot.Radio{RSSI: -50, SNR: 5, SF: 9, FrequencyMHz: 868.1, FCnt: fcnt})
		select {
		case ev := <-sub.Events():
			if up, ok := ev.Value.(*event.Uplink); !ok || up.FCnt != fcnt {
				t.Fatalf("got %s %+v, want uplink %d", ev.Kind, ev.Value, fcnt)
			}
			return ev
		case <-ctx.Done():
			t.Fatalf("uplink %d did not arrive", fcnt)
		}
		panic("unreachable")
	}
	uplink(1)

	took := stop(first)
	for {
		sc := <-states
		if sc.state == client.Reconnecting {
			var ce *client.CloseError
			if !errors.As(sc.err, &ce) || ce.Code != codes.Shutdown || !ce.Code.Reconnect() {
				t.Fatalf("the client was closed with %v, want SHUTDOWN (reconnect)", sc.err)
			}
			break
		}
	}
	if logs := first.stderr.String(); !strings.Contains(logs, "link=lora state=stopped") {
		t.Errorf("the relay's log does not show its link stopped:\n%s", logs)
	}
	if out := first.stdout.String(); !strings.Contains(out, "shutting down") {
		t.Errorf("stdout %q", out)
	}
	t.Logf("SIGTERM to exit 0: %v", took.Round(time.Millisecond))
	deadline := time.Now().Add(30 * time.Second)
	for sim.Clients() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the simulator still sees the first relay")
		}
		time.Sleep(5 * time.Millisecond)
	}

	second := serve()
	select {
	case info := <-infos:
		if info.Recovered || !info.Resumed || info.Position.Epoch == before.Position.Epoch {
			t.Fatalf("after the restart: %+v (before: %+v), want a new epoch and recovered=false", info, before)
		}
		if ev := uplink(2); ev.Replayed || ev.Position.Epoch != info.Position.Epoch {
			t.Fatalf("event after the restart: %+v replayed=%v", ev.Position, ev.Replayed)
		}
	case <-ctx.Done():
		t.Fatal("the client did not come back by itself")
	}
	c.Close()
	stop(second)
}
