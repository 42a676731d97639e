package proglovecloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	insight "github.com/fieldrelay/fieldrelay/proto/proglovecloud"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

const (
	// maxDiscard bounds how much of an oversize message is read and thrown
	// away before the connection is closed with 1009 instead.
	maxDiscard = 16 << 20
	// maxBuffered bounds the bytes of the new connection's frames held
	// back during a handover; past it the handover completes at once.
	maxBuffered = 8 << 20
)

// Link is a ProGlove Insight live-data connection. It implements
// connector.Link.
type Link struct {
	cfg    Config
	log    *slog.Logger
	status *connector.Status
	// Bad counts malformed upstream messages by kind.
	Bad connector.BadInput

	mu      sync.Mutex
	auth    authState
	secrets []string // the password and the current and previous tokens

	seen *recent // Run's goroutine only

	sockWG sync.WaitGroup // every socket's reader, pinger and closer

	logins, refreshes, connects, handovers, published, duplicates atomic.Uint64
}

var _ connector.Link = (*Link)(nil)

// New validates cfg, fills its defaults and returns a Link; Run connects
// it. Errors wrap ErrConfig and name every problem (never a secret).
func New(cfg Config) (*Link, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, log: cfg.Logger, seen: newRecent(cfg.DedupeWindow), secrets: []string{cfg.Password}}
	l.status = &connector.Status{Pub: cfg.Publisher, Link: cfg.Name, Protocol: Protocol, Logger: cfg.Logger}
	l.Bad = connector.BadInput{Link: cfg.Name, Logger: cfg.Logger}
	return l, nil
}

// Name implements connector.Link.
func (l *Link) Name() string { return l.cfg.Name }

// Status returns the link's last published state.
func (l *Link) Status() event.LinkStatus { return l.status.Current() }

// BadInputCounts returns the malformed upstream messages dropped, by kind.
func (l *Link) BadInputCounts() map[string]uint64 { return l.Bad.Counts() }

// Stats counts what the link has done since New.
type Stats struct {
	Logins     uint64 // USER_PASSWORD_AUTH successes
	Refreshes  uint64 // REFRESH_TOKEN_AUTH successes
	Connects   uint64 // sockets opened
	Handovers  uint64 // sockets that replaced a live one (make before break)
	Published  uint64 // events published
	Duplicates uint64 // events dropped as already published (same event_id)
}

// Stats returns the counters.
func (l *Link) Stats() Stats {
	return Stats{
		Logins: l.logins.Load(), Refreshes: l.refreshes.Load(), Connects: l.connects.Load(),
		Handovers: l.handovers.Load(), Published: l.published.Load(), Duplicates: l.duplicates.Load(),
	}
}

// Serves implements connector.Link: the live-data feed is receive-only.
func (l *Link) Serves(target, kind string) bool { return false }

// Command implements connector.Link; no command is served.
func (l *Link) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	return hub.CommandResult{Code: codes.NotImplemented, Message: "the Insight live-data feed takes no commands"}
}

// Run implements connector.Link.
func (l *Link) Run(ctx context.Context) error {
	bo := connector.Backoff{Min: time.Duration(l.cfg.MinBackoff), Max: time.Duration(l.cfg.MaxBackoff)}
	in := make(chan frame)
	stopped := func() error {
		l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
		return ctx.Err()
	}
	for {
		l.status.Set(ctx, event.LinkConnecting, "", bo.Attempt(), 0)
		s, err := l.open(ctx, in)
		if err == nil {
			bo.Reset()
			l.status.Set(ctx, event.LinkConnected, "", 0, 0)
			l.log.Info("proglovecloud link up", "link", l.cfg.Name, "url", connector.RedactURL(l.cfg.URL))
			err = l.serve(ctx, s, in)
		}
		if ctx.Err() != nil {
			return stopped()
		}
		reason := l.scrub(err.Error())
		var d time.Duration
		var re *RefusedError
		if errors.As(err, &re) {
			d = time.Duration(l.cfg.FailedRetry)
			l.log.Error("proglovecloud link failed", "link", l.cfg.Name, "reason", reason, "retry", d)
			l.status.Set(ctx, event.LinkFailed, reason, bo.Attempt(), d)
		} else {
			d = bo.Next()
			l.status.Set(ctx, event.LinkBackoff, reason, bo.Attempt(), d)
		}
		if connector.Sleep(ctx, d) != nil {
			return stopped()
		}
	}
}

