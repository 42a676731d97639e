package doshii

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	wire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Protocol is the value of Meta.Protocol on this connector's events.
const Protocol = "doshii"

// Link is a Doshii App socket. It implements connector.Link.
type Link struct {
	cfg    Config
	url    string // the address dialled; carries the credential
	token  string // auth, base64 of the client id
	log    *slog.Logger
	status *connector.Status
	bad    connector.BadInput
	budget budget
}

var _ connector.Link = (*Link)(nil)

// New validates cfg and returns a Link; Run connects it.
func New(cfg Config) (*Link, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := wire.SocketURL(cfg.URL, cfg.ClientID, cfg.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("doshii link %q: url: %w", cfg.Name, err)
	}
	l := &Link{
		cfg:    cfg,
		url:    u,
		token:  wire.AuthToken(cfg.ClientID),
		log:    cfg.Logger,
		budget: budget{max: cfg.RetryBudget, window: cfg.RetryWindow},
	}
	l.status = &connector.Status{Pub: cfg.Publisher, Link: cfg.Name, Protocol: Protocol, Logger: cfg.Logger}
	l.bad = connector.BadInput{Link: cfg.Name, Logger: cfg.Logger}
	return l, nil
}

// Name implements connector.Link.
func (l *Link) Name() string { return l.cfg.Name }

// BadInputCounts returns the malformed upstream messages dropped, by kind:
// the codec's ErrorKind labels, "oversize", and "fields".
func (l *Link) BadInputCounts() map[string]uint64 { return l.bad.Counts() }

// Status returns the link's last published state.
func (l *Link) Status() event.LinkStatus { return l.status.Current() }

// Serves implements connector.Link: the App socket carries no commands
// (Doshii takes them over REST).
func (l *Link) Serves(target, kind string) bool { return false }

// Command implements connector.Link; it is never routed here.
func (l *Link) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	return hub.CommandResult{Code: codes.NotFound, Message: "the doshii link takes no commands"}
}

// errNoPong ends a session whose peer stopped answering pings.
type errNoPong struct{ missed int }

func (e errNoPong) Error() string {
	return fmt.Sprintf("no pong to %d pings in a row", e.missed)
}

// refusedError is an upgrade the server answered with an HTTP status.
type refusedError struct {
	status int
	body   string // redacted
}

func (e *refusedError) Error() string {
	what := "the upgrade"
	if e.auth() {
		what = "the client credentials"
	}
	s := fmt.Sprintf("upstream refused %s (HTTP %d)", what, e.status)
	if e.body != "" {
		s += ": " + e.body
	}
	return s
}

// auth reports whether the refusal is about the credential: retrying
// will not help until someone fixes the client id or device.
func (e *refusedError) auth() bool {
	return e.status == http.StatusUnauthorized || e.status == http.StatusForbidden
}

// Run implements connector.Link: it connects, and reconnects with capped
// exponential backoff and full jitter, at most RetryBudget times per
// RetryWindow, until ctx ends.
func (l *Link) Run(ctx context.Context) error {
	bo := connector.Backoff{Min: l.cfg.MinBackoff, Max: l.cfg.MaxBackoff}
	stopped := func() error {
		l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
		return ctx.Err()
	}
	var last string // why the previous attempt ended, redacted
	for {
		if wait := l.budget.wait(time.Now()); wait > 0 {
			reason := fmt.Sprintf("retry budget exhausted: %d connection attempts within %v", l.budget.max, l.budget.window)
			if last != "" {
				reason += "; last: " + last
			}
			l.status.Set(ctx, event.LinkFailed, reason, bo.Attempt(), wait)
			if connector.Sleep(ctx, wait) != nil {
				return stopped()
			}
			continue
		}
		l.budget.record(time.Now())
		l.status.Set(ctx, event.LinkConnecting, "", bo.Attempt(), 0)
		healthy, err := l.session(ctx)
		if ctx.Err() != nil {
			return stopped()
		}
		if healthy {
			bo.Reset() // the link worked: start the next outage's backoff afresh
		}
		last = l.redact(err.Error())
		d := bo.Next()
		state := event.LinkBackoff
		var refused *refusedError
		if errors.As(err, &refused) && refused.auth() {
			state = event.LinkFailed
		}
		l.status.Set(ctx, state, last, bo.Attempt(), d)
		if connector.Sleep(ctx, d) != nil {
			return stopped()
		}
	}
}

// session dials once and serves the connection until it fails. healthy
// reports that the server answered a ping.
func (l *Link) session(ctx context.Context) (healthy bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	c, resp, err := websocket.Dial(dctx, l.url, nil)
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != 0 && resp.StatusCode != http.StatusSwitchingProtocols {
			return false, &refusedError{status: resp.StatusCode, body: l.responseBody(resp)}
		}
		return false, err
	}
	defer c.CloseNow()
	c.SetReadLimit(-1) // readMessage bounds messages itself, without dropping the link
	l.status.Set(ctx, event.LinkConnected, "", 0, 0)
	l.log.Info("doshii link up", "link", l.cfg.Name, "url", connector.RedactURL(l.url))

	s := &session{l: l, c: c}
	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if err := s.ping(sctx); err != nil { // "to complete the handshake"
		return false, err
	}
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		s.heartbeat(sctx, stop)
	}()
	defer func() {
		stop(nil)
		<-hbDone
	}()

	var buf bytes.Buffer
	for {
		msg, err := s.readMessage(sctx, &buf)
		if err != nil {
			if cause := context.Cause(sctx); cause != nil && ctx.Err() == nil {
				err = cause // the heartbeat gave up on the link
			}
			return s.pongs.Load() > 0, err
		}
		if msg == nil {
			continue
		}
		if err := s.handle(sctx, msg); err != nil {
			return s.pongs.Load() > 0, err
		}
	}
}

