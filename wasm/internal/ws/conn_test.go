package ws_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/wasm/internal/ws"
)

// These tests run natively against an echo server of this package's
// native tests, and in js/wasm under Node (TestJSConn starts them) against
// the same server, so that both implementations of Conn meet one contract.
// testServer (peer_native_test.go, peer_js_test.go) gives its URL.

// patience bounds every wait: a deadline for failure, never a delay.
const patience = 10 * time.Second

func dial(t *testing.T, path string, protos []string) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := ws.Dial(ctx, testServer(t)+path, protos)
	if err != nil {
		t.Fatalf("Dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// Text and binary messages go both ways with their type and bytes intact,
// in order, text with non-ASCII UTF-8 too.
func TestConnTextAndBinary(t *testing.T) {
	c := dial(t, "/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	msgs := []struct {
		typ ws.MessageType
		b   []byte
	}{
		{ws.MessageText, []byte(`{"event_type":"scan","scan_code":"Grüße ✓"}`)},
		{ws.MessageBinary, []byte{0, 1, 2, 0xff, 0xc0}},
		{ws.MessageText, []byte("")},
		{ws.MessageBinary, bytes.Repeat([]byte{7}, 70_000)},
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, m.b); err != nil {
			t.Fatalf("Write %s: %v", m.typ, err)
		}
	}
	for i, m := range msgs {
		typ, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Read %d: %v", i, err)
		}
		if typ != m.typ || !bytes.Equal(b, m.b) {
			t.Fatalf("message %d: got %s %d bytes %.40q, want %s %d bytes %.40q", i, typ, len(b), b, m.typ, len(m.b), m.b)
		}
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// The server's choice among the offered subprotocols is reported; none
// offered, none selected.
func TestConnSubprotocol(t *testing.T) {
	if p := dial(t, "/echo", []string{"other", "test.v1"}).Subprotocol(); p != "test.v1" {
		t.Fatalf("Subprotocol() = %q, want test.v1", p)
	}
	if p := dial(t, "/echo", nil).Subprotocol(); p != "" {
		t.Fatalf("Subprotocol() = %q with none offered", p)
	}
}

// A close frame from the peer ends Read with a *CloseError carrying its
// code and reason, after every message sent before it.
func TestConnPeerClose(t *testing.T) {
	c := dial(t, "/close", nil)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil || typ != ws.MessageText || string(b) != "bye soon" {
		t.Fatalf("Read = %s %q %v, want the message before the close", typ, b, err)
	}
	_, _, err = c.Read(ctx)
	var ce *ws.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "going" {
		t.Fatalf("Read error %v, want CloseError 4001 going", err)
	}
}

// A message over the read limit fails Read and ends the connection.
func TestConnReadLimit(t *testing.T) {
	c := dial(t, "/echo", nil)
	c.SetReadLimit(10)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.Write(ctx, ws.MessageText, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "0123456789" {
		t.Fatalf("Read at the limit = %q, %v", b, err)
	}
	if err := c.Write(ctx, ws.MessageText, []byte("0123456789a")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(ctx); err == nil {
		t.Fatalf("Read over the limit = %q, want an error", b)
	}
}

// A Read whose ctx ends fails (and the connection is not to be used
// again); CloseNow unblocks a Read too.
func TestConnReadContext(t *testing.T) {
	c := dial(t, "/echo", nil)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		first <- err
	}()
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), patience)
	defer wcancel()
	select {
	case err := <-first:
		if err == nil {
			t.Fatal("Read whose ctx ended: no error")
		}
	case <-wctx.Done():
		t.Fatal("Read did not return when its ctx ended")
	}

	c2 := dial(t, "/echo", nil)
	done := make(chan error, 1)
	go func() {
		_, _, err := c2.Read(wctx)
		done <- err
	}()
	c2.CloseNow()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read after CloseNow: no error")
		}
	case <-wctx.Done():
		t.Fatal("CloseNow did not unblock Read")
	}
}

// Nothing listening: Dial fails (and does not hang).
func TestConnDialRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, err := ws.Dial(ctx, refusedURL(t), nil)
	if err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if ctx.Err() != nil {
		t.Fatalf("Dial waited for its deadline: %v", err)
	}
}

func TestCloseErrorText(t *testing.T) {
	if s := (&ws.CloseError{Code: 4001, Reason: "slow"}).Error(); !strings.Contains(s, "4001") || !strings.Contains(s, "slow") {
		t.Fatalf("CloseError text %q", s)
	}
	if s := ws.MessageText.String() + " " + ws.MessageBinary.String(); s != "text binary" {
		t.Fatalf("MessageType names %q", s)
	}
}
