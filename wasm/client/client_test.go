package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
)

func TestDial(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	res := make(chan error, 1)
	var c *Client
	go func() {
		var err error
		c, err = Dial(context.Background(), r.url(), opts)
		res <- err
	}()
	fc := r.accept(t)
	if got := fc.ws.Subprotocol(); got != proto.Subprotocol {
		t.Errorf("subprotocol %q, want %q", got, proto.Subprotocol)
	}
	connect := fc.handshake(t, nil)
	if err := recv(t, res, "Dial"); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if connect.Token != "tok" || connect.Name != "test" {
		t.Errorf("Connect = %+v, want token tok, name test", connect)
	}
	if got := c.State(); got != Connected {
		t.Errorf("State() = %s, want connected", got)
	}
	if err := st.until(t, Connected); err != nil {
		t.Errorf("OnState(connected, %v), want nil cause", err)
	}
}

func TestDialTerminalClose(t *testing.T) {
	for _, tc := range []struct {
		name       string
		disconnect bool
	}{
		{"disconnect frame and close", true},
		{"close frame only", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeRelay(t)
			res := make(chan error, 1)
			go func() {
				_, err := Dial(context.Background(), r.url(), testOptions())
				res <- err
			}()
			fc := r.accept(t)
			expect[*proto.Connect](t, fc)
			fc.closeWith(t, codes.InvalidToken, "bad token", tc.disconnect)
			err := recv(t, res, "Dial")
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != codes.InvalidToken {
				t.Fatalf("Dial error %v, want CloseError %d", err, codes.InvalidToken)
			}
			if !errors.Is(err, ErrClosed) {
				t.Errorf("terminal CloseError does not match ErrClosed")
			}
			// Dial returned after the client's goroutine did: nothing
			// is left that could reconnect.
			r.noConn(t)
		})
	}
}

func TestDialSubprotocolRequired(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil) // selects no subprotocol
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.Read(r.Context())
	}))
	defer srv.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), testOptions())
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != codes.UnsupportedVersion {
		t.Fatalf("Dial error %v, want CloseError %d", err, codes.UnsupportedVersion)
	}
}

func TestDialContextEnds(t *testing.T) {
	// A server that refuses every upgrade. (Not a closed listener: its port
	// may be reused by another test's relay meanwhile.)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, url, testOptions())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial error %v, want context.DeadlineExceeded", err)
	}
}

func TestSubscribeEvents(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, f := subscribe(t, c, fc, "link/+/status", nil, "e1", 10)
	if f.Pattern != "link/+/status" || f.Recover || f.Sub == 0 {
		t.Errorf("Subscribe = %+v, want the pattern, no recovery, a subscription id", f)
	}
	if got, want := sub.Position(), (Position{"e1", 10}); got != want {
		t.Errorf("Position() = %+v, want %+v", got, want)
	}

	unknown := &proto.Event{Channel: "link/b/status", Offset: 12, Prev: 0, Kind: "future.kind", Data: []byte{0x80}}
	fc.send(t, evFrame("link/a/status", 11, 0), evFrame("other/x", 12, 0), unknown)

	ev := recv(t, sub.Events(), "an event")
	if ev.Channel != "link/a/status" || ev.Position != (Position{"e1", 11}) || ev.Replayed || ev.Latest {
		t.Errorf("event = %+v", ev)
	}
	if ls, ok := ev.Value.(*event.LinkStatus); !ok || ls.State != event.LinkConnected {
		t.Errorf("Value = %#v, want a decoded LinkStatus", ev.Value)
	}
	ev = recv(t, sub.Events(), "an event")
	if ev.Kind != "future.kind" || ev.Value != nil || len(ev.Data) != 1 {
		t.Errorf("event of unknown kind = %+v, want raw data and nil Value", ev)
	}
	if got, want := sub.Position(), (Position{"e1", 12}); got != want {
		t.Errorf("Position() = %+v, want %+v", got, want)
	}
	if s := c.Stats(); s.Delivered != 2 {
		t.Errorf("Stats().Delivered = %d, want 2", s.Delivered)
	}
}

