package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Each limit of hub.Config hit over a real connection. Rates are set so
// low (one token in 1 000 s) that no refill can happen during a test:
// only the burst counts, and nothing depends on timing.

const noRefill = 0.001

func (r *relay) subjectToken(t *testing.T, tenant, subject string) string {
	t.Helper()
	tok, err := r.auth.Mint(auth.Claims{Subject: subject, Tenant: tenant, Subscribe: []string{"#"}, Command: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// okCommander answers every command at once; blockCommander never, until
// the hub gives up.
type okCommander struct{}

func (okCommander) Command(context.Context, hub.CommandRequest) hub.CommandResult {
	return hub.CommandResult{Code: codes.OK}
}

type blockCommander struct{}

func (blockCommander) Command(ctx context.Context, _ hub.CommandRequest) hub.CommandResult {
	<-ctx.Done()
	return hub.CommandResult{Code: codes.Timeout}
}

func command(req uint32) *proto.Command {
	return &proto.Command{Req: req, ID: fmt.Sprint("c", req), Target: "lora/a/b/down", Kind: "lora.downlink", Body: []byte{0x80}}
}

func TestFrameRateLimit(t *testing.T) {
	r := startRelay(t, hub.Config{FrameRate: noRefill, FrameBurst: 5}, broker.MemoryConfig{})
	flood := connectRaw(t, r.url, r.token(t, "acme", "#")) // Connect was frame 1
	calm := connectRaw(t, r.url, r.token(t, "acme", "#"))
	var frames []proto.Frame
	for i := range 10 {
		frames = append(frames, &proto.Ping{Req: uint32(i + 1)})
	}
	flood.send(frames...)
	if code := flood.closeCode(); code != codes.RateLimited || !code.Reconnect() {
		t.Fatalf("flooding client closed with %v, want RATE_LIMITED (reconnect)", code)
	}
	calm.send(&proto.Ping{Req: 1})
	if p, ok := calm.next().(*proto.Pong); !ok || p.Req != 1 {
		t.Fatalf("the other client: %#v", p)
	}
	if n := r.hub.Stats().RateLimited.Load(); n != 1 {
		t.Fatalf("RateLimited = %d", n)
	}
}

func TestConnectionLimits(t *testing.T) {
	r := startRelay(t, hub.Config{MaxConnsPerTenant: 3, MaxConnsPerSubject: 2}, broker.MemoryConfig{})
	a1 := connectRaw(t, r.url, r.subjectToken(t, "acme", "alice"))
	connectRaw(t, r.url, r.subjectToken(t, "acme", "alice"))
	// A third connection of the same subject is refused; other subjects
	// and other tenants are not.
	c, _ := dialRaw(t, r.url, nil)
	c.send(&proto.Connect{Token: r.subjectToken(t, "acme", "alice")})
	if code := c.closeCode(); code != codes.TooManyConns || !code.Reconnect() {
		t.Fatalf("third connection of a subject: %v", code)
	}
	connectRaw(t, r.url, r.subjectToken(t, "acme", "bob"))
	// The tenant is now at 3.
	c, _ = dialRaw(t, r.url, nil)
	c.send(&proto.Connect{Token: r.subjectToken(t, "acme", "carol")})
	if code := c.closeCode(); code != codes.TooManyConns {
		t.Fatalf("fourth connection of a tenant: %v", code)
	}
	connectRaw(t, r.url, r.subjectToken(t, "globex", "alice"))
	// A connection that leaves frees its place.
	a1.c.Close(1000, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _ := dialRaw(t, r.url, nil)
		c.send(&proto.Connect{Token: r.subjectToken(t, "acme", "alice")})
		f, err := c.read(5 * time.Second)
		if _, ok := f.(*proto.Connected); ok && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place freed after a close: %#v %v", f, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.hub.Stats().ConnsRefused.Load(); n < 2 {
		t.Fatalf("ConnsRefused = %d", n)
	}
}

func TestCommandRateLimit(t *testing.T) {
	r := startRelay(t, hub.Config{Commander: okCommander{}, CommandRate: noRefill, CommandBurst: 2}, broker.MemoryConfig{})
	a := connectRaw(t, r.url, r.subjectToken(t, "acme", "alice"))
	b := connectRaw(t, r.url, r.subjectToken(t, "acme", "bob"))
	other := connectRaw(t, r.url, r.subjectToken(t, "globex", "carol"))
	want := func(c *rawClient, req uint32, code codes.Code) {
		t.Helper()
		c.send(command(req))
		if rep, ok := c.next().(*proto.Reply); !ok || rep.Req != req || codes.Code(rep.Code) != code {
			t.Fatalf("command %d: %#v, want %v", req, rep, code)
		}
	}
	want(a, 1, codes.OK)
	want(b, 2, codes.OK)
	// The rate is the tenant's: whoever sends the third is refused.
	want(a, 3, codes.LimitExceeded)
	want(b, 4, codes.LimitExceeded)
	// Another tenant has its own.
	want(other, 5, codes.OK)
	if n := r.hub.Stats().CommandsLimited.Load(); n != 2 {
		t.Fatalf("CommandsLimited = %d", n)
	}
}

// TestCommandBody: the frame carries a command's body as a bin, which
// the codec takes whole; the relay hands links exactly one msgpack value
// (or none) and refuses anything else with BAD_REQUEST. The body's size
// limit is MaxCommandBody (TOO_LARGE), not a limit of the codec.
func TestCommandBody(t *testing.T) {
	r := startRelay(t, hub.Config{Commander: okCommander{}, MaxCommandBody: 4096}, broker.MemoryConfig{})
	c := connectRaw(t, r.url, r.token(t, "acme", "#"))
	big := append([]byte{0xc5, 0x0b, 0xb8}, make([]byte, 3000)...) // a bin of 3000 bytes
	for i, tc := range []struct {
		body []byte
		want codes.Code
	}{
		{nil, codes.OK},
		{[]byte{0x80}, codes.OK},
		{big, codes.OK},
		{[]byte{0x82, 0xa1, 'p'}, codes.BadRequest}, // part of a value
		{[]byte{0x80, 0x80}, codes.BadRequest},      // two values
		{[]byte{0xc1}, codes.BadRequest},            // not msgpack
		{append([]byte{0xc5, 0x13, 0x88}, make([]byte, 5000)...), codes.TooLarge},
	} {
		req := uint32(i + 1)
		c.send(&proto.Command{Req: req, ID: fmt.Sprint("b", req), Target: "lora/a/b/down", Kind: "lora.downlink", Body: tc.body})
		if rep, ok := c.next().(*proto.Reply); !ok || rep.Req != req || codes.Code(rep.Code) != tc.want {
			t.Errorf("body % .8x…: %#v, want %v", tc.body, rep, tc.want)
		}
	}
}

func TestPendingCommandsLimit(t *testing.T) {
	r := startRelay(t, hub.Config{Commander: blockCommander{}, MaxPendingCommands: 1, CommandTimeout: 2 * time.Second}, broker.MemoryConfig{})
	c := connectRaw(t, r.url, r.token(t, "acme", "#"))
	c.send(command(1), command(2))
	rep, ok := c.next().(*proto.Reply)
	if !ok || rep.Req != 2 || codes.Code(rep.Code) != codes.LimitExceeded {
		t.Fatalf("second command with one pending: %#v", rep)
	}
}
