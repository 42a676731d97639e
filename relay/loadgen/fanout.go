package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
)

// Config is one load.
type Config struct {
	Subscribers int           // default 200
	Rate        float64       // events a second, default 2 000
	Duration    time.Duration // of publishing, default 5 s
	Payload     int           // bytes of each event's data, default 64
	Wildcard    bool          // subscribe "bench/#" instead of the exact channel
	// Channels the events are published on, round-robin: bench/ch0, …,
	// bench/ch<Channels-1>. Subscriber j subscribes bench/ch<j mod
	// Channels> and expects the events of that channel; with Wildcard it
	// subscribes bench/# and expects every event. Default 1 (every
	// subscriber gets every event).
	Channels int
	// Procs runs the subscribers in that many processes (started with
	// SubscriberCommand), so that this process is the relay (or the bare
	// server) and the publisher alone: its CPU time and memory are theirs.
	// 0, the default, runs the subscribers in this process.
	Procs int
	// Sources is the number of loopback source addresses (127.0.0.1, .2,
	// …) the subscribers' connections are spread over. Default 8. The
	// relay target's wasm/client subscribers cannot be given a dialer: in
	// this process (Procs 0) they all connect from 127.0.0.1; in a
	// subscriber process they are spread through http.DefaultClient,
	// which that process owns.
	Sources int
	// SubscriberCommand starts one subscriber process: its argv, to which
	// the flags of a SubscriberProc are appended. For fieldrelay:
	// os.Args[0], "loadgen", "--subscriber-proc". Required with Procs > 0.
	SubscriberCommand []string
	// Stderr receives the subscriber processes' standard error (their
	// last lines are also quoted in errors). Default: only quoted.
	Stderr io.Writer
}

func (c *Config) defaults() {
	if c.Subscribers <= 0 {
		c.Subscribers = 200
	}
	if c.Rate <= 0 {
		c.Rate = 2_000
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Payload < 0 {
		c.Payload = 0
	} else if c.Payload == 0 {
		c.Payload = 64
	}
	if c.Channels <= 0 {
		c.Channels = 1
	}
	c.Procs = min(max(c.Procs, 0), c.Subscribers)
	if c.Sources <= 0 {
		c.Sources = 8
	}
	c.Sources = min(c.Sources, 254)
}

// channelName is the name of bench channel i.
func channelName(i int) string { return "bench/ch" + strconv.Itoa(i) }

// pattern is what subscriber j subscribes.
func pattern(j, channels int, wildcard bool) string {
	if wildcard {
		return "bench/#"
	}
	return channelName(j % channels)
}

// expected is how many of published events subscriber j gets: those of
// its channel, published round-robin over channels, or all of them.
func expected(published, channels int, wildcard bool, j int) uint64 {
	if wildcard || channels <= 1 {
		return uint64(published)
	}
	n := published / channels
	if j%channels < published%channels {
		n++
	}
	return uint64(n)
}

// Result is one target's figures.
type Result struct {
	Target              string
	Published           int
	Expected, Delivered uint64
	// Misrouted counts events a subscriber got on a channel it did not
	// subscribe (not counted as delivered); Incomplete, the subscribers
	// that did not get exactly their channel's events.
	Misrouted  uint64
	Incomplete int
	// Reconnects of the relay target's wasm/client sessions.
	Reconnects          uint64
	Elapsed             time.Duration // first publication to last delivery
	P50, P99, P999, Max time.Duration
	// CPU is the user + system time of this process while publishing and
	// until the last delivery: relay (or bare server) and publisher, and
	// the subscribers too when Procs is 0.
	CPU time.Duration
	// SubscriberCPU is that of the subscriber processes over the same
	// span (Procs > 0).
	SubscriberCPU time.Duration
	Procs         int
	// Heap in use plus stacks of this process (runtime/metrics): after a
	// GC before the subscribers connect and once they have all
	// subscribed, and the highest of the samples taken every 100 ms while
	// publishing and delivering.
	MemBefore, MemSubscribed, MemPeak uint64
}

// CPUPerDelivery is CPU microseconds per delivery (0 without deliveries).
func (r Result) CPUPerDelivery() float64 {
	if r.Delivered == 0 {
		return 0
	}
	return float64(r.CPU.Microseconds()) / float64(r.Delivered)
}

// PerSecond is deliveries per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Delivered) / r.Elapsed.Seconds()
}