// frame is one message read from a socket.
type frame struct {
	s        *socket
	typ      websocket.MessageType
	data     []byte
	oversize bool
	at       time.Time
}

// socket is one live-data connection with its reader and pinger.
type socket struct {
	conn    *websocket.Conn
	opened  time.Time
	ctx     context.Context // cancelled to stop the reader and pinger
	cancel  context.CancelFunc
	done    chan struct{} // closed when the reader has returned
	err     error         // why it returned; read after done
	closing atomic.Bool   // retire or bury has been called
	noPong  atomic.Bool   // the pinger dropped it
}

// upgradeError is a refused WebSocket upgrade.
type upgradeError struct{ status int }

func (e *upgradeError) Error() string {
	return fmt.Sprintf("the live-data socket refused the upgrade with HTTP %d %s", e.status, http.StatusText(e.status))
}

// open gets a token and opens a socket with it. A 401 or 403 at the
// upgrade refreshes the token and tries again, then logs in and tries
// again, then gives up with a RefusedError.
func (l *Link) open(ctx context.Context, in chan<- frame) (*socket, error) {
	if err := l.ensureToken(ctx, false); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		s, err := l.dial(ctx, in)
		var ue *upgradeError
		if err == nil || !errors.As(err, &ue) || (ue.status != http.StatusUnauthorized && ue.status != http.StatusForbidden) {
			return s, err
		}
		l.log.Info("proglovecloud: upgrade refused, renewing the token", "link", l.cfg.Name, "status", ue.status, "attempt", attempt)
		switch attempt {
		case 0:
			err = l.ensureToken(ctx, true)
		case 1:
			l.mu.Lock()
			l.auth.tokens = insight.Tokens{} // log in afresh
			l.mu.Unlock()
			err = l.ensureToken(ctx, false)
		default:
			return nil, &RefusedError{Reason: ue.Error() + " even with a fresh login; check token, stage and customer_id"}
		}
		if err != nil {
			return nil, err
		}
	}
}

// dial opens one socket with the current token and starts its reader and
// pinger. Errors never carry the URL's query.
func (l *Link) dial(ctx context.Context, in chan<- frame) (*socket, error) {
	customer := l.cfg.CustomerID
	if l.cfg.OmitCustomer {
		customer = ""
	}
	u, err := insight.LiveURL(l.cfg.URL, l.cfg.Stage, customer, l.socketToken())
	if err != nil {
		return nil, errors.New(l.scrub(err.Error()))
	}
	dctx, cancel := context.WithTimeout(ctx, time.Duration(l.cfg.DialTimeout))
	conn, resp, err := websocket.Dial(dctx, u, l.dialOptions())
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			return nil, &upgradeError{status: resp.StatusCode}
		}
		return nil, errors.New("dial: " + l.scrub(connector.RedactError(err, u)))
	}
	conn.SetReadLimit(-1) // read enforces MaxMessage, so an oversize message is dropped, not fatal
	s := &socket{conn: conn, opened: time.Now(), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	l.sockWG.Add(2)
	go func() {
		defer l.sockWG.Done()
		l.read(s, in)
	}()
	go func() {
		defer l.sockWG.Done()
		l.ping(s)
	}()
	l.connects.Add(1)
	return s, nil
}

