package navixy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/atmosphere"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Link is a connection to a Navixy account's event socket. It implements
// connector.Link.
type Link struct {
	cfg    *settings
	log    *slog.Logger
	status *connector.Status
	bad    connector.BadInput

	// Owned by Run's goroutine.
	hash       string               // the session hash; "" = log in first
	trackers   map[int64]nx.Tracker // by source id, from tracker/list
	listed     bool                 // trackers loaded for hash
	last       map[int64]nx.State   // last state published, by source id
	subscribed map[int64]string     // last subscription status published, by tracker id
	labels     map[int64]string     // tracker labels, by tracker id

	mu       sync.Mutex
	statuses map[int64]string // the subscribe response's statuses, for Statuses
}

var _ connector.Link = (*Link)(nil)

// New validates cfg and returns a Link; Run connects it.
func New(cfg Config) (*Link, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	l := &Link{
		cfg: s, log: s.Logger,
		last: make(map[int64]nx.State), subscribed: make(map[int64]string), labels: make(map[int64]string),
	}
	l.status = &connector.Status{Pub: s.Publisher, Link: s.Name, Protocol: Protocol, Logger: s.Logger}
	l.bad = connector.BadInput{Link: s.Name, Logger: s.Logger}
	return l, nil
}

// Name implements connector.Link.
func (l *Link) Name() string { return l.cfg.Name }

// BadInputCounts returns the upstream input dropped (or, for
// "unknown_source", published unmapped), by kind.
func (l *Link) BadInputCounts() map[string]uint64 { return l.bad.Counts() }

// Status returns the link's last published state.
func (l *Link) Status() event.LinkStatus { return l.status.Current() }

// Statuses returns each tracker's status in the last subscribe response
// (normal, blocked, unknown, disallowed), updated by lifecycle events.
func (l *Link) Statuses() map[int64]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int64]string, len(l.statuses))
	for k, v := range l.statuses {
		out[k] = v
	}
	return out
}

// Serves implements connector.Link: the vendor's socket takes no commands.
func (l *Link) Serves(target, kind string) bool { return false }

// Command implements connector.Link.
func (l *Link) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	return hub.CommandResult{Code: codes.NotFound, Message: "link " + l.cfg.Name + " carries no commands"}
}

// errRelogin: the hash is no longer good (error 3 or 4, or logout).
type errRelogin struct{ why string }

func (e *errRelogin) Error() string { return e.why }

// errFailed: retrying soon will not help (refused credentials or
// subscription): the link reports "failed" and retries every MaxBackoff.
type errFailed struct{ err error }

func (e *errFailed) Error() string { return e.err.Error() }
func (e *errFailed) Unwrap() error { return e.err }

// Run implements connector.Link: it keeps the subscription up until ctx
// ends, and returns ctx.Err() then.
func (l *Link) Run(ctx context.Context) error {
	bo := connector.Backoff{Min: l.cfg.minBackoff, Max: l.cfg.maxBackoff}
	for {
		l.status.Set(ctx, event.LinkConnecting, "", bo.Attempt(), 0)
		err := l.attempt(ctx, &bo)
		if ctx.Err() != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
		state, d := event.LinkBackoff, bo.Next()
		var failed *errFailed
		if errors.As(err, &failed) {
			state, d = event.LinkFailed, l.cfg.maxBackoff
		}
		why := l.redact(err)
		if state == event.LinkFailed {
			l.log.Error("navixy link failed", "link", l.cfg.Name, "err", why, "retry", d)
		} else {
			l.log.Warn("navixy link down", "link", l.cfg.Name, "err", why, "retry", d)
		}
		l.status.Set(ctx, state, why, bo.Attempt(), d)
		if connector.Sleep(ctx, d) != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
	}
}

