package server

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// settle waits (bounded) until the goroutine count is at most want, and
// returns the last count.
func settle(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// steady waits (bounded) until the goroutine count stops changing, and
// returns it.
func steady() int {
	n, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); same < 5 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// An idle connection (connected, subscribed, nothing to send) costs the
// relay one goroutine, its read loop: the hub's writer runs only while
// there is something to write, pings run on a timer, and net/http's
// goroutine ends after the upgrade. Three per connection before.
func TestIdleConnectionCostsOneGoroutine(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	warm := connectRaw(t, r.url, r.token(t, "acme", "#")) // the tenant's follower and the HTTP server's own
	warm.subscribe(&proto.Subscribe{Sub: 1, Pattern: "acme/#"})
	base := steady()
	const n = 20
	clients := make([]*rawClient, n)
	for i := range clients {
		clients[i] = connectRaw(t, r.url, r.token(t, "acme", "#"))
		clients[i].subscribe(&proto.Subscribe{Sub: 1, Pattern: fmt.Sprintf("acme/dev%d/#", i)})
	}
	// The test's clients run no goroutine of their own while not reading.
	if got := settle(base+n) - base; got > n {
		t.Fatalf("%d idle connections added %d goroutines, want %d", n, got, n)
	}
	// Idle does not mean gone: a writer starts for the next event, and
	// every client still gets it.
	r.publish(t, "acme", "acme/dev7/x", 1)
	if ev, ok := clients[7].next().(*proto.Event); !ok || ev.Channel != "acme/dev7/x" {
		t.Fatalf("client 7 got %#v", ev)
	}
	if ev, ok := warm.next().(*proto.Event); !ok || ev.Channel != "acme/dev7/x" {
		t.Fatalf("the wildcard client got %#v", ev)
	}
	if got := settle(base+n) - base; got > n {
		t.Fatalf("after the event: %d goroutines for %d idle connections", got, n)
	}
}

// A client may send its first frame in the same packet as its upgrade
// request; those bytes were read into net/http's buffer and must reach
// the smaller buffer the connection keeps.
func TestFirstFrameBehindTheUpgradeRequest(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	host := strings.TrimPrefix(r.url, "ws://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	connect, _ := proto.AppendFrame(nil, &proto.Connect{Token: r.token(t, "acme", "#"), Name: "pipelined"})
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + proto.Subprotocol + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), maskedFrame(connect)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	msg := readServerFrame(t, br)
	f, _, err := proto.DecodeFrame(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(*proto.Connected); !ok {
		t.Fatalf("want Connected, got %#v", f)
	}
}

// maskedFrame is a final binary WebSocket frame as a client sends it.
func maskedFrame(payload []byte) []byte {
	b := []byte{0x82}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	key := [4]byte{1, 2, 3, 4}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked binary frame.
func readServerFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[0] != 0x82 {
		t.Fatalf("frame header %#x, want a final binary frame", h[0])
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(r, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(r, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	return p
}
