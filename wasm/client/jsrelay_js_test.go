//go:build js

package client

import (
	"context"
	"errors"
	"os"
	"syscall/js"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
)

// The tests below run in js/wasm under Node, started by the native
// TestJSAgainstRelay with a real relay; alone they skip.

func jsEnv(t *testing.T) (url, token, control string) {
	url, token, control = os.Getenv("FIELDRELAY_TEST_URL"), os.Getenv("FIELDRELAY_TEST_TOKEN"), os.Getenv("FIELDRELAY_TEST_CONTROL")
	if url == "" {
		t.Skip("run by TestJSAgainstRelay (go test ./wasm/client natively), which starts a relay")
	}
	return url, token, control
}

// control asks the native test's control server to act on the relay,
// with JavaScript's fetch: under Node, net/http talks to a fake network.
func control(t *testing.T, base, path string) {
	t.Helper()
	opts := js.Global().Get("Object").New()
	opts.Set("method", "POST")
	status := make(chan int, 1)
	var ok, fail js.Func
	ok = js.FuncOf(func(_ js.Value, args []js.Value) any {
		status <- args[0].Get("status").Int()
		ok.Release()
		fail.Release()
		return nil
	})
	fail = js.FuncOf(func(_ js.Value, args []js.Value) any {
		status <- -1
		ok.Release()
		fail.Release()
		return nil
	})
	js.Global().Call("fetch", base+path, opts).Call("then", ok, fail)
	if s := recv(t, status, "the control server"); s != 200 {
		t.Fatalf("control %s: status %d", path, s)
	}
}

func TestJSRelay(t *testing.T) {
	url, token, ctl := jsEnv(t)
	st := make(states, 64)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, url, &Options{Token: token, Name: "js-test", MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, OnState: st.on, Log: testLog()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if err := st.until(t, Connected); err != nil {
		t.Fatal(err)
	}

	batches := make(chan []Event, 256)
	infos := make(chan SubscribedInfo, 16)
	sub, err := c.Subscribe(ctx, "lora/#", &SubscribeOptions{
		OnEvents:     func(evs []Event) { batches <- evs },
		OnSubscribed: func(i SubscribedInfo) { infos <- i },
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	recv(t, infos, "the first confirmation")

	// Events arrive in batches, in offset order. The browser build leaves
	// Value nil (see value_js.go): the test decodes Data itself.
	var got []Event
	next := func(n int) {
		t.Helper()
		for len(got) < n {
			got = append(got, recv(t, batches, "a batch of events")...)
		}
	}
	control(t, ctl, "/publish?n=5")
	next(5)
	for i, ev := range got {
		v, _ := event.Decode(ev.Kind, ev.Data)
		up, ok := v.(*event.Uplink)
		if ev.Value != nil || !ok || ev.Kind != event.KindUplink || ev.Channel != "lora/a1/d1/up" || up.AppEUI != "a1" || up.RSSI != -70.5 {
			t.Fatalf("event %d = %+v (value %+v)", i, ev, ev.Value)
		}
		if i > 0 && ev.Position.Offset != got[i-1].Position.Offset+1 {
			t.Fatalf("offsets %d then %d", got[i-1].Position.Offset, ev.Position.Offset)
		}
	}

	// The relay drops the link (a close frame with a code that asks for a
	// reconnect), two events are published meanwhile: the client
	// reconnects, and the subscription recovers exactly those.
	control(t, ctl, "/drop?then=2")
	var ce *CloseError
	if err := st.until(t, Reconnecting); !errors.As(err, &ce) || ce.Code != codes.Dropped {
		t.Fatalf("OnState(reconnecting, %v), want the relay's close %d", err, codes.Dropped)
	}
	if err := st.until(t, Connected); err != nil {
		t.Fatal(err)
	}
	info := recv(t, infos, "the confirmation after the reconnect")
	if !info.Resumed || !info.Recovered || info.Replayed != 2 {
		t.Fatalf("after the reconnect: %+v, want resumed, recovered, 2 replayed", info)
	}
	control(t, ctl, "/publish?n=3")
	next(10)
	for i, ev := range got[5:] {
		if ev.Position.Offset != got[4].Position.Offset+uint64(i)+1 {
			t.Fatalf("offsets after the reconnect: %d at %d", ev.Position.Offset, i)
		}
		if replayed := i < 2; ev.Replayed != replayed {
			t.Fatalf("event %d replayed=%v", ev.Position.Offset, ev.Replayed)
		}
	}
	if s := c.Stats(); s.Reconnects != 1 || s.Gaps != 0 || s.Duplicates != 0 || s.Lost != 0 || s.Delivered != 10 {
		t.Fatalf("Stats() = %+v", s)
	}
	if p := sub.Position(); p != got[9].Position {
		t.Fatalf("Position() = %+v, want %+v", p, got[9].Position)
	}

	// A poke (the page came back) pings at once; a live link stays up.
	c.poke()
	time.Sleep(200 * time.Millisecond)
	if s := c.State(); s != Connected {
		t.Fatalf("after a poke: %s", s)
	}

	// A command the relay refuses comes back as a ReplyError with its code:
	// no link of the tenant serves this target.
	_, err = c.Command(ctx, "lora/a1/d1/down", event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 2, Payload: []byte{1}})
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != codes.NotFound {
		t.Fatalf("Command error %v, want ReplyError %d", err, codes.NotFound)
	}

	c.Close()
	if err := st.until(t, Closed); err != nil {
		t.Fatalf("OnState(closed, %v)", err)
	}
	select {
	case <-sub.Done():
	default:
		t.Fatal("the subscription's Done is not closed after Close")
	}
}

func TestJSInvalidToken(t *testing.T) {
	url, _, _ := jsEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Dial(ctx, url, &Options{Token: "not a token", MinBackoff: 10 * time.Millisecond})
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != codes.InvalidToken {
		t.Fatalf("Dial error %v, want CloseError %d", err, codes.InvalidToken)
	}
}

func TestJSNoRelay(t *testing.T) {
	jsEnv(t)
	// Nothing listens on port 9 (discard) of 127.0.0.1 here: every attempt
	// fails to open, and Dial gives up with its context, naming the last
	// attempt's error.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, "ws://127.0.0.1:9/v1/ws", &Options{Token: "t", MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	var de *dialError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &de) {
		t.Fatalf("Dial error %v, want the deadline and a dial error", err)
	}
}
