package hub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/google/uuid"
)

// ErrClosed is returned by Handle once the session is closing.
var ErrClosed = errors.New("hub: session closed")

// Session is one client connection. Handle and Gone are called by the
// transport from one goroutine; Close may be called from any.
type Session struct {
	h    *Hub
	id   string
	sink Sink

	// Guarded by tenant.mu.
	stamp uint64

	frames  *bucket // inbound frame rate; read by Handle only
	subject string  // the token subject counted in tenant.subjects; tenant.mu

	mu      sync.Mutex
	claims  *auth.Claims
	tenant  *tenant
	subs    map[uint32]*sub
	pending int
	timer   *time.Timer // connect deadline, then token expiry
	leaving bool

	qmu      sync.Mutex
	queue    []qitem
	qhead    int
	qbytes   int // all queued bytes
	qforced  int // queued bytes exempt from the limit
	closing  bool
	code     codes.Code
	reason   string
	graceful bool
	writing  bool // a writer goroutine is running
	ended    bool // the session has ended: no writer will run again
}

type qitem struct {
	b      []byte
	forced bool
}

func newSession(h *Hub, sink Sink) *Session {
	s := &Session{
		h:      h,
		id:     uuid.NewString(),
		sink:   sink,
		subs:   make(map[uint32]*sub),
		frames: newBucket(h.cfg.FrameRate, h.cfg.FrameBurst),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = time.AfterFunc(h.cfg.ConnectTimeout, func() {
		s.mu.Lock()
		connected := s.claims != nil
		s.mu.Unlock()
		if !connected {
			s.Close(codes.ConnectTimeout, "no connect frame")
		}
	})
	return s
}

// ID is the session's client id, as sent in Connected.
func (s *Session) ID() string { return s.id }

// Tenant returns the tenant named by the session's token ("" before
// Connect).
func (s *Session) Tenant() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims == nil {
		return ""
	}
	return s.claims.Tenant
}

// enqueue queues a frame for the writer. Unless forced, it fails (and
// queues nothing) when the queue's unforced bytes would pass the limit.
func (s *Session) enqueue(b []byte, forced bool) bool {
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		return true // dropped: the session is going away anyway
	}
	if !forced && s.qbytes-s.qforced+len(b) > s.h.cfg.QueueBytes {
		s.qmu.Unlock()
		return false
	}
	s.queue = append(s.queue, qitem{b, forced})
	s.qbytes += len(b)
	if forced {
		s.qforced += len(b)
	}
	s.qmu.Unlock()
	s.h.stats.QueuedBytes.Add(int64(len(b)))
	s.kick()
	return true
}

// kick starts the session's writer unless it is running or the session
// has ended. An idle session has no goroutine of its own in the hub: the
// writer runs while there is something to write and exits when the queue
// is empty, which keeps an idle connection's cost to its transport.
func (s *Session) kick() {
	s.qmu.Lock()
	start := !s.writing && !s.ended
	s.writing = start || s.writing
	s.qmu.Unlock()
	if start {
		go s.write()
	}
}

func (s *Session) send(f proto.Frame) {
	b, err := s.h.cfg.Codec.AppendFrame(nil, f)
	if err != nil {
		s.h.log.Error("encode frame", "type", f.FrameType(), "err", err)
		return
	}
	if !s.enqueue(b, false) {
		s.h.stats.SlowClosed.Add(1)
		s.Close(codes.Slow, "client queue overflow")
	}
}

func (s *Session) reply(req uint32, code codes.Code, msg string, data []byte) {
	s.send(&proto.Reply{Req: req, Code: uint16(code), Message: msg, Data: data})
}

// Close ends the session with code: it stops delivery at once and, unless
// the link is dead or the client too slow, flushes what is queued plus a
// Disconnect frame before closing the transport. Idempotent.
func (s *Session) Close(code codes.Code, reason string) {
	graceful := code != codes.Slow && code != codes.PingTimeout && code != codes.Abnormal
	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		return
	}
	s.closing, s.code, s.reason, s.graceful = true, code, reason, graceful
	if !graceful {
		s.dropQueueLocked()
	}
	s.qmu.Unlock()
	s.detach()
	if !graceful {
		s.sink.Close(code, reason)
	}
	s.kick()
}

func (s *Session) dropQueueLocked() {
	s.h.stats.QueuedBytes.Add(-int64(s.qbytes))
	clear(s.queue)
	s.queue, s.qhead, s.qbytes, s.qforced = nil, 0, 0, 0
}

