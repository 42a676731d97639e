package hub

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
)

// Sink is a session's transport, as the hub sees it.
type Sink interface {
	// Write writes one binary message. Only the session's writer calls it.
	Write(ctx context.Context, msg []byte) error
	// Close closes the transport with code. It must not block, and must
	// make a blocked Write return. Dead links (codes.PingTimeout) may be
	// dropped without a close frame.
	Close(code codes.Code, reason string)
}

// CommandRequest is a client's command, authorised and addressed.
type CommandRequest struct {
	Tenant  string
	Subject string
	ID      string // the client's idempotency key
	Target  string // channel
	Kind    string
	Body    []byte // msgp-encoded body of Kind: one msgpack value, or empty
}

// CommandResult is the outcome sent back to the client as a Reply.
type CommandResult struct {
	Code    codes.Code
	Message string
	Data    []byte // msgp-encoded, optional
}

// Commander carries commands to upstream links.
type Commander interface {
	Command(ctx context.Context, req CommandRequest) CommandResult
}

// Codec encodes the frames a session sends and decodes those it receives.
// A message may hold several frames: DecodeFrame returns what follows the
// first.
type Codec interface {
	AppendFrame(dst []byte, f proto.Frame) ([]byte, error)
	DecodeFrame(msg []byte) (f proto.Frame, rest []byte, err error)
}

// Msgpack is the protocol's codec (proto.AppendFrame, proto.DecodeFrame).
type Msgpack struct{}

// AppendFrame implements Codec.
func (Msgpack) AppendFrame(dst []byte, f proto.Frame) ([]byte, error) {
	return proto.AppendFrame(dst, f)
}

// DecodeFrame implements Codec.
func (Msgpack) DecodeFrame(msg []byte) (proto.Frame, []byte, error) { return proto.DecodeFrame(msg) }

// Config configures a Hub. Zero fields take the documented defaults.
type Config struct {
	Broker   broker.Broker // required
	Verifier auth.Verifier // required
	// Commander routes commands; nil answers every command NotFound.
	Commander Commander
	Logger    *slog.Logger // default: discard
	// Codec of the frames. Default Msgpack, the protocol's; the load
	// generator plugs in encoding/json to measure what msgpack buys.
	Codec Codec

	// Shards of the tenant table. Default 16.
	Shards int
	// QueueBytes bounds a session's queue of live frames. A session
	// whose queue would pass it is closed with codes.Slow. Recovery
	// replays are queued on top of it. Default 1 MiB.
	QueueBytes int
	// MaxBatch is the largest message the writer assembles from queued
	// frames (a single larger frame is still written alone). Default 64 KiB.
	MaxBatch int
	// MaxSubs per session. Default 128.
	MaxSubs int
	// MaxPendingCommands per session. Default 32.
	MaxPendingCommands int
	// MaxCommandBody in bytes. Default 16 KiB.
	MaxCommandBody int
	// MaxMessage is the inbound limit the transport enforces, announced to
	// clients in Connected. Default 64 KiB.
	MaxMessage int
	// PingInterval announced to clients. Default 25 s.
	PingInterval time.Duration
	// ConnectTimeout for the first frame. Default 10 s.
	ConnectTimeout time.Duration
	// WriteTimeout bounds one write to a client. Default 10 s.
	WriteTimeout time.Duration
	// CommandTimeout bounds a command's round trip. Default 30 s.
	CommandTimeout time.Duration

	// FrameRate bounds the frames a session may send per second, with
	// bursts of FrameBurst; a session over it is closed with
	// codes.RateLimited. Defaults 100 and 200.
	FrameRate  float64
	FrameBurst int
	// MaxConnsPerTenant and MaxConnsPerSubject bound the connections of a
	// tenant and of one token subject in it; the connection over the limit
	// is closed with codes.TooManyConns. Defaults 10 000 and 100.
	MaxConnsPerTenant  int
	MaxConnsPerSubject int
	// CommandRate bounds a tenant's commands per second, with bursts of
	// CommandBurst; a command over it is answered codes.LimitExceeded and
	// not sent. Defaults 50 and 100.
	CommandRate  float64
	CommandBurst int
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Shards, 16)
	def(&c.QueueBytes, 1<<20)
	def(&c.MaxBatch, 64<<10)
	def(&c.MaxSubs, 128)
	def(&c.MaxPendingCommands, 32)
	def(&c.MaxCommandBody, 16<<10)
	def(&c.MaxMessage, 64<<10)
	defd(&c.PingInterval, 25*time.Second)
	defd(&c.ConnectTimeout, 10*time.Second)
	defd(&c.WriteTimeout, 10*time.Second)
	defd(&c.CommandTimeout, 30*time.Second)
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	deff(&c.FrameRate, 100)
	def(&c.FrameBurst, 200)
	def(&c.MaxConnsPerTenant, 10_000)
	def(&c.MaxConnsPerSubject, 100)
	deff(&c.CommandRate, 50)
	def(&c.CommandBurst, 100)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Codec == nil {
		c.Codec = Msgpack{}
	}
}

