package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// IdleResult is the relay's memory before and after N idle connections
// (connected, one subscription each, nothing published).
type IdleResult struct {
	Connections    int
	Heap, Stack    int64 // bytes added
	Goroutines     int64 // added
	PerConnection  float64
	Sources        int
	FailedAfter    int    // connections made before the first failure, if any
	FailureMessage string // why
}

// Print writes the figure.
func (r IdleResult) Print(w io.Writer) {
	fmt.Fprintf(w, "%d idle connections from %d loopback addresses", r.Connections, r.Sources)
	if r.FailureMessage != "" {
		fmt.Fprintf(w, " (stopped: %s)", r.FailureMessage)
	}
	fmt.Fprintf(w, "\nrelay heap +%d B, stacks +%d B, goroutines +%d\n", r.Heap, r.Stack, r.Goroutines)
	fmt.Fprintf(w, "relay memory per idle connection: %.1f KB (heap + stacks, after GC)\n", r.PerConnection/1000)
}

// RaiseFileLimit raises the soft limit of open files to the hard one and
// returns it.
func RaiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// metrics reads the relay's memory gauges (collecting first: the relay
// must run with --dev for ?gc=1).
func metrics(ctx context.Context, base string) (map[string]int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics?gc=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			m[strings.TrimPrefix(f[0], "fieldrelay_")] = v
		}
	}
	return m, sc.Err()
}

// Idle opens n idle connections to the relay at base (http://host:port,
// run with --dev) from `sources` loopback addresses (127.0.0.1 …), each
// authenticated with token and subscribed to pattern, and reports the
// relay's memory per connection. token(i) gives connection i its token
// (one subject per connection keeps clear of the per-subject limit). It
// stops early, and says why, if the
// machine refuses more connections.
func Idle(ctx context.Context, base string, token func(i int) string, pattern string, n, sources int) (IdleResult, error) {
	sources = max(sources, 1)
	res := IdleResult{Sources: sources}
	before, err := metrics(ctx, base)
	if err != nil {
		return res, err
	}
	clients := sourceClients(sources)
	url := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	conns := make([]*websocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	subscribe := wire.AppendFrame(nil, &wire.Subscribe{Req: 1, Sub: 1, Pattern: pattern})
	for i := range n {
		connect := wire.AppendFrame(nil, &wire.Connect{Token: token(i), Name: "loadgen-idle"})
		c, err := dialIdle(ctx, url, clients[i%sources], connect, subscribe)
		if err != nil {
			res.FailedAfter, res.FailureMessage = i, err.Error()
			break
		}
		conns = append(conns, c)
	}
	res.Connections = len(conns)
	after, err := metrics(ctx, base)
	if err != nil {
		return res, err
	}
	res.Heap = after["heap_inuse_bytes"] - before["heap_inuse_bytes"]
	res.Stack = after["stack_inuse_bytes"] - before["stack_inuse_bytes"]
	res.Goroutines = after["goroutines"] - before["goroutines"]
	if res.Connections > 0 {
		res.PerConnection = float64(res.Heap+res.Stack) / float64(res.Connections)
	}
	return res, nil
}

func dialIdle(ctx context.Context, url string, hc *http.Client, connect, subscribe []byte) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	for _, msg := range [][]byte{connect, subscribe} {
		if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
			c.CloseNow()
			return nil, err
		}
		if _, _, err := c.Read(ctx); err != nil { // Connected, then Subscribed
			c.CloseNow()
			return nil, err
		}
	}
	// Keep reading in the background would cost this process a goroutine
	// per connection; an idle connection gets nothing but pings, which
	// coder/websocket answers only while reading. So read on.
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return c, nil
}