// TestUndecodableEvent: an event frame's d is a bin that the frame
// decoder takes whole, so its bytes may be part of a value, or a value and
// more. Such an event is delivered with its Data and a nil Value, and
// counted; the events around it in the same message are not affected.
func TestUndecodableEvent(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, _ := subscribe(t, c, fc, "link/+/status", nil, "e1", 10)
	partial := evFrame("link/b/status", 12, 0)
	partial.Data = partial.Data[:len(partial.Data)-3]
	trailing := evFrame("link/c/status", 13, 0)
	trailing.Data = append(trailing.Data, 0xc0)
	fc.send(t, evFrame("link/a/status", 11, 0), partial, trailing, evFrame("link/d/status", 14, 0))

	for i, want := range []struct {
		channel string
		value   bool
	}{{"link/a/status", true}, {"link/b/status", false}, {"link/c/status", false}, {"link/d/status", true}} {
		ev := recv(t, sub.Events(), "an event")
		if ev.Channel != want.channel || (ev.Value != nil) != want.value || len(ev.Data) == 0 {
			t.Errorf("event %d = %+v, want %s with a value: %v", i, ev, want.channel, want.value)
		}
	}
	if s := c.Stats(); s.Delivered != 4 || s.Undecodable != 2 {
		t.Errorf("Stats() = %+v, want 4 delivered, 2 undecodable", s)
	}
}

func TestOnEventsBatches(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	batches := make(chan []Event, 8)
	infos := make(chan SubscribedInfo, 8)
	_, _ = subscribe(t, c, fc, "a/#", &SubscribeOptions{
		OnEvents:     func(evs []Event) { batches <- evs },
		OnSubscribed: func(i SubscribedInfo) { infos <- i },
	}, "e1", 0)
	if i := recv(t, infos, "OnSubscribed"); i.Resumed || i.Recovered || i.Position != (Position{"e1", 0}) {
		t.Errorf("OnSubscribed(%+v)", i)
	}

	fc.send(t, evFrame("a/1", 1, 0), evFrame("a/2", 2, 0), evFrame("b/1", 3, 0), evFrame("a/1", 4, 1))
	fc.send(t, evFrame("a/2", 5, 2))
	if got := offsets(recv(t, batches, "a batch")); !equal(got, []uint64{1, 2, 4}) {
		t.Errorf("first batch %v, want [1 2 4] in one call", got)
	}
	if got := offsets(recv(t, batches, "a batch")); !equal(got, []uint64{5}) {
		t.Errorf("second batch %v, want [5]", got)
	}
}

func TestLatest(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	res := make(chan *Subscription, 1)
	go func() {
		s, err := c.Subscribe(context.Background(), "lora/gateway/+", &SubscribeOptions{Latest: true})
		if err != nil {
			t.Error(err)
		}
		res <- s
	}()
	f := expect[*proto.Subscribe](t, fc)
	if !f.Latest {
		t.Errorf("Subscribe.Latest not set")
	}
	latest := evFrame("lora/gateway/g1", 7, 3)
	latest.Sub, latest.Latest = f.Sub, true
	fc.send(t, &proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: 9}, latest)
	fc.send(t, evFrame("lora/gateway/g1", 10, 7))
	sub := recv(t, res, "Subscribe")
	if ev := recv(t, sub.Events(), "latest"); !ev.Latest || ev.Position.Offset != 7 {
		t.Errorf("first event %+v, want the latest value at 7", ev)
	}
	if ev := recv(t, sub.Events(), "live"); ev.Latest || ev.Position.Offset != 10 {
		t.Errorf("second event %+v, want live 10", ev)
	}
}

