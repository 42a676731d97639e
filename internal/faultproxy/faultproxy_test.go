package faultproxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
)

// pair starts a target on loopback and returns the proxy, the client's end
// (through the proxy) and the target's end of one connection.
func pair(t *testing.T) (*Proxy, net.Conn, net.Conn) {
	t.Helper()
	leaktest.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	client, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	// The target may accept a moment before the proxy has registered the
	// pair (which Cut acts on).
	waitFor(t, "the proxy to register the connection", func() bool { return p.Open() == 1 })
	return p, client, server
}

// readN reads exactly n bytes, bounded by a deadline (a failure bound, not
// a measurement).
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

// readToEOF reads until the peer closes.
func readToEOF(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("no EOF: %v", err)
		}
	}
	return b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestForwardsBothWays(t *testing.T) {
	_, client, server := pair(t)
	client.Write([]byte("up"))
	if got := readN(t, server, 2); string(got) != "up" {
		t.Fatalf("server got %q", got)
	}
	server.Write([]byte("down"))
	if got := readN(t, client, 4); string(got) != "down" {
		t.Fatalf("client got %q", got)
	}
}

func TestCutAfterSplitsTheStream(t *testing.T) {
	p, client, server := pair(t)
	p.CutAfter(Down, 3)
	server.Write([]byte("abcdef"))
	if got := readToEOF(t, client); string(got) != "abc" {
		t.Fatalf("client got %q before the cut, want exactly abc", got)
	}
	waitFor(t, "the connection to go", func() bool { return p.Open() == 0 })
}

func TestStallDiscardsWithoutClosing(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Down, true)
	lost := bytes.Repeat([]byte("x"), 1000)
	if _, err := server.Write(lost); err != nil {
		t.Fatalf("the sender's writes succeed on a stalled link: %v", err)
	}
	waitFor(t, "the stalled bytes to be read", func() bool { return p.Stalled() == int64(len(lost)) })
	// Up still flows, and nothing was closed.
	client.Write([]byte("ping"))
	if got := readN(t, server, 4); string(got) != "ping" {
		t.Fatalf("server got %q", got)
	}
	p.Stall(Down, false)
	server.Write([]byte("after"))
	// The client gets what was sent after the stall, none of what was
	// sent during it.
	if got := readN(t, client, 5); string(got) != "after" {
		t.Fatalf("client got %q", got)
	}
	if p.Open() != 1 {
		t.Fatalf("%d connections open, want 1", p.Open())
	}
}

func TestDelayAndThrottleDeliverEverything(t *testing.T) {
	p, client, server := pair(t)
	p.Delay(Both, 20*time.Millisecond)
	p.Throttle(Up, 64<<10)
	msg := bytes.Repeat([]byte("0123456789"), 10_000) // 100 kB
	go client.Write(msg)
	if got := readN(t, server, len(msg)); !bytes.Equal(got, msg) {
		t.Fatal("throttled bytes changed")
	}
	server.Write([]byte("ok"))
	if got := readN(t, client, 2); string(got) != "ok" {
		t.Fatalf("client got %q", got)
	}
}

func TestCloseEndsStalledAndDelayedConnections(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Up, true)
	p.Delay(Down, time.Hour)
	client.Write([]byte("into the void"))
	server.Write([]byte("held for an hour"))
	waitFor(t, "the stall", func() bool { return p.Stalled() > 0 })
	// Close must not wait for the hour (leaktest checks the goroutines).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readToEOF(t, client); len(got) != 0 {
		t.Fatalf("client got %q", got)
	}
}

func TestCutAndRefuse(t *testing.T) {
	p, client, _ := pair(t)
	p.Cut()
	readToEOF(t, client)
	p.Refuse(true)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readToEOF(t, c)
	if p.Accepted() != 1 {
		t.Fatalf("accepted %d", p.Accepted())
	}
}