// redact removes every secret from an error's text: URLs (with their
// queries) and the hash and password, should a library quote them.
func (l *Link) redact(err error) string {
	s := connector.RedactError(err, l.cfg.BaseURL)
	s = connector.RedactError(errors.New(s), l.cfg.socketURL)
	for _, secret := range []string{l.hash, l.cfg.APIKey, l.cfg.Password} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// attempt logs in if needed, then runs one socket session.
func (l *Link) attempt(ctx context.Context, bo *connector.Backoff) error {
	if err := l.ensureSession(ctx); err != nil {
		return err
	}
	err := l.session(ctx, bo)
	var relog *errRelogin
	if errors.As(err, &relog) {
		if l.cfg.APIKey != "" && !strings.HasPrefix(relog.why, "logout") {
			return &errFailed{fmt.Errorf("api key refused: %s", relog.why)}
		}
		l.hash, l.listed = "", false
	}
	return err
}

// ensureSession gets a hash (user/auth or the API key) and the tracker
// list for it.
func (l *Link) ensureSession(ctx context.Context) error {
	if l.hash == "" {
		if l.cfg.APIKey != "" {
			l.hash = l.cfg.APIKey
		} else {
			h, err := l.login(ctx)
			if err != nil {
				return err
			}
			l.hash = h
		}
		l.listed = false
	}
	if !l.listed {
		list, err := l.trackerList(ctx)
		var ae *nx.APIError
		if errors.As(err, &ae) && nx.NeedsLogin(ae.Status.Code) {
			if l.cfg.APIKey != "" {
				return &errFailed{fmt.Errorf("api key refused by tracker/list: %s", ae.Status)}
			}
			l.hash = ""
			return fmt.Errorf("tracker/list: %s; logging in again", ae.Status)
		}
		if err != nil {
			return err
		}
		l.trackers = make(map[int64]nx.Tracker, len(list))
		for _, t := range list {
			l.trackers[t.Source.ID] = t
			l.labels[t.ID] = t.Label
		}
		l.listed = true
		l.log.Info("navixy trackers listed", "link", l.cfg.Name, "trackers", len(list))
	}
	return nil
}

// login calls user/auth.
func (l *Link) login(ctx context.Context) (string, error) {
	req := nx.AuthRequest{Login: l.cfg.Login, Password: l.cfg.Password, DealerID: l.cfg.DealerID}
	ct, body := "application/x-www-form-urlencoded", []byte(req.Form().Encode())
	if l.cfg.AuthJSON {
		ct, body = "application/json", req.JSON()
	}
	b, status, err := l.post(ctx, "/user/auth", ct, body)
	if err != nil {
		return "", err
	}
	res, err := nx.DecodeAuthResult(b)
	var ae *nx.APIError
	switch {
	case errors.As(err, &ae):
		if ae.Status.Code == nx.CodeWrongLogin || ae.Status.Code == nx.CodeNotActivated {
			return "", &errFailed{fmt.Errorf("login refused: %s", ae.Status)}
		}
		return "", fmt.Errorf("login refused: %s", ae.Status)
	case err != nil && status != http.StatusOK:
		return "", fmt.Errorf("user/auth: HTTP %d", status)
	case err != nil:
		l.bad.Note("rest_"+nx.ErrorKind(err), err)
		return "", fmt.Errorf("user/auth: %w", err)
	}
	l.log.Info("navixy logged in", "link", l.cfg.Name)
	return res.Hash, nil
}

// trackerList calls tracker/list.
func (l *Link) trackerList(ctx context.Context) ([]nx.Tracker, error) {
	body := url.Values{"hash": {l.hash}}.Encode()
	b, status, err := l.post(ctx, "/tracker/list", "application/x-www-form-urlencoded", []byte(body))
	if err != nil {
		return nil, err
	}
	list, err := nx.DecodeTrackerList(b)
	var ae *nx.APIError
	switch {
	case errors.As(err, &ae):
		return nil, err
	case err != nil && status != http.StatusOK:
		return nil, fmt.Errorf("tracker/list: HTTP %d", status)
	case err != nil:
		l.bad.Note("rest_"+nx.ErrorKind(err), err)
		return nil, fmt.Errorf("tracker/list: %w", err)
	}
	return list, nil
}

// post makes one REST call and returns the body whatever the status (the
// vendor answers errors as JSON with HTTP 400 and others).
func (l *Link) post(ctx context.Context, path, contentType string, body []byte) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := l.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", strings.TrimPrefix(path, "/"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, l.cfg.MaxMessage+1))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s: reading the answer: %w", strings.TrimPrefix(path, "/"), err)
	}
	if int64(len(b)) > l.cfg.MaxMessage {
		l.bad.Note("oversize", fmt.Errorf("%s answer over %d bytes", path, l.cfg.MaxMessage))
		return nil, resp.StatusCode, fmt.Errorf("%s: answer over max_message (%d bytes)", strings.TrimPrefix(path, "/"), l.cfg.MaxMessage)
	}
	return b, resp.StatusCode, nil
}

