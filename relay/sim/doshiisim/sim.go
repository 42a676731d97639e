package doshiisim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/doshii"
)

// Errors returned by Start.
var (
	ErrClosed  = errors.New("doshiisim: simulator closed")
	ErrStarted = errors.New("doshiisim: already started")
)

// Bodies of refused upgrades. They never repeat the auth value.
const (
	BodyNoAuth        = "doshiisim: the auth query parameter is missing"
	BodyBadAuth       = "doshiisim: auth is not base64 of a client id"
	BodyUnknownClient = "doshiisim: auth does not name a known client"
	BodyUnknownDevice = "doshiisim: deviceId is not registered for this client"
	BodyUnavailable   = "doshiisim: service unavailable"
)

const (
	// queueLen bounds each client's outgoing queue. A client that falls
	// this far behind is cut (slow consumer) rather than stalling the
	// broadcast for everyone.
	queueLen = 1024
	// writeTimeout bounds one message write; a peer that does not read
	// for this long is cut.
	writeTimeout = 10 * time.Second
)

// Simulator is a simulated Doshii App WebSocket. Create it with New, serve
// it with Start or as an http.Handler, stop it with Close.
//
// Lock order: Simulator.mu, then Simulator.genMu; neither is held while
// writing to a connection.
type Simulator struct {
	cfg settings

	// life is cancelled by Close: it stops the generator and makes every
	// client writer close its connection with StatusGoingAway.
	life     context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup // generator, HTTP server and every ServeHTTP call
	closeOne sync.Once

	mu          sync.Mutex
	closed      bool
	started     bool
	srv         *http.Server
	clients     map[*client]struct{}
	changed     chan struct{} // closed and replaced on every observable change
	generating  bool
	silent      bool
	unavailable bool
	attempts    int
	rejected    int
	pings       []doshii.Ping
	sessions    []*Conn // every accepted connection, oldest first
	answers     []doshii.Pong
	unexpected  int
	idleDrops   int

	genMu sync.Mutex
	seq   int // generated events so far
}

// Conn describes one accepted connection.
type Conn struct {
	ClientID string // decoded from auth
	DeviceID string // "" when none was given
	Path     string // /app/socket/v3 or /app/socket (or wherever ServeHTTP is mounted)
	Pings    int    // client pings received on it
	Open     bool   // false once it has ended
}

// client is one accepted connection. Its ServeHTTP call reads and owns
// the writer goroutine.
type client struct {
	info     *Conn           // in Simulator.sessions; guarded by Simulator.mu
	filter   map[string]bool // admitted locations; nil admits every event
	conn     *websocket.Conn
	send     chan []byte
	pinged   chan struct{} // a ping arrived: restart the idle timer
	closeReq chan closeReq
	ctx      context.Context // cancelled to cut the connection abruptly
	cancel   context.CancelFunc
}

type closeReq struct {
	code   websocket.StatusCode
	reason string
}

// enqueue queues b without blocking; a full queue cuts the client.
func (c *client) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.cancel()
	}
}

// admits reports whether an event of location goes to this client.
func (c *client) admits(location string) bool {
	return c.filter == nil || c.filter[location]
}

// New returns a simulator configured by cfg (nil means all defaults). It
// starts no goroutine until a client connects or Start is called.
func New(cfg *Config) *Simulator {
	s := &Simulator{
		cfg:     resolve(cfg),
		clients: make(map[*client]struct{}),
		changed: make(chan struct{}),
	}
	s.life, s.stop = context.WithCancel(context.Background())
	return s
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port) and
// serves the socket on doshii.PathV3 and doshii.PathLegacy (other paths
// are 404). It returns the ws:// base URL of the v3 path, without a query:
// build the address to dial with doshii.SocketURL. ctx bounds only the
// listen call; the server runs until Close.
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
		return "", fmt.Errorf("doshiisim: failed to listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(doshii.PathV3, s)
	mux.Handle(doshii.PathLegacy, s)
	srv := &http.Server{
		Handler:           mux,
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
	return "ws://" + ln.Addr().String() + doshii.PathV3, nil
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
			_ = srv.Close()
		}
		s.wg.Wait()
	})
	return nil
}

// enter registers a ServeHTTP call with the WaitGroup unless closed, and
// counts the attempt.
func (s *Simulator) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	s.attempts++
	s.notifyLocked()
	return true
}

