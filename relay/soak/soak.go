package soak

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/node"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Config sizes a soak. Zero fields take the defaults, which finish in
// well under a minute on two cores and force 1 000 disconnects.
type Config struct {
	Clients int           // default 20
	Events  int           // uplinks published, default 20 000
	Rate    float64       // uplinks a second, default 1 000
	Cuts    int           // forced client disconnects in all, default 1 000 (Clients per proxy cut)
	History int           // events the relay keeps per tenant, default 100 000
	Outage  int           // events published while reconnecting is refused after each cut, default 0
	Timeout time.Duration // bound of the whole run, default 5 min
	Log     io.Writer     // progress lines, default none
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Clients, 20)
	def(&c.Events, 20_000)
	def(&c.Cuts, 1_000)
	def(&c.History, 100_000)
	if c.Rate <= 0 {
		c.Rate = 1_000
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Result is what a soak measured.
type Result struct {
	Published    int // uplinks in the relay's log
	Emitted      int // uplinks the simulator sent
	Clients      int
	Cuts         int // client connections cut by the proxy
	Reconnects   int // reconnections the clients made
	MinDelivered int // events the worst client received
	MaxDelivered int
	Check        // summed over clients
	Elapsed      time.Duration
}

// OK reports whether the delivery contract held.
func (r Result) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Reordered == 0 && r.Published == r.Emitted
}

// Print writes the figures.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "published           %d uplinks (%d emitted by the simulator)\n", r.Published, r.Emitted)
	fmt.Fprintf(w, "clients             %d\n", r.Clients)
	fmt.Fprintf(w, "forced disconnects  %d (reconnects made: %d)\n", r.Cuts, r.Reconnects)
	fmt.Fprintf(w, "delivered           %d – %d per client\n", r.MinDelivered, r.MaxDelivered)
	fmt.Fprintf(w, "lost (silent)       %d\n", r.Lost)
	fmt.Fprintf(w, "duplicated          %d\n", r.Duplicated)
	fmt.Fprintf(w, "reordered           %d\n", r.Reordered)
	fmt.Fprintf(w, "recovered:false     %d episodes, %d events announced as missed\n", r.NotRecovered, r.Announced)
	fmt.Fprintf(w, "elapsed             %s (%.0f events/s published, %.0f delivered to clients)\n",
		r.Elapsed.Round(time.Millisecond), float64(r.Published)/r.Elapsed.Seconds(), float64(r.Delivered)/r.Elapsed.Seconds())
	if r.OK() {
		fmt.Fprintln(w, "result              OK: every event delivered once, in order, or announced")
	} else {
		fmt.Fprintln(w, "result              FAILED")
	}
}

var device = resiotsim.Device{AppEUI: "00000000000050a4", DevEUI: "00000000000050a4", Connector: "736f616b"}

