package faultproxy

import (
	"context"
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

// dirs maps a direction index (0 Up, 1 Down) to its Direction.
var dirs = [2]Direction{Up, Down}

// Scope says which connections a fault applies to.
type Scope uint8

const (
	// Current is the connections open when the fault is set.
	Current Scope = 1 << iota
	// Future is the connections accepted after the fault is set, until it
	// is changed.
	Future
	// All is Current and Future.
	All = Current | Future
)

// maxChunk bounds one read, and so what a direction holds.
const maxChunk = 32 << 10

// fault is the state of one direction.
type fault struct {
	stall    bool
	pause    bool
	delay    time.Duration
	rate     int   // bytes per second, 0 = unlimited
	cutAfter int64 // bytes still to forward before a cut, -1 = none
}

var clean = fault{cutAfter: -1}

// Proxy forwards connections from its own address to a target address.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // ends with Close
	stop   context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	links   map[*link]struct{}
	future  [2]fault // copied into each new connection
	refuse  bool
	closed  bool
	accepts int
	stalled int64         // bytes read and discarded
	fwd     [2]int64      // bytes forwarded, per direction
	read    [2]int64      // bytes read from senders, per direction
	changed chan struct{} // closed, and replaced, at every change of state
}

// link is one proxied connection: the client's side c and the target's
// side t. Direction 0 (Up) reads c and writes t; direction 1 (Down) reads
// t and writes c.
type link struct {
	c, t net.Conn
	// Guarded by Proxy.mu.
	f      [2]fault
	broken bool    // one side ended: close each side once it may be told
	closed [2]bool // the receiving side of each direction is closed
	ended  [2]bool // the sending side of each direction has ended
}

// dst is the receiving side of direction i.
func (l *link) dst(i int) net.Conn {
	if i == 0 {
		return l.t
	}
	return l.c
}

// New listens on 127.0.0.1 and forwards to target.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, links: make(map[*link]struct{}), changed: make(chan struct{})}
	p.future = [2]fault{clean, clean}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is the number of connections forwarded so far. A connection
// counts once the proxy has reached the target for it, before any byte
// passes.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// Open is the number of connections open now: a connection one of whose
// sides a fault keeps open counts.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Stalled is the number of bytes the proxy has read and discarded so far:
// in stalled directions, or towards a side that is gone while a stall
// keeps the sender's side open.
func (p *Proxy) Stalled() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// Forwarded is the number of bytes delivered so far in the directions in
// d, over every connection.
func (p *Proxy) Forwarded(d Direction) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for i, dir := range dirs {
		if d&dir != 0 {
			n += p.fwd[i]
		}
	}
	return n
}

// Cut closes every current connection abruptly (both sides, whatever
// fault is on).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.broken = true
		p.settleLocked(l, true)
	}
	p.notifyLocked()
}

// Refuse makes the proxy close new connections at once (true) or forward
// them again (false).
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// Faults sets faults on the connections of one scope; see Proxy.On.
type Faults struct {
	p *Proxy
	s Scope
}

// On returns the faults of the connections in scope s: On(Current) acts on
// the connections open now only (a reconnection is clean), On(Future) on
// those accepted from now on only. A connection is open, for this, from
// when Accepted counts it.
func (p *Proxy) On(s Scope) Faults { return Faults{p, s} }

// set applies fn to the fault of each direction in d, in scope s.
func (p *Proxy) set(s Scope, d Direction, fn func(*fault)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, dir := range dirs {
		if d&dir == 0 {
			continue
		}
		if s&Future != 0 {
			fn(&p.future[i])
		}
		if s&Current != 0 {
			for l := range p.links {
				fn(&l.f[i])
			}
		}
	}
	// A side a stall kept open may now learn that its link ended.
	for l := range p.links {
		p.settleLocked(l, false)
	}
	p.notifyLocked()
}

