package navixysim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/fieldrelay/fieldrelay/proto/atmosphere"
	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

const (
	// queueLen bounds each socket's outgoing queue; a client that falls
	// this far behind is cut rather than allowed to stall the others.
	queueLen = 1024
	// writeTimeout bounds one frame write.
	writeTimeout = 10 * time.Second
)

// client is one socket. Its ServeHTTP call reads; one writer goroutine
// writes.
type client struct {
	conn    *websocket.Conn
	send    chan []byte
	ctx     context.Context // cancelled to cut the socket
	cancel  context.CancelFunc
	tracked bool          // "<len>|" prefixes
	beat    chan struct{} // a client heartbeat arrived (reader → writer)

	// Guarded by Simulator.mu.
	hash string                   // the hash of the last successful subscribe
	subs map[string]*subscription // by event type
	live bool                     // subscribed once: receives lifecycle events
}

// subscription is a client's subscription to one event type.
type subscription struct {
	format   string
	all      bool
	trackers map[int64]bool
}

func (sub *subscription) covers(id int64) bool { return sub.all || sub.trackers[id] }

// queue frames msg (length prefix if tracked) and queues it without
// blocking; a full queue cuts the client.
func (c *client) queue(msg []byte) {
	if c.tracked {
		msg = atmosphere.EncodeTracked(msg)
	}
	c.queueRaw(msg)
}

func (c *client) queueRaw(b []byte) {
	select {
	case c.send <- b:
	default:
		c.cancel()
	}
}

func (s *Simulator) serveSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(s.cfg.maxMessage)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{
		conn: conn, send: make(chan []byte, queueLen), ctx: ctx, cancel: cancel,
		tracked: s.cfg.trackSize || q.Get("X-Atmosphere-TrackMessageSize") == "true",
		beat:    make(chan struct{}, 1),
		subs:    make(map[string]*subscription),
	}
	if !s.register(c, q) {
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

// register adds c and queues the handshake first, so that nothing
// broadcast can precede it.
func (s *Simulator) register(c *client, q url.Values) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.lastQuery = q
	if q.Get("X-atmo-protocol") == "true" {
		c.queue(atmosphere.EncodeHandshake(atmosphere.Handshake{
			UUID: uuid.NewString(), HeartbeatInterval: s.cfg.hbInterval, Padding: atmosphere.DefaultPadding,
		}))
	}
	s.clients[c] = struct{}{}
	s.stats.Connections++
	s.notifyLocked()
	if s.cfg.moveEvery > 0 && !s.generating {
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

func (s *Simulator) readLoop(c *client) {
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		switch {
		case atmosphere.IsHeartbeat(data, atmosphere.DefaultPadding):
			s.mu.Lock()
			s.stats.ClientBeats++
			s.notifyLocked()
			s.mu.Unlock()
			select {
			case c.beat <- struct{}{}:
			default:
			}
		case atmosphere.IsBlank(data):
		default:
			s.handleAction(c, data)
		}
	}
}

// writeLoop is the only writer of c.conn. It also sends the server's
// heartbeats and enforces the client's.
func (s *Simulator) writeLoop(c *client) {
	var beatC, deadC <-chan time.Time
	if s.cfg.serverBeat > 0 {
		t := time.NewTicker(s.cfg.serverBeat)
		defer t.Stop()
		beatC = t.C
	}
	var deadline *time.Timer
	var beats <-chan struct{} // nil, never ready, when there is no deadline
	if s.cfg.clientTimeout > 0 {
		deadline = time.NewTimer(s.cfg.clientTimeout)
		defer deadline.Stop()
		deadC, beats = deadline.C, c.beat
	}
	write := func(b []byte) bool {
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		defer cancel()
		if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
			c.cancel()
			return false
		}
		return true
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-s.life.Done():
			_ = c.conn.Close(websocket.StatusGoingAway, "simulator closing")
			return
		case b := <-c.send:
			if !write(b) {
				return
			}
		case <-beatC:
			if s.isSilent() {
				continue
			}
			b := []byte(atmosphere.DefaultPadding)
			if c.tracked {
				b = atmosphere.EncodeTracked(b)
			}
			if !write(b) {
				return
			}
		case <-beats:
			deadline.Reset(s.cfg.clientTimeout)
		case <-deadC:
			s.mu.Lock()
			s.stats.TimedOut++
			s.notifyLocked()
			s.mu.Unlock()
			_ = c.conn.Close(websocket.StatusPolicyViolation, "no heartbeat")
			c.cancel()
			return
		}
	}
}

