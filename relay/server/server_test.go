package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

var secret = []byte("test-secret")

type relay struct {
	url    string
	hub    *hub.Hub
	broker *broker.Memory
	auth   *auth.HS256
}

func startRelay(t *testing.T, hc hub.Config, bc broker.MemoryConfig) *relay {
	t.Helper()
	leaktest.Check(t)
	b := broker.NewMemory(bc)
	a := &auth.HS256{Secret: secret}
	hc.Broker, hc.Verifier = b, a
	h := hub.New(hc)
	ep := NewEndpoint(Config{Hub: h, OriginPatterns: []string{"allowed.example"}})
	srv := httptest.NewServer(ep)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
		ep.Wait()
		b.Close()
	})
	return &relay{url: "ws" + strings.TrimPrefix(srv.URL, "http"), hub: h, broker: b, auth: a}
}

func (r *relay) token(t *testing.T, tenant string, subs ...string) string {
	t.Helper()
	tok, err := r.auth.Mint(auth.Claims{Subject: "u-" + tenant, Tenant: tenant, Subscribe: subs, Command: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (r *relay) publish(t *testing.T, tenant, ch string, n int) {
	t.Helper()
	for i := range n {
		if _, err := r.broker.Publish(context.Background(), tenant, broker.Message{Channel: ch, Kind: "test", Data: []byte{0xcd, byte(i >> 8), byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// rawClient speaks the protocol frame by frame, so the tests see exactly
// what the relay sends.
type rawClient struct {
	t       *testing.T
	c       *websocket.Conn
	pending []proto.Frame
	req     uint32
}

func dialRaw(t *testing.T, url string, opts *websocket.DialOptions) (*rawClient, error) {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(16 << 20)
	rc := &rawClient{t: t, c: c}
	t.Cleanup(func() { c.CloseNow() })
	return rc, nil
}

func connectRaw(t *testing.T, url, token string) *rawClient {
	t.Helper()
	rc, err := dialRaw(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc.send(&proto.Connect{Token: token, Name: "test"})
	if f, ok := rc.next().(*proto.Connected); !ok {
		t.Fatalf("want Connected, got %#v", f)
	}
	return rc
}

func (rc *rawClient) send(fs ...proto.Frame) {
	rc.t.Helper()
	var b []byte
	for _, f := range fs {
		var err error
		if b, err = proto.AppendFrame(b, f); err != nil {
			rc.t.Fatal(err)
		}
	}
	if err := rc.c.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		rc.t.Fatal(err)
	}
}

// read returns the next frame or the read error (a close).
func (rc *rawClient) read(d time.Duration) (proto.Frame, error) {
	if len(rc.pending) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, msg, err := rc.c.Read(ctx)
		if err != nil {
			return nil, err
		}
		err = proto.DecodeAll(msg, func(f proto.Frame) error { rc.pending = append(rc.pending, f); return nil })
		if err != nil {
			rc.t.Fatalf("relay sent an undecodable message: %v", err)
		}
	}
	f := rc.pending[0]
	rc.pending = rc.pending[1:]
	return f, nil
}

func (rc *rawClient) next() proto.Frame {
	rc.t.Helper()
	f, err := rc.read(5 * time.Second)
	if err != nil {
		rc.t.Fatalf("read: %v", err)
	}
	return f
}

func (rc *rawClient) subscribe(s *proto.Subscribe) *proto.Subscribed {
	rc.t.Helper()
	rc.req++
	s.Req = rc.req
	rc.send(s)
	f := rc.next()
	ack, ok := f.(*proto.Subscribed)
	if !ok {
		rc.t.Fatalf("want Subscribed, got %#v", f)
	}
	return ack
}

func (rc *rawClient) events(n int) []*proto.Event {
	rc.t.Helper()
	var out []*proto.Event
	for len(out) < n {
		f := rc.next()
		e, ok := f.(*proto.Event)
		if !ok {
			rc.t.Fatalf("want Event, got %#v", f)
		}
		out = append(out, e)
	}
	return out
}

// closeCode reads until the relay closes and returns the close code; a
// Disconnect frame, if any, must carry the same code.
func (rc *rawClient) closeCode() codes.Code {
	rc.t.Helper()
	var disc *proto.Disconnect
	for {
		f, err := rc.read(15 * time.Second)
		if err != nil {
			code := codes.Code(websocket.CloseStatus(err))
			if disc != nil && codes.Code(disc.Code) != code {
				rc.t.Fatalf("Disconnect said %d, close said %d", disc.Code, code)
			}
			return code
		}
		if d, ok := f.(*proto.Disconnect); ok {
			disc = d
		}
	}
}

func offsets(es []*proto.Event) string {
	var s []string
	for _, e := range es {
		s = append(s, fmt.Sprint(e.Offset))
	}
	return strings.Join(s, ",")
}

func TestSubscribeAndLive(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	c := connectRaw(t, r.url, r.token(t, "acme", "#"))
	ack := c.subscribe(&proto.Subscribe{Sub: 1, Pattern: "lora/+/+/up"})
	if ack.Recovered || ack.Offset != 0 || ack.Epoch == "" {
		t.Fatalf("ack %+v", ack)
	}
	r.publish(t, "acme", "lora/a/b/down", 1) // not matching
	r.publish(t, "acme", "lora/a/b/up", 3)
	es := c.events(3)
	if got := offsets(es); got != "2,3,4" {
		t.Fatalf("offsets %s", got)
	}
	if es[0].Prev != 0 || es[1].Prev != 2 || es[0].Sub != 0 || es[0].Channel != "lora/a/b/up" {
		t.Fatalf("event fields %+v %+v", es[0], es[1])
	}
}

func TestRecovery(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{MaxEntries: 50})
	tok := r.token(t, "acme", "#")
	c := connectRaw(t, r.url, tok)
	ack := c.subscribe(&proto.Subscribe{Sub: 7, Pattern: "lora/#"})
	r.publish(t, "acme", "lora/a/b/up", 2)
	seen := c.events(2)
	c.c.CloseNow()

	// Missed while away: 10 matching, interleaved with 5 that do not match.
	for range 5 {
		r.publish(t, "acme", "lora/a/b/up", 2)
		r.publish(t, "acme", "gps/1/state", 1)
	}
	c2 := connectRaw(t, r.url, tok)
	ack2 := c2.subscribe(&proto.Subscribe{Sub: 7, Pattern: "lora/#", Recover: true, Epoch: ack.Epoch, Offset: seen[1].Offset})
	if !ack2.Recovered || ack2.Replayed != 10 || ack2.Offset != 17 {
		t.Fatalf("ack %+v", ack2)
	}
	replay := c2.events(10)
	if got := offsets(replay); got != "3,4,6,7,9,10,12,13,15,16" {
		t.Fatalf("replayed %s", got)
	}
	for _, e := range replay {
		if e.Sub != 7 {
			t.Fatalf("replayed event without its subscription: %+v", e)
		}
	}
	r.publish(t, "acme", "lora/x/y/up", 1)
	if live := c2.events(1); live[0].Offset != 18 || live[0].Sub != 0 {
		t.Fatalf("live after replay %+v", live[0])
	}
}

func TestRecoveryTrimmedOrOtherEpoch(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{MaxEntries: 5})
	tok := r.token(t, "acme", "#")
	c := connectRaw(t, r.url, tok)
	ack := c.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})
	r.publish(t, "acme", "a", 1)
	c.events(1)
	r.publish(t, "acme", "a", 10) // offsets 2..11; only 7..11 held
	c.events(10)

	ack2 := c.subscribe(&proto.Subscribe{Sub: 2, Pattern: "#", Recover: true, Epoch: ack.Epoch, Offset: 1})
	if ack2.Recovered || ack2.Replayed != 0 || ack2.Offset != 11 {
		t.Fatalf("trimmed history: ack %+v", ack2)
	}
	ack3 := c.subscribe(&proto.Subscribe{Sub: 3, Pattern: "#", Recover: true, Epoch: "not-the-epoch", Offset: 11})
	if ack3.Recovered {
		t.Fatalf("another epoch recovered: %+v", ack3)
	}
	// Nothing was replayed: the next frames are live.
	r.publish(t, "acme", "a", 1)
	if e := c.events(1)[0]; e.Offset != 12 || e.Sub != 0 {
		t.Fatalf("after failed recovery got %+v", e)
	}
}

func TestLatestValue(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	ctx := context.Background()
	r.broker.Publish(ctx, "acme", broker.Message{Channel: "lora/gateway/g1", Kind: "lora.gateway", Data: []byte{0x80}, Retain: true})
	r.broker.Publish(ctx, "acme", broker.Message{Channel: "lora/gateway/g1", Kind: "lora.gateway", Data: []byte{0xc3}, Retain: true})
	r.broker.Publish(ctx, "acme", broker.Message{Channel: "lora/a/b/up", Kind: "lora.uplink", Data: []byte{0x80}})
	c := connectRaw(t, r.url, r.token(t, "acme", "#"))
	c.subscribe(&proto.Subscribe{Sub: 1, Pattern: "lora/#", Latest: true})
	e := c.events(1)[0]
	if !e.Latest || e.Offset != 2 || e.Sub != 1 || e.Channel != "lora/gateway/g1" {
		t.Fatalf("latest %+v", e)
	}
}

func TestTenantsIsolated(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	a := connectRaw(t, r.url, r.token(t, "acme", "#"))
	b := connectRaw(t, r.url, r.token(t, "globex", "#"))
	a.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})
	b.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})
	r.publish(t, "globex", "lora/a/b/up", 3)
	r.publish(t, "acme", "lora/a/b/up", 1)
	if e := a.events(1)[0]; e.Offset != 1 {
		t.Fatalf("acme got %+v", e)
	}
	if es := b.events(3); offsets(es) != "1,2,3" {
		t.Fatalf("globex got %s", offsets(es))
	}
	// acme's next frame is its own next event, not one of globex's.
	r.publish(t, "acme", "x", 1)
	if e := a.events(1)[0]; e.Offset != 2 || e.Channel != "x" {
		t.Fatalf("acme got %+v", e)
	}
}