// read reads s until it fails, handing every message to in.
func (l *Link) read(s *socket, in chan<- frame) {
	defer close(s.done)
	for {
		typ, rd, err := s.conn.Reader(s.ctx)
		if err != nil {
			s.err = err
			return
		}
		data, err := io.ReadAll(io.LimitReader(rd, l.cfg.MaxMessage+1))
		if err != nil {
			s.err = err
			return
		}
		f := frame{s: s, typ: typ, data: data, at: time.Now()}
		if int64(len(data)) > l.cfg.MaxMessage {
			f.data, f.oversize = nil, true
			n, err := io.Copy(io.Discard, io.LimitReader(rd, maxDiscard))
			if err != nil {
				s.err = err
				return
			}
			if n == maxDiscard {
				_ = s.conn.Close(websocket.StatusMessageTooBig, "message too big")
				s.err = fmt.Errorf("an upstream message passed %d bytes", maxDiscard)
				l.deliver(s, in, f)
				return
			}
		}
		if !l.deliver(s, in, f) {
			s.err = s.ctx.Err()
			return
		}
	}
}

func (l *Link) deliver(s *socket, in chan<- frame, f frame) bool {
	select {
	case in <- f:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// ping sends a WebSocket ping every PingInterval; a pong that does not
// come within PongTimeout drops the socket.
func (l *Link) ping(s *socket) {
	if l.cfg.PingInterval <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(l.cfg.PingInterval))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(s.ctx, time.Duration(l.cfg.PongTimeout))
		err := s.conn.Ping(pctx)
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				l.log.Warn("proglovecloud: no pong, dropping the connection", "link", l.cfg.Name)
				s.noPong.Store(true)
				_ = s.conn.CloseNow()
			}
			return
		}
	}
}

// retire closes s with a close handshake, in the background: the main
// loop keeps reading meanwhile. A socket that has already ended is
// buried instead.
func (l *Link) retire(s *socket, code websocket.StatusCode, reason string) {
	if ended(s) {
		l.bury(s)
		return
	}
	if !s.closing.CompareAndSwap(false, true) {
		return
	}
	l.sockWG.Add(1)
	go func() {
		defer l.sockWG.Done()
		_ = s.conn.Close(code, reason)
		s.cancel()
	}()
}

// bury releases a socket whose reader has returned.
func (l *Link) bury(s *socket) {
	if s.closing.CompareAndSwap(false, true) {
		_ = s.conn.CloseNow()
		s.cancel()
	}
}

func ended(s *socket) bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// closeReason describes why a socket ended, for the status.
func (l *Link) closeReason(s *socket) error {
	if s.noPong.Load() {
		return fmt.Errorf("connection dead: no pong within %v", time.Duration(l.cfg.PongTimeout))
	}
	var ce websocket.CloseError
	if errors.As(s.err, &ce) {
		return fmt.Errorf("upstream closed the connection: %d %s", int(ce.Code), ce.Reason)
	}
	return fmt.Errorf("connection lost: %s", l.scrub(fmt.Sprint(s.err)))
}

// pending is a decoded frame.
type pending struct {
	f    frame
	e    *insight.Event
	kind string // bad input kind, or ""
	err  error
}

func (p *pending) id() string {
	if p.e == nil {
		return ""
	}
	return p.e.EventID
}

func decode(f frame) pending {
	p := pending{f: f}
	switch {
	case f.oversize:
		p.kind, p.err = "oversize", errors.New("upstream message over the size limit")
	case f.typ != websocket.MessageText:
		p.kind, p.err = "binary", errors.New("binary frame")
	default:
		p.e, p.err = insight.Decode(f.data)
		if p.err != nil {
			p.kind = insight.ErrorKind(p.err)
		}
	}
	return p
}