// Stall makes the directions in d read and discard everything, and hide
// the sender's close (on), or forward again (off). What was discarded is
// lost.
func (f Faults) Stall(d Direction, on bool) { f.p.set(f.s, d, func(x *fault) { x.stall = on }) }

// Pause stops the directions in d (on): nothing more is read or delivered
// there, and the sender's close is hidden; at most one read is held.
// Pause(d, false) delivers what was held and goes on: nothing is lost.
func (f Faults) Pause(d Direction, on bool) { f.p.set(f.s, d, func(x *fault) { x.pause = on }) }

// Delay holds every chunk read in the directions in d for delay before
// forwarding it (0 turns it off; a chunk already held goes at once).
func (f Faults) Delay(d Direction, delay time.Duration) {
	f.p.set(f.s, d, func(x *fault) { x.delay = max(delay, 0) })
}

// Throttle limits each connection's directions in d to bytesPerSecond (0
// turns it off). Bytes pass in pieces of a twentieth of a second's worth.
func (f Faults) Throttle(d Direction, bytesPerSecond int) {
	f.p.set(f.s, d, func(x *fault) { x.rate = max(bytesPerSecond, 0) })
}

// CutAfter makes each connection of the scope forward exactly n more bytes
// in each direction in d, then cut the connection: the peer receives a
// truncated stream. In scope Future every new connection is cut after its
// first n bytes, until CutAfter(d, -1). A negative n turns it off.
func (f Faults) CutAfter(d Direction, n int64) {
	f.p.set(f.s, d, func(x *fault) { x.cutAfter = max(n, -1) })
}

// Clear turns every fault off in both directions (Refuse is separate).
func (f Faults) Clear() { f.p.set(f.s, Both, func(x *fault) { *x = clean }) }

// Stall is On(All).Stall.
func (p *Proxy) Stall(d Direction, on bool) { p.On(All).Stall(d, on) }

// Pause is On(All).Pause.
func (p *Proxy) Pause(d Direction, on bool) { p.On(All).Pause(d, on) }

// Delay is On(All).Delay.
func (p *Proxy) Delay(d Direction, delay time.Duration) { p.On(All).Delay(d, delay) }

// Throttle is On(All).Throttle.
func (p *Proxy) Throttle(d Direction, bytesPerSecond int) { p.On(All).Throttle(d, bytesPerSecond) }

// CutAfter is On(Current).CutAfter: the connections open now forward
// exactly n more bytes in the directions in d, then are cut; later
// connections are not affected.
func (p *Proxy) CutAfter(d Direction, n int64) { p.On(Current).CutAfter(d, n) }

// Clear is On(All).Clear.
func (p *Proxy) Clear() { p.On(All).Clear() }

// Close stops the proxy and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.stop()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

// notifyLocked wakes every goroutine waiting for a change.
func (p *Proxy) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// settleLocked closes the sides of a broken link that may learn of it: the
// receiving side of a direction that is neither stalled nor paused, or
// every side if force. A link whose sides are all closed is forgotten.
func (p *Proxy) settleLocked(l *link, force bool) {
	if !l.broken {
		return
	}
	for i := range 2 {
		if !l.closed[i] && (force || !l.f[i].stall && !l.f[i].pause) {
			l.dst(i).Close()
			l.closed[i] = true
		}
	}
	if l.closed[0] && l.closed[1] {
		delete(p.links, l)
	}
}

// end records that direction i of l ended (its sender closed, or the
// proxy did): the link is broken. Once both senders have ended nobody is
// left to hide anything from, and the link is closed whatever the faults.
func (p *Proxy) end(l *link, i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l.broken, l.ended[i] = true, true
	p.settleLocked(l, l.ended[0] && l.ended[1])
	p.notifyLocked()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	var d net.Dialer
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse || p.closed
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		t, err := d.DialContext(p.ctx, "tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{c: c, t: t}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			t.Close()
			continue
		}
		l.f = p.future
		p.links[l] = struct{}{}
		p.accepts++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, 0)
		go p.pipe(l, 1)
	}
}