// session opens the socket, subscribes and reads until the socket fails,
// goes silent, or the session must be renewed.
func (l *Link) session(ctx context.Context, bo *connector.Backoff) error {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
	c, _, err := websocket.Dial(dctx, l.cfg.socketURL, dialOptions(l.cfg.HTTPClient))
	cancel()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(l.cfg.MaxMessage)

	sctx, stop := context.WithCancel(ctx)
	defer stop()

	// The handshake.
	first, err := l.read(sctx, c, l.cfg.timeout, "no handshake")
	if err != nil {
		return err
	}
	var pending [][]byte
	hs, err := atmosphere.ParseHandshake(first)
	if err != nil {
		// Not the Atmosphere protocol after all: a message. Heartbeat at
		// the configured interval anyway; "X" is harmless.
		l.bad.Note("no_handshake", err)
		hs = atmosphere.Handshake{HeartbeatInterval: l.cfg.heartbeat, Padding: atmosphere.DefaultPadding}
		pending = [][]byte{first}
	} else {
		pending = hs.Messages
		l.log.Debug("navixy socket open", "link", l.cfg.Name, "uuid", hs.UUID, "heartbeat", hs.HeartbeatInterval)
	}
	if hs.HeartbeatInterval <= 0 {
		hs.HeartbeatInterval = l.cfg.heartbeat
	}
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		l.heartbeat(sctx, c, hs.Padding, hs.HeartbeatInterval)
	}()
	defer func() { stop(); <-beatDone }()

	// Subscribe. Until the response arrives, the wait is bounded by
	// Timeout as well as by SilenceTimeout.
	action := l.subscribeAction()
	wctx, cancel := context.WithTimeout(sctx, l.cfg.timeout)
	err = c.Write(wctx, websocket.MessageText, action.Encode())
	cancel()
	if err != nil {
		return fmt.Errorf("sending subscribe: %w", err)
	}
	st := &sessionState{padding: hs.Padding, subscribeBy: time.Now().Add(l.cfg.timeout)}
	for _, m := range pending {
		if err := l.handleMessage(ctx, m, st, bo); err != nil {
			return err
		}
	}
	for {
		wait, why := l.cfg.silence, fmt.Sprintf("silent for %v (not even a heartbeat)", l.cfg.silence)
		if !st.subscribed {
			if left := time.Until(st.subscribeBy); left < wait {
				wait, why = max(left, 0), fmt.Sprintf("no answer to subscribe within %v", l.cfg.timeout)
			}
		}
		frame, err := l.read(sctx, c, wait, why)
		if err != nil {
			return err
		}
		msgs, err := atmosphere.Split(frame)
		if err != nil {
			l.bad.Note(atmosphere.ErrorKind(err), err)
			continue
		}
		for _, m := range msgs {
			if err := l.handleMessage(ctx, m, st, bo); err != nil {
				return err
			}
		}
	}
}

// sessionState is what one socket session tracks.
type sessionState struct {
	padding     string
	subscribed  bool
	subscribeBy time.Time
}

// read reads one text frame within wait; a timeout is reported as why.
func (l *Link) read(ctx context.Context, c *websocket.Conn, wait time.Duration, why string) ([]byte, error) {
	for {
		rctx, cancel := context.WithTimeout(ctx, wait)
		typ, b, err := c.Read(rctx)
		timedOut := errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		switch {
		case err == nil && typ != websocket.MessageText:
			l.bad.Note("binary", errors.New("binary frame"))
			continue
		case err == nil:
			return b, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case timedOut:
			return nil, errors.New(why)
		case errors.Is(err, websocket.ErrMessageTooBig):
			l.bad.Note("oversize", err)
			return nil, fmt.Errorf("frame over max_message (%d bytes): %w", l.cfg.MaxMessage, err)
		}
		return nil, err
	}
}