func TestResubscribeAfterDrop(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	c, fc := dialFake(t, r, opts, nil)
	infos := make(chan SubscribedInfo, 8)
	sub, first := subscribe(t, c, fc, "a/+", &SubscribeOptions{OnSubscribed: func(i SubscribedInfo) { infos <- i }}, "e1", 0)
	recv(t, infos, "OnSubscribed")
	fc.send(t, evFrame("a/1", 1, 0), evFrame("a/2", 2, 0), evFrame("a/1", 3, 1))
	for range 3 {
		recv(t, sub.Events(), "an event")
	}

	fc.drop()
	if err := st.until(t, Reconnecting); err == nil {
		t.Error("OnState(reconnecting) without a cause")
	}
	fc = r.accept(t)
	fc.handshake(t, nil)
	f := expect[*proto.Subscribe](t, fc)
	want := proto.Subscribe{Req: f.Req, Sub: first.Sub, Pattern: "a/+", Recover: true, Epoch: "e1", Offset: 3}
	if *f != want {
		t.Fatalf("resubscribe %+v, want %+v", *f, want)
	}
	r4, r5 := evFrame("a/2", 4, 2), evFrame("a/1", 5, 3)
	r4.Sub, r5.Sub = f.Sub, f.Sub
	fc.send(t, &proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: 5, Recovered: true, Replayed: 2}, r4, r5)
	fc.send(t, evFrame("a/2", 6, 4))

	if i := recv(t, infos, "OnSubscribed"); !i.Resumed || !i.Recovered || i.Replayed != 2 || i.Position.Offset != 3 {
		t.Errorf("OnSubscribed(%+v), want resumed, recovered, 2 replayed from 3", i)
	}
	for _, want := range []struct {
		off      uint64
		replayed bool
	}{{4, true}, {5, true}, {6, false}} {
		ev := recv(t, sub.Events(), "an event")
		if ev.Position.Offset != want.off || ev.Replayed != want.replayed {
			t.Errorf("event %d replayed=%v, want %d replayed=%v", ev.Position.Offset, ev.Replayed, want.off, want.replayed)
		}
	}
	if s := c.Stats(); s.Reconnects != 1 {
		t.Errorf("Stats().Reconnects = %d, want 1", s.Reconnects)
	}
}

func TestReconnectCloseCode(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	_, fc := dialFake(t, r, opts, nil)
	fc.closeWith(t, codes.Slow, "queue overflow", true)
	err := st.until(t, Reconnecting)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != codes.Slow {
		t.Errorf("OnState(reconnecting, %v), want CloseError %d", err, codes.Slow)
	}
	if errors.Is(err, ErrClosed) {
		t.Error("a reconnect close matches ErrClosed")
	}
	fc = r.accept(t)
	fc.handshake(t, nil)
	st.until(t, Connected)
}

func TestTerminalCloseWhenConnected(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	c, fc := dialFake(t, r, opts, nil)
	sub, _ := subscribe(t, c, fc, "a/#", nil, "e1", 0)

	fc.closeWith(t, codes.TenantForbidden, "no such tenant", false)
	err := st.until(t, Closed)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != codes.TenantForbidden {
		t.Fatalf("OnState(closed, %v), want CloseError %d", err, codes.TenantForbidden)
	}
	if _, ok := <-sub.Events(); ok {
		t.Error("Events() not closed")
	}
	if !errors.Is(sub.Err(), ErrClosed) {
		t.Errorf("sub.Err() = %v, want the terminal close", sub.Err())
	}
	if _, err := c.Command(context.Background(), "a/b", "k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Command after close: %v, want ErrClosed", err)
	}
	if c.State() != Closed {
		t.Errorf("State() = %s", c.State())
	}
	c.Close()
	r.noConn(t)
}

func TestReplayDedupe(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, _ := subscribe(t, c, fc, "a/+", nil, "e1", 0)
	fc.send(t, evFrame("a/1", 1, 0), evFrame("a/1", 2, 1))
	recv(t, sub.Events(), "1")
	recv(t, sub.Events(), "2")

	fc.drop()
	fc = r.accept(t)
	fc.handshake(t, nil)
	f := expect[*proto.Subscribe](t, fc)
	if f.Offset != 2 {
		t.Fatalf("resubscribe from %d, want 2", f.Offset)
	}
	// A careless relay replays 2 again, and 3 twice, then sends 3 live.
	replay := []proto.Frame{&proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: 3, Recovered: true, Replayed: 3}}
	for _, off := range []uint64{2, 3, 3} {
		e := evFrame("a/1", off, off-1)
		e.Sub = f.Sub
		replay = append(replay, e)
	}
	fc.send(t, replay...)
	fc.send(t, evFrame("a/1", 3, 2), evFrame("a/1", 4, 3))

	var got []uint64
	for len(got) < 2 {
		got = append(got, recv(t, sub.Events(), "an event").Position.Offset)
	}
	if !equal(got, []uint64{3, 4}) {
		t.Errorf("offsets %v, want [3 4]", got)
	}
	if s := c.Stats(); s.Duplicates != 3 {
		t.Errorf("Stats().Duplicates = %d, want 3", s.Duplicates)
	}
}

