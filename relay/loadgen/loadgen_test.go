package loadgen

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/internal/syncbuf"
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

// With several channels each subscriber gets exactly the events of its
// own, through both targets; with a wildcard, every event.
func TestChannelsDeliverExactly(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		cfg  Config
		want uint64 // events per subscriber
	}{
		{Config{Subscribers: 20, Channels: 4, Rate: 1000, Duration: time.Second}, 250},
		{Config{Subscribers: 6, Channels: 3, Rate: 300, Duration: time.Second, Wildcard: true}, 300},
	} {
		for _, run := range []func(context.Context, Config) (Result, error){Bare, Relay, JSON} {
			res, err := run(ctx, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Published != int(tc.want)*map[bool]int{false: tc.cfg.Channels, true: 1}[tc.cfg.Wildcard] ||
				res.Expected != tc.want*uint64(tc.cfg.Subscribers) || res.Delivered != res.Expected ||
				res.Incomplete != 0 || res.Misrouted != 0 {
				t.Errorf("%s %+v: %+v", res.Target, tc.cfg, res)
			}
		}
	}
}

// Subscriber processes (the real binary) report their deliveries and
// histograms, which the parent merges.
func TestSubscriberProcs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	leaktest.Check(t)
	bin := filepath.Join(t.TempDir(), "fieldrelay")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fieldrelay").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr syncbuf.Buffer
	cfg := Config{Subscribers: 10, Channels: 3, Rate: 600, Duration: 500 * time.Millisecond, Procs: 1, Sources: 2,
		SubscriberCommand: []string{bin, "loadgen", "--subscriber-proc"}, Stderr: &stderr}
	var rs []Result
	for _, run := range []func(context.Context, Config) (Result, error){Bare, Relay, JSON} {
		res, err := run(ctx, cfg)
		if err != nil {
			t.Fatalf("%v\nstderr: %s", err, stderr.String())
		}
		// 300 events over 3 channels: 100 to each subscriber.
		if res.Published != 300 || res.Expected != 10*100 || res.Delivered != res.Expected || res.Incomplete != 0 || res.Misrouted != 0 {
			t.Errorf("%+v", res)
		}
		if res.P50 <= 0 || res.Max < res.P99 || res.Procs != 1 {
			t.Errorf("%s: histogram not merged: %+v", res.Target, res)
		}
		rs = append(rs, res)
	}
	var out strings.Builder
	Print(&out, cfg, rs...)
	if !strings.Contains(out.String(), "| bare broadcast |") || !strings.Contains(out.String(), "subscribers in 1 process(es)") ||
		!strings.Contains(out.String(), "| relay, JSON frames |") || !strings.Contains(out.String(), "msgpack over JSON frames:") {
		t.Fatalf("table:\n%s", out.String())
	}
}

// A subscriber process that is never told to finish reports what it has
// when its stdin ends; bad arguments are refused.
func TestSubscriberProcStdinEnds(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := RunSubscriberProc(ctx, SubscriberProc{URL: "ws://127.0.0.1:1/", From: 2, To: 1, Channels: 1}, strings.NewReader(""), io.Discard); err == nil {
		t.Fatal("from > to accepted")
	}
	// Bare server with nothing published: the child connects, says ready,
	// and reports zero deliveries.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Read(r.Context())
		c.CloseNow()
	}))
	defer srv.Close()
	var out strings.Builder
	p := SubscriberProc{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/", Target: targetBare, From: 0, To: 3, Channels: 2, Sources: 2}
	if err := RunSubscriberProc(ctx, p, strings.NewReader("start\n"), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var tl tally
	if len(lines) != 2 || lines[0] != "ready" || json.Unmarshal([]byte(lines[1]), &tl) != nil || tl.Delivered != 0 || tl.Hist == nil {
		t.Fatalf("output %q", out.String())
	}
}

func TestHistJSON(t *testing.T) {
	h := newHist()
	for i := 1; i <= 5000; i++ {
		h.add(time.Duration(i*i) * time.Microsecond)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var g *hist
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.n != h.n || g.max != h.max || !slices.Equal(g.counts, h.counts) {
		t.Fatalf("round trip: n %d/%d max %v/%v", g.n, h.n, g.max, h.max)
	}
	for _, q := range []float64{0.5, 0.99, 0.999, 1} {
		if g.quantile(q) != h.quantile(q) {
			t.Errorf("q%v: %v, want %v", q, g.quantile(q), h.quantile(q))
		}
	}
	if json.Unmarshal([]byte(`{"n":3,"max_ns":5,"buckets":[[1,2]]}`), &g) == nil {
		t.Error("buckets that do not add up accepted")
	}
}

func TestExpectedPerChannel(t *testing.T) {
	const published, channels = 1003, 10
	var sum uint64
	for j := range channels {
		sum += expected(published, channels, false, j)
	}
	if sum != published || expected(published, channels, false, 2) != 101 || expected(published, channels, false, 12) != 101 ||
		expected(published, channels, false, 3) != 100 || expected(published, channels, true, 3) != published {
		t.Fatalf("sum %d", sum)
	}
}

func TestSubscriberProcArgs(t *testing.T) {
	p := SubscriberProc{URL: "ws://127.0.0.1:9/", Token: "t", Target: targetBare, From: 3, To: 7, Channels: 5, Wildcard: true, Sources: 4,
		Deadline: time.Unix(1700000000, 123456789)}
	var q SubscriberProc
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	q.Flags(fs)
	if err := fs.Parse(p.Args()); err != nil {
		t.Fatal(err)
	}
	if !q.Deadline.Equal(p.Deadline) {
		t.Fatalf("deadline %v", q.Deadline)
	}
	q.Deadline = p.Deadline
	if q != p {
		t.Fatalf("%+v", q)
	}
}