func TestSubscribeForbiddenAndInvalid(t *testing.T) {
	r := startRelay(t, hub.Config{MaxSubs: 2}, broker.MemoryConfig{})
	c := connectRaw(t, r.url, r.token(t, "acme", "lora/#"))
	c.send(&proto.Subscribe{Req: 1, Sub: 1, Pattern: "#"})
	if rep, ok := c.next().(*proto.Reply); !ok || codes.Code(rep.Code) != codes.Forbidden {
		t.Fatalf("subscribe outside the token: %#v", rep)
	}
	c.send(&proto.Subscribe{Req: 2, Sub: 1, Pattern: "lora/#/x"})
	if rep, ok := c.next().(*proto.Reply); !ok || codes.Code(rep.Code) != codes.BadRequest {
		t.Fatalf("invalid pattern: %#v", rep)
	}
	c.subscribe(&proto.Subscribe{Sub: 1, Pattern: "lora/a/#"})
	c.subscribe(&proto.Subscribe{Sub: 2, Pattern: "lora/b/#"})
	c.send(&proto.Subscribe{Req: 9, Sub: 3, Pattern: "lora/c/#"})
	if rep, ok := c.next().(*proto.Reply); !ok || codes.Code(rep.Code) != codes.LimitExceeded {
		t.Fatalf("third subscription with MaxSubs 2: %#v", rep)
	}
}