// refuse answers an upgrade request with status and body.
func (s *Simulator) refuse(w http.ResponseWriter, status int, body string) {
	s.mu.Lock()
	s.rejected++
	s.notifyLocked()
	s.mu.Unlock()
	http.Error(w, body, status)
}

// ServeHTTP checks the request's auth (base64 of a known client id, else
// 401) and deviceId (registered for that client, else 403), accepts the
// WebSocket from any origin, and serves the client until it disconnects,
// is dropped, or the simulator closes. After Close it answers 503, and 503
// while SetUnavailable is on.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	s.mu.Lock()
	unavailable := s.unavailable
	s.mu.Unlock()
	if unavailable {
		s.refuse(w, http.StatusServiceUnavailable, BodyUnavailable)
		return
	}
	q := r.URL.Query()
	if !q.Has("auth") || q.Get("auth") == "" {
		s.refuse(w, http.StatusUnauthorized, BodyNoAuth)
		return
	}
	id, err := doshii.ClientIDFromAuth(q.Get("auth"))
	if err != nil {
		s.refuse(w, http.StatusUnauthorized, BodyBadAuth)
		return
	}
	known, ok := s.cfg.clients[id]
	if !ok {
		s.refuse(w, http.StatusUnauthorized, BodyUnknownClient)
		return
	}
	info := &Conn{ClientID: id, DeviceID: q.Get("deviceId"), Path: r.URL.Path}
	var filter map[string]bool
	if info.DeviceID != "" {
		found := false
		filter = make(map[string]bool)
		for _, d := range known.Devices {
			if d.ID == info.DeviceID {
				found = true
				for _, l := range d.Locations {
					filter[l] = true
				}
			}
		}
		if !found {
			s.refuse(w, http.StatusForbidden, BodyUnknownDevice)
			return
		}
	}

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{
		info: info, filter: filter, conn: conn,
		send: make(chan []byte, queueLen), pinged: make(chan struct{}, 1), closeReq: make(chan closeReq, 1),
		ctx: ctx, cancel: cancel,
	}
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
	c.info.Open = true
	s.sessions = append(s.sessions, c.info)
	s.notifyLocked()
	if !s.generating {
		s.generating = true
		s.wg.Add(1)
		go s.generate()
	}
	return true
}

// unregister forgets c when its ServeHTTP call ends.
func (s *Simulator) unregister(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	c.info.Open = false
	s.notifyLocked()
}

func (s *Simulator) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// readLoop answers the client's heartbeats until the connection fails.
func (s *Simulator) readLoop(c *client) {
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		// Clients send only heartbeats; anything else is counted.
		f, _ := doshii.Decode(data)
		switch f := f.(type) {
		case *doshii.Ping:
			select {
			case c.pinged <- struct{}{}:
			default:
			}
			s.mu.Lock()
			s.pings = append(s.pings, *f)
			c.info.Pings++
			silent := s.silent
			s.notifyLocked()
			s.mu.Unlock()
			if !silent {
				pong, err := doshii.EncodePong(s.cfg.pongEnvelope, doshii.Pong{Time: f.Time, Version: s.cfg.version})
				if err == nil {
					c.enqueue(pong)
				}
			}
		case *doshii.Pong:
			s.mu.Lock()
			s.answers = append(s.answers, *f)
			s.notifyLocked()
			s.mu.Unlock()
		default:
			s.mu.Lock()
			s.unexpected++
			s.notifyLocked()
			s.mu.Unlock()
		}
	}
}

// writeLoop is the only writer of c.conn. It also drops the client when
// no ping has arrived for the idle timeout.
func (s *Simulator) writeLoop(c *client) {
	var idle <-chan time.Time
	var timer *time.Timer
	if s.cfg.idle > 0 {
		timer = time.NewTimer(s.cfg.idle)
		defer timer.Stop()
		idle = timer.C
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-s.life.Done():
			_ = c.conn.Close(websocket.StatusGoingAway, "simulator closing")
			return
		case <-c.pinged:
			if timer != nil {
				timer.Reset(s.cfg.idle)
			}
		case <-idle:
			s.mu.Lock()
			s.idleDrops++
			s.notifyLocked()
			s.mu.Unlock()
			_ = c.conn.Close(websocket.StatusPolicyViolation, "no heartbeat within "+s.cfg.idle.String())
			c.cancel()
			return
		case r := <-c.closeReq:
			_ = c.conn.Close(r.code, r.reason)
			c.cancel()
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

// each calls fn for every connected client, under s.mu.
func (s *Simulator) each(fn func(c *client)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		fn(c)
	}
}

// Clients returns the number of connected clients.
func (s *Simulator) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Connections describes the connected clients, in no particular order.
func (s *Simulator) Connections() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conn, 0, len(s.clients))
	for c := range s.clients {
		out = append(out, *c.info)
	}
	return out
}

