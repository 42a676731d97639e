package client

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
)

// wait bounds every wait of a test for something the client should do.
// Generous, for slow machines and -race: a correct client is far faster.
const wait = 5 * time.Second

// fakeRelay is a scripted relay on a loopback WebSocket: each test reads
// the frames the client sends and writes the replies it wants.
type fakeRelay struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan *fakeConn
	wg    sync.WaitGroup // handlers (hijacked: httptest does not wait)

	mu  sync.Mutex
	all []*fakeConn
}

// fakeConn is one connection the fake relay accepted.
type fakeConn struct {
	ws     *websocket.Conn
	frames chan proto.Frame // every frame the client sent but Ping
	pings  chan uint32      // Ping requests
	done   chan struct{}    // closed when the client's side is gone
	// pong makes the relay answer Pings (default true).
	pong atomic.Bool
}

func newFakeRelay(t *testing.T) *fakeRelay {
	t.Helper()
	r := &fakeRelay{t: t, conns: make(chan *fakeConn, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.close)
	return r
}

func (r *fakeRelay) url() string { return "ws" + strings.TrimPrefix(r.srv.URL, "http") }

func (r *fakeRelay) serve(w http.ResponseWriter, req *http.Request) {
	r.wg.Add(1)
	defer r.wg.Done()
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	fc := &fakeConn{
		ws:     ws,
		frames: make(chan proto.Frame, 1024),
		pings:  make(chan uint32, 1024),
		done:   make(chan struct{}),
	}
	fc.pong.Store(true)
	defer close(fc.done)
	r.mu.Lock()
	r.all = append(r.all, fc)
	r.mu.Unlock()
	r.conns <- fc

	for {
		_, msg, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		err = proto.DecodeAll(msg, func(f proto.Frame) error {
			if p, ok := f.(*proto.Ping); ok {
				select {
				case fc.pings <- p.Req:
				default:
				}
				if fc.pong.Load() {
					b, _ := proto.AppendFrame(nil, &proto.Pong{Req: p.Req})
					ws.Write(context.Background(), websocket.MessageBinary, b)
				}
				return nil
			}
			fc.frames <- f
			return nil
		})
		if err != nil {
			ws.Close(websocket.StatusCode(codes.ProtocolError), "bad frame")
			return
		}
	}
}

func (r *fakeRelay) close() {
	r.srv.Close()
	r.mu.Lock()
	for _, fc := range r.all {
		fc.ws.CloseNow()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// accept returns the next connection from the client.
func (r *fakeRelay) accept(t *testing.T) *fakeConn {
	t.Helper()
	return recv(t, r.conns, "a connection")
}

// noConn fails if the client has opened another connection.
func (r *fakeRelay) noConn(t *testing.T) {
	t.Helper()
	select {
	case <-r.conns:
		t.Fatal("the client connected again")
	default:
	}
}

// next returns the next frame the client sent (Pings aside).
func (fc *fakeConn) next(t *testing.T) proto.Frame {
	t.Helper()
	return recv(t, fc.frames, "a frame from the client")
}

// expect returns the next frame, which must be of type F.
func expect[F proto.Frame](t *testing.T, fc *fakeConn) F {
	t.Helper()
	f := fc.next(t)
	g, ok := f.(F)
	if !ok {
		t.Fatalf("client sent %s frame %+v, want %T", f.FrameType(), f, g)
	}
	return g
}

// send writes frames as one message.
func (fc *fakeConn) send(t *testing.T, frames ...proto.Frame) {
	t.Helper()
	var msg []byte
	for _, f := range frames {
		var err error
		if msg, err = proto.AppendFrame(msg, f); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := fc.ws.Write(ctx, websocket.MessageBinary, msg); err != nil {
		t.Fatalf("relay write: %v", err)
	}
}

// handshake reads Connect and answers connected (a default if nil).
func (fc *fakeConn) handshake(t *testing.T, connected *proto.Connected) *proto.Connect {
	t.Helper()
	c := expect[*proto.Connect](t, fc)
	if connected == nil {
		connected = &proto.Connected{Client: "c-1", PingMillis: 10_000}
	}
	fc.send(t, connected)
	return c
}

// subscribed reads a Subscribe and confirms it as live from offset.
func (fc *fakeConn) subscribed(t *testing.T, epoch string, offset uint64) *proto.Subscribe {
	t.Helper()
	s := expect[*proto.Subscribe](t, fc)
	fc.send(t, &proto.Subscribed{Req: s.Req, Sub: s.Sub, Epoch: epoch, Offset: offset})
	return s
}

// drop cuts the link without a close frame.
func (fc *fakeConn) drop() { fc.ws.CloseNow() }

// closeWith sends Disconnect (if disconnect) and closes with code.
func (fc *fakeConn) closeWith(t *testing.T, code codes.Code, reason string, disconnect bool) {
	t.Helper()
	if disconnect {
		fc.send(t, &proto.Disconnect{Code: uint16(code), Reason: reason, Reconnect: code.Reconnect()})
	}
	fc.ws.Close(websocket.StatusCode(code), reason)
}

// evFrame is a live event on ch with a decodable LinkStatus body.
func evFrame(ch string, offset, prev uint64) *proto.Event {
	data, err := (&event.LinkStatus{Meta: event.Meta{Link: ch, Protocol: "test"}, State: event.LinkConnected}).MarshalMsg(nil)
	if err != nil {
		panic(err)
	}
	return &proto.Event{Channel: ch, Offset: offset, Prev: prev, Kind: event.KindLinkStatus, Data: data}
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// testLog logs to stderr with FIELDRELAY_TEST_LOG=1, else nowhere.
func testLog() func(Level, string, ...any) {
	if os.Getenv("FIELDRELAY_TEST_LOG") == "" {
		return nil
	}
	l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return func(level Level, msg string, args ...any) {
		l.Log(context.Background(), slog.Level(level), msg, args...)
	}
}

// testOptions are quick to reconnect.
func testOptions() *Options {
	return &Options{
		Token:      "tok",
		Name:       "test",
		MinBackoff: time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		Log:        testLog(),
	}
}

// dialFake dials r and completes the handshake with connected.
func dialFake(t *testing.T, r *fakeRelay, opts *Options, connected *proto.Connected) (*Client, *fakeConn) {
	t.Helper()
	type result struct {
		c   *Client
		err error
	}
	res := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		c, err := Dial(ctx, r.url(), opts)
		res <- result{c, err}
	}()
	fc := r.accept(t)
	fc.handshake(t, connected)
	got := recv(t, res, "Dial")
	if got.err != nil {
		t.Fatalf("Dial: %v", got.err)
	}
	t.Cleanup(func() { got.c.Close() })
	return got.c, fc
}

// subscribe subscribes through the fake relay, which confirms at offset.
func subscribe(t *testing.T, c *Client, fc *fakeConn, pattern string, opts *SubscribeOptions, epoch string, offset uint64) (*Subscription, *proto.Subscribe) {
	t.Helper()
	type result struct {
		s   *Subscription
		err error
	}
	res := make(chan result, 1)
	go func() {
		s, err := c.Subscribe(context.Background(), pattern, opts)
		res <- result{s, err}
	}()
	f := fc.subscribed(t, epoch, offset)
	got := recv(t, res, "Subscribe")
	if got.err != nil {
		t.Fatalf("Subscribe: %v", got.err)
	}
	return got.s, f
}

// states records OnState calls.
type states chan stateChange

type stateChange struct {
	s   State
	err error
}

func (st states) on(s State, err error) {
	select {
	case st <- stateChange{s, err}:
	default:
	}
}

// until waits for state s and returns its cause.
func (st states) until(t *testing.T, s State) error {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case c := <-st:
			if c.s == s {
				return c.err
			}
		case <-deadline:
			t.Fatalf("timed out waiting for state %s", s)
		}
	}
}