// session is one connection's state.
type session struct {
	l     *Link
	c     *websocket.Conn
	pongs atomic.Uint64 // pongs received
}

// ping sends a heartbeat.
func (s *session) ping(ctx context.Context) error {
	b, err := wire.EncodePing(wire.EnvelopeBare, wire.Ping{Time: time.Now().UnixMilli(), Version: s.l.cfg.AppVersion})
	if err != nil {
		return err
	}
	return s.write(ctx, b)
}

func (s *session) write(ctx context.Context, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, max(s.l.cfg.PingInterval, time.Second))
	defer cancel()
	return s.c.Write(wctx, websocket.MessageText, b)
}

// heartbeat pings every PingInterval; when MissedPongs pings in a row went
// unanswered it ends the session (stop's cause says why).
func (s *session) heartbeat(ctx context.Context, stop context.CancelCauseFunc) {
	t := time.NewTicker(s.l.cfg.PingInterval)
	defer t.Stop()
	seen, missed := s.pongs.Load(), 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n := s.pongs.Load(); n != seen {
			seen, missed = n, 0
		} else {
			missed++
		}
		if missed >= s.l.cfg.MissedPongs {
			s.l.log.Warn("doshii link: no pong, redialling", "link", s.l.cfg.Name, "missed", missed)
			stop(errNoPong{missed})
			return
		}
		if err := s.ping(ctx); err != nil {
			stop(fmt.Errorf("sending a ping: %w", err))
			return
		}
	}
}

// readMessage reads one message. A message over MaxMessage is read to its
// end, counted and dropped: it returns nil, nil.
func (s *session) readMessage(ctx context.Context, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := s.c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	buf.Reset()
	limit := s.l.cfg.MaxMessage
	n, err := io.Copy(buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		rest, err := io.Copy(io.Discard, r)
		if err != nil {
			return nil, err
		}
		s.l.bad.Note("oversize", fmt.Errorf("a message of %d bytes, over the limit of %d", n+rest, limit))
		return nil, nil
	}
	// Text and binary messages alike carry JSON.
	return buf.Bytes(), nil
}

// handle processes one message; an error ends the session.
func (s *session) handle(ctx context.Context, msg []byte) error {
	received := time.Now()
	f, err := wire.Decode(msg)
	if err != nil {
		s.l.bad.Note(wire.ErrorKind(err), err)
		return nil
	}
	switch f := f.(type) {
	case *wire.Pong:
		s.pongs.Add(1)
	case *wire.Ping:
		// A server ping or a health check: echo its time.
		b, err := wire.EncodePong(wire.EnvelopeBare, wire.Pong{Time: f.Time, Version: s.l.cfg.AppVersion})
		if err != nil {
			return err
		}
		if err := s.write(ctx, b); err != nil {
			return fmt.Errorf("answering a ping: %w", err)
		}
	case *wire.Event:
		outs, dropped := Normalize(f, s.l.cfg.Name, received)
		if dropped != nil {
			s.l.bad.Note("fields", dropped)
		}
		for _, o := range outs {
			if err := s.l.cfg.Publisher.Publish(ctx, o.Channel, o.Event); err != nil {
				return fmt.Errorf("publishing: %w", err)
			}
		}
	}
	return nil
}

// responseBody returns a refused upgrade's body as one short printable
// line, with the credential removed.
func (l *Link) responseBody(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.TrimSpace(string(b)))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return l.redact(s)
}

// redact removes every form of the credential from s: the dialled URL, its
// query, the auth token (plain and query-escaped) and the client id.
func (l *Link) redact(s string) string {
	s = connector.RedactError(errors.New(s), l.url)
	// The token without its padding, as sent, escaped, form-decoded
	// ('+' as space) and in the URL-safe alphabet.
	core := strings.TrimRight(l.token, "=")
	secrets := []string{
		l.token, url.QueryEscape(l.token), core,
		strings.NewReplacer("+", "%2B", "/", "%2F").Replace(core),
		strings.NewReplacer("+", "%2b", "/", "%2f").Replace(core),
		strings.ReplaceAll(core, "+", " "),
		strings.NewReplacer("+", "-", "/", "_").Replace(core),
	}
	if len(l.cfg.ClientID) >= 4 { // shorter ids would mangle the text; they are not secrets worth the name
		secrets = append(secrets, l.cfg.ClientID)
	}
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}

// budget limits connection attempts to max within any window.
type budget struct {
	max    int // <0: no limit
	window time.Duration
	times  []time.Time // attempts within the window, oldest first
}

// wait returns how long until another attempt is allowed (0: now).
func (b *budget) wait(now time.Time) time.Duration {
	if b.max < 0 {
		return 0
	}
	for len(b.times) > 0 && now.Sub(b.times[0]) >= b.window {
		b.times = b.times[1:]
	}
	if len(b.times) < b.max {
		return 0
	}
	return b.times[0].Add(b.window).Sub(now)
}

// record counts an attempt made now.
func (b *budget) record(now time.Time) {
	if b.max >= 0 {
		b.times = append(b.times, now)
	}
}