// data is an event's payload: msgpack bin of the publication time (ns)
// and padding, which the subscriber reads back.
func data(payload int) []byte {
	return wire.AppendBytes(nil, make([]byte, 8+payload))
}

func stamp(b []byte, t time.Time) {
	off := binHeader(b)
	binary.BigEndian.PutUint64(b[off:off+8], uint64(t.UnixNano()))
}

func binHeader(b []byte) int {
	switch b[0] {
	case 0xc4:
		return 2
	case 0xc5:
		return 3
	}
	return 5
}

// sentAt reads the publication time from an event's data.
func sentAt(d []byte) (time.Time, bool) {
	if len(d) < 10 {
		return time.Time{}, false
	}
	off := binHeader(d)
	if len(d) < off+8 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(d[off:off+8]))), true
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// publish calls pub for each event at the rate, round-robin over the
// channels, stamping each with its publication time right before it
// enters the broker (or the bare broadcast).
func publish(ctx context.Context, cfg Config, pub func(ch int, d []byte) error) (int, error) {
	total := int(cfg.Rate * cfg.Duration.Seconds())
	start := time.Now()
	for i := range total {
		if due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		d := data(cfg.Payload)
		stamp(d, time.Now())
		if err := pub(i%cfg.Channels, d); err != nil {
			return i, err
		}
		if ctx.Err() != nil {
			return i + 1, ctx.Err()
		}
	}
	return total, nil
}

// audience is a target's subscribers, in this process or in others.
type audience interface {
	// start says publishing begins (subscriber processes take their CPU
	// baseline).
	start() error
	// finish waits until every subscriber has its events, ctx ends or
	// deliveries stall, and sums up.
	finish(ctx context.Context, published int) (tally, error)
	// close disconnects the subscribers, within a bound.
	close()
}

// measure publishes to a target whose subscribers are all subscribed and
// sums up.
func measure(ctx context.Context, cfg Config, target string, aud audience, mem *memWatch, pub func(ch int, d []byte) error) (Result, error) {
	mem.markSubscribed()
	if err := aud.start(); err != nil {
		return Result{}, err
	}
	cpu0, start := cpuTime(), time.Now()
	mem.watch()
	n, err := publish(ctx, cfg, pub)
	if err != nil {
		mem.end()
		return Result{}, err
	}
	t, err := aud.finish(ctx, n)
	end, cpu := time.Now(), cpuTime()-cpu0
	peak := mem.end()
	if err != nil {
		return Result{}, err
	}
	r := Result{Target: target, Published: n, Expected: t.Expected, Delivered: t.Delivered,
		Misrouted: t.Misrouted, Incomplete: t.Incomplete, Reconnects: t.Reconnects,
		Elapsed: end.Sub(start), CPU: cpu, SubscriberCPU: time.Duration(t.CPUNS), Procs: cfg.Procs,
		MemBefore: mem.before, MemSubscribed: mem.subscribed, MemPeak: peak}
	if cfg.Procs > 0 && t.LastNS > start.UnixNano() {
		// The subscriber processes say when they got their last event;
		// here the wait for their reports would be counted otherwise.
		r.Elapsed = time.Unix(0, t.LastNS).Sub(start)
	}
	h := t.Hist
	r.P50, r.P99, r.P999, r.Max = h.quantile(0.5), h.quantile(0.99), h.quantile(0.999), h.max
	return r, nil
}

// Relay runs the load through the relay: hub, memory broker, HS256 auth,
// and wasm/client subscribers.
func Relay(ctx context.Context, cfg Config) (Result, error) {
	return relayTarget(ctx, cfg, "relay", targetRelay, nil, nil)
}

// JSON runs the load through the same relay with encoding/json frames
// instead of msgpack (hub.Config.Codec): the publisher stores each
// event's data as JSON, the hub sends it verbatim inside a JSON event
// frame, and the subscribers (raw WebSocket connections, as a JavaScript
// client of such a relay would be) decode each frame and its data with
// encoding/json. What msgpack buys is this target's figures over Relay's.
func JSON(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	pad := jsonPad(cfg.Payload)
	return relayTarget(ctx, cfg, "relay, JSON frames", targetJSON, jsonFrames{}, func(d []byte) []byte {
		t, _ := sentAt(d)
		return jsonPayload(pad, t.UnixNano())
	})
}

