package proglovesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

// Errors returned by Start.
var (
	ErrClosed  = errors.New("proglovesim: simulator closed")
	ErrStarted = errors.New("proglovesim: already started")
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

// Simulator is a simulated Insight Mobile WebSocket server. Create it with
// New, serve it with Start or as an http.Handler, stop it with Close.
//
// Lock order: Simulator.mu before Simulator.devMu; neither is held while
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
	started    bool
	srv        *http.Server
	clients    map[*client]struct{}
	changed    chan struct{} // closed and replaced whenever clients changes
	generating bool
	received   []proglove.Command
	rejected   []proglove.ErrorEvent
	stalled    bool
	unstall    chan struct{} // closed when the stall ends (or the simulator closes)

	devMu    sync.Mutex
	rng      *rand.Rand
	scanners []*scanner // in configuration order
	nextScan int        // round-robin position of generated scans
	nextCode int
}

// scanner is a simulated scanner's state, guarded by devMu.
type scanner struct {
	Scanner
	connected bool
	session   int64
	block     *block
}

// block is an active trigger_block!.
type block struct {
	gestures map[string]bool // empty: every gesture
	unblock  map[string]bool
	until    time.Time // zero: until unblocked
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
		unstall: make(chan struct{}),
	}
	close(s.unstall) // not stalled
	s.life, s.stop = context.WithCancel(context.Background())
	s.rng = rand.New(rand.NewPCG(s.cfg.seed, s.cfg.seed^0x5072_6f47_6c6f_7665)) // "ProGlove"
	for _, sc := range s.cfg.scanners {
		s.scanners = append(s.scanners, &scanner{Scanner: sc, connected: !sc.Disconnected})
	}
	return s
}

// Start listens on addr and serves the socket on Config.Path. It returns
// the ws:// URL to dial. addr "" means DefaultAddr (port 9998); its port
// must be 0 (a free port, which the system picks above 1023) or in
// [1024, 65536), as the app's own: Start refuses others with
// proglove.ErrBadPort. ctx bounds only the listen call; the server runs
// until Close.
func (s *Simulator) Start(ctx context.Context, addr string) (url string, err error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if err := checkPort(addr); err != nil {
		return "", err
	}
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
		return "", fmt.Errorf("proglovesim: failed to listen on %s: %w", addr, err)
	}
	if err := checkPort(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return "", err
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
		_ = srv.Serve(&stallListener{Listener: ln, s: s}) // returns http.ErrServerClosed after Close
	}()
	return "ws://" + ln.Addr().String() + s.cfg.path, nil
}

// checkPort applies the app's port rule to host:port; 0 asks for a free
// port and is checked once bound.
func checkPort(addr string) error {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("proglovesim: address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("proglovesim: address %q: port is not a number", addr)
	}
	if n == 0 {
		return nil
	}
	if err := proglove.ValidatePort(n); err != nil {
		return fmt.Errorf("proglovesim: address %q: %w", addr, err)
	}
	return nil
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
		if s.stalled {
			s.stalled = false
			close(s.unstall)
		}
		s.mu.Unlock()

		s.stop()
		if srv != nil {
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

// ServeHTTP accepts the WebSocket from any origin (the app serves web apps
// on the device and the local network, without auth) and serves the
// client until it disconnects, is dropped, or the simulator closes. After
// Close it answers 503.
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
	// Commands are small; 64 KiB is far above the largest valid one.
	conn.SetReadLimit(64 << 10)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{conn: conn, send: make(chan []byte, queueLen), ctx: ctx, cancel: cancel}
	if !s.register(c) {
		_ = conn.Close(websocket.StatusGoingAway, "simulator closing")
		return
	}
	if s.cfg.announceGateway {
		c.enqueue(s.gatewayState(""))
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
	if !s.generating && s.cfg.scanEvery > 0 {
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

// broadcast queues b for every connected client, unless stalled.
func (s *Simulator) broadcast(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled {
		return
	}
	for c := range s.clients {
		c.enqueue(b)
	}
}

// reply queues b for one client, unless stalled.
func (s *Simulator) reply(c *client, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stalled {
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
			return fmt.Errorf("proglovesim: waiting for %d clients (have %d): %w", n, count, ctx.Err())
		case <-changed:
		}
	}
}

// DropClients cuts every connection abruptly, without a close handshake,
// as a network failure or the app being killed would, and returns how many
// it cut. Clients() reflects the drop as soon as it returns.
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

// Stall makes the app go silent while on, as a frozen app or a half-open
// link does: connections stay open, but nothing is read from any of them
// (so pings go unanswered and commands unhandled; a connection that is
// mid-read may still take in one more frame), nothing is sent (events
// generated meanwhile are lost at the source, as in a frozen app), and new
// connections hang in their handshake. Connections opened by ServeHTTP on
// a server other than Start's are not stalled. Close ends a stall.
func (s *Simulator) Stall(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == s.stalled || s.closed {
		return
	}
	s.stalled = on
	if on {
		s.unstall = make(chan struct{})
	} else {
		close(s.unstall)
	}
}

// waitUnstalled blocks while the simulator is stalled, until the stall
// ends or done is closed.
func (s *Simulator) waitUnstalled(done <-chan struct{}) error {
	s.mu.Lock()
	ch := s.unstall
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-done:
		return net.ErrClosed
	}
}

// Received returns the commands accepted so far (those the gateway would
// act on and answer with silence, or gateway_state! answered), oldest first.
// A command is recorded before anything it causes is queued.
func (s *Simulator) Received() []proglove.Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]proglove.Command(nil), s.received...)
}

// Rejected returns the errors events sent in answer to refused commands,
// oldest first.
func (s *Simulator) Rejected() []proglove.ErrorEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]proglove.ErrorEvent(nil), s.rejected...)
}

// stallListener wraps accepted connections so that Stall can stop their
// reads.
type stallListener struct {
	net.Listener
	s *Simulator
}

func (l *stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, s: l.s, done: make(chan struct{})}, nil
}

type stallConn struct {
	net.Conn
	s    *Simulator
	once sync.Once
	done chan struct{} // closed by Close
}

func (c *stallConn) Read(p []byte) (int, error) {
	if err := c.s.waitUnstalled(c.done); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *stallConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}
