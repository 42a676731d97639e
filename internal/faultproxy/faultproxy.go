// Package faultproxy is a TCP proxy on loopback for fault tests: it sits
// between two real peers (a simulator and the relay, or the relay and a
// client) and injects the faults real networks have, per direction:
//
//   - Cut closes every connection at once (both directions);
//   - CutAfter forwards exactly n more bytes in one direction, then cuts:
//     a WebSocket frame split in the middle;
//   - Stall keeps reading what one side sends and delivers none of it,
//     closing nothing: a half-open link, as a mobile network that lost
//     the device gives (no FIN, no RST), until the peers' own deadlines
//     notice;
//   - Delay holds every chunk for a while before forwarding it;
//   - Throttle forwards at most so many bytes a second;
//   - Refuse closes new connections as they arrive.
//
// Faults apply to the connections open now and to later ones, until
// turned off. Nothing is buffered beyond one read (32 KiB) per direction:
// a stalled direction discards what it reads (counted by Stalled), a
// delayed or throttled one stops reading meanwhile, so TCP's own flow
// control pushes back on the sender. Close ends every connection and
// waits for every goroutine, whatever fault is on.
package faultproxy

import (
	"net"
	"sync"
	"time"
)

// Direction is one way through the proxy.
type Direction uint8

const (
	// Up is from the side that connected to the proxy to the target.
	Up Direction = 1 << iota
	// Down is from the target back to the side that connected.
	Down
	// Both is Up and Down.
	Both = Up | Down
)

// fault is the state of one direction.
type fault struct {
	stall    bool
	delay    time.Duration
	rate     int   // bytes per second, 0 = unlimited
	cutAfter int64 // bytes still to forward before a cut, -1 = none
}

// Proxy forwards connections from its own address to a target address.
type Proxy struct {
	target string
	ln     net.Listener
	done   chan struct{} // closed by Close

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  bool
	closed  bool
	accepts int
	faults  [2]fault // Up, Down
	stalled int64    // bytes discarded by stalled directions
	wg      sync.WaitGroup
}

// New listens on 127.0.0.1 and forwards to target.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, done: make(chan struct{}), conns: make(map[net.Conn]struct{})}
	p.faults[0].cutAfter, p.faults[1].cutAfter = -1, -1
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is the number of connections forwarded so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// Open is the number of connections open now.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

// Stalled is the number of bytes stalled directions have read and
// discarded so far.
func (p *Proxy) Stalled() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// Cut closes every current connection abruptly (both directions).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Refuse makes the proxy close new connections at once (true) or forward
// them again (false).
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// set applies fn to the fault of each direction in d.
func (p *Proxy) set(d Direction, fn func(*fault)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, dir := range []Direction{Up, Down} {
		if d&dir != 0 {
			fn(&p.faults[i])
		}
	}
}

// Stall makes the directions in d read and discard everything (on), or
// forward again (off). What was discarded is lost: after a stall the byte
// stream is broken, as it would be for the peers of a real half-open link
// that came back, so a test cuts the connection or lets the peers' own
// deadlines do it.
func (p *Proxy) Stall(d Direction, on bool) { p.set(d, func(f *fault) { f.stall = on }) }

// Delay holds every chunk read in the directions in d for delay before
// forwarding it (0 turns it off).
func (p *Proxy) Delay(d Direction, delay time.Duration) {
	p.set(d, func(f *fault) { f.delay = delay })
}

// Throttle limits the directions in d to bytesPerSecond (0 turns it off).
func (p *Proxy) Throttle(d Direction, bytesPerSecond int) {
	p.set(d, func(f *fault) { f.rate = bytesPerSecond })
}

// CutAfter forwards exactly n more bytes in the directions in d (counted
// over every connection, in the order they pass), then cuts the connection
// whose bytes reached n: the peer receives a truncated stream. A negative
// n turns it off.
func (p *Proxy) CutAfter(d Direction, n int64) {
	p.set(d, func(f *fault) { f.cutAfter = max(n, -1) })
}

// Close stops the proxy and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refuse || p.closed {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.accepts++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c, Up)
		go p.pipe(c, up, Down)
	}
}

// pipe copies src to dst through the faults of dir until either side
// ends, then closes both.
func (p *Proxy) pipe(dst, src net.Conn, dir Direction) {
	defer p.wg.Done()
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	i := 0
	if dir == Down {
		i = 1
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.forward(dst, buf[:n], i) {
			return
		}
		if err != nil {
			return
		}
	}
}

// forward passes one chunk through the faults of direction i and reports
// whether the connection goes on.
func (p *Proxy) forward(dst net.Conn, b []byte, i int) bool {
	p.mu.Lock()
	f := p.faults[i]
	if f.stall {
		p.stalled += int64(len(b))
		p.mu.Unlock()
		return true
	}
	p.mu.Unlock()
	if f.delay > 0 && !p.sleep(f.delay) {
		return false
	}
	// The cut is decided after the delay, on the budget as it is then.
	cut := false
	p.mu.Lock()
	if c := p.faults[i].cutAfter; c >= 0 {
		if int64(len(b)) >= c {
			b, cut = b[:c], true
			p.faults[i].cutAfter = -1
		} else {
			p.faults[i].cutAfter = c - int64(len(b))
		}
	}
	p.mu.Unlock()
	if len(b) > 0 {
		if _, err := dst.Write(b); err != nil {
			return false
		}
	}
	if cut {
		return false
	}
	if f.rate > 0 {
		return p.sleep(time.Duration(float64(len(b)) / float64(f.rate) * float64(time.Second)))
	}
	return true
}

// sleep waits d unless the proxy closes first.
func (p *Proxy) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.done:
		return false
	}
}