// relayTarget runs the load through a relay whose hub encodes frames with
// codec (nil: msgpack), its subscribers of the given target kind; conv,
// if not nil, turns each stamped event's data into what is published.
func relayTarget(ctx context.Context, cfg Config, name, target string, codec hub.Codec, conv func([]byte) []byte) (Result, error) {
	cfg.defaults()
	b := broker.NewMemory(broker.MemoryConfig{MaxEntries: 100_000})
	defer b.Close()
	a := &auth.HS256{Secret: []byte("loadgen")}
	h := hub.New(hub.Config{Broker: b, Verifier: a, Codec: codec, QueueBytes: 8 << 20, MaxConnsPerTenant: 1 << 20, MaxConnsPerSubject: 1 << 20})
	ep := server.NewEndpoint(server.Config{Hub: h})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: ep}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(sctx)
		srv.Shutdown(sctx)
		ep.Wait()
	}()
	tok, _ := a.Mint(auth.Claims{Subject: "bench", Tenant: "bench", Subscribe: []string{"#"}}, time.Hour)
	url := "ws://" + ln.Addr().String() + "/"
	mem := memBefore()
	var aud audience
	if cfg.Procs > 0 {
		aud, err = startRemote(ctx, cfg, target, url, tok)
	} else {
		aud, err = connect(ctx, shareOf(cfg, target, url, tok, 0, cfg.Subscribers))
	}
	if err != nil {
		return Result{}, err
	}
	defer aud.close()
	names := channelNames(cfg.Channels)
	return measure(ctx, cfg, name, aud, mem, func(ch int, d []byte) error {
		if conv != nil {
			d = conv(d)
		}
		_, err := b.Publish(ctx, "bench", broker.Message{Channel: names[ch], Kind: "bench", Data: d})
		return err
	})
}

func channelNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = channelName(i)
	}
	return names
}

