package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// The targets a subscriber connects to.
const (
	targetRelay = "relay" // wasm/client sessions
	targetBare  = "bare"  // raw coder/websocket, frames decoded with proto/wire
	targetJSON  = "json"  // raw coder/websocket speaking the JSON frames of jsonFrames
)

// stallAfter bounds the wait for the last deliveries: a subscriber short
// of its events that gets nothing for this long ends the wait.
const stallAfter = 15 * time.Second

// sub is one subscriber's tally.
type sub struct {
	mu        sync.Mutex
	h         *hist
	channel   string // the one it subscribed, "" with a wildcard
	delivered uint64
	misrouted uint64    // events on another channel
	last      time.Time // of the last delivery
}

// record counts an event delivered at now. An event whose stamp cannot
// be read, or is not a plausible publication time (the encoding of Data
// changed under the load generator), is not counted: the subscriber ends
// up without exactly its events, which the result reports.
func (s *sub) record(ch string, d []byte, now time.Time) {
	t, ok := sentAt(d)
	if !ok {
		return
	}
	s.recordAt(ch, t, now)
}

// recordAt counts an event published at t and delivered at now.
func (s *sub) recordAt(ch string, t, now time.Time) {
	if t.After(now.Add(time.Second)) || t.Before(now.Add(-time.Hour)) {
		return
	}
	s.mu.Lock()
	if s.channel != "" && ch != s.channel {
		s.misrouted++
	} else {
		s.h.add(now.Sub(t))
		s.delivered++
		s.last = now
	}
	s.mu.Unlock()
}

func (s *sub) count() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// tally sums up subscribers; a subscriber process reports it as one JSON
// line.
type tally struct {
	Delivered  uint64 `json:"delivered"`
	Expected   uint64 `json:"expected"`
	Misrouted  uint64 `json:"misrouted"`
	Incomplete int    `json:"incomplete"` // subscribers without exactly their events
	Reconnects uint64 `json:"reconnects"` // of wasm/client sessions
	LastNS     int64  `json:"last_ns"`    // wall clock of the last delivery
	CPUNS      int64  `json:"cpu_ns"`     // a subscriber process's, from start to its report
	Hist       *hist  `json:"hist"`
}

func (t *tally) add(o tally) {
	t.Delivered += o.Delivered
	t.Expected += o.Expected
	t.Misrouted += o.Misrouted
	t.Incomplete += o.Incomplete
	t.Reconnects += o.Reconnects
	t.LastNS = max(t.LastNS, o.LastNS)
	t.CPUNS += o.CPUNS
	if o.Hist != nil {
		t.Hist.merge(o.Hist)
	}
}

// shareOf describes subscribers [from, to) of cfg.
func shareOf(cfg Config, target, url, token string, from, to int) SubscriberProc {
	return SubscriberProc{URL: url, Token: token, Target: target, From: from, To: to,
		Channels: cfg.Channels, Wildcard: cfg.Wildcard, Sources: cfg.Sources}
}

// local is subscribers in this process.
type local struct {
	p       SubscriberProc
	subs    []*sub // subscriber p.From + i
	clients []*client.Client
	cancel  context.CancelFunc // ends the bare readers
	readers sync.WaitGroup
}

// connect connects p's subscribers one after the other and returns once
// every one has subscribed.
func connect(ctx context.Context, p SubscriberProc) (*local, error) {
	rctx, cancel := context.WithCancel(context.Background())
	l := &local{p: p, cancel: cancel}
	var hcs []*http.Client
	if p.Target == targetBare || p.Target == targetJSON {
		hcs = sourceClients(p.Sources)
	}
	for j := p.From; j < p.To; j++ {
		s := &sub{h: newHist()}
		if !p.Wildcard {
			s.channel = channelName(j % p.Channels)
		}
		l.subs = append(l.subs, s)
		var err error
		switch p.Target {
		case targetRelay:
			err = l.relaySub(ctx, j, s)
		case targetBare:
			err = l.bareSub(ctx, rctx, hcs[j%len(hcs)], j, s)
		case targetJSON:
			err = l.jsonSub(ctx, rctx, hcs[j%len(hcs)], j, s)
		default:
			err = fmt.Errorf("unknown target %q", p.Target)
		}
		if err != nil {
			l.close()
			return nil, fmt.Errorf("subscriber %d: %w", j, err)
		}
	}
	return l, nil
}

// relaySub connects subscriber j as a wasm/client session and subscribes
// its pattern.
func (l *local) relaySub(ctx context.Context, j int, s *sub) error {
	c, err := client.Dial(ctx, l.p.URL, &client.Options{Token: l.p.Token, RawEvents: true})
	if err != nil {
		return err
	}
	l.clients = append(l.clients, c)
	_, err = c.Subscribe(ctx, pattern(j, l.p.Channels, l.p.Wildcard), &client.SubscribeOptions{OnEvents: func(evs []client.Event) {
		now := time.Now()
		for _, ev := range evs {
			s.record(ev.Channel, ev.Data, now)
		}
	}})
	return err
}

