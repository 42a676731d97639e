package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// TestSIGTERMRestart runs the real binary: SIGTERM makes it tell every
// client to reconnect (SHUTDOWN), stop its links and exit 0 within a
// bound; a new process on the same address is a new log, and the client,
// which reconnects by itself, is told recovered=false rather than resumed
// silently.
func TestSIGTERMRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "fieldrelay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "restart-test"
	serve := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, "serve", "--dev", "--listen", addr, "--secret", secret, "--sim-every", "50ms", "--log-level", "warn")
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "listening on") {
					close(ready)
					for sc.Scan() {
					}
					return
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			t.Fatal("the relay did not start")
		}
		return cmd
	}

	first := serve()
	tok, _ := (&auth.HS256{Secret: []byte(secret)}).Mint(auth.Claims{Subject: "t", Tenant: "demo", Subscribe: []string{"#"}}, time.Hour)
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
	sub, err := c.Subscribe(ctx, "#", &client.SubscribeOptions{Buffer: 100000, OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	if err != nil {
		t.Fatal(err)
	}
	firstInfo := <-infos
	select {
	case <-sub.Events():
	case <-ctx.Done():
		t.Fatal("no event from the first relay")
	}

	start := time.Now()
	first.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	for {
		sc := <-states
		if sc.state == client.Reconnecting {
			var ce *client.CloseError
			if !errors.As(sc.err, &ce) || ce.Code != codes.Shutdown {
				t.Fatalf("the client was closed with %v, want SHUTDOWN", sc.err)
			}
			break
		}
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the relay exited with %v, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the relay did not exit within 30 s of SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start).Round(time.Millisecond))

	serve()
	select {
	case info := <-infos:
		if info.Recovered || info.Position.Epoch == firstInfo.Position.Epoch || !info.Resumed {
			t.Fatalf("after the restart: %+v (before: %+v), want a new epoch and recovered=false", info, firstInfo)
		}
	case <-ctx.Done():
		t.Fatal("the client did not come back by itself")
	}
}

type stateChange struct {
	state client.State
	err   error
}
