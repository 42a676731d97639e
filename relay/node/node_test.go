package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/faultproxy"
	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/connector/resiotconn"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// seedRx is the comm_rx example of the vendor page (seed 002), verbatim.
const seedRx = `{
    "CommType":"comm_rx",
    "Connector":"636f6e313332",
    "AppEui":"006c3b194374ac7f",
    "DevEui":"0732227a557d8679",
    "Port":"128",
    "GatewayEUIs":["218000AC0000a05f"],
    "Payload":"9b690291010f1b2401ce01c0",
    "Extra":{
        "adr":"true",
        "channel":"4",
        "duplicate":"false",
        "frequency":"867.3",
        "modBW":"125",
        "rssi":"-18",
        "seqno":"1953",
        "sf":"7",
        "snr":"9.5"
    },
    "DT":"2017-06-15T09:36:46.5295312+02:00"
}`

var seedDevice = resiotsim.Device{AppEUI: "006c3b194374ac7f", DevEUI: "0732227a557d8679", Connector: "636f6e313332"}

type env struct {
	t     *testing.T
	sim   *resiotsim.Simulator
	node  *Node
	proxy *faultproxy.Proxy // between clients and the relay
}

// start runs a ResIOT simulator (no periodic traffic: tests emit what they
// need), a relay with tenant "acme" linked to it, and a fault proxy in
// front of the relay, all on 127.0.0.1.
func start(t *testing.T, history History) *env {
	t.Helper()
	return startWith(t, func(c *Config) { c.History = history })
}

// startWith is start with the relay's Config adjusted by adjust.
func startWith(t *testing.T, adjust func(*Config)) *env {
	t.Helper()
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	sim := resiotsim.New(&resiotsim.Config{Devices: []resiotsim.Device{seedDevice}, GatewayAliveEvery: -1, UplinkEvery: -1})
	url, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Listen: "127.0.0.1:0", Secret: "s",
		Tenants: map[string]Tenant{"acme": {Links: []LinkConfig{{Name: "lora", Protocol: "resiot", URL: url}}}},
	}
	adjust(&cfg)
	n, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		if err := n.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		sim.Close()
		cancel()
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := sim.WaitClients(wctx, 1); err != nil {
		t.Fatalf("relay did not connect to the simulator: %v", err)
	}
	e := &env{t: t, sim: sim, node: n, proxy: p}
	e.linkUp()
	return e
}