// Gone tells the session its transport has ended (read error or close).
func (s *Session) Gone() {
	s.qmu.Lock()
	if !s.closing {
		s.closing, s.code, s.reason = true, codes.Abnormal, "transport gone"
	}
	s.graceful = false
	s.dropQueueLocked()
	s.qmu.Unlock()
	s.detach()
	s.kick()
}

// detach removes the session from its tenant and stops its timer.
func (s *Session) detach() {
	s.mu.Lock()
	if s.leaving {
		s.mu.Unlock()
		return
	}
	s.leaving = true
	t := s.tenant
	s.timer.Stop()
	s.mu.Unlock()
	if t != nil {
		s.h.leave(s, t)
	}
}

// batchPool holds writers' batch buffers between runs, so idle sessions
// keep none.
var batchPool = sync.Pool{New: func() any { return new([]byte) }}

// write is the session's writer, started by kick; at most one runs at a
// time. It writes everything queued, batched into messages of up to
// MaxBatch, and exits when the queue is empty; when the session is
// closing it writes the Disconnect frame (if graceful), closes the
// transport and ends the session.
func (s *Session) write() {
	bp := batchPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 4*s.h.cfg.MaxBatch { // do not pool a huge replay buffer
			batchPool.Put(bp)
		}
	}()
	for {
		s.qmu.Lock()
		if s.closing && !s.graceful {
			s.endLocked()
			s.h.forget(s)
			return
		}
		buf := (*bp)[:0]
		taken, forced := 0, 0
		for s.qhead < len(s.queue) {
			it := s.queue[s.qhead]
			if len(buf) > 0 && len(buf)+len(it.b) > s.h.cfg.MaxBatch {
				break
			}
			buf = append(buf, it.b...)
			taken += len(it.b)
			if it.forced {
				forced += len(it.b)
			}
			s.queue[s.qhead] = qitem{}
			s.qhead++
		}
		*bp = buf
		if s.qhead == len(s.queue) {
			s.queue, s.qhead = s.queue[:0], 0
		}
		s.qbytes -= taken
		s.qforced -= forced
		closing, code, reason := s.closing, s.code, s.reason
		if len(buf) == 0 {
			if closing {
				s.endLocked()
				s.finish(code, reason)
				s.h.forget(s)
				return
			}
			// Idle: release the queue's array (it may have grown under a
			// burst) and exit. A frame queued from here on starts a new
			// writer: enqueue takes qmu after this.
			s.queue = nil
			s.writing = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()
		s.h.stats.QueuedBytes.Add(-int64(taken))

		ctx, cancel := context.WithTimeout(s.h.ctx, s.h.cfg.WriteTimeout)
		err := s.sink.Write(ctx, buf)
		cancel()
		if err != nil {
			s.Close(codes.Abnormal, "write failed")
			s.qmu.Lock()
			s.endLocked()
			s.h.forget(s)
			return
		}
		s.h.stats.Messages.Add(1)
	}
}

// endLocked marks the session ended (no writer will start again) and
// releases qmu; the writer then forgets it, which is when Hub.Shutdown
// stops waiting for it. s.qmu held.
func (s *Session) endLocked() {
	s.ended, s.writing = true, false
	s.qmu.Unlock()
}

// finish writes the Disconnect frame and closes the transport.
func (s *Session) finish(code codes.Code, reason string) {
	d := proto.Disconnect{Code: uint16(code), Reason: reason, Reconnect: code.Reconnect()}
	if b, err := s.h.cfg.Codec.AppendFrame(nil, &d); err == nil {
		ctx, cancel := context.WithTimeout(s.h.ctx, s.h.cfg.WriteTimeout)
		_ = s.sink.Write(ctx, b)
		cancel()
	}
	s.sink.Close(code, reason)
}