// heartbeat sends the padding every interval until ctx ends. A failed
// write closes the socket, which ends the read loop.
func (l *Link) heartbeat(ctx context.Context, c *websocket.Conn, padding string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wctx, cancel := context.WithTimeout(ctx, l.cfg.timeout)
		err := c.Write(wctx, websocket.MessageText, []byte(padding))
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("navixy heartbeat failed, dropping the socket", "link", l.cfg.Name, "err", err)
				_ = c.CloseNow()
			}
			return
		}
	}
}

// subscribeAction builds the subscribe message for the configured form.
func (l *Link) subscribeAction() *nx.Action {
	ids := slices.Clone(l.cfg.Trackers)
	if len(ids) == 0 {
		for _, t := range l.trackers {
			ids = append(ids, t.ID)
		}
		slices.Sort(ids)
	}
	a := &nx.Action{Action: nx.Subscribe, Hash: l.hash}
	if l.cfg.SubscribeForm == FormOld {
		a.Events, a.Trackers = []string{l.cfg.Event}, ids
		if a.Trackers == nil {
			a.Trackers = []int64{}
		}
		return a
	}
	r := nx.Request{Type: l.cfg.Event, Format: l.cfg.Format, RateLimit: l.cfg.RateLimit}
	switch {
	case l.cfg.Event == nx.EventState && len(ids) > 0:
		r.Trackers = ids // as the vendor's sample does for state
	case len(l.cfg.Trackers) > 0:
		r.Target = &nx.Target{Type: nx.TargetSelected, TrackerIDs: ids}
	default:
		r.Target = &nx.Target{Type: nx.TargetAll}
	}
	a.Requests = []nx.Request{r}
	return a
}

// handleMessage processes one message of the socket. It returns an error
// when the session must end.
func (l *Link) handleMessage(ctx context.Context, msg []byte, st *sessionState, bo *connector.Backoff) error {
	if atmosphere.IsBlank(msg) || atmosphere.IsHeartbeat(msg, st.padding) {
		return nil
	}
	received := time.Now()
	f, err := nx.Decode(msg)
	if err != nil {
		l.bad.Note(nx.ErrorKind(err), err)
		return nil
	}
	switch f := f.(type) {
	case *nx.Response:
		if f.Subscriptions == nil {
			return nil // an unsubscribe's answer, or data of an unknown shape
		}
		for _, s := range f.Subscriptions {
			if s.Wrapped && !s.Success {
				why := "no reason given"
				if s.Status != nil {
					why = s.Status.String()
				}
				return &errFailed{fmt.Errorf("subscribe to %s refused: %s", s.Event, why)}
			}
		}
		l.subscribedTo(ctx, f, received)
		if !st.subscribed {
			st.subscribed = true
			bo.Reset() // the link works: the next outage's backoff starts afresh
			l.status.Set(ctx, event.LinkConnected, summary(f), 0, 0)
		}
	case *nx.ErrorResponse:
		code := f.Status.Code
		switch {
		case nx.NeedsLogin(code):
			return &errRelogin{fmt.Sprintf("error %s", f.Status)}
		case st.subscribed:
			l.bad.Note("api_error", f.Err())
		case code == nx.CodeBadFormat || code == nx.CodeInvalidParams || code == nx.CodeAccessDenied:
			return &errFailed{fmt.Errorf("subscribe refused: %s", f.Status)}
		default:
			return fmt.Errorf("subscribe refused: %s", f.Status)
		}
	case *nx.LogoutEvent:
		return &errRelogin{"logout: " + f.Reason}
	case *nx.StateEvent:
		if l.repeated(&f.State) {
			return nil
		}
		l.publish(ctx, f, received)
	case *nx.StateBatchEvent:
		fresh := &nx.StateBatchEvent{UserTime: f.UserTime, Raw: f.Raw}
		for i := range f.States {
			if !l.repeated(&f.States[i]) {
				fresh.States = append(fresh.States, f.States[i])
			}
		}
		l.publish(ctx, fresh, received)
	case *nx.LifecycleEvent:
		l.publish(ctx, f, received)
		if t, ok := l.trackers[f.SourceID]; ok {
			switch f.Lifecycle {
			case nx.LifecycleBlock:
				l.setSubscription(ctx, t.ID, nx.TrackerBlocked, l.cfg.Event, f.Raw, received)
			case nx.LifecycleUnblock:
				l.setSubscription(ctx, t.ID, nx.TrackerNormal, l.cfg.Event, f.Raw, received)
			}
		}
	case *nx.OtherEvent:
		l.publish(ctx, f, received)
	}
	return nil
}

