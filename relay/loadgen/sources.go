package loadgen

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// sourceAddr is loopback source address i: 127.0.0.1, .2, …
func sourceAddr(i int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))} }

// sourceClients returns n HTTP clients, the i-th dialing from
// sourceAddr(i), so that connections to a loopback server spread over n
// source addresses (and n times the ephemeral ports).
func sourceClients(n int) []*http.Client {
	clients := make([]*http.Client, max(n, 1))
	for i := range clients {
		d := &net.Dialer{LocalAddr: sourceAddr(i), Timeout: 10 * time.Second}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	return clients
}

// sourceDialer returns a DialContext that takes the n source addresses in
// turn, one per connection.
func sourceDialer(n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	ds := make([]*net.Dialer, max(n, 1))
	for i := range ds {
		ds[i] = &net.Dialer{LocalAddr: sourceAddr(i), Timeout: 10 * time.Second}
	}
	var next atomic.Uint64
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return ds[(next.Add(1)-1)%uint64(len(ds))].DialContext(ctx, network, addr)
	}
}
