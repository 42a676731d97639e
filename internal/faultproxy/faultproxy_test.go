package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
)

// Every test asserts on the bytes each side received (or did not), never
// on how long anything took; deadlines only bound a failing test. Where a
// test checks that nothing arrives, it first waits until the proxy has
// read the bytes it must hold back, so the check does not race the proxy.

// start starts a target on loopback and a proxy in front of it.
func start(t *testing.T) (*Proxy, net.Listener) {
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
	return p, ln
}

// connect opens one connection through p and returns the client's end and
// the target's end, once the proxy counts the connection: the target may
// accept a moment before, and faults of scope Current act on the
// connections the proxy counts.
func connect(t *testing.T, p *Proxy, ln net.Listener) (net.Conn, net.Conn) {
	t.Helper()
	before := p.Accepted()
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
	waitFor(t, "the proxy to count the connection", func() bool { return p.Accepted() > before })
	return client, server
}

// pair is start and one connect.
func pair(t *testing.T) (*Proxy, net.Conn, net.Conn) {
	t.Helper()
	p, ln := start(t)
	client, server := connect(t, p, ln)
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
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("no EOF after %q: %v", b, err)
	}
	return b
}

// nothing checks that c has neither data nor a close to read. The caller
// has made sure that the proxy holds back whatever could arrive, so a
// short probe is enough: nothing can arrive until the test changes a fault.
func nothing(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [64]byte
	n, err := c.Read(b[:])
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %q, %v; want nothing at all", b[:n], err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// readFrom is what the proxy has read from senders in direction d.
func (p *Proxy) readFrom(d Direction) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d == Up {
		return p.read[0]
	}
	return p.read[1]
}

// brokenLinks counts connections one side of which has ended while a
// fault keeps the other side open.
func (p *Proxy) brokenLinks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for l := range p.links {
		if l.broken {
			n++
		}
	}
	return n
}

// blockedWriting reports whether a goroutine of the proxy waits in a write
// to a peer that does not read.
func blockedWriting() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, "net.(*conn).Write") && strings.Contains(g, "faultproxy.(*Proxy).forward") {
			return true
		}
	}
	return false
}

func TestForwardsBothWays(t *testing.T) {
	p, client, server := pair(t)
	client.Write([]byte("up"))
	if got := readN(t, server, 2); string(got) != "up" {
		t.Fatalf("server got %q", got)
	}
	server.Write([]byte("down"))
	if got := readN(t, client, 4); string(got) != "down" {
		t.Fatalf("client got %q", got)
	}
	if p.Forwarded(Up) != 2 || p.Forwarded(Down) != 4 || p.Forwarded(Both) != 6 {
		t.Fatalf("forwarded up %d down %d", p.Forwarded(Up), p.Forwarded(Down))
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
	// The target's side is cut too.
	if got := readToEOF(t, server); len(got) != 0 {
		t.Fatalf("server got %q", got)
	}
}

func TestCutAfterUpAcrossWrites(t *testing.T) {
	p, client, server := pair(t)
	p.CutAfter(Up, 5)
	client.Write([]byte("abc"))
	if got := readN(t, server, 3); string(got) != "abc" {
		t.Fatalf("server got %q", got)
	}
	client.Write([]byte("defgh"))
	if got := readToEOF(t, server); string(got) != "de" {
		t.Fatalf("server got %q after abc, want exactly de", got)
	}
	readToEOF(t, client)
}

// A CutAfter of scope Future cuts each new connection after its first n
// bytes and leaves the connections open before it alone; CutAfter on the
// Proxy (scope Current) leaves later connections alone.
func TestCutAfterScopes(t *testing.T) {
	p, ln := start(t)
	oldC, oldS := connect(t, p, ln)
	p.On(Future).CutAfter(Down, 2)
	for range 2 {
		c, s := connect(t, p, ln)
		s.Write([]byte("abcdef"))
		if got := readToEOF(t, c); string(got) != "ab" {
			t.Fatalf("new connection got %q, want exactly ab", got)
		}
	}
	oldS.Write([]byte("whole"))
	if got := readN(t, oldC, 5); string(got) != "whole" {
		t.Fatalf("old connection got %q", got)
	}
	p.On(Future).CutAfter(Down, -1)
	p.CutAfter(Down, 1) // the old connection only
	c, s := connect(t, p, ln)
	s.Write([]byte("intact"))
	if got := readN(t, c, 6); string(got) != "intact" {
		t.Fatalf("connection after the future cut was lifted got %q", got)
	}
	oldS.Write([]byte("xy"))
	if got := readToEOF(t, oldC); string(got) != "x" {
		t.Fatalf("old connection got %q, want exactly x", got)
	}
}

func TestStallDiscardsWithoutClosing(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Down, true)
	lost := bytes.Repeat([]byte("x"), 1000)
	if _, err := server.Write(lost); err != nil {
		t.Fatalf("the sender's writes succeed on a stalled link: %v", err)
	}
	waitFor(t, "the stalled bytes to be read", func() bool { return p.Stalled() == int64(len(lost)) })
	nothing(t, client)
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

// A stalled direction keeps the sender's close from its receiver, as a
// dead link does: the target closes, and the client, which keeps sending
// into the void, learns nothing until the stall is lifted.
func TestStallHidesTheClose(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Down, true)
	server.Close()
	waitFor(t, "the proxy to see the target's close", func() bool { return p.brokenLinks() == 1 })
	nothing(t, client)
	// What the client sends now reaches a closed socket; the reset that a
	// real network would carry back is lost on the dead path too.
	for range 3 {
		if _, err := client.Write([]byte("anyone there?")); err != nil {
			t.Fatalf("client write on a half-open link: %v", err)
		}
	}
	waitFor(t, "the client's bytes to vanish", func() bool { return p.readFrom(Up) == 3*13 })
	nothing(t, client)
	if p.Open() != 1 {
		t.Fatalf("%d connections open, want the half-open one", p.Open())
	}
	p.Stall(Down, false)
	readToEOF(t, client)
	waitFor(t, "the connection to go", func() bool { return p.Open() == 0 })
}

