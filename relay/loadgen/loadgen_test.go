package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

// Both targets deliver every event to every subscriber at a small load,
// and the table names them; no figure is asserted.
func TestSmallLoadDeliversEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := Config{Subscribers: 5, Rate: 500, Duration: 200 * time.Millisecond}
	r, err := Relay(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bare(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []Result{r, b} {
		if res.Delivered != res.Expected || res.Expected != uint64(5*res.Published) || res.Published != 100 {
			t.Errorf("%s: delivered %d of %d (%d published)", res.Target, res.Delivered, res.Expected, res.Published)
		}
		if res.P50 <= 0 || res.Max < res.P99 {
			t.Errorf("%s: latencies %v %v", res.Target, res.P50, res.Max)
		}
	}
	var out strings.Builder
	Print(&out, cfg, b, r)
	if !strings.Contains(out.String(), "| relay |") || !strings.Contains(out.String(), "| bare broadcast |") {
		t.Fatalf("table:\n%s", out.String())
	}
}

func TestHistQuantiles(t *testing.T) {
	h := newHist()
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond} {
		got := h.quantile(q)
		if got < want || float64(got) > float64(want)*1.02 {
			t.Errorf("q%.2f = %v, want %v within 2 %%", q, got, want)
		}
	}
	if h.quantile(1) != time.Second || h.max != time.Second {
		t.Errorf("max %v", h.max)
	}
}

// Idle opens the connections it is asked for against a relay and reports
// a positive memory figure; the figure itself is not asserted.
func TestIdleMeasuresConnections(t *testing.T) {
	n, err := node.Start(node.Config{Listen: "127.0.0.1:0", Secret: "s", Dev: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token := func(i int) string {
		tok, _ := n.Auth.Mint(auth.Claims{Subject: "s", Tenant: "t", Subscribe: []string{"#"}}, time.Hour)
		return tok
	}
	res, err := Idle(ctx, n.BaseURL(), token, "idle/#", 20, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Twenty connections in a process that also runs the test move the
	// heap by less than a collection's noise: only what they certainly
	// add is checked (a session has goroutines of its own).
	if res.Connections != 20 || res.FailureMessage != "" || res.Goroutines < 20 {
		t.Fatalf("%+v", res)
	}
}