// Run runs one soak.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()

	sim := resiotsim.New(&resiotsim.Config{Devices: []resiotsim.Device{device}, GatewayAliveEvery: -1, UplinkEvery: -1})
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	defer sim.Close()
	n, err := node.Start(node.Config{
		Listen: "127.0.0.1:0", Secret: "soak",
		History: node.History{MaxEntries: cfg.History, MaxAge: node.Duration(time.Hour)},
		Tenants: map[string]node.Tenant{"soak": {Links: []node.LinkConfig{{Name: "lora", Protocol: "resiot", URL: url}}}},
	}, nil)
	if err != nil {
		return Result{}, err
	}
	defer n.Shutdown()
	if err := sim.WaitClients(ctx, 1); err != nil {
		return Result{}, fmt.Errorf("the relay did not reach the simulator: %w", err)
	}
	proxy, err := faultproxy.New(n.Addr())
	if err != nil {
		return Result{}, err
	}
	defer proxy.Close()
	tok, err := n.Auth.Mint(auth.Claims{Subject: "soak", Tenant: "soak", Subscribe: []string{"#"}}, 24*time.Hour)
	if err != nil {
		return Result{}, err
	}

	// The clients, each recording what it received.
	recs := make([]*recorder, cfg.Clients)
	clients := make([]*client.Client, cfg.Clients)
	for i := range recs {
		r := &recorder{confirmed: make(chan struct{}, 1)}
		recs[i] = r
		c, err := client.Dial(ctx, "ws://"+proxy.Addr()+"/v1/ws", &client.Options{
			Token: tok, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		})
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		clients[i] = c
		if _, err := c.Subscribe(ctx, "lora/#", &client.SubscribeOptions{
			Recover: true, OnEvents: r.events, OnSubscribed: r.subscribed,
		}); err != nil {
			return Result{}, err
		}
		<-r.confirmed
	}
	fmt.Fprintf(cfg.Log, "soak: %d clients subscribed; publishing %d uplinks at %.0f/s with %d forced disconnects\n",
		cfg.Clients, cfg.Events, cfg.Rate, cfg.Cuts)

	// Publish at the rate, cutting every client at an even cadence.
	proxyCuts := max(1, cfg.Cuts/cfg.Clients)
	cutEvery := max(1, cfg.Events/(proxyCuts+1))
	base, _ := n.Broker.Tail(ctx, "soak")
	res := Result{Clients: cfg.Clients}
	outageUntil := -1
	payload := make([]byte, 4)
	for seq := 1; seq <= cfg.Events; seq++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("publishing: %w", err)
		}
		if due := start.Add(time.Duration(float64(seq) / cfg.Rate * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		binary.BigEndian.PutUint32(payload, uint32(seq))
		sim.EmitRx(device, 10, payload, &resiot.Radio{RSSI: -60, SNR: 7, SF: 7, FrequencyMHz: 868.1, FCnt: uint32(seq)})
		res.Emitted++
		// No cut during an outage: the clients are away already.
		if seq%cutEvery == 0 && seq > outageUntil && res.Cuts < proxyCuts*cfg.Clients {
			if cfg.Outage > 0 {
				proxy.Refuse(true)
				outageUntil = seq + cfg.Outage
			}
			res.Cuts += proxy.Open()
			proxy.Cut()
		}
		if seq == outageUntil {
			proxy.Refuse(false)
		}
	}
	proxy.Refuse(false)

	// Wait until the log has everything, then until every client has the
	// last event (or the bound passes: what is missing is then counted).
	for {
		tail, _ := n.Broker.Tail(ctx, "soak")
		res.Published = int(tail.Offset - base.Offset)
		if res.Published >= res.Emitted || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	tail := base.Offset + uint64(res.Published)
	for _, r := range recs {
		for !r.caughtUp(uint32(cfg.Events), tail) && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	res.Elapsed = time.Since(start)
	for i, r := range recs {
		ck := r.check(cfg.Events)
		res.Check.add(ck)
		d := ck.Delivered
		if i == 0 || d < res.MinDelivered {
			res.MinDelivered = d
		}
		res.MaxDelivered = max(res.MaxDelivered, d)
		res.Reconnects += int(clients[i].Stats().Reconnects)
	}
	if ctx.Err() != nil && res.MinDelivered < res.Published {
		return res, errors.New("soak: the bound passed before every client caught up")
	}
	return res, nil
}

// recorder is one client's log of what it received, in arrival order:
// sequence numbers, and a marker wherever a recovery was refused.
type recorder struct {
	mu        sync.Mutex
	got       []uint32 // 0 marks a recovered=false confirmation
	last      uint32
	skippedTo uint64 // log offset of the last recovered=false confirmation
	confirmed chan struct{}
}

func (r *recorder) subscribed(info client.SubscribedInfo) {
	r.mu.Lock()

	if info.Resumed && !info.Recovered {
		r.got = append(r.got, 0)
		r.skippedTo = info.Position.Offset
	}
	r.mu.Unlock()
	select {
	case r.confirmed <- struct{}{}:
	default:
	}
}

func (r *recorder) events(evs []client.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		up, ok := ev.Value.(*event.Uplink)
		if !ok || len(up.Payload) != 4 {
			continue
		}
		seq := binary.BigEndian.Uint32(up.Payload)
		r.got = append(r.got, seq)
		r.last = max(r.last, seq)
	}
}

// caughtUp reports whether the client has the last event, or was told
// by a recovered=false at the log's tail that it will not get it.
func (r *recorder) caughtUp(seq uint32, tail uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last >= seq || r.skippedTo >= tail
}

func (r *recorder) check(published int) Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	return check(r.got, published)
}
