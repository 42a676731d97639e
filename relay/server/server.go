// Package server is the relay's HTTP side: the browser WebSocket endpoint
// (coder/websocket) in front of a hub, plus health and metrics.
//
// The endpoint negotiates the subprotocol proto.Subprotocol, checks the
// Origin header against an allow-list, limits inbound message size, pings
// every client and drops those whose pong does not arrive in time. All
// protocol logic lives in package hub; this package moves bytes.
package server

import (
	"context"
	"errors"
	"log/slog"
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
	defer e.wg.Done()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		e.pingLoop(ctx, c, s)
	}()
	defer func() { <-pingDone }()
	defer cancel()
	for {
		typ, msg, err := c.Read(ctx)
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
		if err := s.Handle(msg); err != nil && !errors.Is(err, hub.ErrClosed) {
			e.log.Debug("session ended by frame", "client", s.ID(), "err", err)
		}
	}
}

// pingLoop pings the client and closes the session if a pong is late.
func (e *Endpoint) pingLoop(ctx context.Context, c *websocket.Conn, s *hub.Session) {
	t := time.NewTicker(e.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, e.cfg.PongTimeout)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.Close(codes.PingTimeout, "no pong")
			}
			return
		}
	}
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