// Stats are the hub's counters. Gauges go up and down; the rest only up.
type Stats struct {
	Sessions        atomic.Int64 // gauge
	QueuedBytes     atomic.Int64 // gauge: bytes in all session queues
	Tenants         atomic.Int64 // gauge: tenants with a follower
	PendingCommands atomic.Int64 // gauge
	Connects        atomic.Uint64
	Dispatched      atomic.Uint64 // events taken from the broker
	Deliveries      atomic.Uint64 // event frames queued to sessions
	Messages        atomic.Uint64 // WebSocket messages written
	Replayed        atomic.Uint64 // events replayed for recovery
	Recovered       atomic.Uint64 // subscribes with recovered=true
	NotRecovered    atomic.Uint64 // subscribes asking to recover, answered recovered=false
	SlowClosed      atomic.Uint64
	ProtocolErrors  atomic.Uint64
	AuthFailures    atomic.Uint64
	Resyncs         atomic.Uint64
	Commands        atomic.Uint64
	RateLimited     atomic.Uint64 // sessions closed for their frame rate
	ConnsRefused    atomic.Uint64 // connections over a tenant or subject limit
	CommandsLimited atomic.Uint64 // commands refused for the tenant's rate
}

// ErrShutdown is returned by Open once Shutdown has begun.
var ErrShutdown = errors.New("hub: shut down")

// Hub is the fan-out core. Create it with New.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	stats  Stats
	seed   maphash.Seed
	shards []shard

	ctx    context.Context // lives until Shutdown ends
	cancel context.CancelFunc
	wg     sync.WaitGroup // followers, writers, command goroutines

	mu       sync.Mutex
	closing  bool
	sessions map[*Session]struct{}
}

type shard struct {
	mu      sync.Mutex
	tenants map[string]*tenant
}

// New returns a Hub.
func New(cfg Config) *Hub {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger,
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, cfg.Shards),
		ctx:      ctx,
		cancel:   cancel,
		sessions: make(map[*Session]struct{}),
	}
	for i := range h.shards {
		h.shards[i].tenants = make(map[string]*tenant)
	}
	return h
}

// Stats returns the hub's live counters.
func (h *Hub) Stats() *Stats { return &h.stats }

// Config returns the effective configuration (defaults filled in).
func (h *Hub) Config() Config { return h.cfg }

func (h *Hub) shardOf(tenant string) *shard {
	return &h.shards[maphash.String(h.seed, tenant)%uint64(len(h.shards))]
}

// join adds s to its tenant, starting the tenant's follower if s is the
// first session.
// errTooManyConns is join's refusal of a connection over a limit.
var errTooManyConns = errors.New("hub: too many connections")

func (h *Hub) join(s *Session, name, subject string) (*tenant, error) {
	sh := h.shardOf(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.tenants[name]
	if t == nil {
		tail, err := h.cfg.Broker.Tail(h.ctx, name)
		if err != nil {
			return nil, err
		}
		t = newTenant(h, name, tail)
		sh.tenants[name] = t
		h.stats.Tenants.Add(1)
		t.start()
	}
	t.mu.Lock()
	if len(t.sessions) >= h.cfg.MaxConnsPerTenant || t.subjects[subject] >= h.cfg.MaxConnsPerSubject {
		t.mu.Unlock()
		if len(t.sessions) == 0 { // a tenant made for nothing
			delete(sh.tenants, name)
			h.stats.Tenants.Add(-1)
			t.stop()
		}
		return nil, errTooManyConns
	}
	t.sessions[s] = struct{}{}
	t.subjects[subject]++
	s.subject = subject
	t.mu.Unlock()
	return t, nil
}

// leave removes s from t, stopping t's follower if s was the last.
func (h *Hub) leave(s *Session, t *tenant) {
	sh := h.shardOf(t.name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t.mu.Lock()
	s.mu.Lock()
	for _, sb := range s.subs {
		t.root.remove(sb.pattern, sb)
	}
	clear(s.subs)
	s.mu.Unlock()
	if _, ok := t.sessions[s]; ok {
		if t.subjects[s.subject]--; t.subjects[s.subject] <= 0 {
			delete(t.subjects, s.subject)
		}
	}
	delete(t.sessions, s)
	empty := len(t.sessions) == 0
	t.mu.Unlock()
	if empty && sh.tenants[t.name] == t {
		delete(sh.tenants, t.name)
		h.stats.Tenants.Add(-1)
		t.stop()
	}
}

// Open starts a session on sink. The transport must then call Handle with
// every inbound message and Gone when it ends.
func (h *Hub) Open(sink Sink) (*Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, ErrShutdown
	}
	s := newSession(h, sink)
	h.sessions[s] = struct{}{}
	h.stats.Sessions.Add(1)
	h.wg.Add(1) // until the session ends (forget)
	return s, nil
}

func (h *Hub) forget(s *Session) {
	h.mu.Lock()
	if _, ok := h.sessions[s]; ok {
		delete(h.sessions, s)
		h.stats.Sessions.Add(-1)
		h.wg.Done()
	}
	h.mu.Unlock()
}

// Shutdown tells every session to reconnect (codes.Shutdown), flushes
// their queues, stops the tenants' followers and waits for every goroutine
// the hub started, or for ctx. It is idempotent.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	all := make([]*Session, 0, len(h.sessions))
	for s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.Close(codes.Shutdown, "relay shutting down")
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	h.cancel() // stops followers and in-flight commands
	<-done
	return err
}

// Drop closes every session (of one tenant, or of all if tenant is "")
// with code, and returns how many it closed. Operators use it to move
// clients to another node or to test recovery.
func (h *Hub) Drop(tenant string, code codes.Code, reason string) int {
	h.mu.Lock()
	var victims []*Session
	for s := range h.sessions {
		if tenant == "" || s.Tenant() == tenant {
			victims = append(victims, s)
		}
	}
	h.mu.Unlock()
	for _, s := range victims {
		s.Close(code, reason)
	}
	return len(victims)
}

// spawn runs fn on a goroutine the hub owns.
func (h *Hub) spawn(fn func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
}