// Bare runs the same load as a bare broadcast: every event encoded once
// as an event frame and queued to every connection subscribed to its
// channel (the subscriber names it in the URL, ?ch=<index> or ?ch=all),
// whose goroutine writes what is queued in one message (as the hub's
// writer batches); subscribers read and decode the frames with
// proto/wire.
func Bare(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	var (
		mu     sync.Mutex
		all    []chan []byte
		byChan = make([][]chan []byte, cfg.Channels)
		wg     sync.WaitGroup
	)
	// A connection's queue: 64 Ki frames, as deep as the relay's 8 MiB at
	// this payload, when each gets every event; with more channels each
	// gets fewer, and 1 000 connections' worth of 64 Ki slots would be
	// 1.5 GB of heap.
	qlen := 1 << 16
	if !cfg.Wildcard {
		qlen = max(1<<10, qlen/cfg.Channels)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch := -1
		if v := r.URL.Query().Get("ch"); v != "all" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n >= cfg.Channels {
				http.Error(w, "ch: a channel index or all", http.StatusBadRequest)
				return
			}
			ch = n
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		q := make(chan []byte, qlen)
		mu.Lock()
		all = append(all, q)
		if ch >= 0 {
			byChan[ch] = append(byChan[ch], q)
		}
		mu.Unlock()
		wg.Add(1)
		defer wg.Done()
		// The same batching as the hub's writer: whatever is queued goes
		// out in one message, up to 64 KiB.
		var buf []byte
		for f := range q {
			buf = append(buf[:0], f...)
		drain:
			for len(buf) < 64<<10 {
				select {
				case g, ok := <-q:
					if !ok {
						break drain
					}
					buf = append(buf, g...)
				default:
					break drain
				}
			}
			if err := c.Write(r.Context(), websocket.MessageBinary, buf); err != nil {
				break
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	defer func() {
		mu.Lock()
		for _, q := range all {
			close(q)
		}
		mu.Unlock()
		waitBounded(&wg, 5*time.Second)
	}()

	url := "ws://" + ln.Addr().String() + "/"
	mem := memBefore()
	var aud audience
	if cfg.Procs > 0 {
		aud, err = startRemote(ctx, cfg, targetBare, url, "")
	} else {
		aud, err = connect(ctx, shareOf(cfg, targetBare, url, "", 0, cfg.Subscribers))
	}
	if err != nil {
		return Result{}, err
	}
	defer aud.close()
	for {
		mu.Lock()
		n := len(all)
		mu.Unlock()
		if n == cfg.Subscribers {
			break
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
	names := channelNames(cfg.Channels)
	prev := make([]uint64, cfg.Channels)
	var offset uint64
	return measure(ctx, cfg, "bare broadcast", aud, mem, func(ch int, d []byte) error {
		offset++
		f := wire.AppendFrame(nil, &wire.Event{Channel: names[ch], Offset: offset, Prev: prev[ch], Kind: "bench", Data: d})
		prev[ch] = offset
		qs := all
		if !cfg.Wildcard {
			qs = byChan[ch]
		}
		for _, q := range qs {
			select {
			case q <- f:
			default:
				return errors.New("bare: a subscriber's queue is full")
			}
		}
		return nil
	})
}

// waitBounded waits for wg, or d.
func waitBounded(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// Print writes results side by side as a markdown table, the bare
// broadcast as the baseline, and notes on what the CPU and memory
// columns cover.
func Print(w io.Writer, cfg Config, rs ...Result) {
	cfg.defaults()
	where := "subscribers in this process"
	if cfg.Procs > 0 {
		where = fmt.Sprintf("subscribers in %d process(es)", cfg.Procs)
	}
	fmt.Fprintf(w, "%d subscribers on %d channel(s), %.0f events/s for %s, %d-byte payload, %s subscription, %s, %d source addresses\n\n",
		cfg.Subscribers, cfg.Channels, cfg.Rate, cfg.Duration, cfg.Payload, map[bool]string{true: "wildcard", false: "exact"}[cfg.Wildcard],
		where, cfg.Sources)
	fmt.Fprintln(w, "| target | delivered | deliveries/s | vs bare | p50 | p99 | p99.9 | max | relay CPU s | µs/delivery | subscribers CPU s | relay MB before | subscribed | peak |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var bare float64
	for _, r := range rs {
		if r.Target == "bare broadcast" {
			bare = r.PerSecond()
		}
	}
	for _, r := range rs {
		vs := "—"
		if bare > 0 {
			vs = fmt.Sprintf("%.0f %%", 100*r.PerSecond()/bare)
		}
		subCPU := "—"
		if r.Procs > 0 {
			subCPU = fmt.Sprintf("%.1f", r.SubscriberCPU.Seconds())
		}
		fmt.Fprintf(w, "| %s | %d/%d | %.0f | %s | %s | %s | %s | %s | %.1f | %.2f | %s | %s | %s | %s |\n", r.Target, r.Delivered, r.Expected, r.PerSecond(), vs,
			ms(r.P50), ms(r.P99), ms(r.P999), ms(r.Max), r.CPU.Seconds(), r.CPUPerDelivery(), subCPU, mb(r.MemBefore), mb(r.MemSubscribed), mb(r.MemPeak))
	}
	var mp, js *Result
	for i := range rs {
		switch rs[i].Target {
		case "relay":
			mp = &rs[i]
		case "relay, JSON frames":
			js = &rs[i]
		}
	}
	if mp != nil && js != nil && js.PerSecond() > 0 && mp.CPUPerDelivery() > 0 && mp.P99 > 0 {
		fmt.Fprintf(w, "\nmsgpack over JSON frames: deliveries/s ×%.2f, relay CPU per delivery ×%.2f less, p99 ×%.2f less.\n",
			mp.PerSecond()/js.PerSecond(), js.CPUPerDelivery()/mp.CPUPerDelivery(), float64(js.P99)/float64(mp.P99))
	}
	fmt.Fprintln(w)
	if cfg.Procs > 0 {
		fmt.Fprintf(w, "relay CPU: this process (the relay or bare server, and the publisher); subscribers CPU: the %d subscriber processes; both from the first publication to the last delivery.\n", cfg.Procs)
		fmt.Fprintln(w, "relay MB: this process's heap in use + stacks, after a GC before the subscribers connect and once all have subscribed, and the peak sampled every 100 ms while publishing.")
	} else {
		fmt.Fprintln(w, "In-process (--procs 0): relay CPU and MB are the whole process's, subscribers included; run with --procs 2 for the relay's own.")
	}
	for _, r := range rs {
		if r.Misrouted > 0 || r.Incomplete > 0 || r.Reconnects > 0 {
			fmt.Fprintf(w, "%s: %d subscribers without exactly their events, %d events on a channel not subscribed, %d reconnects.\n",
				r.Target, r.Incomplete, r.Misrouted, r.Reconnects)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(b uint64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) }