// request is one subscription request, from either form.
type request struct {
	typ    string
	format string
	all    bool
	ids    []int64
}

func (s *Simulator) handleAction(c *client, data []byte) {
	a, err := navixy.DecodeAction(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || (a.Action != navixy.Subscribe && a.Action != navixy.Unsubscribe) {
		s.sendErrorLocked(c, "null", navixy.CodeBadFormat, nil)
		return
	}
	s.stats.LastAction = a
	s.notifyLocked()
	action := "subscription/" + a.Action
	echo := echoData(data, &a)
	fail := func(code int) {
		if a.Action == navixy.Subscribe {
			s.stats.SubscribeErrors++
		}
		s.sendErrorLocked(c, action, code, echo)
	}
	if code := s.checkHashLocked(a.Hash); code != 0 {
		fail(code)
		return
	}
	reqs, ok := requests(&a)
	if !ok {
		fail(navixy.CodeInvalidParams)
		return
	}
	if a.Action == navixy.Subscribe {
		s.subscribeLocked(c, &a, reqs)
	} else {
		s.unsubscribeLocked(c, reqs)
	}
}

// requests normalises both forms; ok is false for what the simulator
// answers with error 7 (no event type, an unsimulated type or format, a
// request naming no trackers).
func requests(a *navixy.Action) ([]request, bool) {
	var out []request
	if !a.Current() {
		if len(a.Events) == 0 {
			return nil, false
		}
		for _, e := range a.Events {
			out = append(out, request{typ: e, format: navixy.FormatFull, ids: a.Trackers})
		}
	} else {
		for _, r := range a.Requests {
			q := request{typ: r.Type, format: r.Format}
			switch {
			case r.Trackers != nil:
				q.ids = r.Trackers
			case r.Target != nil && r.Target.Type == navixy.TargetAll:
				q.all = true
			case r.Target != nil && r.Target.Type == navixy.TargetSelected:
				q.ids = r.Target.TrackerIDs
			default:
				return nil, false
			}
			if q.format == "" {
				q.format = navixy.FormatFull
			}
			out = append(out, q)
		}
		if len(out) == 0 {
			return nil, false
		}
	}
	for _, q := range out {
		if q.typ != navixy.EventState && q.typ != navixy.EventStateBatch {
			return nil, false
		}
		if q.format != navixy.FormatFull && q.format != navixy.FormatCompact {
			return nil, false
		}
	}
	return out, true
}

// echoData is what the vendor's error echoes: the action without its name
// and hash.
func echoData(data []byte, a *navixy.Action) json.RawMessage {
	if a.Current() {
		var w struct {
			Requests json.RawMessage `json:"requests"`
		}
		_ = json.Unmarshal(data, &w)
		return json.RawMessage(`{"requests":` + string(w.Requests) + `}`)
	}
	events, _ := json.Marshal(nonNil(a.Events))
	trackers, _ := json.Marshal(nonNil(a.Trackers))
	return json.RawMessage(`{"events":` + string(events) + `,"trackers":` + string(trackers) + `}`)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Simulator) statusLocked(id int64) string {
	if t, ok := s.trackers[id]; ok {
		return t.Status
	}
	return navixy.TrackerUnknown
}

func (s *Simulator) subscribeLocked(c *client, a *navixy.Action, reqs []request) {
	resp := &navixy.Response{Action: navixy.ActionSubscribe, Events: []string{}, Subscriptions: []navixy.Subscription{}}
	for _, r := range reqs {
		ids := r.ids
		if r.all {
			ids = s.order
		}
		sub := c.subs[r.typ]
		if sub == nil {
			sub = &subscription{trackers: make(map[int64]bool)}
			c.subs[r.typ] = sub
		}
		sub.format = r.format
		sub.all = sub.all || r.all
		statuses := make([]navixy.TrackerStatus, 0, len(ids))
		for _, id := range ids {
			sub.trackers[id] = true
			statuses = append(statuses, navixy.TrackerStatus{TrackerID: id, Status: s.statusLocked(id)})
		}
		resp.Events = append(resp.Events, r.typ)
		resp.Subscriptions = append(resp.Subscriptions, navixy.Subscription{
			Event: r.typ, Wrapped: a.Current(), Success: true, Statuses: statuses,
		})
	}
	c.hash, c.live = strings.ToLower(a.Hash), true
	s.stats.Subscribes++
	s.notifyLocked()
	s.queueFrameLocked(c, resp, navixy.FormatFull)
	// The current state of every normal tracker subscribed to.
	for _, r := range reqs {
		ids := r.ids
		if r.all {
			ids = s.order
		}
		s.pushLocked(c, r.typ, r.format, ids)
	}
}

func (s *Simulator) unsubscribeLocked(c *client, reqs []request) {
	resp := &navixy.Response{Action: navixy.ActionUnsubscribe, Events: []string{}, Unsubscribed: []int64{}}
	for _, r := range reqs {
		resp.Events = append(resp.Events, r.typ)
		sub := c.subs[r.typ]
		if r.all {
			delete(c.subs, r.typ)
			resp.Unsubscribed = append(resp.Unsubscribed, s.order...)
			continue
		}
		for _, id := range r.ids {
			if sub != nil {
				delete(sub.trackers, id)
			}
			resp.Unsubscribed = append(resp.Unsubscribed, id)
		}
	}
	s.stats.Unsubscribes++
	s.notifyLocked()
	s.queueFrameLocked(c, resp, navixy.FormatFull)
}

// pushLocked sends c the states of the normal trackers among ids, as
// state events or one state_batch.
func (s *Simulator) pushLocked(c *client, typ, format string, ids []int64) {
	var states []navixy.State
	for _, id := range ids {
		if t, ok := s.trackers[id]; ok && t.Status == navixy.TrackerNormal {
			states = append(states, t.state)
		}
	}
	if len(states) == 0 {
		return
	}
	now := s.localNow()
	if typ == navixy.EventStateBatch {
		s.queueFrameLocked(c, &navixy.StateBatchEvent{UserTime: now, States: states}, format)
		return
	}
	for _, st := range states {
		s.queueFrameLocked(c, &navixy.StateEvent{UserTime: now, State: st}, format)
	}
}

// pushChangedLocked sends the states of the trackers ids to every client
// subscribed to them.
func (s *Simulator) pushChangedLocked(ids []int64) {
	for c := range s.clients {
		for typ, sub := range c.subs {
			var covered []int64
			for _, id := range ids {
				if sub.covers(id) {
					covered = append(covered, id)
				}
			}
			s.pushLocked(c, typ, sub.format, covered)
		}
	}
}

func (s *Simulator) queueFrameLocked(c *client, f navixy.Frame, format string) {
	b, err := navixy.EncodeFormat(f, format)
	if err != nil {
		panic("navixysim: encoding a frame: " + err.Error()) // states the simulator builds are finite
	}
	c.queue(b)
}

func (s *Simulator) sendErrorLocked(c *client, action string, code int, echo json.RawMessage) {
	s.queueFrameLocked(c, &navixy.ErrorResponse{Action: action, Status: navixy.StatusFor(code), Data: echo}, navixy.FormatFull)
}

// describe names a tracker for errors.
func describe(id int64) string { return "tracker " + strconv.FormatInt(id, 10) }
