package resiotsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

// Errors returned by Start.
var (
	ErrClosed  = errors.New("resiotsim: simulator closed")
	ErrStarted = errors.New("resiotsim: already started")
)

const (
	// queueLen bounds each client's outgoing queue. A client that falls
	// this far behind is cut (slow consumer) rather than stalling the
	// broadcast for everyone.
	queueLen = 1024
	// writeTimeout bounds one frame write; a peer that does not read for
	// this long is cut.
	writeTimeout = 10 * time.Second
)

// Simulator is a simulated ResIOT "Websocket Server" data connector. Create
// it with New, serve it with Start or as an http.Handler, stop it with Close.
//
// Lock order: Simulator.mu before Simulator.genMu; neither is held while
// writing to a connection.
type Simulator struct {
	cfg settings

	// life is cancelled by Close: it stops the generator and makes every
	// client writer close its connection with StatusGoingAway.
	life     context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup // generator, HTTP server and every ServeHTTP call
	closeOne sync.Once

	mu         sync.Mutex
	closed     bool
	started    bool // Start was called
	srv        *http.Server
	clients    map[*client]struct{}
	changed    chan struct{} // closed and replaced whenever clients changes
	generating bool
	received   []resiot.TX

	genMu   sync.Mutex
	rng     *rand.Rand
	fcnt    map[string]uint32 // next uplink frame counter, by device key
	nextDev int               // round-robin position in cfg.devices
}

// client is one accepted connection. Its ServeHTTP call reads and owns
// the writer goroutine.
type client struct {
	conn   *websocket.Conn
	send   chan []byte
	ctx    context.Context // cancelled to cut the connection abruptly
	cancel context.CancelFunc
}

// enqueue queues b without blocking; a full queue cuts the client.
func (c *client) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.cancel()
	}
}

// New returns a simulator configured by cfg (nil means all defaults). It
// starts no goroutine until a client connects or Start is called.
func New(cfg *Config) *Simulator {
	s := &Simulator{
		cfg:     resolve(cfg),
		clients: make(map[*client]struct{}),
		changed: make(chan struct{}),
		fcnt:    make(map[string]uint32),
	}
	s.life, s.stop = context.WithCancel(context.Background())
	s.rng = rand.New(rand.NewPCG(s.cfg.seed, s.cfg.seed^0x5265_5349_4f54)) // "ReSIOT"
	return s
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port) and
// serves the socket on Config.Path. It returns the ws:// URL to dial. ctx
// bounds only the listen call; the server runs until Close.
func (s *Simulator) Start(ctx context.Context, addr string) (url string, err error) {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return "", ErrClosed
	case s.started:
		s.mu.Unlock()
		return "", ErrStarted
	}
	s.started = true
	s.mu.Unlock()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("resiotsim: failed to listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveOnPath),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // library code never prints
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = ln.Close()
		return "", ErrClosed
	}
	s.srv = srv
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return "ws://" + ln.Addr().String() + s.cfg.path, nil
}

func (s *Simulator) serveOnPath(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.cfg.path {
		http.NotFound(w, r)
		return
	}
	s.ServeHTTP(w, r)
}

// Close stops the generator and the listener, closes every client with
// StatusGoingAway, and waits for all of the simulator's goroutines. It is
// idempotent and safe to call concurrently; it always returns nil.
func (s *Simulator) Close() error {
	s.closeOne.Do(func() {
		s.mu.Lock()
		s.closed = true
		srv := s.srv
		s.mu.Unlock()

		s.stop()
		if srv != nil {
			// Closes the listener; hijacked WebSocket connections are
			// closed by their writers, which watch s.life.
			_ = srv.Close()
		}
		s.wg.Wait()
	})
	return nil
}

// enter registers a ServeHTTP call with the WaitGroup unless closed.
func (s *Simulator) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// ServeHTTP accepts the WebSocket (from any origin, like the vendor's
// public socket) and serves the client until it disconnects, is dropped,
// or the simulator closes. After Close it answers 503.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{conn: conn, send: make(chan []byte, queueLen), ctx: ctx, cancel: cancel}
	if !s.register(c) {
		_ = conn.Close(websocket.StatusGoingAway, "simulator closing")
		return
	}

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(c)
	}()
	s.readLoop(c)

	s.unregister(c)
	cancel()
	<-writerDone
	_ = conn.CloseNow()
}

func (s *Simulator) register(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.clients[c] = struct{}{}
	s.notifyLocked()
	if !s.generating {
		s.generating = true
		s.wg.Add(1)
		go s.generate()
	}
	return true
}

func (s *Simulator) unregister(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c]; ok {
		delete(s.clients, c)
		s.notifyLocked()
	}
}

func (s *Simulator) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// readLoop handles the client's commands until the connection fails. The
// library answers pings while a Read is pending.
func (s *Simulator) readLoop(c *client) {
	for {
		// Binary frames are treated like text: both carry JSON here.
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		s.handleCommand(c, data)
	}
}

// writeLoop is the only writer of c.conn.
func (s *Simulator) writeLoop(c *client) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-s.life.Done():
			_ = c.conn.Close(websocket.StatusGoingAway, "simulator closing")
			return
		case b := <-c.send:
			ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
			err := c.conn.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// broadcast queues b for every connected client.
func (s *Simulator) broadcast(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.enqueue(b)
	}
}

// Clients returns the number of connected clients.
func (s *Simulator) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// WaitClients blocks until at least n clients are connected or ctx is done.
func (s *Simulator) WaitClients(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		count, changed := len(s.clients), s.changed
		s.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("resiotsim: waiting for %d clients (have %d): %w", n, count, ctx.Err())
		case <-changed:
		}
	}
}

// DropClients cuts every connection abruptly, without a close handshake,
// as a network failure would, and returns how many it cut. Clients()
// reflects the drop as soon as it returns.
func (s *Simulator) DropClients() int {
	s.mu.Lock()
	dropped := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		dropped = append(dropped, c)
		delete(s.clients, c)
	}
	if len(dropped) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, c := range dropped {
		c.cancel()
		_ = c.conn.CloseNow()
	}
	return len(dropped)
}

// Received returns the TX commands accepted so far (those answered with
// Success), oldest first. A command is recorded before its reply is
// queued, so it is listed by the time the client reads the reply.
func (s *Simulator) Received() []resiot.TX {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]resiot.TX(nil), s.received...)
}
