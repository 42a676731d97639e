package proglovecloudsim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Errors returned by Start.
var (
	ErrClosed  = errors.New("proglovecloudsim: simulator closed")
	ErrStarted = errors.New("proglovecloudsim: already started")
)

const (
	// queueLen bounds each client's outgoing queue; a client that falls
	// this far behind is cut rather than stalling the broadcast.
	queueLen = 4096
	// writeTimeout bounds one frame write.
	writeTimeout = 10 * time.Second
	// sentLen bounds the record of broadcast frames (Sent).
	sentLen = 10000
	// maxAuthBody bounds an InitiateAuth request body.
	maxAuthBody = 64 << 10
)

// Stats counts what the simulator has done since New.
type Stats struct {
	Accepted     int // WebSocket connections opened
	Unauthorized int // upgrades refused with 401: no, unknown, expired or wrong kind of token
	Forbidden    int // upgrades refused with 403: customer= missing or not the customer's
	AuthInfo     int // /auth-information answers
	Logins       int // successful USER_PASSWORD_AUTH
	Refreshes    int // successful REFRESH_TOKEN_AUTH
	AuthFailures int // InitiateAuth requests answered 400
	Pings        int // WebSocket pings received
	ClientFrames int // data frames received from clients (answered "Forbidden", as API Gateway does without a route)
	IdleClosed   int // connections closed for the idle timeout
	AgeClosed    int // connections closed at the maximum age
	TooBigClosed int // connections closed with 1009 for an oversize frame
}

// Frame is one broadcast frame and how many clients it was queued to.
type Frame struct {
	Data    []byte
	Clients int
}

// Simulator is a simulated ProGlove Insight API: the live-data WebSocket
// and the authentication endpoints. Create it with New, serve it with
// Start or as an http.Handler, stop it with Close.
//
// Lock order: Simulator.mu before Simulator.genMu; neither is held while
// writing to a connection.
type Simulator struct {
	cfg settings

	life     context.Context // cancelled by Close
	stop     context.CancelFunc
	wg       sync.WaitGroup // generator, HTTP server and every ServeHTTP call
	sockets  sync.WaitGroup // every socket's ServeHTTP call
	closeOne sync.Once

	mu         sync.Mutex
	closed     bool
	started    bool
	srv        *http.Server
	clients    map[*client]struct{}
	changed    chan struct{} // closed and replaced at every change of clients or stats
	generating bool
	stats      Stats
	sent       []Frame
	password   string
	tokens     map[string]issued // IdTokens and AccessTokens
	refresh    map[string]bool   // refresh tokens
	nextConn   uint64

	silent atomic.Bool // pings go unanswered (Silence)

	genMu   sync.Mutex
	rng     *rand.Rand
	nextDev int
}

type issued struct {
	use     string // TokenID or TokenAccess
	expires time.Time
}

// client is one accepted connection. Its ServeHTTP call reads and owns
// the writer goroutine.
type client struct {
	id      string // API Gateway's connectionId
	conn    *websocket.Conn
	send    chan []byte
	closeRq chan closeRequest
	ctx     context.Context // cancelled to cut the connection abruptly
	cancel  context.CancelFunc
	opened  time.Time
	last    atomic.Int64 // Unix ns of the client's last frame or ping
}

type closeRequest struct {
	code   websocket.StatusCode
	reason string
}

func (c *client) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.cancel() // slow consumer
	}
}

// New returns a simulator configured by cfg (nil means all defaults). It
// starts no goroutine until a client connects or Start is called.
func New(cfg *Config) *Simulator {
	s := &Simulator{
		cfg:     resolve(cfg),
		clients: make(map[*client]struct{}),
		changed: make(chan struct{}),
		tokens:  make(map[string]issued),
		refresh: make(map[string]bool),
	}
	s.password = s.cfg.Password
	s.life, s.stop = context.WithCancel(context.Background())
	s.rng = rand.New(rand.NewPCG(s.cfg.Seed, s.cfg.Seed^0x50_47_43_4c_44)) // "PGCLD"
	return s
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port) and
// serves every endpoint. It returns the base URL, "http://host:port": the
// Insight API base (auth-information), the Cognito endpoint (POST / or
// /login) and, with ws:// instead of http://, the socket's base, to which
// the stage is appended (see SocketURL). ctx bounds only the listen call.
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
		return "", fmt.Errorf("proglovecloudsim: failed to listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s,
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
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), nil
}

// SocketURL turns Start's base URL into the socket's base (ws://host:port);
// the live-data address is that, the stage, and the query (see
// proglovecloud.LiveURL).
func SocketURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http")
}