func TestGapRecovery(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	infos := make(chan SubscribedInfo, 8)
	sub, first := subscribe(t, c, fc, "a/#", &SubscribeOptions{OnSubscribed: func(i SubscribedInfo) { infos <- i }}, "e1", 10)
	recv(t, infos, "OnSubscribed")

	// 13 (a/x) is never sent; 14 names it as its predecessor.
	fc.send(t, evFrame("a/x", 11, 5), evFrame("a/y", 12, 0))
	fc.send(t, evFrame("a/x", 14, 13))
	f := expect[*proto.Subscribe](t, fc)
	want := proto.Subscribe{Req: f.Req, Sub: first.Sub, Pattern: "a/#", Recover: true, Epoch: "e1", Offset: 12}
	if *f != want {
		t.Fatalf("recovery %+v, want %+v", *f, want)
	}
	// Live events before the confirmation are held back: the replay has them.
	fc.send(t, evFrame("a/y", 15, 12))
	frames := []proto.Frame{&proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: 15, Recovered: true, Replayed: 3}}
	for _, e := range []*proto.Event{evFrame("a/x", 13, 11), evFrame("a/x", 14, 13), evFrame("a/y", 15, 12)} {
		e.Sub = f.Sub
		frames = append(frames, e)
	}
	fc.send(t, frames...)
	fc.send(t, evFrame("a/x", 16, 14))

	var got []uint64
	for len(got) < 6 {
		got = append(got, recv(t, sub.Events(), "an event").Position.Offset)
	}
	if !equal(got, []uint64{11, 12, 13, 14, 15, 16}) {
		t.Errorf("offsets %v, want 11..16", got)
	}
	if i := recv(t, infos, "OnSubscribed"); !i.Resumed || !i.Recovered {
		t.Errorf("OnSubscribed(%+v) after the gap", i)
	}
	if s := c.Stats(); s.Gaps != 1 || s.Lost != 0 {
		t.Errorf("Stats() = %+v, want 1 gap, none lost", s)
	}
}

func TestGapBehindPosition(t *testing.T) {
	// On a wildcard subscription, a missing event older than one already
	// delivered cannot be recovered in order: it is counted as lost and
	// the order holds.
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, _ := subscribe(t, c, fc, "a/+", nil, "e1", 0)
	fc.send(t, evFrame("a/x", 1, 0), evFrame("a/y", 3, 0), evFrame("a/x", 4, 2))
	var got []uint64
	for len(got) < 3 {
		got = append(got, recv(t, sub.Events(), "an event").Position.Offset)
	}
	if !equal(got, []uint64{1, 3, 4}) {
		t.Errorf("offsets %v, want [1 3 4]", got)
	}
	if s := c.Stats(); s.Gaps != 1 || s.Lost != 1 {
		t.Errorf("Stats() = %+v, want 1 gap, 1 lost", s)
	}
}

func TestPingDeadline(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	// 400 ms: two intervals without a word must stay far above what a
	// loaded machine (the race detector, CI's 2 cores) takes to answer.
	connected := &proto.Connected{Client: "c-1", PingMillis: 400}

	// While the relay answers, pings keep the link up.
	_, fc := dialFake(t, r, opts, connected)
	for range 3 {
		recv(t, fc.pings, "a ping")
	}
	select {
	case <-fc.done:
		t.Fatal("the client dropped a live link")
	default:
	}

	// A relay that goes silent, link open, is dropped after two intervals.
	fc.pong.Store(false)
	start := time.Now()
	if err := st.until(t, Reconnecting); !errors.Is(err, errDeadLink) {
		t.Errorf("OnState(reconnecting, %v), want the dead link", err)
	}
	t.Logf("dead link noticed after %v (interval 400ms)", time.Since(start))
	fc = r.accept(t)
	fc.handshake(t, connected)
	st.until(t, Connected)
}