// Handle processes one inbound message. A non-nil error means the session
// has been closed (protocol error, bad token); the transport should stop
// reading.
func (s *Session) Handle(msg []byte) error {
	s.qmu.Lock()
	closing := s.closing
	s.qmu.Unlock()
	if closing {
		return ErrClosed
	}
	if len(msg) == 0 {
		return s.protocolError("empty message")
	}
	for len(msg) > 0 {
		f, rest, err := s.h.cfg.Codec.DecodeFrame(msg)
		if err != nil {
			return s.protocolError(err.Error())
		}
		msg = rest
		if !s.frames.take(time.Now()) {
			s.h.stats.RateLimited.Add(1)
			s.Close(codes.RateLimited, fmt.Sprintf("over %g frames a second", s.h.cfg.FrameRate))
			return ErrClosed
		}
		if err := s.handleFrame(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) protocolError(why string) error {
	s.h.stats.ProtocolErrors.Add(1)
	s.h.log.Debug("protocol error", "client", s.id, "err", why)
	s.Close(codes.ProtocolError, truncate(why, 120))
	return fmt.Errorf("hub: protocol error: %s", why)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Session) handleFrame(f proto.Frame) error {
	s.mu.Lock()
	connected := s.claims != nil
	s.mu.Unlock()
	if c, ok := f.(*proto.Connect); ok {
		if connected {
			return s.protocolError("second connect")
		}
		return s.connect(c)
	}
	if !connected {
		return s.protocolError("first frame must be connect, got " + f.FrameType().String())
	}
	switch f := f.(type) {
	case *proto.Subscribe:
		s.subscribe(f)
	case *proto.Unsubscribe:
		if s.tenantOf().unsubscribe(s, f.Sub) {
			s.reply(f.Req, codes.OK, "", nil)
		} else {
			s.reply(f.Req, codes.NotFound, "no such subscription", nil)
		}
	case *proto.Command:
		s.command(f)
	case *proto.Refresh:
		s.refresh(f)
	case *proto.Ping:
		s.send(&proto.Pong{Req: f.Req})
	default:
		return s.protocolError("unexpected frame " + f.FrameType().String())
	}
	return nil
}

func (s *Session) tenantOf() *tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenant
}

func (s *Session) connect(c *proto.Connect) error {
	cl, err := s.h.cfg.Verifier.Verify(c.Token)
	if err != nil {
		s.h.stats.AuthFailures.Add(1)
		if errors.Is(err, auth.ErrExpired) {
			s.Close(codes.TokenExpired, "token expired")
		} else {
			s.Close(codes.InvalidToken, "invalid token")
		}
		return err
	}
	t, err := s.h.join(s, cl.Tenant, cl.Subject)
	if errors.Is(err, errTooManyConns) {
		s.h.stats.ConnsRefused.Add(1)
		s.Close(codes.TooManyConns, "connection limit of the tenant or subject reached")
		return err
	}
	if err != nil {
		s.Close(codes.ServerFault, "tenant unavailable")
		return err
	}
	s.mu.Lock()
	if s.leaving { // closed while joining
		s.mu.Unlock()
		s.h.leave(s, t)
		return ErrClosed
	}
	s.claims, s.tenant = cl, t
	s.armExpiry(cl.Expires)
	s.mu.Unlock()
	s.h.stats.Connects.Add(1)
	cfg := s.h.cfg
	var exp int64
	if !cl.Expires.IsZero() {
		exp = cl.Expires.Unix()
	}
	s.send(&proto.Connected{
		Client:     s.id,
		PingMillis: uint32(cfg.PingInterval / time.Millisecond),
		Expires:    exp,
		Limits: proto.Limits{
			MaxMessage:    uint32(cfg.MaxMessage),
			MaxSubs:       uint32(cfg.MaxSubs),
			MaxPendingCmd: uint32(cfg.MaxPendingCommands),
		},
	})
	return nil
}

// armExpiry (re)sets the session timer to the token's expiry. s.mu held.
func (s *Session) armExpiry(exp time.Time) {
	s.timer.Stop()
	if exp.IsZero() {
		return
	}
	s.timer = time.AfterFunc(time.Until(exp), func() {
		s.Close(codes.TokenExpired, "token expired")
	})
}

func (s *Session) subscribe(f *proto.Subscribe) {
	if err := channel.ValidPattern(f.Pattern); err != nil {
		s.reply(f.Req, codes.BadRequest, err.Error(), nil)
		return
	}
	s.mu.Lock()
	allowed := s.claims.CanSubscribe(f.Pattern)
	_, replace := s.subs[f.Sub]
	full := !replace && len(s.subs) >= s.h.cfg.MaxSubs
	t := s.tenant
	s.mu.Unlock()
	switch {
	case !allowed:
		s.reply(f.Req, codes.Forbidden, "pattern not allowed by token", nil)
		return
	case full:
		s.reply(f.Req, codes.LimitExceeded, fmt.Sprintf("at most %d subscriptions", s.h.cfg.MaxSubs), nil)
		return
	}
	if err := t.subscribe(s.h.ctx, s, f); err != nil {
		s.h.log.Error("subscribe", "tenant", t.name, "err", err)
		s.reply(f.Req, codes.Internal, "history unavailable", nil)
	}
}

func (s *Session) command(f *proto.Command) {
	if err := channel.Valid(f.Target); err != nil {
		s.reply(f.Req, codes.BadRequest, "target: "+err.Error(), nil)
		return
	}
	if f.Kind == "" || f.ID == "" || len(f.ID) > 128 {
		s.reply(f.Req, codes.BadRequest, "command needs a kind and an id of at most 128 bytes", nil)
		return
	}
	if len(f.Body) > s.h.cfg.MaxCommandBody {
		s.reply(f.Req, codes.TooLarge, fmt.Sprintf("body over %d bytes", s.h.cfg.MaxCommandBody), nil)
		return
	}
	// The frame carries the body as a bin, which the codec does not look
	// into: links are handed exactly one msgpack value, or none.
	if len(f.Body) > 0 {
		if rest, err := wire.Skip(f.Body); err != nil || len(rest) != 0 {
			s.reply(f.Req, codes.BadRequest, "body is not one msgpack value", nil)
			return
		}
	}
	s.mu.Lock()
	cl := s.claims
	allowed := cl.CanCommand(f.Target)
	full := s.pending >= s.h.cfg.MaxPendingCommands
	t := s.tenant
	// The tenant's rate is spent only by commands that would be sent.
	limited := allowed && !full && !t.commands.take(time.Now())
	if allowed && !full && !limited {
		s.pending++
	}
	s.mu.Unlock()
	switch {
	case !allowed:
		s.reply(f.Req, codes.Forbidden, "target not allowed by token", nil)
		return
	case full:
		s.reply(f.Req, codes.LimitExceeded, "too many pending commands", nil)
		return
	case limited:
		s.h.stats.CommandsLimited.Add(1)
		s.reply(f.Req, codes.LimitExceeded, fmt.Sprintf("the tenant's commands are over %g a second", s.h.cfg.CommandRate), nil)
		return
	}
	s.h.stats.Commands.Add(1)
	s.h.stats.PendingCommands.Add(1)
	req := CommandRequest{Tenant: cl.Tenant, Subject: cl.Subject, ID: f.ID, Target: f.Target, Kind: f.Kind, Body: f.Body}
	s.h.spawn(func() {
		defer func() {
			s.mu.Lock()
			s.pending--
			s.mu.Unlock()
			s.h.stats.PendingCommands.Add(-1)
		}()
		res := CommandResult{Code: codes.NotFound, Message: "no upstream link serves commands"}
		if s.h.cfg.Commander != nil {
			ctx, cancel := context.WithTimeout(s.h.ctx, s.h.cfg.CommandTimeout)
			res = s.h.cfg.Commander.Command(ctx, req)
			cancel()
		}
		s.reply(f.Req, res.Code, res.Message, res.Data)
	})
}

func (s *Session) refresh(f *proto.Refresh) {
	cl, err := s.h.cfg.Verifier.Verify(f.Token)
	if err != nil {
		s.h.stats.AuthFailures.Add(1)
		s.reply(f.Req, codes.Unauthorized, "token rejected", nil)
		return
	}
	s.mu.Lock()
	same := cl.Tenant == s.claims.Tenant && cl.Subject == s.claims.Subject
	// A token that no longer allows a live subscription is refused: the
	// session keeps the grants it has until the old token expires (then
	// it closes with TOKEN_EXPIRED, and a reconnect with the new token is
	// refused the subscriptions it does not allow). The relay never goes
	// on serving a pattern under a token that does not grant it.
	var denied string
	if same {
		for _, sb := range s.subs {
			if !cl.CanSubscribe(sb.pattern) {
				denied = sb.pattern
				break
			}
		}
	}
	if same && denied == "" {
		s.claims = cl
		s.armExpiry(cl.Expires)
	}
	s.mu.Unlock()
	switch {
	case !same:
		s.reply(f.Req, codes.Unauthorized, "token names another tenant or subject", nil)
	case denied != "":
		s.reply(f.Req, codes.Forbidden, "token does not allow the live subscription "+strconv.Quote(denied)+"; unsubscribe first", nil)
	default:
		s.reply(f.Req, codes.OK, "", nil)
	}
}
