package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Config configures the WebSocket endpoint. Zero fields take defaults.
type Config struct {
	Hub *hub.Hub // required
	// OriginPatterns are host patterns (path.Match syntax, e.g.
	// "app.example.com", "127.0.0.1:*") allowed in a browser's Origin
	// header besides the request's own host. Requests without Origin
	// (non-browser clients) are always allowed.
	OriginPatterns []string
	// PingInterval between WebSocket pings. Default: the hub's.
	PingInterval time.Duration
	// PongTimeout is how long a ping may wait for its pong before the
	// link is declared dead. Default 10 s.
	PongTimeout time.Duration
	Logger      *slog.Logger
}

// Endpoint is the browser WebSocket handler.
type Endpoint struct {
	cfg Config
	log *slog.Logger
	wg  sync.WaitGroup
}

// NewEndpoint returns the handler. Mount it at /v1/ws.
func NewEndpoint(cfg Config) *Endpoint {
	hc := cfg.Hub.Config()
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = hc.PingInterval
	}
	if cfg.PongTimeout <= 0 {
		cfg.PongTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{cfg: cfg, log: cfg.Logger}
}

// Wait blocks until every connection the endpoint served has ended.
func (e *Endpoint) Wait() { e.wg.Wait() }

// ServeHTTP implements http.Handler.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Count the connection before the upgrade hijacks it: once the HTTP
	// server's shutdown has returned, every handler has either counted
	// itself here or will never run, so Wait cannot miss one.
	e.wg.Add(1)
	handedOff := false
	defer func() {
		if !handedOff {
			e.wg.Done()
		}
	}()
	c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{proto.Subprotocol},
		OriginPatterns: e.cfg.OriginPatterns,
	})
	if err != nil {
		e.log.Debug("websocket accept failed", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the HTTP error (403 for a bad origin)
	}
	if c.Subprotocol() != proto.Subprotocol {
		c.Close(websocket.StatusCode(codes.UnsupportedVersion), "subprotocol "+proto.Subprotocol+" required")
		return
	}
	h := e.cfg.Hub
	c.SetReadLimit(int64(h.Config().MaxMessage))
	sink := &wsSink{c: c}
	s, err := h.Open(sink)
	if err != nil {
		c.Close(websocket.StatusCode(codes.Shutdown), "relay shutting down")
		return
	}
	// The connection's life goes on in a goroutine of its own, and this
	// one (net/http's, with the request, its headers and a stack grown by
	// the handshake) ends: an idle connection keeps only what it needs.
	handedOff = true
	go func() {
		defer e.wg.Done()
		e.serve(c, s)
	}()
}

// serve runs one connection: its read loop, and its pings on a timer.
func (e *Endpoint) serve(c *websocket.Conn, s *hub.Session) {
	h := e.cfg.Hub
	ctx, cancel := context.WithCancel(context.Background())
	p := e.startPings(ctx, c, s)
	defer p.stop()
	defer cancel()
	for {
		// No context: one would cost an AfterFunc registration per read.
		// The read ends when the connection is closed.
		typ, msg, err := c.Read(context.Background())
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				// The library has already closed with 1009; count it.
				h.Stats().ProtocolErrors.Add(1)
			}
			s.Gone()
			return
		}
		if typ != websocket.MessageBinary {
			s.Close(codes.ProtocolError, "text messages are not part of "+proto.Subprotocol)
			h.Stats().ProtocolErrors.Add(1)
			continue // keep reading until the close completes
		}
		if err := handle(s, msg); err != nil && !errors.Is(err, hub.ErrClosed) {
			e.log.Debug("session ended by frame", "client", s.ID(), "err", err)
		}
	}
}

// pinger pings the client every PingInterval and closes the session when
// a pong is late. It is a timer, not a goroutine: an idle connection costs
// one goroutine (its read loop), and a ping's goroutine lives only while
// its pong is awaited.
type pinger struct {
	e    *Endpoint
	ctx  context.Context
	c    *websocket.Conn
	s    *hub.Session
	t    *time.Timer
	busy sync.WaitGroup

	mu      sync.Mutex
	stopped bool
}

func (e *Endpoint) startPings(ctx context.Context, c *websocket.Conn, s *hub.Session) *pinger {
	p := &pinger{e: e, ctx: ctx, c: c, s: s}
	p.mu.Lock()
	p.t = time.AfterFunc(e.cfg.PingInterval, p.ping)
	p.mu.Unlock()
	return p
}

func (p *pinger) ping() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.busy.Add(1)
	p.mu.Unlock()
	defer p.busy.Done()
	pctx, cancel := context.WithTimeout(p.ctx, p.e.cfg.PongTimeout)
	err := p.c.Ping(pctx)
	cancel()
	if err != nil {
		if p.ctx.Err() == nil {
			p.s.Close(codes.PingTimeout, "no pong")
		}
		return
	}
	p.mu.Lock()
	if !p.stopped {
		p.t.Reset(p.e.cfg.PingInterval)
	}
	p.mu.Unlock()
}

// stop stops the pings and waits for one in flight (its context must be
// cancelled first).
func (p *pinger) stop() {
	p.mu.Lock()
	p.stopped = true
	p.t.Stop()
	p.mu.Unlock()
	p.busy.Wait()
}

// handle runs s.Handle(msg) on a goroutine of its own and waits for it.
// Handling a frame goes deep (token verification, history replay) and
// grows the stack of the goroutine that does it; a goroutine's stack
// shrinks back only by halves, at GC, and only while it uses under a
// quarter of it, so the read loop, which lives as long as the connection
// and spends it blocked in a shallow read, would keep that size for good.
func handle(s *hub.Session, msg []byte) error {
	done := make(chan error, 1)
	go func() { done <- s.Handle(msg) }()
	return <-done
}

// The buffers a connection keeps for its life. net/http hands a hijacked
// connection 4 KiB each way; browsers send a few small frames, and the
// relay's writes are batched (a batch larger than the write buffer goes
// to the socket directly), so smaller ones cost at most a syscall on
// mid-sized messages and save 5 KiB of every idle connection.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 1 << 10
)

// smallBuffers is the ResponseWriter the WebSocket library upgrades: its
// Hijack swaps net/http's buffers for smaller ones.
type smallBuffers struct{ http.ResponseWriter }

// Hijack implements http.Hijacker.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Flush(); err != nil { // what net/http may have left
		return nil, nil, err
	}
	br := brw.Reader
	// Bytes the client sent right behind its request (a first frame) move
	// to the new reader's buffer; in the unlikely case they do not fit,
	// the original reader stays.
	if n := br.Buffered(); n <= readBufferSize {
		pending, _ := br.Peek(n)
		small := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(pending)), conn), readBufferSize)
		if _, err := small.Peek(n); err != nil {
			return nil, nil, err
		}
		br = small
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, writeBufferSize)), nil
}

// wsSink adapts a websocket.Conn to hub.Sink.
type wsSink struct {
	c    *websocket.Conn
	once sync.Once
}

func (w *wsSink) Write(ctx context.Context, msg []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, msg)
}

func (w *wsSink) Close(code codes.Code, reason string) {
	w.once.Do(func() {
		if code == codes.PingTimeout || code == codes.Abnormal {
			w.c.CloseNow() // the link is dead: no close handshake
			return
		}
		// Close writes the close frame and waits (bounded by the
		// library's own timeouts) for the peer's; do not block the hub.
		go w.c.Close(websocket.StatusCode(code), reason)
	})
}