// linkUp waits until the relay's side of the upstream link reports
// connected (the simulator may see the connection a moment earlier).
func (e *env) linkUp() {
	e.t.Helper()
	l := e.node.Links.Links("acme")[0].(*resiotconn.Link)
	deadline := time.Now().Add(10 * time.Second)
	for l.Status().State != event.LinkConnected {
		if time.Now().After(deadline) {
			e.t.Fatalf("link state %q, want connected", l.Status().State)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *env) dial(tenant string, opts *client.Options) *client.Client {
	e.t.Helper()
	tok, err := e.node.Auth.Mint(auth.Claims{Subject: "t", Tenant: tenant, Subscribe: []string{"#"}, Command: []string{"lora/#"}}, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	if opts == nil {
		opts = &client.Options{}
	}
	opts.Token = tok
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+e.proxy.Addr()+"/v1/ws", opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func subscribe(t *testing.T, c *client.Client, pattern string, opts *client.SubscribeOptions) *client.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Subscribe(ctx, pattern, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func next(t *testing.T, s *client.Subscription) client.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	panic("unreachable")
}

func TestSeedUplinkEndToEnd(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	s := subscribe(t, c, "lora/+/+/up", nil)
	e.sim.Emit([]byte(seedRx))
	ev := next(t, s)
	up, ok := ev.Value.(*event.Uplink)
	if !ok {
		t.Fatalf("got %T (%s)", ev.Value, ev.Kind)
	}
	if ev.Channel != "lora/006c3b194374ac7f/0732227a557d8679/up" {
		t.Errorf("channel %s", ev.Channel)
	}
	wantPayload := []byte{0x9b, 0x69, 0x02, 0x91, 0x01, 0x0f, 0x1b, 0x24, 0x01, 0xce, 0x01, 0xc0}
	if !bytes.Equal(up.Payload, wantPayload) || up.Port != 128 || up.RSSI != -18 || up.SNR != 9.5 || up.SF != 7 || up.Frequency != 867.3 {
		t.Errorf("uplink %+v", up)
	}
	if up.FCnt != 1953 || !up.ADR || up.Duplicate || up.Channel != 4 || up.Bandwidth != 125 || len(up.Gateways) != 1 || up.Gateways[0] != "218000ac0000a05f" {
		t.Errorf("uplink radio fields %+v", up)
	}
	wantTime := time.Date(2017, 6, 15, 9, 36, 46, 529531200, time.FixedZone("", 2*3600)).UnixMicro()
	if up.Meta.Time != wantTime || up.Meta.Protocol != "resiot" || up.Meta.Link != "lora" || string(up.Meta.Raw) != seedRx {
		t.Errorf("meta %+v", up.Meta)
	}
}

func TestMalformedUpstreamIsCountedAndDropped(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	s := subscribe(t, c, "lora/#", nil)
	for _, bad := range []string{`{"CommType":`, `{"CommType":"comm_rx","Port":{},"DT":""}`, `{"CommType":"comm_rx","Port":"1","Payload":"zz"}`, `[1,2]`} {
		e.sim.Emit([]byte(bad))
	}
	e.sim.Emit([]byte(seedRx))
	ev := next(t, s)
	if ev.Kind != event.KindUplink {
		t.Fatalf("after malformed input got %s", ev.Kind)
	}
	// An oversize message costs the upstream connection (the WebSocket
	// library cannot skip it); the link comes back and the next uplink
	// still arrives.
	e.sim.Emit([]byte(`{"CommType":"comm_rx","Payload":"` + strings.Repeat("00", 40<<10) + `"}`))
	deadline := time.Now().Add(10 * time.Second)
	for e.sim.Clients() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.sim.WaitClients(wctx, 1); err != nil {
		t.Fatal(err)
	}
	e.sim.Emit([]byte(seedRx))
	if ev := next(t, s); ev.Kind != event.KindUplink || ev.Position.Offset <= 0 {
		t.Fatalf("after oversize input got %s", ev.Kind)
	}
	resp, err := http.Get("http://" + e.node.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, kind := range []string{"json", "type", "hex", "oversize"} {
		if !strings.Contains(string(body), fmt.Sprintf(`fieldrelay_upstream_bad_input_total{tenant="acme",link="lora",kind=%q}`, kind)) {
			t.Errorf("metrics lack bad input kind %q:\n%s", kind, body)
		}
	}
}

func TestDownlinkRoundTrip(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	downs := subscribe(t, c, "lora/+/+/down", nil)
	ctx := context.Background()
	target := "lora/006c3b194374ac7f/0732227a557d8679/down"

	rep, err := c.Command(ctx, target, event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 15, Payload: []byte("OFF")})
	if err != nil {
		t.Fatalf("downlink: %v", err)
	}
	var res event.DownlinkResult
	if _, err := res.UnmarshalMsg(rep.Data); err != nil || res.Reference == "" {
		t.Fatalf("result %+v %v", res, err)
	}
	// The network confirms with comm_tx carrying our Reference.
	ev := next(t, downs)
	d, ok := ev.Value.(*event.Downlink)
	if !ok || d.Reference != res.Reference || d.Port != 15 || string(d.Payload) != "OFF" {
		t.Fatalf("comm_tx event %T %+v", ev.Value, ev.Value)
	}
	got := e.sim.Received()
	if len(got) != 1 || got[0].Payload != "4f4646" || got[0].Reference != res.Reference {
		t.Fatalf("simulator received %+v", got)
	}

	fails := map[string]struct {
		target string
		body   event.LoRaDownlink
		code   codes.Code
		detail string
	}{
		"unknown device":        {"lora/006c3b194374ac7f/ffffffffffffffff/down", event.LoRaDownlink{Port: 1, Payload: []byte{1}}, codes.DeviceRejected, resiotsim.DetailDeviceNotFound},
		"port out of range":     {target, event.LoRaDownlink{Port: 250, Payload: []byte{1}}, codes.DeviceRejected, resiotsim.DetailInvalidPort},
		"missing port":          {target, event.LoRaDownlink{Payload: []byte{1}}, codes.BadRequest, "port"},
		"not a downlink target": {"lora/006c3b194374ac7f/0732227a557d8679/up", event.LoRaDownlink{Port: 1}, codes.NotFound, ""},
	}
	for name, f := range fails {
		_, err := c.Command(ctx, f.target, event.CmdLoRaDownlink, &f.body)
		var re *client.ReplyError
		if !errors.As(err, &re) || re.Code != f.code || !strings.Contains(re.Message, f.detail) {
			t.Errorf("%s: err = %v, want code %v with %q", name, err, f.code, f.detail)
		}
	}
}

func TestDownlinkWhileUpstreamDown(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	e.sim.Close() // the network goes away
	ctx := context.Background()
	target := "lora/006c3b194374ac7f/0732227a557d8679/down"
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Command(ctx, target, event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 1, Payload: []byte{1}})
		var re *client.ReplyError
		if errors.As(err, &re) && re.Code == codes.Unavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("command with the upstream down: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUpstreamReconnects(t *testing.T) {
	e := start(t, History{})
	c := e.dial("acme", nil)
	s := subscribe(t, c, "lora/+/+/up", nil)
	status := subscribe(t, c, "link/lora/status", nil)
	e.sim.DropClients()
	// The link reports backing_off, then connected again.
	for _, want := range []string{event.LinkBackoff, event.LinkConnecting, event.LinkConnected} {
		for {
			st := next(t, status).Value.(*event.LinkStatus)
			if st.State == want {
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sim.WaitClients(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.sim.Emit([]byte(seedRx))
	if ev := next(t, s); ev.Kind != event.KindUplink {
		t.Fatalf("after reconnect got %s", ev.Kind)
	}
}

// emitRx publishes n uplinks through the simulator and waits until the
// relay has them in the log.
func (e *env) emitRx(n int) {
	e.t.Helper()
	ctx := context.Background()
	before, _ := e.node.Broker.Tail(ctx, "acme")
	for i := range n {
		e.sim.EmitRx(seedDevice, 10, []byte{byte(i)}, &resiot.Radio{RSSI: -50, SNR: 5, SF: 9, FrequencyMHz: 868.1, FCnt: uint32(i)})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		tail, _ := e.node.Broker.Tail(ctx, "acme")
		if tail.Offset >= before.Offset+uint64(n) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("relay logged %d of %d uplinks", tail.Offset-before.Offset, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClientRecoversAfterDisconnect: the client is cut off, N events are
// published meanwhile, and after reconnecting it gets exactly those N, in
// order, marked recovered — on an exact and on a wildcard subscription.
func TestClientRecoversAfterDisconnect(t *testing.T) {
	e := start(t, History{})
	infos := make(chan client.SubscribedInfo, 16)
	c := e.dial("acme", nil)
	exact := subscribe(t, c, "lora/006c3b194374ac7f/0732227a557d8679/up", nil)
	wild := subscribe(t, c, "lora/#", &client.SubscribeOptions{OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	<-infos
	e.emitRx(3)
	var last uint64
	for range 3 {
		next(t, exact)
		last = next(t, wild).Position.Offset
	}

	e.proxy.Refuse(true)
	e.proxy.Cut()
	const n = 25
	e.emitRx(n)
	e.proxy.Refuse(false)

	info := <-infos
	if !info.Recovered || info.Replayed != n || !info.Resumed {
		t.Fatalf("resubscribe after reconnect: %+v", info)
	}
	for _, s := range []*client.Subscription{exact, wild} {
		prev := last
		for i := range n {
			ev := next(t, s)
			if !ev.Replayed || ev.Position.Offset != prev+1 {
				t.Fatalf("%s event %d: offset %d after %d (replayed=%v)", s.Pattern(), i, ev.Position.Offset, prev, ev.Replayed)
			}
			prev = ev.Position.Offset
		}
	}
	// Live again, nothing doubled.
	e.emitRx(1)
	if ev := next(t, wild); ev.Replayed || ev.Position.Offset != last+n+1 {
		t.Fatalf("live after recovery %+v", ev.Position)
	}
	if st := c.Stats(); st.Reconnects != 1 || st.Duplicates != 0 || st.Lost != 0 {
		t.Fatalf("client stats %+v", st)
	}
}

func TestClientToldWhenHistoryTrimmed(t *testing.T) {
	e := start(t, History{MaxEntries: 10})
	infos := make(chan client.SubscribedInfo, 16)
	c := e.dial("acme", nil)
	s := subscribe(t, c, "lora/#", &client.SubscribeOptions{OnSubscribed: func(i client.SubscribedInfo) { infos <- i }})
	<-infos
	e.emitRx(1)
	first := next(t, s).Position.Offset

	e.proxy.Refuse(true)
	e.proxy.Cut()
	e.emitRx(30) // more than the history holds
	e.proxy.Refuse(false)

	info := <-infos
	if info.Recovered || info.Replayed != 0 {
		t.Fatalf("resubscribe with trimmed history: %+v", info)
	}
	// No replayed event: the next one is live.
	e.emitRx(1)
	if ev := next(t, s); ev.Replayed || ev.Position.Offset != first+31 {
		t.Fatalf("after failed recovery: %+v replayed=%v", ev.Position, ev.Replayed)
	}
}

func TestTenantsOnOneRelay(t *testing.T) {
	e := start(t, History{})
	acme := e.dial("acme", nil)
	other := e.dial("globex", nil)
	sa := subscribe(t, acme, "#", nil)
	so := subscribe(t, other, "#", nil)
	e.emitRx(2)
	next(t, sa)
	next(t, sa)
	// globex has no links: its log stays empty; a command cannot reach acme's link.
	select {
	case ev := <-so.Events():
		t.Fatalf("globex received acme's event %s", ev.Channel)
	case <-time.After(200 * time.Millisecond):
	}
	_, err := other.Command(context.Background(), "lora/006c3b194374ac7f/0732227a557d8679/down", event.CmdLoRaDownlink, &event.LoRaDownlink{Port: 1, Payload: []byte{1}})
	var re *client.ReplyError
	if !errors.As(err, &re) || re.Code != codes.NotFound {
		t.Fatalf("globex command to acme's device: %v", err)
	}
}