func TestSlowClientCutOthersUnaffected(t *testing.T) {
	r := startRelay(t, hub.Config{QueueBytes: 32 << 10}, broker.MemoryConfig{MaxEntries: 100000})
	tok := r.token(t, "acme", "#")
	fast := connectRaw(t, r.url, tok)
	slow := connectRaw(t, r.url, tok)
	fast.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})
	slowAck := slow.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})

	// Publish in steps the fast client keeps up with; the slow client
	// never reads, so its queue grows until the relay cuts it.
	const n, step = 4000, 10
	progress := make(chan uint64, n)
	errc := make(chan error, 1)
	go func() {
		var last uint64
		for last < n {
			f, err := fast.read(20 * time.Second)
			if err != nil {
				errc <- err
				return
			}
			if e, ok := f.(*proto.Event); ok {
				if e.Offset != last+1 {
					errc <- fmt.Errorf("fast client: offset %d after %d", e.Offset, last)
					return
				}
				last = e.Offset
				progress <- last
			}
		}
	}()
	big := make([]byte, 2000)
	big[0], big[1], big[2] = 0xc5, 0x07, 0xcd // msgpack bin16 of 1997 bytes
	var delivered uint64
	for sent := 0; sent < n; sent += step {
		for range step {
			r.broker.Publish(context.Background(), "acme", broker.Message{Channel: "c", Kind: "k", Data: big})
		}
		for delivered < uint64(sent+step) {
			select {
			case delivered = <-progress:
			case err := <-errc:
				t.Fatal(err)
			}
		}
	}
	// The slow client never read; now it does, and finds the slow code.
	if code := slow.closeCode(); code != codes.Slow && code != codes.Abnormal {
		t.Fatalf("slow client closed with %v, want SLOW", code)
	}
	if r.hub.Stats().SlowClosed.Load() == 0 {
		t.Fatal("slow close not counted")
	}
	// It reconnects and recovers from where it was: every event, in order.
	again := connectRaw(t, r.url, tok)
	ack := again.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#", Recover: true, Epoch: slowAck.Epoch, Offset: slowAck.Offset})
	if !ack.Recovered || ack.Replayed != n {
		t.Fatalf("slow client's recovery: %+v", ack)
	}
	for i, e := range again.events(n) {
		if e.Offset != slowAck.Offset+uint64(i)+1 {
			t.Fatalf("recovered event %d has offset %d", i, e.Offset)
		}
	}
}