func TestCommand(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	c, fc := dialFake(t, r, opts, nil)

	type result struct {
		reply Reply
		err   error
	}
	command := func(ctx context.Context, body msgp.Marshaler) <-chan result {
		res := make(chan result, 1)
		go func() {
			reply, err := c.Command(ctx, "lora/app/dev/down", event.CmdLoRaDownlink, body)
			res <- result{reply, err}
		}()
		return res
	}

	t.Run("ok", func(t *testing.T) {
		res := command(context.Background(), &event.LoRaDownlink{Port: 2, Payload: []byte{1, 2}})
		f := expect[*proto.Command](t, fc)
		if id, err := uuid.Parse(f.ID); err != nil || id.Version() != 7 {
			t.Errorf("command id %q, want a UUIDv7", f.ID)
		}
		var body event.LoRaDownlink
		if _, err := body.UnmarshalMsg(f.Body); err != nil || body.Port != 2 || f.Target != "lora/app/dev/down" || f.Kind != event.CmdLoRaDownlink {
			t.Errorf("command %+v body %+v (%v)", f, body, err)
		}
		data, _ := (&event.DownlinkResult{Reference: "ref-1"}).MarshalMsg(nil)
		fc.send(t, &proto.Reply{Req: f.Req, Data: data})
		got := recv(t, res, "Command")
		var dr event.DownlinkResult
		if got.err != nil {
			t.Fatal(got.err)
		}
		if _, err := dr.UnmarshalMsg(got.reply.Data); err != nil || dr.Reference != "ref-1" {
			t.Errorf("reply %+v (%v)", dr, err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		res := command(context.Background(), nil)
		f := expect[*proto.Command](t, fc)
		if f.Body != nil {
			t.Errorf("command without a body carries % x", f.Body)
		}
		fc.send(t, &proto.Reply{Req: f.Req, Code: uint16(codes.Forbidden), Message: "not yours"})
		var re *ReplyError
		if err := recv(t, res, "Command").err; !errors.As(err, &re) || re.Code != codes.Forbidden || re.Message != "not yours" {
			t.Errorf("Command error %v, want ReplyError FORBIDDEN", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		res := command(ctx, nil)
		expect[*proto.Command](t, fc)
		err := recv(t, res, "Command").err
		var re *ReplyError
		if !errors.As(err, &re) || re.Code != codes.Timeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Command error %v, want ReplyError TIMEOUT", err)
		}
	})

	t.Run("link lost", func(t *testing.T) {
		res := command(context.Background(), nil)
		expect[*proto.Command](t, fc)
		fc.drop()
		var re *ReplyError
		if err := recv(t, res, "Command").err; !errors.As(err, &re) || re.Code != codes.UnknownOutcome {
			t.Errorf("Command error %v, want ReplyError UNKNOWN_OUTCOME", err)
		}
	})

	t.Run("waits for a connection", func(t *testing.T) {
		st.until(t, Reconnecting)
		res := command(context.Background(), nil)
		fc = r.accept(t)
		fc.handshake(t, nil)
		f := expect[*proto.Command](t, fc)
		fc.send(t, &proto.Reply{Req: f.Req})
		if err := recv(t, res, "Command").err; err != nil {
			t.Errorf("Command: %v", err)
		}
	})
}

func TestSubscribeRefused(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	res := make(chan error, 1)
	go func() {
		_, err := c.Subscribe(context.Background(), "secret/#", nil)
		res <- err
	}()
	f := expect[*proto.Subscribe](t, fc)
	fc.send(t, &proto.Reply{Req: f.Req, Code: uint16(codes.Forbidden), Message: "pattern not allowed"})
	var re *ReplyError
	if err := recv(t, res, "Subscribe"); !errors.As(err, &re) || re.Code != codes.Forbidden {
		t.Errorf("Subscribe error %v, want ReplyError FORBIDDEN", err)
	}
	if _, err := c.Subscribe(context.Background(), "bad/#/x", nil); err == nil {
		t.Error("Subscribe accepted an invalid pattern")
	}
}

func TestUnsubscribe(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	sub, f := subscribe(t, c, fc, "a/#", nil, "e1", 0)
	if err := sub.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := expect[*proto.Unsubscribe](t, fc); u.Sub != f.Sub {
		t.Errorf("Unsubscribe %+v, want sub %d", u, f.Sub)
	}
	if _, ok := <-sub.Events(); ok {
		t.Error("Events() not closed")
	}
	sub.Unsubscribe(context.Background()) // idempotent

	// After a reconnect only live subscriptions are resumed.
	fc.drop()
	fc = r.accept(t)
	fc.handshake(t, nil)
	go c.Subscribe(context.Background(), "b/#", nil)
	if s := expect[*proto.Subscribe](t, fc); s.Pattern != "b/#" {
		t.Errorf("after reconnect the client subscribed to %q", s.Pattern)
	}
}

func TestSince(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	res := make(chan *Subscription, 1)
	go func() {
		s, err := c.Subscribe(context.Background(), "a/#", &SubscribeOptions{Since: &Position{"e1", 40}})
		if err != nil {
			t.Error(err)
		}
		res <- s
	}()
	f := expect[*proto.Subscribe](t, fc)
	if !f.Recover || f.Epoch != "e1" || f.Offset != 40 {
		t.Errorf("Subscribe %+v, want recovery from e1/40", f)
	}
	e := evFrame("a/1", 41, 0)
	e.Sub = f.Sub
	fc.send(t, &proto.Subscribed{Req: f.Req, Sub: f.Sub, Epoch: "e1", Offset: 41, Recovered: true, Replayed: 1}, e)
	sub := recv(t, res, "Subscribe")
	if ev := recv(t, sub.Events(), "replayed"); !ev.Replayed || ev.Position.Offset != 41 {
		t.Errorf("event %+v", ev)
	}
}

func TestTokenRefresh(t *testing.T) {
	r := newFakeRelay(t)
	var mu sync.Mutex
	n := 0
	opts := testOptions()
	opts.GetToken = func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return "tok-" + strconv.Itoa(n), nil
	}
	connected := &proto.Connected{Client: "c-1", PingMillis: 10_000, Expires: time.Now().Add(2 * time.Second).Unix()}
	res := make(chan *Client, 1)
	go func() {
		c, err := Dial(context.Background(), r.url(), opts)
		if err != nil {
			t.Error(err)
		}
		res <- c
	}()
	fc := r.accept(t)
	if c := fc.handshake(t, connected); c.Token != "tok-1" {
		t.Errorf("Connect token %q, want tok-1", c.Token)
	}
	c := recv(t, res, "Dial")
	defer c.Close()

	// At most a second before expiry the client refreshes in-session.
	f := expect[*proto.Refresh](t, fc)
	if f.Token != "tok-2" {
		t.Errorf("Refresh token %q, want tok-2", f.Token)
	}
	fc.send(t, &proto.Reply{Req: f.Req})

	// An expired token closes with a reconnect code; the reconnect asks
	// for a new token.
	fc.closeWith(t, codes.TokenExpired, "expired", true)
	fc = r.accept(t)
	if c := fc.handshake(t, nil); c.Token != "tok-3" {
		t.Errorf("Connect token after TokenExpired %q, want tok-3", c.Token)
	}
}

func TestCloseLeaksNothing(t *testing.T) {
	r := newFakeRelay(t)
	base := runtime.NumGoroutine()

	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	connected := &proto.Connected{Client: "c-1", PingMillis: 20}
	c, fc := dialFake(t, r, opts, connected)
	full, _ := subscribe(t, c, fc, "a/#", &SubscribeOptions{Buffer: 1}, "e1", 0)
	called := make(chan struct{}, 8)
	cb, _ := subscribe(t, c, fc, "b/#", &SubscribeOptions{OnEvents: func([]Event) { called <- struct{}{} }}, "e1", 0)
	fc.send(t, evFrame("b/1", 1, 0))
	recv(t, called, "OnEvents")
	// The read loop blocks on full's channel, which nobody reads.
	fc.send(t, evFrame("a/1", 2, 0), evFrame("a/1", 3, 2), evFrame("a/1", 4, 3))
	for deadline := time.Now().Add(wait); len(full.Events()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no event buffered")
		}
	}
	pending := make(chan error, 1)
	go func() {
		_, err := c.Command(context.Background(), "a/1", "k", nil)
		pending <- err
	}()
	expect[*proto.Command](t, fc)

	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := recv(t, pending, "the pending command"); !errors.Is(err, ErrClosed) {
		t.Errorf("pending command: %v, want ErrClosed", err)
	}
	if st.until(t, Closed) != nil || c.State() != Closed {
		t.Errorf("state %s after Close", c.State())
	}
	n := 0
	for range full.Events() {
		n++
	}
	if n != 1 {
		t.Errorf("%d events were buffered, want 1", n)
	}
	if cb.Events() != nil {
		t.Error("Events() of an OnEvents subscription is not nil")
	}
	if _, err := c.Subscribe(context.Background(), "a/#", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	recv(t, fc.done, "the relay to see the close")

	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before Dial:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackoff(t *testing.T) {
	c := newClient("ws://x", &Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for n, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		ceil *= time.Millisecond
		for range 200 {
			if d := c.backoff(n); d < 0 || d >= ceil {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceil)
			}
		}
	}
	if d := c.backoff(1000); d < 0 || d >= time.Second {
		t.Errorf("backoff(1000) = %v", d)
	}
}

func TestTokenExpiry(t *testing.T) {
	// {"alg":"HS256"} . {"sub":"x","exp":1700000000} . sig
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxNzAwMDAwMDAwfQ.c2ln"
	if got := tokenExpiry(tok); got != 1700000000 {
		t.Errorf("tokenExpiry = %d", got)
	}
	// {"sub":"exp", "exp" : 1700000001.5}
	if got := tokenExpiry("x.eyJzdWIiOiJleHAiLCAiZXhwIiA6IDE3MDAwMDAwMDEuNX0.y"); got != 1700000001 {
		t.Errorf("tokenExpiry = %d", got)
	}
	for _, bad := range []string{"", "opaque", "a.b.c", "a.e30.c", "a.eyJleHAiOiJzb29uIn0.c"} {
		if got := tokenExpiry(bad); got != 0 {
			t.Errorf("tokenExpiry(%q) = %d, want 0", bad, got)
		}
	}
}

func offsets(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Position.Offset
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCallbacksMayCloseAndUnsubscribe(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), nil)
	var sub *Subscription
	unsubscribed := make(chan error, 1)
	sub, _ = subscribe(t, c, fc, "a/#", &SubscribeOptions{OnEvents: func([]Event) {
		unsubscribed <- sub.Unsubscribe(context.Background())
	}}, "e1", 0)
	closed := make(chan error, 1)
	subscribe(t, c, fc, "b/#", &SubscribeOptions{OnEvents: func([]Event) { closed <- c.Close() }}, "e1", 0)

	fc.send(t, evFrame("a/1", 1, 0))
	if err := recv(t, unsubscribed, "Unsubscribe from OnEvents"); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
	expect[*proto.Unsubscribe](t, fc)
	fc.send(t, evFrame("b/1", 2, 0))
	recv(t, closed, "Close from OnEvents")
	recv(t, c.done, "the client's goroutine to return")
	if c.State() != Closed {
		t.Errorf("State() = %s", c.State())
	}
}

func TestCommandID(t *testing.T) {
	seen := make(map[string]bool)
	prev := ""
	for range 1000 {
		s := commandID()
		id, err := uuid.Parse(s)
		if err != nil || id.Version() != 7 || id.Variant() != uuid.RFC4122 || id.String() != s {
			t.Fatalf("commandID() = %q: %v, version %d, variant %s", s, err, id.Version(), id.Variant())
		}
		if ms := id.Time(); ms == 0 {
			t.Fatalf("no time in %s", s)
		}
		if seen[s] || s[:13] < prev[:min(len(prev), 13)] {
			t.Fatalf("commandID() = %q after %q: repeated or earlier", s, prev)
		}
		seen[s] = true
		prev = s
	}
	sec, _ := uuid.MustParse(commandID()).Time().UnixTime()
	if d := time.Now().Unix() - sec; d < -1 || d > 1 {
		t.Errorf("UUIDv7 time is %d s off", d)
	}
}