// Once both peers have closed, a stall has nobody left to deceive: the
// connection goes.
func TestStallBothEndsWhenBothClose(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Both, true)
	server.Close()
	client.Close()
	waitFor(t, "the connection to go", func() bool { return p.Open() == 0 })
}

// A pause holds at most one read, delivers nothing meanwhile, and loses
// nothing: the sender is pushed back by TCP until the pause is lifted.
func TestPauseHoldsAndLosesNothing(t *testing.T) {
	p, client, server := pair(t)
	p.Pause(Down, true)
	msg := make([]byte, 4<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := server.Write(msg)
		wrote <- err
	}()
	waitFor(t, "the proxy to read", func() bool { return p.readFrom(Down) > 0 })
	nothing(t, client)
	if got := p.readFrom(Down); got > maxChunk {
		t.Fatalf("a paused direction read %d bytes, want at most one read (%d)", got, maxChunk)
	}
	if p.Forwarded(Down) != 0 {
		t.Fatalf("a paused direction forwarded %d bytes", p.Forwarded(Down))
	}
	// The other direction is not held up.
	client.Write([]byte("up"))
	if got := readN(t, server, 2); string(got) != "up" {
		t.Fatalf("server got %q", got)
	}
	p.Pause(Down, false)
	if got := readN(t, client, len(msg)); !bytes.Equal(got, msg) {
		t.Fatal("the bytes after a pause differ from those sent")
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// A delayed chunk is held until its time; lifting the delay releases it.
func TestDelayHoldsOneDirection(t *testing.T) {
	p, client, server := pair(t)
	p.Delay(Down, time.Hour)
	server.Write([]byte("late"))
	waitFor(t, "the proxy to read", func() bool { return p.readFrom(Down) == 4 })
	nothing(t, client)
	client.Write([]byte("up"))
	if got := readN(t, server, 2); string(got) != "up" {
		t.Fatalf("server got %q", got)
	}
	p.Delay(Down, 0)
	if got := readN(t, client, 4); string(got) != "late" {
		t.Fatalf("client got %q", got)
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

// At 1 byte a second the proxy passes one byte at a time and waits a
// second after each: once the client has its first byte, the other 99
// cannot all have passed (they would need 99 s) before the throttle is
// lifted, and then they all arrive.
func TestThrottleLimitsTheRate(t *testing.T) {
	p, client, server := pair(t)
	p.Throttle(Down, 1)
	msg := bytes.Repeat([]byte("z"), 100)
	server.Write(msg)
	first := readN(t, client, 1)
	if fwd := p.Forwarded(Down); fwd >= int64(len(msg)) {
		t.Fatalf("forwarded %d bytes at 1 B/s", fwd)
	}
	p.Throttle(Down, 0)
	rest := readN(t, client, len(msg)-1)
	if !bytes.Equal(append(first, rest...), msg) {
		t.Fatal("throttled bytes changed")
	}
}

// Current faults act on the connections open now, Future ones on later
// connections only.
func TestScopes(t *testing.T) {
	p, ln := start(t)
	c1, s1 := connect(t, p, ln)
	p.On(Current).Stall(Down, true)
	c2, s2 := connect(t, p, ln)
	s1.Write([]byte("lost"))
	s2.Write([]byte("two"))
	if got := readN(t, c2, 3); string(got) != "two" {
		t.Fatalf("new connection got %q", got)
	}
	waitFor(t, "the stall", func() bool { return p.Stalled() == 4 })
	nothing(t, c1)

	p.On(Future).Pause(Down, true)
	c3, s3 := connect(t, p, ln)
	s3.Write([]byte("held"))
	s2.Write([]byte("still"))
	if got := readN(t, c2, 5); string(got) != "still" {
		t.Fatalf("second connection got %q", got)
	}
	waitFor(t, "the third connection's read", func() bool { return p.readFrom(Down) == 4+3+5+4 })
	nothing(t, c3)
	p.On(Current).Pause(Down, false)
	if got := readN(t, c3, 4); string(got) != "held" {
		t.Fatalf("third connection got %q", got)
	}
	p.Clear()
	s1.Write([]byte("back"))
	if got := readN(t, c1, 4); string(got) != "back" {
		t.Fatalf("first connection after Clear got %q", got)
	}
}

// A client that does not read blocks the proxy's writes to it; the other
// direction goes on, and Close still returns.
func TestBlockedReceiverDoesNotBlockTheOtherDirection(t *testing.T) {
	p, client, server := pair(t)
	go server.Write(make([]byte, 32<<20)) // more than the sockets buffer; ends when server closes
	waitFor(t, "the proxy's writes to the client to block", blockedWriting)
	for i := range 3 {
		client.Write([]byte{byte('a' + i)})
		if got := readN(t, server, 1); got[0] != byte('a'+i) {
			t.Fatalf("server got %q", got)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseEndsEveryFault(t *testing.T) {
	p, ln := start(t)
	stalled, s1 := connect(t, p, ln)
	p.On(Current).Stall(Up, true)
	delayed, s2 := connect(t, p, ln)
	p.On(Current).Delay(Down, time.Hour)
	p.On(Future).Pause(Both, true)
	paused, s3 := connect(t, p, ln)
	p.On(Future).Clear()
	p.On(Future).Throttle(Down, 1)
	throttled, s4 := connect(t, p, ln)
	stalled.Write([]byte("into the void"))
	s2.Write([]byte("held for an hour"))
	s3.Write([]byte("paused"))
	s4.Write([]byte("slowly"))
	waitFor(t, "every fault to hold something", func() bool {
		return p.Stalled() > 0 && p.readFrom(Down) >= 16+6+1
	})
	// Close must not wait for any of it (leaktest checks the goroutines).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []net.Conn{stalled, delayed, paused, s1} {
		if got := readToEOF(t, c); len(got) != 0 {
			t.Fatalf("got %q", got)
		}
	}
	if got := readToEOF(t, throttled); len(got) > 1 {
		t.Fatalf("throttled connection got %q", got)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		c.Close()
		t.Fatal("the proxy still accepts")
	}
}

func TestCutAndRefuse(t *testing.T) {
	p, client, server := pair(t)
	p.Stall(Both, true) // a cut closes whatever fault is on
	p.Cut()
	readToEOF(t, client)
	readToEOF(t, server)
	p.Refuse(true)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readToEOF(t, c)
	if p.Accepted() != 1 || p.Open() != 0 {
		t.Fatalf("accepted %d, open %d", p.Accepted(), p.Open())
	}
}