func TestBadInputClosesOnlyThatClient(t *testing.T) {
	r := startRelay(t, hub.Config{MaxMessage: 1024}, broker.MemoryConfig{})
	tok := r.token(t, "acme", "#")
	good := connectRaw(t, r.url, tok)
	good.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})

	cases := map[string]struct {
		msg  []byte
		typ  websocket.MessageType
		want codes.Code
	}{
		"not msgpack":    {[]byte{0xc1, 0x00}, websocket.MessageBinary, codes.ProtocolError},
		"unknown type":   {[]byte{0x92, 0x63, 0x80}, websocket.MessageBinary, codes.ProtocolError},
		"wrong field":    {[]byte{0x92, 0x02, 0x81, 0xa1, 'p', 0x05}, websocket.MessageBinary, codes.ProtocolError},
		"text message":   {[]byte(`{"subscribe":"#"}`), websocket.MessageText, codes.ProtocolError},
		"oversize":       {make([]byte, 4096), websocket.MessageBinary, codes.MessageSize},
		"truncated":      {[]byte{0x92, 0x02, 0x82, 0xa1}, websocket.MessageBinary, codes.ProtocolError},
		"huge map claim": {[]byte{0x92, 0x02, 0xdf, 0xff, 0xff, 0xff, 0xff}, websocket.MessageBinary, codes.ProtocolError},
		// A command body in the old raw form (a map, not a bin holding one).
		"old raw body": {[]byte{0x92, 0x04, 0x82, 0xa1, 'r', 0x01, 0xa1, 'b', 0x81, 0xa1, 'p', 0x02}, websocket.MessageBinary, codes.ProtocolError},
		// A bin claiming 4 GiB: refused without allocating that.
		"huge bin claim": {[]byte{0x92, 0x04, 0x81, 0xa1, 'b', 0xc6, 0xff, 0xff, 0xff, 0xff}, websocket.MessageBinary, codes.ProtocolError},
	}
	for name, tc := range cases {
		c := connectRaw(t, r.url, tok)
		if err := c.c.Write(context.Background(), tc.typ, tc.msg); err != nil {
			t.Fatal(err)
		}
		if code := c.closeCode(); code != tc.want {
			t.Errorf("%s: closed with %v, want %v", name, code, tc.want)
		}
	}
	r.publish(t, "acme", "x", 1)
	if e := good.events(1)[0]; e.Offset != 1 {
		t.Fatalf("good client got %+v", e)
	}
	// The last close may be counted a moment after the client saw it.
	deadline := time.Now().Add(10 * time.Second)
	for r.hub.Stats().ProtocolErrors.Load() < uint64(len(cases)) {
		if time.Now().After(deadline) {
			t.Fatalf("protocol errors counted: %d", r.hub.Stats().ProtocolErrors.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConnectRejections(t *testing.T) {
	r := startRelay(t, hub.Config{ConnectTimeout: 200 * time.Millisecond}, broker.MemoryConfig{})
	// Bad token → terminal close.
	c, _ := dialRaw(t, r.url, nil)
	c.send(&proto.Connect{Token: "garbage"})
	if code := c.closeCode(); code != codes.InvalidToken || code.Reconnect() {
		t.Fatalf("bad token: %v", code)
	}
	// Expired token → reconnect with a fresh one.
	old := &auth.HS256{Secret: secret, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}
	expired, _ := old.Mint(auth.Claims{Tenant: "acme"}, time.Hour)
	c, _ = dialRaw(t, r.url, nil)
	c.send(&proto.Connect{Token: expired})
	if code := c.closeCode(); code != codes.TokenExpired {
		t.Fatalf("expired token: %v", code)
	}
	// A frame before Connect.
	c, _ = dialRaw(t, r.url, nil)
	c.send(&proto.Ping{Req: 1})
	if code := c.closeCode(); code != codes.ProtocolError {
		t.Fatalf("frame before connect: %v", code)
	}
	// Nothing at all.
	c, _ = dialRaw(t, r.url, nil)
	if code := c.closeCode(); code != codes.ConnectTimeout {
		t.Fatalf("silent client: %v", code)
	}
	// No subprotocol.
	c, _ = dialRaw(t, r.url, &websocket.DialOptions{})
	if code := c.closeCode(); code != codes.UnsupportedVersion {
		t.Fatalf("no subprotocol: %v", code)
	}
	// Foreign origin: refused at the upgrade.
	_, err := dialRaw(t, r.url, &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}, HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil {
		t.Fatal("foreign origin accepted")
	}
	if _, err := dialRaw(t, r.url, &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}, HTTPHeader: http.Header{"Origin": {"https://allowed.example"}}}); err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
}

func TestTokenExpiresMidSession(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	tok, _ := r.auth.Mint(auth.Claims{Tenant: "acme", Subscribe: []string{"#"}}, 1500*time.Millisecond)
	c := connectRaw(t, r.url, tok)
	c.subscribe(&proto.Subscribe{Sub: 1, Pattern: "#"})
	if code := c.closeCode(); code != codes.TokenExpired {
		t.Fatalf("closed with %v, want TOKEN_EXPIRED", code)
	}
}

func TestRefreshKeepsSession(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	short, _ := r.auth.Mint(auth.Claims{Subject: "u", Tenant: "acme", Subscribe: []string{"#"}}, 1500*time.Millisecond)
	c := connectRaw(t, r.url, short)
	long, _ := r.auth.Mint(auth.Claims{Subject: "u", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	other, _ := r.auth.Mint(auth.Claims{Subject: "u", Tenant: "globex", Subscribe: []string{"#"}}, time.Hour)
	c.send(&proto.Refresh{Req: 1, Token: other})
	if rep := c.next().(*proto.Reply); codes.Code(rep.Code) != codes.Unauthorized {
		t.Fatalf("refresh into another tenant: %+v", rep)
	}
	c.send(&proto.Refresh{Req: 2, Token: long})
	if rep := c.next().(*proto.Reply); rep.Code != 0 {
		t.Fatalf("refresh: %+v", rep)
	}
	c.send(&proto.Ping{Req: 3})
	// Past the first token's expiry the session is still up.
	time.Sleep(2 * time.Second)
	c.send(&proto.Ping{Req: 4})
	for _, want := range []uint32{3, 4} {
		if p, ok := c.next().(*proto.Pong); !ok || p.Req != want {
			t.Fatalf("want pong %d, got %#v", want, p)
		}
	}
}

// A refresh with a token that no longer grants a live subscription is
// refused, and the session keeps delivering only what the old token
// granted; once the subscription is gone the narrower token is accepted.
func TestRefreshNarrowerTokenRefused(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	wide, _ := r.auth.Mint(auth.Claims{Subject: "u", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	narrow, _ := r.auth.Mint(auth.Claims{Subject: "u", Tenant: "acme", Subscribe: []string{"lora/#"}}, time.Hour)
	c := connectRaw(t, r.url, wide)
	c.subscribe(&proto.Subscribe{Req: 1, Sub: 1, Pattern: "scanner/#"})
	c.send(&proto.Refresh{Req: 2, Token: narrow})
	rep, ok := c.next().(*proto.Reply)
	if !ok || codes.Code(rep.Code) != codes.Forbidden || !strings.Contains(rep.Message, "scanner/#") {
		t.Fatalf("refresh to a token without scanner/#: %+v", rep)
	}
	c.send(&proto.Unsubscribe{Req: 3, Sub: 1})
	if rep, ok := c.next().(*proto.Reply); !ok || rep.Req != 3 || rep.Code != 0 {
		t.Fatalf("unsubscribe: %+v", rep)
	}
	c.send(&proto.Refresh{Req: 4, Token: narrow})
	if rep, ok := c.next().(*proto.Reply); !ok || rep.Req != 4 || rep.Code != 0 {
		t.Fatalf("refresh once nothing it forbids is subscribed: %+v", rep)
	}
	// The session now has the narrower grants.
	c.send(&proto.Subscribe{Req: 5, Sub: 2, Pattern: "scanner/#"})
	if rep, ok := c.next().(*proto.Reply); !ok || rep.Req != 5 || codes.Code(rep.Code) != codes.Forbidden {
		t.Fatalf("subscribe outside the new token: %+v", rep)
	}
}

func TestShutdownTellsClientsToReconnect(t *testing.T) {
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	c := connectRaw(t, r.url, r.token(t, "acme", "#"))
	go r.hub.Shutdown(context.Background())
	if code := c.closeCode(); code != codes.Shutdown || !code.Reconnect() {
		t.Fatalf("shutdown close %v", code)
	}
	if _, err := r.hub.Open(nil); !errors.Is(err, hub.ErrShutdown) {
		t.Fatalf("Open after shutdown: %v", err)
	}
}