// Close stops the generator and the listener, closes every client with
// 1001 (going away), and waits for all of the simulator's goroutines. It
// is idempotent and always returns nil.
func (s *Simulator) Close() error {
	s.closeOne.Do(func() {
		s.mu.Lock()
		s.closed = true
		srv := s.srv
		s.mu.Unlock()
		s.stop()
		// Let every socket finish its close handshake (1001) before the
		// HTTP server closes what it still tracks.
		s.sockets.Wait()
		if srv != nil {
			_ = srv.Close()
		}
		s.wg.Wait()
	})
	return nil
}

func (s *Simulator) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// enterSocket registers a socket with s.sockets unless closed. Under s.mu,
// so that no Add races with Close's Wait.
func (s *Simulator) enterSocket() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sockets.Add(1)
	return true
}

// ServeHTTP serves the simulated API:
//
//	GET  /auth-information?id=CUSTOMER  where the user pool is
//	POST / and POST /login              Cognito InitiateAuth
//	GET  /{stage}/?…token=…             the live-data WebSocket
//
// After Close it answers 503.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	switch p := r.URL.Path; {
	case p == "/auth-information":
		s.serveAuthInformation(w, r)
	case (p == "/" || p == "/login") && r.Method == http.MethodPost:
		s.serveInitiateAuth(w, r)
	case p == "/"+s.cfg.Stage+"/" || p == "/"+s.cfg.Stage:
		if !s.enterSocket() {
			http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
			return
		}
		defer s.sockets.Done()
		s.serveSocket(w, r)
	default:
		writeJSON(w, http.StatusNotFound, []byte(`{"message":"Not Found"}`))
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveSocket checks the token as the API's authorizer would, then
// accepts the WebSocket and serves the client until it disconnects, is
// dropped or closed, or the simulator closes.
func (s *Simulator) serveSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if status := s.authorize(q.Get("token"), q.Get("customer")); status != 0 {
		msg := `{"message":"Unauthorized"}`
		if status == http.StatusForbidden {
			msg = `{"message":"Forbidden"}`
		}
		writeJSON(w, status, []byte(msg))
		return
	}

	// Not r.Context(): the HTTP server may cancel it when it closes, and
	// the writer is to close the connection cleanly then (1001).
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	c := &client{
		send:    make(chan []byte, queueLen),
		closeRq: make(chan closeRequest, 1),
		ctx:     ctx,
		cancel:  cancel,
		opened:  time.Now(),
	}
	c.last.Store(c.opened.UnixNano())
	// The client is registered before the handshake completes, as API
	// Gateway runs $connect before answering 101: a frame broadcast once
	// the client has its 101 is queued for it. A client that overlaps its
	// connections therefore misses nothing.
	if !s.register(c) {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"message":"Service Unavailable"}`))
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		OnPingReceived: func(context.Context, []byte) bool {
			s.count(func(st *Stats) { st.Pings++ })
			if s.silent.Load() {
				return false // no pong, as from a half-open link
			}
			c.last.Store(time.Now().UnixNano())
			return true // answer with a pong
		},
	})
	if err != nil {
		s.unregister(c)
		return // Accept has answered the request
	}
	// The read limit is enforced frame by frame in readLoop, so that an
	// oversize frame is counted.
	conn.SetReadLimit(-1)
	s.mu.Lock()
	c.conn = conn
	s.mu.Unlock()
	s.count(func(st *Stats) { st.Accepted++ })

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

// authorize returns 0 when the socket may open, else the HTTP status.
func (s *Simulator) authorize(token, customer string) int {
	now := s.cfg.Now()
	s.mu.Lock()
	t, ok := s.tokens[token]
	s.mu.Unlock()
	status := 0
	switch {
	case token == "" || !ok || t.use != s.cfg.TokenKind || !now.Before(t.expires):
		status = http.StatusUnauthorized
	case !s.cfg.NoCustomer && customer != s.cfg.CustomerID:
		status = http.StatusForbidden
	}
	switch status {
	case http.StatusUnauthorized:
		s.count(func(st *Stats) { st.Unauthorized++ })
	case http.StatusForbidden:
		s.count(func(st *Stats) { st.Forbidden++ })
	}
	return status
}

func (s *Simulator) register(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.nextConn++
	var id [12]byte
	for i := range id {
		id[i] = byte(s.nextConn >> (8 * (i % 8)))
	}
	c.id = base64.StdEncoding.EncodeToString(id[:]) // connectionIds look like "L0SM9cOFvHcCIhw="
	s.clients[c] = struct{}{}
	s.notifyLocked()
	if !s.generating && s.cfg.ScanEvery > 0 {
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

// count updates the stats and wakes Wait.
func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.notifyLocked()
	s.mu.Unlock()
}

// readLoop reads the client's frames until the connection fails. The
// service is receive-only: like API Gateway without a matching route, it
// answers a data frame with {"message": "Forbidden", …}. A frame over
// MaxFrame closes the connection with 1009.
func (s *Simulator) readLoop(c *client) {
	for {
		_, rd, err := c.conn.Reader(c.ctx)
		if err != nil {
			return
		}
		n, err := io.Copy(io.Discard, io.LimitReader(rd, s.cfg.MaxFrame+1))
		if err != nil {
			return
		}
		c.last.Store(time.Now().UnixNano())
		if n > s.cfg.MaxFrame {
			s.count(func(st *Stats) { st.TooBigClosed++ })
			// Close is safe alongside the writer; it reads the rest
			// itself while waiting for the client's close frame.
			_ = c.conn.Close(websocket.StatusMessageTooBig, "Message too big")
			return
		}
		s.count(func(st *Stats) { st.ClientFrames++ })
		c.enqueue(fmt.Appendf(nil, `{"message": "Forbidden", "connectionId":%q, "requestId":%q}`, c.id, requestID()))
	}
}

func requestID() string {
	var b [12]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

func (s *Simulator) requestClose(c *client, code websocket.StatusCode, reason string) {
	select {
	case c.closeRq <- closeRequest{code, reason}:
	default: // a close is already pending
	}
}

// writeLoop is the only writer of c.conn. It also enforces the idle
// timeout and the maximum age.
func (s *Simulator) writeLoop(c *client) {
	var idleC, ageC <-chan time.Time
	idle := s.cfg.IdleTimeout
	var idleTimer *time.Timer
	if idle > 0 {
		idleTimer = time.NewTimer(idle)
		defer idleTimer.Stop()
		idleC = idleTimer.C
	}
	if s.cfg.MaxAge > 0 {
		t := time.NewTimer(s.cfg.MaxAge)
		defer t.Stop()
		ageC = t.C
	}
	closeWith := func(code websocket.StatusCode, reason string) {
		_ = c.conn.Close(code, reason)
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-s.life.Done():
			closeWith(websocket.StatusGoingAway, "simulator closing")
			return
		case rq := <-c.closeRq:
			closeWith(rq.code, rq.reason)
			return
		case <-idleC:
			quiet := time.Since(time.Unix(0, c.last.Load()))
			if quiet < idle {
				idleTimer.Reset(idle - quiet)
				continue
			}
			s.count(func(st *Stats) { st.IdleClosed++ })
			closeWith(websocket.StatusGoingAway, "Going away: idle timeout")
			return
		case <-ageC:
			s.count(func(st *Stats) { st.AgeClosed++ })
			closeWith(websocket.StatusGoingAway, "Going away: maximum connection duration")
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

// broadcast queues b for every connected client and records it.
func (s *Simulator) broadcast(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.enqueue(b)
	}
	if len(s.sent) == sentLen {
		copy(s.sent, s.sent[1:])
		s.sent = s.sent[:sentLen-1]
	}
	s.sent = append(s.sent, Frame{Data: b, Clients: len(s.clients)})
	s.notifyLocked()
}

// Silence makes the simulator stop (on) or resume (off) answering pings,
// as a half-open link would: the pings of a client are then counted but
// get no pong and do not count as activity.
func (s *Simulator) Silence(on bool) { s.silent.Store(on) }

// Clients returns the number of connected clients.
func (s *Simulator) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Stats returns the counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Sent returns the frames broadcast so far (the last 10 000), oldest first.
func (s *Simulator) Sent() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Frame(nil), s.sent...)
}

// Wait blocks until cond holds for the stats and the number of connected
// clients, or ctx is done. cond is called with the simulator's lock held:
// it must not call the simulator.
func (s *Simulator) Wait(ctx context.Context, cond func(st Stats, clients int) bool) error {
	for {
		s.mu.Lock()
		ok, changed := cond(s.stats, len(s.clients)), s.changed
		st, n := s.stats, len(s.clients)
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("proglovecloudsim: waiting (clients %d, stats %+v): %w", n, st, ctx.Err())
		case <-changed:
		}
	}
}

// WaitClients blocks until at least n clients are connected or ctx is done.
func (s *Simulator) WaitClients(ctx context.Context, n int) error {
	return s.Wait(ctx, func(_ Stats, clients int) bool { return clients >= n })
}

// DropClients cuts every connection abruptly, without a close handshake,
// as a network failure would, and returns how many it cut.
func (s *Simulator) DropClients() int {
	s.mu.Lock()
	var conns []*websocket.Conn
	n := len(s.clients)
	for c := range s.clients {
		c.cancel()
		if c.conn != nil {
			conns = append(conns, c.conn)
		}
		delete(s.clients, c)
	}
	if n > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	return n
}

// CloseClients closes every connection with code and reason (a clean close
// handshake, as API Gateway's own closes are) and returns how many. They
// stop receiving broadcasts at once.
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
		s.requestClose(c, code, reason)
	}
	return len(closing)
}