// Sessions describes every connection accepted so far, oldest first,
// including those that have ended (Open false once the simulator has seen
// the end). A connection cut by DropClients or CloseClients is closed
// right away but ends when its reader has returned.
func (s *Simulator) Sessions() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conn, len(s.sessions))
	for i, c := range s.sessions {
		out[i] = *c
	}
	return out
}

// WaitSessions blocks until cond, called with Sessions, holds or ctx is
// done.
func (s *Simulator) WaitSessions(ctx context.Context, cond func([]Conn) bool) error {
	return s.wait(ctx, "sessions", func() bool {
		out := make([]Conn, len(s.sessions))
		for i, c := range s.sessions {
			out[i] = *c
		}
		return cond(out)
	})
}

// wait blocks until cond (called under s.mu) holds or ctx is done.
func (s *Simulator) wait(ctx context.Context, what string, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("doshiisim: waiting for %s: %w", what, ctx.Err())
		case <-changed:
		}
	}
}

// WaitClients blocks until at least n clients are connected or ctx is done.
func (s *Simulator) WaitClients(ctx context.Context, n int) error {
	return s.wait(ctx, fmt.Sprintf("%d clients", n), func() bool { return len(s.clients) >= n })
}

// WaitPings blocks until at least n client pings have arrived in all, or
// ctx is done.
func (s *Simulator) WaitPings(ctx context.Context, n int) error {
	return s.wait(ctx, fmt.Sprintf("%d pings", n), func() bool { return len(s.pings) >= n })
}

// WaitAnswers blocks until at least n pongs from clients (answers to
// server pings and health checks) have arrived, or ctx is done.
func (s *Simulator) WaitAnswers(ctx context.Context, n int) error {
	return s.wait(ctx, fmt.Sprintf("%d answers", n), func() bool { return len(s.answers) >= n })
}

// WaitAttempts blocks until at least n upgrade requests have arrived
// (accepted or refused), or ctx is done.
func (s *Simulator) WaitAttempts(ctx context.Context, n int) error {
	return s.wait(ctx, fmt.Sprintf("%d attempts", n), func() bool { return s.attempts >= n })
}

// Pings returns the client pings received so far, oldest first.
func (s *Simulator) Pings() []doshii.Ping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]doshii.Ping(nil), s.pings...)
}

// Answers returns the pongs clients sent (to server pings and health
// checks), oldest first.
func (s *Simulator) Answers() []doshii.Pong {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]doshii.Pong(nil), s.answers...)
}

// Stats counts what the simulator has seen.
type Stats struct {
	Attempts   int // upgrade requests, accepted or refused
	Rejected   int // upgrade requests refused (401, 403, 503)
	Unexpected int // client messages that were not a ping or a pong
	IdleDrops  int // clients dropped for not pinging
}

// Stats returns the counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Attempts: s.attempts, Rejected: s.rejected, Unexpected: s.unexpected, IdleDrops: s.idleDrops}
}

// SetSilent stops (true) or resumes (false) answering pings, as a server
// that hangs would; server pings and health checks stop too. Events are
// still pushed.
func (s *Simulator) SetSilent(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// SetUnavailable makes the simulator refuse every upgrade with 503 (true),
// or accept them again (false). Connected clients are not affected.
func (s *Simulator) SetUnavailable(on bool) {
	s.mu.Lock()
	s.unavailable = on
	s.mu.Unlock()
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

// CloseClients closes every connection with a close frame of code and
// reason, as a server shutting down or logging a client out would, and
// returns how many it closed. Clients() reflects it as soon as it returns.
func (s *Simulator) CloseClients(code websocket.StatusCode, reason string) int {
	s.mu.Lock()
	closing := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		closing = append(closing, c)
		delete(s.clients, c)
	}
	if len(closing) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, c := range closing {
		select {
		case c.closeReq <- closeReq{code, reason}:
		default:
		}
	}
	return len(closing)
}