// pipe copies direction i of l through its faults until its sender
// ends (or the proxy closes).
func (p *Proxy) pipe(l *link, i int) {
	defer p.wg.Done()
	defer p.end(l, i)
	src, dst := l.dst(1-i), l.dst(i)
	buf := make([]byte, maxChunk)
	for {
		n, err := src.Read(buf[:p.chunk(l, i)])
		if n > 0 {
			p.mu.Lock()
			p.read[i] += int64(n)
			p.mu.Unlock()
			// A throttle set while the read waited cuts what it got.
			at := time.Now()
			for b := buf[:n]; len(b) > 0; {
				piece := b[:min(len(b), p.chunk(l, i))]
				if !p.forward(l, i, dst, piece, at) {
					return
				}
				b = b[len(piece):]
			}
		}
		if err != nil {
			return
		}
	}
}

// chunk is the most direction i of l reads, or forwards, at once: a
// twentieth of a second's worth when throttled.
func (p *Proxy) chunk(l *link, i int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := l.f[i].rate; r > 0 {
		return min(maxChunk, max(1, r/20))
	}
	return maxChunk
}

// forward passes one chunk, read at time at, through the faults of
// direction i. It reports false when the direction is over: the proxy
// closed, or both sides of the link are closed.
func (p *Proxy) forward(l *link, i int, dst net.Conn, b []byte, at time.Time) bool {
	cut := false
	for {
		p.mu.Lock()
		if l.closed[i] || l.f[i].stall {
			// Into the void: a stall, or a receiver that is gone while
			// a stall keeps the sender's side open (it must not learn).
			p.stalled += int64(len(b))
			over := l.closed[0] && l.closed[1]
			p.mu.Unlock()
			return !over
		}
		f := l.f[i]
		var until time.Time // zero: no limit
		hold := f.pause
		if due := at.Add(f.delay); !hold && f.delay > 0 && time.Now().Before(due) {
			hold, until = true, due
		}
		if !hold {
			// The cut budget is spent as the bytes pass.
			if c := f.cutAfter; c >= 0 {
				if int64(len(b)) >= c {
					b, cut = b[:c], true
					l.f[i].cutAfter = -1
				} else {
					l.f[i].cutAfter = c - int64(len(b))
				}
			}
			p.mu.Unlock()
			break
		}
		ch := p.changed
		p.mu.Unlock()
		if !p.wait(ch, until) {
			return false
		}
	}
	if len(b) > 0 {
		if _, err := dst.Write(b); err != nil {
			// The receiver is gone: the link is broken; the sender is
			// told as soon as no stall hides it.
			p.mu.Lock()
			l.broken = true
			p.settleLocked(l, false)
			p.notifyLocked()
			over := l.closed[0] && l.closed[1]
			p.mu.Unlock()
			return !over
		}
		p.mu.Lock()
		p.fwd[i] += int64(len(b))
		p.mu.Unlock()
	}
	if cut {
		p.mu.Lock()
		l.broken = true
		p.settleLocked(l, true)
		p.notifyLocked()
		p.mu.Unlock()
		return false
	}
	// Throttle: the next piece waits until these bytes have had their
	// time at the rate in force (which may change meanwhile).
	sent := time.Now()
	for {
		p.mu.Lock()
		r, over := l.f[i].rate, l.closed[0] && l.closed[1]
		ch := p.changed
		p.mu.Unlock()
		if over {
			return false
		}
		if r <= 0 {
			return true
		}
		due := sent.Add(time.Duration(float64(len(b)) / float64(r) * float64(time.Second)))
		if !time.Now().Before(due) {
			return true
		}
		if !p.wait(ch, due) {
			return false
		}
	}
}

// wait waits until the time until (zero: no limit) or a change of state,
// and reports false if the proxy closed first.
func (p *Proxy) wait(changed <-chan struct{}, until time.Time) bool {
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
	case <-changed:
	case <-p.ctx.Done():
		return false
	}
	return true
}
