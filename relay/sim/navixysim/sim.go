package navixysim

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

// Errors returned by Start and the hooks.
var (
	ErrClosed         = errors.New("navixysim: simulator closed")
	ErrStarted        = errors.New("navixysim: already started")
	ErrUnknownTracker = errors.New("navixysim: unknown tracker")
)

// Stats counts what the simulator has seen. Counters only grow.
type Stats struct {
	Auths           int // successful user/auth calls
	AuthFailures    int // user/auth calls answered with an error
	TrackerLists    int // successful tracker/list calls
	Connections     int // sockets accepted
	Clients         int // sockets connected now
	Subscribes      int // subscribe actions answered with a response
	SubscribeErrors int // subscribe actions answered with an error
	Unsubscribes    int // unsubscribe actions answered with a response
	ClientBeats     int // "X" frames received
	TimedOut        int // sockets dropped for sending no "X" in time
	// LastAction is the last subscribe or unsubscribe received.
	LastAction navixy.Action
}

// Simulator is a simulated Navixy API. Create it with New, serve it with
// Start or as an http.Handler, stop it with Close.
//
// Lock order: Simulator.mu only; it is never held while writing to a
// connection (frames are queued).
type Simulator struct {
	cfg settings

	life     context.Context // cancelled by Close
	stop     context.CancelFunc
	wg       sync.WaitGroup
	closeOne sync.Once

	mu          sync.Mutex
	closed      bool
	started     bool
	srv         *http.Server
	clients     map[*client]struct{}
	changed     chan struct{} // closed and replaced on every change of stats or clients
	stats       Stats
	hashes      map[string]*session // issued hashes
	trackers    map[int64]*tracker
	order       []int64 // tracker ids in configuration order
	silent      bool
	lastQuery   url.Values
	generating  bool
	rng         *rand.Rand
	nextMoveIdx int
}

// session is a logged-in user's hash, or an API key.
type session struct {
	login   string
	key     bool // an API key: a logout does not end it
	expired bool
}

// tracker is a configured tracker and its current state.
type tracker struct {
	Tracker
	state navixy.State
}

// New returns a simulator configured by cfg (nil means all defaults). It
// starts no goroutine until a socket connects or Start is called.
func New(cfg *Config) *Simulator {
	s := &Simulator{
		cfg:      resolve(cfg),
		clients:  make(map[*client]struct{}),
		changed:  make(chan struct{}),
		hashes:   make(map[string]*session),
		trackers: make(map[int64]*tracker),
	}
	s.life, s.stop = context.WithCancel(context.Background())
	s.rng = rand.New(rand.NewPCG(s.cfg.seed, s.cfg.seed^0x4e617669)) // "Navi"
	now := navixy.MakeLocalTime(s.cfg.now(), s.cfg.loc)
	for _, t := range s.cfg.trackers {
		s.trackers[t.ID] = &tracker{Tracker: t, state: initialState(t, now)}
		s.order = append(s.order, t.ID)
	}
	return s
}

// initialState is a parked tracker at its configured position, shaped like
// the vendor's sample.
func initialState(t Tracker, now navixy.LocalTime) navixy.State {
	ign := false
	return navixy.State{
		SourceID: t.SourceID,
		GPS: &navixy.GPS{Updated: now, SignalLevel: 100, Location: &navixy.Location{Lat: t.Lat, Lng: t.Lng},
			Heading: t.Heading, Speed: 0, Alt: t.Alt},
		ConnectionStatus: navixy.ConnActive, MovementStatus: navixy.MovingParked, MovementStatusUpdate: now,
		Ignition: &ign, IgnitionUpdate: now, LastUpdate: now,
		Inputs: []bool{false, false}, InputsUpdate: now, Outputs: []bool{false, false}, OutputsUpdate: now,
		ActualTrackUpdate: now,
	}
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port) and
// returns the API base URL, e.g. http://127.0.0.1:PORT/v2: user/auth,
// tracker/list and event/subscription are under it. ctx bounds only the
// listen call; the server runs until Close.
func (s *Simulator) Start(ctx context.Context, addr string) (base string, err error) {
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
		return "", fmt.Errorf("navixysim: failed to listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
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
	return "http://" + ln.Addr().String() + s.cfg.prefix, nil
}

// Close stops everything, closes every socket with StatusGoingAway and
// waits for the simulator's goroutines. Idempotent; always returns nil.
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

// enter registers a request with the WaitGroup unless closed.
func (s *Simulator) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// ServeHTTP serves the API under Config.APIPrefix. After Close it answers
// 503.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	p, ok := strings.CutPrefix(r.URL.Path, s.cfg.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch strings.TrimSuffix(p, "/") {
	case "/user/auth":
		s.serveAuth(w, r)
	case "/tracker/list":
		s.serveTrackerList(w, r)
	case "/event/subscription":
		s.serveSocket(w, r)
	default:
		http.NotFound(w, r)
	}
}

// notifyLocked wakes Wait and WaitClients.
func (s *Simulator) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Stats returns the counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Clients = len(s.clients)
	return st
}

// Wait blocks until cond(Stats()) holds or ctx is done.
func (s *Simulator) Wait(ctx context.Context, cond func(Stats) bool) error {
	for {
		s.mu.Lock()
		st, changed := s.stats, s.changed
		st.Clients = len(s.clients)
		s.mu.Unlock()
		if cond(st) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("navixysim: waiting (stats %+v): %w", st, ctx.Err())
		case <-changed:
		}
	}
}

// WaitClients blocks until at least n sockets are connected or ctx is done.
func (s *Simulator) WaitClients(ctx context.Context, n int) error {
	return s.Wait(ctx, func(st Stats) bool { return st.Clients >= n })
}

// LastQuery returns the query of the last socket request.
func (s *Simulator) LastQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := make(url.Values, len(s.lastQuery))
	for k, v := range s.lastQuery {
		q[k] = append([]string(nil), v...)
	}
	return q
}

// newHash issues a session hash for login.
func (s *Simulator) newHashLocked(login string) string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails
	h := hex.EncodeToString(b[:])
	s.hashes[h] = &session{login: login}
	return h
}

// IssueHash issues an API key for the first configured user: a hash that
// works without a user/auth call and that Logout does not end (as the
// vendor's API keys); ExpireHashes does.
func (s *Simulator) IssueHash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.newHashLocked(s.cfg.users[0].Login)
	s.hashes[h].key = true
	return h
}

// checkHashLocked returns 0 for a usable hash, else the vendor's code:
// 3 for one never issued, 4 for an expired one.
func (s *Simulator) checkHashLocked(h string) int {
	sess, ok := s.hashes[strings.ToLower(h)]
	switch {
	case !ok:
		return navixy.CodeWrongHash
	case sess.expired:
		return navixy.CodeSessionEnded
	}
	return 0
}

// ExpireHashes ends every session silently: the next subscribe or
// tracker/list with one of the hashes gets error 4.
func (s *Simulator) ExpireHashes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.hashes {
		sess.expired = true
	}
}

// Silence stops (true) or resumes (false) the server's "X" heartbeats.
func (s *Simulator) Silence(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = on
}

func (s *Simulator) isSilent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.silent
}

// State returns a tracker's current state.
func (s *Simulator) State(trackerID int64) (navixy.State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trackers[trackerID]
	if !ok {
		return navixy.State{}, false
	}
	return t.state, true
}

func (s *Simulator) localNow() navixy.LocalTime {
	return navixy.MakeLocalTime(s.cfg.now(), s.cfg.loc)
}