// bareSub connects subscriber j to the bare broadcast, naming its channel
// in the URL, and reads in the background until rctx ends.
func (l *local) bareSub(ctx, rctx context.Context, hc *http.Client, j int, s *sub) error {
	ch := "all"
	if !l.p.Wildcard {
		ch = strconv.Itoa(j % l.p.Channels)
	}
	c, _, err := websocket.Dial(ctx, l.p.URL+"?ch="+url.QueryEscape(ch), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return err
	}
	c.SetReadLimit(1 << 20)
	l.read(rctx, c, func(msg []byte, now time.Time) error {
		for rest := msg; len(rest) > 0; {
			var f wire.Frame
			var err error
			if f, rest, err = wire.DecodeFrame(rest); err != nil {
				return err
			}
			if ev, ok := f.(*wire.Event); ok {
				s.record(ev.Channel, ev.Data, now)
			}
		}
		return nil
	})
	return nil
}

// read reads c in the background until rctx ends or handle, given each
// message and when it arrived, fails; then it closes c.
func (l *local) read(rctx context.Context, c *websocket.Conn, handle func(msg []byte, now time.Time) error) {
	l.readers.Add(1)
	go func() {
		defer l.readers.Done()
		defer c.CloseNow()
		for {
			_, msg, err := c.Read(rctx)
			if err != nil || handle(msg, time.Now()) != nil {
				return
			}
		}
	}()
}

// jsonSub connects subscriber j to a relay speaking JSON frames (the JSON
// baseline) as a client of that relay would: the Connect and Subscribe
// frames in JSON, each answered before the next, then every message read
// and decoded with encoding/json until rctx ends.
func (l *local) jsonSub(ctx, rctx context.Context, hc *http.Client, j int, s *sub) error {
	c, _, err := websocket.Dial(ctx, l.p.URL, &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return err
	}
	c.SetReadLimit(1 << 20)
	steps := []struct {
		send proto.Frame
		want proto.Type
	}{
		{&proto.Connect{Token: l.p.Token, Name: "loadgen-json"}, proto.TypeConnected},
		{&proto.Subscribe{Req: 1, Sub: 1, Pattern: pattern(j, l.p.Channels, l.p.Wildcard)}, proto.TypeSubscribed},
	}
	for _, st := range steps {
		msg, err := jsonFrames{}.AppendFrame(nil, st.send)
		if err == nil {
			err = c.Write(ctx, websocket.MessageBinary, msg)
		}
		if err == nil {
			_, msg, err = c.Read(ctx)
		}
		var f proto.Frame
		if err == nil {
			f, _, err = jsonFrames{}.DecodeFrame(msg)
		}
		if err == nil && f.FrameType() != st.want {
			err = fmt.Errorf("%T answered with %q", st.send, msg)
		}
		if err != nil {
			c.CloseNow()
			return err
		}
	}
	l.read(rctx, c, func(msg []byte, now time.Time) error {
		return decodeJSONEvents(msg, func(ch string, ns int64) { s.recordAt(ch, time.Unix(0, ns), now) })
	})
	return nil
}

func (l *local) start() error { return nil }

func (l *local) want(published int) func(i int) uint64 {
	return func(i int) uint64 { return expected(published, l.p.Channels, l.p.Wildcard, l.p.From+i) }
}

func (l *local) finish(ctx context.Context, published int) (tally, error) {
	want := l.want(published)
	waitAll(ctx, l.subs, want)
	return l.tally(want), nil
}

// waitAll waits until every subscriber has want(i) events, ctx ends, or
// one short of them gets nothing for stallAfter.
func waitAll(ctx context.Context, subs []*sub, want func(i int) uint64) {
	for i, s := range subs {
		last, since := s.count(), time.Now()
		for {
			d := s.count()
			if d >= want(i) || ctx.Err() != nil {
				break
			}
			if d != last {
				last, since = d, time.Now()
			} else if time.Since(since) > stallAfter {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func (l *local) tally(want func(i int) uint64) tally {
	t := tally{Hist: newHist()}
	for i, s := range l.subs {
		s.mu.Lock()
		w := want(i)
		t.Hist.merge(s.h)
		t.Delivered += s.delivered
		t.Expected += w
		t.Misrouted += s.misrouted
		if s.delivered != w || s.misrouted > 0 {
			t.Incomplete++
		}
		if !s.last.IsZero() {
			t.LastNS = max(t.LastNS, s.last.UnixNano())
		}
		s.mu.Unlock()
	}
	for _, c := range l.clients {
		t.Reconnects += c.Stats().Reconnects
	}
	return t
}

// close disconnects every subscriber at once, within a bound.
func (l *local) close() {
	l.cancel()
	var wg sync.WaitGroup
	for _, c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Close()
		}()
	}
	waitBounded(&wg, 10*time.Second)
	waitBounded(&l.readers, 10*time.Second)
}