// process publishes one decoded frame unless it is malformed or a
// duplicate.
func (l *Link) process(ctx context.Context, p pending) {
	if p.kind != "" {
		l.Bad.Note(p.kind, p.err)
		return
	}
	id := p.id()
	if id != "" && l.seen.seen(id) {
		l.duplicates.Add(1)
		return
	}
	outs, err := Normalize(p.e, l.cfg.Name, p.f.at)
	if err != nil {
		l.Bad.Note("limit", err)
		return
	}
	for _, o := range outs {
		if err := l.cfg.Publisher.Publish(ctx, o.Channel, o.Event); err != nil {
			l.log.Error("publish", "link", l.cfg.Name, "err", err)
			return
		}
	}
	if id != "" {
		l.seen.add(id)
	}
	l.published.Add(uint64(len(outs)))
}

// alarm is a timer whose channel is nil while it is not set.
type alarm struct {
	t *time.Timer
	C <-chan time.Time
}

func (a *alarm) set(d time.Duration) {
	a.stop()
	a.t = time.NewTimer(max(d, 0))
	a.C = a.t.C
}

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
		a.t = nil
	}
	a.C = nil
}

type prepared struct {
	s   *socket
	err error
}

// serve reads the link's sockets until none is left. It replaces the
// current socket when the token is due for refresh or the socket reaches
// MaxAge: make before break. The new socket's frames are held back until
// the old one has delivered a frame the new one also has (the streams
// have converged), the old one ends, or Overlap passes; then the old one is
// closed, what the new one holds that the old one delivered is dropped,
// and the rest is processed. Duplicates by event_id are dropped all along.
func (l *Link) serve(ctx context.Context, first *socket, in chan frame) error {
	cur := first
	sockets := []*socket{first}
	var (
		next      *socket
		held      []pending
		heldBytes int
		heldIDs   = map[string]bool{}
		lastOldID string // id of the last frame cur delivered while next was open
		prep      chan prepared
		hctx      context.Context
		hcancel   context.CancelFunc = func() {}
		refresh   alarm
		age       alarm
		overlap   alarm
		retry     alarm
		hbo       = connector.Backoff{Min: time.Duration(l.cfg.MinBackoff), Max: time.Duration(l.cfg.MaxBackoff)}
		curErr    error
	)
	defer func() {
		hcancel()
		if prep != nil {
			if p := <-prep; p.s != nil {
				sockets = append(sockets, p.s)
			}
		}
		refresh.stop()
		age.stop()
		overlap.stop()
		retry.stop()
		l.teardown(ctx, sockets, in)
	}()
	refresh.set(time.Until(l.refreshAt()))
	age.set(time.Until(cur.opened.Add(time.Duration(l.cfg.MaxAge))))

	startHandover := func(why string) {
		if prep != nil || next != nil {
			return
		}
		l.log.Info("proglovecloud: opening the next connection", "link", l.cfg.Name, "why", why)
		prep = make(chan prepared, 1)
		hctx, hcancel = context.WithCancel(ctx)
		go func(ctx context.Context, ch chan<- prepared) {
			if err := l.ensureToken(ctx, why == "token refresh"); err != nil {
				ch <- prepared{err: err}
				return
			}
			s, err := l.open(ctx, in)
			ch <- prepared{s, err}
		}(hctx, prep)
	}
	promote := func() {
		old := cur
		cur, next = next, nil
		if old != nil {
			if !ended(old) {
				l.handovers.Add(1)
			}
			l.retire(old, websocket.StatusNormalClosure, "replaced by a new connection")
		}
		// Forget the sockets that are gone; sockWG still waits for them.
		sockets = slices.DeleteFunc(sockets, func(s *socket) bool { return s.closing.Load() && ended(s) })
		start := 0
		if lastOldID != "" {
			for i := len(held) - 1; i >= 0; i-- {
				if held[i].id() == lastOldID {
					start = i + 1
					break
				}
			}
		}
		for _, p := range held[:start] {
			if p.id() != "" {
				l.duplicates.Add(1)
			}
		}
		for _, p := range held[start:] {
			l.process(ctx, p)
		}
		held, heldBytes, lastOldID = nil, 0, ""
		clear(heldIDs)
		overlap.stop()
		l.status.Set(ctx, event.LinkConnected, "", 0, 0) // clears a renewal problem
		refresh.set(time.Until(l.refreshAt()))
		age.set(time.Until(cur.opened.Add(time.Duration(l.cfg.MaxAge))))
		hbo.Reset()
	}
	// adopt makes s, the prepared socket, the next one. Its first frame
	// may come before the goroutine preparing it reports.
	adopt := func(s *socket) {
		sockets = append(sockets, s)
		next = s
		if cur == nil {
			promote()
			return
		}
		overlap.set(time.Duration(l.cfg.Overlap))
	}
	done := func(s *socket) <-chan struct{} {
		if s == nil {
			return nil
		}
		return s.done
	}

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()

		case f := <-in:
			if f.s != cur && f.s != next && !f.s.closing.Load() {
				adopt(f.s) // the socket being prepared spoke first
			}
			switch {
			case f.s == next:
				p := decode(f)
				held = append(held, p)
				heldBytes += len(f.data)
				if id := p.id(); id != "" {
					heldIDs[id] = true
				}
				if heldBytes > maxBuffered {
					promote()
				}
			case f.s == cur:
				p := decode(f)
				l.process(ctx, p)
				if id := p.id(); next != nil && id != "" {
					lastOldID = id
					if heldIDs[id] {
						promote() // converged: the new socket has everything from here on
					}
				}
			default:
				// A replaced socket still delivering: the new one has it.
			}

		case <-done(cur):
			curErr = l.closeReason(cur)
			l.log.Info("proglovecloud: connection ended", "link", l.cfg.Name, "reason", curErr.Error())
			switch {
			case next != nil:
				promote()
			case prep != nil:
				l.bury(cur)
				cur = nil // wait for the connection being prepared
				age.stop()
			default:
				return curErr
			}

		case <-done(next):
			l.log.Warn("proglovecloud: the next connection ended before taking over", "link", l.cfg.Name, "reason", l.closeReason(next).Error())
			l.bury(next)
			next, held, heldBytes, lastOldID = nil, nil, 0, ""
			clear(heldIDs)
			overlap.stop()
			retry.set(hbo.Next())

		case p := <-prep:
			prep = nil
			hcancel()
			if p.err != nil {
				if cur == nil {
					return fmt.Errorf("%w (then %s)", curErr, l.scrub(p.err.Error()))
				}
				d := hbo.Next()
				var re *RefusedError
				if errors.As(p.err, &re) {
					d = time.Duration(l.cfg.FailedRetry)
				}
				reason := l.scrub(p.err.Error())
				l.log.Warn("proglovecloud: could not open the next connection; keeping the current one", "link", l.cfg.Name, "err", reason, "retry", d)
				l.status.Set(ctx, event.LinkConnected, "could not renew the connection (retrying): "+reason, 0, 0)
				retry.set(d)
				continue
			}
			switch {
			case p.s.closing.Load():
				retry.set(hbo.Next()) // adopted early and already gone
			case p.s != next && p.s != cur:
				adopt(p.s)
			}

		case <-overlap.C:
			promote()
		case <-refresh.C:
			startHandover("token refresh")
		case <-age.C:
			startHandover("max age")
		case <-retry.C:
			startHandover("retry")
		}
	}
}

// teardown closes every socket and waits for their goroutines, reading
// (and dropping) what they still deliver meanwhile.
func (l *Link) teardown(ctx context.Context, sockets []*socket, in <-chan frame) {
	for _, s := range sockets {
		if ctx.Err() != nil {
			l.retire(s, websocket.StatusGoingAway, "link stopping")
		} else {
			l.retire(s, websocket.StatusNormalClosure, "")
		}
	}
	all := make(chan struct{})
	go func() {
		l.sockWG.Wait()
		close(all)
	}()
	for {
		select {
		case <-in:
		case <-all:
			return
		}
	}
}