// repeated reports whether s says what the last state published for its
// source said, and remembers s otherwise.
func (l *Link) repeated(s *nx.State) bool {
	if prev, ok := l.last[s.SourceID]; ok && prev.Equal(s) {
		return true
	}
	if len(l.last) >= maxRemembered {
		clear(l.last) // a flood of unknown sources: forget, at worst re-publish
	}
	keep := *s
	keep.Raw = nil
	l.last[s.SourceID] = keep
	return false
}

// maxRemembered bounds the states remembered for deduplication.
const maxRemembered = 100_000

func (l *Link) publish(ctx context.Context, f nx.Frame, received time.Time) {
	outs, unmapped := Normalize(f, l.cfg.Name, l.trackers, l.cfg.zone, received)
	for _, src := range unmapped {
		l.bad.Note("unknown_source", fmt.Errorf("source_id %d is not in tracker/list; published on %s", src, event.GPSSourceChannel(src, "…")))
	}
	for _, o := range outs {
		if err := l.cfg.Publisher.Publish(ctx, o.Channel, o.Event); err != nil {
			if ctx.Err() == nil {
				l.log.Error("publish", "link", l.cfg.Name, "channel", o.Channel, "err", err)
			}
			return
		}
	}
}

// subscribedTo publishes the trackers' statuses of a subscribe response.
func (l *Link) subscribedTo(ctx context.Context, r *nx.Response, received time.Time) {
	for _, s := range r.Subscriptions {
		for _, ts := range s.Statuses {
			l.setSubscription(ctx, ts.TrackerID, ts.Status, s.Event, r.Raw, received)
		}
	}
}

// setSubscription records and publishes a tracker's subscription status
// to the event type ev if it changed; raw is the upstream message that
// said so.
func (l *Link) setSubscription(ctx context.Context, tracker int64, status, ev string, raw []byte, received time.Time) {
	l.mu.Lock()
	if l.statuses == nil {
		l.statuses = make(map[int64]string)
	}
	l.statuses[tracker] = status
	l.mu.Unlock()
	if l.subscribed[tracker] == status {
		return
	}
	l.subscribed[tracker] = status
	e := &event.TrackerSubscription{
		Meta:      event.Meta{Link: l.cfg.Name, Protocol: Protocol, Received: received.UnixMicro(), Raw: raw},
		TrackerID: tracker, Label: l.labels[tracker], Event: ev, Status: status,
	}
	if err := l.cfg.Publisher.Publish(ctx, event.GPSChannel(tracker, "subscription"), e); err != nil && ctx.Err() == nil {
		l.log.Error("publish", "link", l.cfg.Name, "err", err)
	}
}

// summary describes a subscribe response for the link status:
// "state: 1 normal; blocked 15565; unknown 15568".
func summary(r *nx.Response) string {
	var parts []string
	for _, s := range r.Subscriptions {
		normal := 0
		others := map[string][]string{}
		var order []string
		for _, ts := range s.Statuses {
			if ts.Status == nx.TrackerNormal {
				normal++
				continue
			}
			if _, ok := others[ts.Status]; !ok {
				order = append(order, ts.Status)
			}
			others[ts.Status] = append(others[ts.Status], strconv.FormatInt(ts.TrackerID, 10))
		}
		p := fmt.Sprintf("%s: %d normal", s.Event, normal)
		if s.Statuses == nil {
			p = s.Event + ": subscribed"
		}
		for _, st := range order {
			ids := others[st]
			if len(ids) > 10 {
				ids = append(ids[:10:10], fmt.Sprintf("and %d more", len(others[st])-10))
			}
			p += "; " + st + " " + strings.Join(ids, " ")
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
