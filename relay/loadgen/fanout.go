package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Config is one load.
type Config struct {
	Subscribers int           // default 200
	Rate        float64       // events a second, default 2 000
	Duration    time.Duration // of publishing, default 5 s
	Payload     int           // bytes of each event's data, default 64
	Wildcard    bool          // subscribe "bench/#" instead of the exact channel
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
}

// Result is one target's figures.
type Result struct {
	Target              string
	Published           int
	Expected, Delivered uint64
	Elapsed             time.Duration // first publication to last delivery
	P50, P99, P999, Max time.Duration
	CPU                 time.Duration // user + system of the whole process
}

// PerSecond is deliveries per second.
func (r Result) PerSecond() float64 { return float64(r.Delivered) / r.Elapsed.Seconds() }

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

// sub is one subscriber's tally.
type sub struct {
	mu        sync.Mutex
	h         *hist
	delivered uint64
}

func (s *sub) record(d []byte, now time.Time) {
	t, ok := sentAt(d)
	if !ok {
		return
	}
	s.mu.Lock()
	s.h.add(now.Sub(t))
	s.delivered++
	s.mu.Unlock()
}

// publish calls pub for each event at the rate, stamping each with its
// publication time.
func publish(ctx context.Context, cfg Config, pub func([]byte) error) (int, error) {
	total := int(cfg.Rate * cfg.Duration.Seconds())
	start := time.Now()
	for i := range total {
		if due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		d := data(cfg.Payload)
		stamp(d, time.Now())
		if err := pub(d); err != nil {
			return i, err
		}
		if ctx.Err() != nil {
			return i + 1, ctx.Err()
		}
	}
	return total, nil
}

// finish waits until every subscriber has everything or the bound passes,
// and sums up.
func finish(ctx context.Context, target string, subs []*sub, published int, start time.Time, cpu0 time.Duration) Result {
	want := uint64(published)
	for _, s := range subs {
		for {
			s.mu.Lock()
			d := s.delivered
			s.mu.Unlock()
			if d >= want || ctx.Err() != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	r := Result{Target: target, Published: published, Expected: want * uint64(len(subs)), Elapsed: time.Since(start), CPU: cpuTime() - cpu0}
	h := newHist()
	for _, s := range subs {
		s.mu.Lock()
		h.merge(s.h)
		r.Delivered += s.delivered
		s.mu.Unlock()
	}
	r.P50, r.P99, r.P999, r.Max = h.quantile(0.5), h.quantile(0.99), h.quantile(0.999), h.max
	return r
}

// Relay runs the load through the relay: hub, memory broker, HS256 auth,
// and wasm/client subscribers.
func Relay(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	b := broker.NewMemory(broker.MemoryConfig{MaxEntries: 100_000})
	defer b.Close()
	a := &auth.HS256{Secret: []byte("loadgen")}
	h := hub.New(hub.Config{Broker: b, Verifier: a, QueueBytes: 8 << 20, MaxConnsPerTenant: 1 << 20, MaxConnsPerSubject: 1 << 20})
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
	pattern := "bench/ch"
	if cfg.Wildcard {
		pattern = "bench/#"
	}
	subs := make([]*sub, cfg.Subscribers)
	for i := range subs {
		s := &sub{h: newHist()}
		subs[i] = s
		c, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/", &client.Options{Token: tok, RawEvents: true})
		if err != nil {
			return Result{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
		defer c.Close()
		if _, err := c.Subscribe(ctx, pattern, &client.SubscribeOptions{OnEvents: func(evs []client.Event) {
			now := time.Now()
			for _, ev := range evs {
				s.record(ev.Data, now)
			}
		}}); err != nil {
			return Result{}, err
		}
	}
	cpu0, start := cpuTime(), time.Now()
	n, err := publish(ctx, cfg, func(d []byte) error {
		_, err := b.Publish(ctx, "bench", broker.Message{Channel: "bench/ch", Kind: "bench", Data: d})
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return finish(ctx, "relay", subs, n, start, cpu0), nil
}

// Bare runs the same load as a bare broadcast: every event encoded once
// as an event frame and queued to every connection, whose goroutine
// writes what is queued in one message (as the hub's writer batches);
// subscribers read and decode the frames with proto/wire.
func Bare(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	var (
		mu     sync.Mutex
		queues []chan []byte
		wg     sync.WaitGroup
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		q := make(chan []byte, 1<<16)
		mu.Lock()
		queues = append(queues, q)
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
		for _, q := range queues {
			close(q)
		}
		mu.Unlock()
	}()

	subs := make([]*sub, cfg.Subscribers)
	var readers sync.WaitGroup
	rctx, stop := context.WithCancel(ctx)
	defer func() { stop(); readers.Wait() }()
	for i := range subs {
		s := &sub{h: newHist()}
		subs[i] = s
		c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			return Result{}, err
		}
		c.SetReadLimit(1 << 20)
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer c.CloseNow()
			for {
				_, msg, err := c.Read(rctx)
				if err != nil {
					return
				}
				now := time.Now()
				for rest := msg; len(rest) > 0; {
					var f wire.Frame
					if f, rest, err = wire.DecodeFrame(rest); err != nil {
						return
					}
					if ev, ok := f.(*wire.Event); ok {
						s.record(ev.Data, now)
					}
				}
			}
		}()
	}
	for {
		mu.Lock()
		n := len(queues)
		mu.Unlock()
		if n == cfg.Subscribers {
			break
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
	cpu0, start := cpuTime(), time.Now()
	var offset uint64
	n, err := publish(ctx, cfg, func(d []byte) error {
		offset++
		f := wire.AppendFrame(nil, &wire.Event{Channel: "bench/ch", Offset: offset, Prev: offset - 1, Kind: "bench", Data: d})
		for _, q := range queues {
			select {
			case q <- f:
			default:
				return errors.New("bare: a subscriber's queue is full")
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return finish(ctx, "bare broadcast", subs, n, start, cpu0), nil
}

// Print writes results side by side, the first as the baseline.
func Print(w io.Writer, cfg Config, rs ...Result) {
	cfg.defaults()
	fmt.Fprintf(w, "%d subscribers, %.0f events/s for %s, %d-byte payload, %s subscription\n\n",
		cfg.Subscribers, cfg.Rate, cfg.Duration, cfg.Payload, map[bool]string{true: "wildcard", false: "exact"}[cfg.Wildcard])
	fmt.Fprintln(w, "| target | delivered | deliveries/s | vs bare | p50 | p99 | p99.9 | max | CPU s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
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
		fmt.Fprintf(w, "| %s | %d/%d | %.0f | %s | %s | %s | %s | %s | %.1f |\n", r.Target, r.Delivered, r.Expected, r.PerSecond(), vs,
			ms(r.P50), ms(r.P99), ms(r.P999), ms(r.Max), r.CPU.Seconds())
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
