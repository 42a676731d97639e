//go:build js && wasm

package direct_test

import (
	"context"
	"errors"
	"os"
	"syscall/js"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/wasm/direct"
)

// The tests below run in js/wasm under Node, started by the native
// TestJSAgainstSim with a simulated app; alone they skip.

const patience = 10 * time.Second

func jsEnv(t *testing.T) (url, control string) {
	url, control = os.Getenv("DIRECT_TEST_URL"), os.Getenv("DIRECT_TEST_CONTROL")
	if url == "" {
		t.Skip("run by TestJSAgainstSim (go test ./wasm/direct natively), which starts the simulated app")
	}
	return url, control
}

// control asks the native test's control server to act on the app, with
// JavaScript's fetch: under Node, net/http talks to a fake network.
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
	select {
	case s := <-status:
		if s != 200 {
			t.Fatalf("control %s: status %d", path, s)
		}
	case <-time.After(patience):
		t.Fatalf("control %s: no answer", path)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("no %s within %v", what, patience)
	}
	panic("unreachable")
}

func TestJSDirect(t *testing.T) {
	url, ctl := jsEnv(t)
	type change struct {
		s   direct.State
		err error
	}
	states := make(chan change, 64)
	untilState := func(want direct.State) error {
		t.Helper()
		for {
			c := recv(t, states, "state "+want.String())
			if c.s == want {
				return c.err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := direct.Dial(ctx, url, &direct.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		CommandTimeout: time.Minute, OnState: func(st direct.State, err error) { states <- change{st, err} }})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer s.Close()
	if err := untilState(direct.Connected); err != nil {
		t.Fatal(err)
	}

	batches := make(chan []direct.Event, 256)
	if _, err := s.Subscribe(ctx, "scanner/+/scan", &direct.SubscribeOptions{OnEvents: func(evs []direct.Event) { batches <- evs }}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	scan := func(code string) direct.Event {
		t.Helper()
		control(t, ctl, "/scan?serial=MDMR000000064&code="+code)
		for {
			for _, ev := range recv(t, batches, "the scan "+code) {
				if sc := ev.Value.(*event.Scan); sc.Code == code {
					if ev.Channel != "scanner/mdmr000000064/scan" || sc.Serial != "MDMR000000064" || string(sc.Bytes) != code || ev.Position.Epoch != s.Epoch() {
						t.Fatalf("scan event on %s: %+v at %+v", ev.Channel, sc, ev.Position)
					}
					return ev
				}
			}
		}
	}
	first := scan("JS-1")

	// Commands go out as text frames and settle as natively: by the app's
	// answer here (success by silence is tested natively).
	rep, err := s.Command(ctx, "scanner/gateway/_/cmd", event.CmdScannerGatewayState, nil)
	if err != nil || !rep.Answered || !proglove.ValidEventID(rep.EventID) {
		t.Fatalf("gateway_state: %+v, %v; want answered", rep, err)
	}
	_, err = s.Command(ctx, "scanner/m2mr111100928/cmd", event.CmdScannerDisplay, &event.ScannerDisplay{Template: "PG1"})
	var re *direct.ReplyError
	if !errors.As(err, &re) || re.Code != codes.DeviceRejected {
		t.Fatalf("display to a MARK 2: %v, want DEVICE_REJECTED", err)
	}

	// The app drops the link: the session reconnects and events flow in
	// the same log.
	control(t, ctl, "/drop")
	if err := untilState(direct.Reconnecting); err == nil {
		t.Fatal("OnState(reconnecting) without a cause")
	}
	if err := untilState(direct.Connected); err != nil {
		t.Fatal(err)
	}
	if ev := scan("JS-2"); ev.Position.Offset <= first.Position.Offset || ev.Prev != first.Position.Offset {
		t.Fatalf("after the reconnect: %+v prev %d, first %+v", ev.Position, ev.Prev, first.Position)
	}
	if st := s.Stats(); st.Reconnects != 1 || st.BadInput != 0 {
		t.Fatalf("Stats() = %+v", st)
	}

	s.Close()
	if err := untilState(direct.Closed); err != nil {
		t.Fatalf("OnState(closed, %v)", err)
	}
}
