package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// conn is one accepted connection: from Connected until the link drops.
type conn struct {
	t      transport
	ctx    context.Context // ends when the connection is torn down
	cancel context.CancelFunc
	wg     sync.WaitGroup // keepalive and refresh goroutines

	client   string        // the relay's id for this connection
	ping     time.Duration // Ping interval; the link is dead after two
	maxMsg   int           // Limits.MaxMessage, 0 if none
	req      atomic.Uint32 // last request id used
	lastRecv atomic.Int64  // Unix ns of the last message read, or of the end of its handling
	reads    atomic.Uint64 // messages read
	busy     atomic.Bool   // the read loop is handling a message, not reading
	dead     atomic.Bool   // keepalive dropped the link

	// Guarded by Client.mu.
	pending    map[uint32]pending
	disconnect *wire.Disconnect

	// Owned by the read loop.
	in  []incoming
	out batch
}

// pending is a request awaiting its answer.
type pending struct {
	// sub is set for a Subscribe, answered by Subscribed (or a Reply on
	// failure).
	sub *Subscription
	// reply is set for requests someone waits for (Command, Refresh); it
	// has room for one result.
	reply chan replyResult
	// what names a request nobody waits for (Unsubscribe), for the log.
	what string
}

type replyResult struct {
	reply *wire.Reply
	err   error
}

// nextReq returns a request id for this connection; ids increase from 1.
func (cn *conn) nextReq() uint32 {
	for {
		if r := cn.req.Add(1); r != 0 {
			return r
		}
	}
}

// write sends msg within timeout. On error the link is dropped, so that the
// read loop notices and every pending request learns of it.
func (cn *conn) write(msg []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(cn.ctx, timeout)
	defer cancel()
	err := cn.t.Write(ctx, msg)
	if err != nil {
		cn.t.CloseNow()
	}
	return err
}

// writeFrames sends frames in as few messages as the relay's MaxMessage
// allows.
func (cn *conn) writeFrames(frames []wire.Frame, timeout time.Duration) error {
	var msg []byte
	for _, f := range frames {
		n := len(msg)
		msg = wire.AppendFrame(msg, f)
		if cn.maxMsg > 0 && len(msg) > cn.maxMsg && n > 0 {
			if err := cn.write(msg[:n], timeout); err != nil {
				return err
			}
			msg = append(msg[:0], msg[n:]...)
		}
	}
	if len(msg) == 0 {
		return nil
	}
	return cn.write(msg, timeout)
}

// failPendingLocked ends every pending request with err.
func (cn *conn) failPendingLocked(err error) {
	for req, p := range cn.pending {
		if p.reply != nil {
			p.reply <- replyResult{err: err}
		}
		delete(cn.pending, req)
	}
}

// run is the client's goroutine: it connects, runs each connection's read
// loop, and reconnects with backoff until the client is closed.
func (c *Client) run(first chan<- error) {
	defer close(c.done)
	defer watchPage(c.poke)()
	signaled := false
	signal := func(err error) {
		if !signaled {
			signaled = true
			first <- err
		}
	}
	attempt := 0
	everConnected := false
	for {
		connected, err := c.session(func() {
			if everConnected {
				c.stats.reconnects.Add(1)
			}
			everConnected = true
			signal(nil)
		})
		if c.ctx.Err() != nil || c.isClosed() {
			return
		}
		if connected {
			attempt = 0
		}
		// Sessions return close errors unwrapped: no errors.As, whose
		// reflection costs the wasm build.
		if ce, ok := err.(*CloseError); ok && !ce.Code.Reconnect() {
			c.terminate(ce)
			signal(ce)
			return
		}
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		c.setState(Reconnecting, err)
		d := c.backoff(attempt)
		attempt++
		c.log.Debug("fieldrelay: reconnecting", "attempt", attempt, "in", d)
		if !c.backoffSleep(d) {
			return
		}
		c.setState(Connecting, nil)
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// backoff returns the wait before attempt n: full jitter over a capped
// exponential.
func (c *Client) backoff(n int) time.Duration {
	ceil := c.opts.MinBackoff
	for i := 0; i < n && ceil < c.opts.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.opts.MaxBackoff)
	return time.Duration(rand.Int64N(int64(ceil)))
}

// sleep waits for d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoffSleep waits for d, or less if poked, and reports whether the
// client is still running.
func (c *Client) backoffSleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.pokes:
		c.log.Debug("fieldrelay: poked, reconnecting now")
	case <-c.ctx.Done():
		return false
	}
	return true
}

// session runs one connection: dial, Connect, Connected, resubscribe, read
// loop. It calls connected once the relay accepted the connection, reports
// whether it did, and returns why the connection ended.
func (c *Client) session(connected func()) (bool, error) {
	t, f, rest, err := c.handshake()
	if err != nil {
		return false, err
	}

	cn := &conn{
		t:       t,
		client:  f.Client,
		ping:    time.Duration(f.PingMillis) * time.Millisecond,
		maxMsg:  int(f.Limits.MaxMessage),
		pending: make(map[uint32]pending),
	}
	if cn.ping <= 0 {
		cn.ping = defaultPing
	}
	cn.ctx, cn.cancel = context.WithCancel(c.ctx)
	cn.lastRecv.Store(time.Now().UnixNano())

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.cancel()
		t.Close(codes.Normal, "")
		return true, ErrClosed
	}
	c.conn = cn
	c.lastErr = nil
	// Resume subscriptions in the order they were made.
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	sortByID(subs)
	resub := make([]wire.Frame, len(subs))
	for i, s := range subs {
		resub[i] = c.subscribeFrameLocked(cn, s)
	}
	c.wakeLocked()
	c.mu.Unlock()

	c.log.Info("fieldrelay: connected", "client", f.Client, "ping", cn.ping, "subscriptions", len(resub))
	c.setState(Connected, nil)
	connected()

	cn.wg.Add(1)
	go c.keepalive(cn)
	if f.Expires != 0 && c.opts.GetToken != nil {
		cn.wg.Add(1)
		go c.refresh(cn, f.Expires)
	}
	if len(resub) > 0 {
		// An error drops the link, which the read loop notices.
		cn.writeFrames(resub, c.opts.CommandTimeout)
	}
	err = nil
	if len(rest) > 0 {
		err = c.handle(cn, rest)
	}
	if err == nil {
		err = c.readLoop(cn)
	}

	cn.t.CloseNow()
	cn.cancel()
	cn.wg.Wait()
	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
	}
	cn.failPendingLocked(errLinkLost)
	for _, s := range c.subs {
		s.disconnectedLocked()
	}
	c.wakeLocked()
	c.mu.Unlock()
	return true, err
}

// sortByID sorts subscriptions by id. An insertion sort: there are few,
// and slices.SortFunc would add its generic sorting code, some 20 KB, to
// the WebAssembly build.
func sortByID(subs []*Subscription) {
	for i := 1; i < len(subs); i++ {
		for j := i; j > 0 && subs[j].id < subs[j-1].id; j-- {
			subs[j], subs[j-1] = subs[j-1], subs[j]
		}
	}
}

// handshake dials and exchanges Connect and Connected. It returns the
// transport, the Connected frame and the frames that followed it in the
// same message.
func (c *Client) handshake() (transport, *wire.Connected, []byte, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.CommandTimeout)
	defer cancel()

	token := c.opts.Token
	if c.opts.GetToken != nil {
		var err error
		token, err = c.opts.GetToken(ctx)
		if err != nil {
			return nil, nil, nil, &tokenError{err}
		}
	}
	t, err := dialTransport(ctx, c.url, []string{wire.Subprotocol})
	if err != nil {
		return nil, nil, nil, err
	}
	if t.Subprotocol() != wire.Subprotocol {
		t.Close(codes.UnsupportedVersion, "subprotocol not selected")
		return nil, nil, nil, &CloseError{Code: codes.UnsupportedVersion, Reason: errNoProtocol.Error()}
	}
	msg := wire.AppendFrame(nil, &wire.Connect{Token: token, Name: c.opts.Name})
	err = t.Write(ctx, msg)
	if err == nil {
		msg, err = t.Read(ctx)
	}
	if err != nil {
		t.CloseNow()
		return nil, nil, nil, err
	}
	f, rest, err := wire.DecodeFrame(msg)
	if err != nil {
		return nil, nil, nil, protocolError(t, err.Error())
	}
	switch f := f.(type) {
	case *wire.Connected:
		return t, f, rest, nil
	case *wire.Disconnect:
		t.CloseNow()
		return nil, nil, nil, &CloseError{Code: codes.Code(f.Code), Reason: f.Reason}
	}
	return nil, nil, nil, protocolError(t, "expected connected, got "+f.FrameType().String())
}

// protocolError closes a link whose relay broke the protocol. The client
// treats it as terminal: reconnecting to the same relay would not help.
func protocolError(t transport, reason string) error {
	if len(reason) > 120 {
		reason = reason[:120]
	}
	t.Close(codes.ProtocolError, reason)
	return &CloseError{Code: codes.ProtocolError, Reason: "relay broke the protocol: " + reason}
}

// tokenError is a failure of Options.GetToken; the client retries.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "client: failed to get token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// readLoop reads and handles messages until the link ends.
func (c *Client) readLoop(cn *conn) error {
	for {
		cn.lastRecv.Store(time.Now().UnixNano())
		cn.busy.Store(false)
		msg, err := cn.t.Read(cn.ctx)
		cn.busy.Store(true)
		if err != nil {
			return c.linkError(cn, err)
		}
		cn.reads.Add(1)
		cn.lastRecv.Store(time.Now().UnixNano())
		if err := c.handle(cn, msg); err != nil {
			return err
		}
	}
}

// linkError says why a connection ended, given the read error. A
// Disconnect frame names the code for relays (or paths) that lose the
// close frame.
func (c *Client) linkError(cn *conn, err error) error {
	c.mu.Lock()
	d := cn.disconnect
	c.mu.Unlock()
	switch {
	case d != nil:
		return &CloseError{Code: codes.Code(d.Code), Reason: d.Reason}
	case cn.dead.Load():
		return errDeadLink
	}
	return err
}

// keepalive sends a Ping every interval and drops the link when nothing
// has been read for two intervals: links that die without a FIN (sleeping
// laptops, mobile networks, Safari) are only noticed this way.
func (c *Client) keepalive(cn *conn) {
	defer cn.wg.Done()
	iv := cn.ping
	// A poke asks for a Ping now and gives the relay probeWait, not two
	// intervals, to show the link is alive.
	probeWait := min(iv, c.pokeTimeout)
	timer := time.NewTimer(iv)
	defer timer.Stop()
	nextPing := time.Now().Add(iv)
	var probe time.Time // when the last poke's Ping went out, until answered
	var probeReads uint64
	for {
		select {
		case <-cn.ctx.Done():
			return
		case <-timer.C:
		case <-c.pokes:
			probe, probeReads = time.Now(), cn.reads.Load()
			nextPing = probe
		}
		now := time.Now()
		last := time.Unix(0, cn.lastRecv.Load())
		if !probe.IsZero() && cn.reads.Load() != probeReads {
			probe = time.Time{} // something arrived since
		}
		// While the read loop is handling a message (maybe blocked on a
		// full Events channel) silence is ours, not the relay's.
		if !cn.busy.Load() && (now.Sub(last) >= 2*iv || !probe.IsZero() && now.Sub(probe) >= probeWait) {
			c.log.Warn("fieldrelay: link dead, nothing read", "for", now.Sub(last).Round(time.Millisecond))
			cn.dead.Store(true)
			cn.t.CloseNow()
			return
		}
		if !now.Before(nextPing) {
			msg := wire.AppendFrame(nil, &wire.Ping{Req: cn.nextReq()})
			if err := cn.write(msg, iv); err != nil {
				return
			}
			nextPing = now.Add(iv)
		}
		wait := nextPing.Sub(now)
		if d := last.Add(2 * iv).Sub(now); d > 0 && d < wait {
			wait = d
		}
		if !probe.IsZero() {
			wait = min(wait, max(probe.Add(probeWait).Sub(now), time.Millisecond))
		}
		timer.Reset(wait)
	}
}

// pokeTimeout bounds the wait for any message after a poke's Ping (and
// the ping interval bounds it too). A variable for tests; a client reads it
// once, when it is made.
var pokeTimeout = 5 * time.Second

// refresh replaces the connection's token before it expires: at 80% of
// its remaining lifetime and at least a second before.
func (c *Client) refresh(cn *conn, expires int64) {
	defer cn.wg.Done()
	for expires > 0 {
		rem := time.Until(time.Unix(expires, 0))
		wait := rem * 8 / 10
		if rem-wait < time.Second {
			wait = rem - time.Second
		}
		if !sleep(cn.ctx, wait) {
			return
		}
		ctx, cancel := context.WithTimeout(cn.ctx, c.opts.CommandTimeout)
		token, err := c.opts.GetToken(ctx)
		if err != nil {
			cancel()
			c.log.Warn("fieldrelay: token refresh failed", "err", err)
			return
		}
		r, err := c.request(ctx, cn, func(req uint32) wire.Frame {
			return &wire.Refresh{Req: req, Token: token}
		})
		cancel()
		switch {
		case err != nil:
			if cn.ctx.Err() == nil {
				c.log.Warn("fieldrelay: token refresh failed", "err", err)
			}
			return
		case r.Code != 0:
			c.log.Warn("fieldrelay: token refresh refused", "code", codes.Code(r.Code).String(), "message", r.Message)
			return
		}
		next := tokenExpiry(token)
		c.log.Debug("fieldrelay: token refreshed", "expires", next)
		if next <= expires {
			// Unknown or not later: the relay closes with TokenExpired in
			// time, and the reconnect asks GetToken again.
			return
		}
		expires = next
	}
}

// request sends the frame that build makes with a new request id on cn and
// waits for its Reply. It returns errStaleConn, having sent nothing, if cn
// is no longer the current connection.
func (c *Client) request(ctx context.Context, cn *conn, build func(req uint32) wire.Frame) (*wire.Reply, error) {
	ch := make(chan replyResult, 1)
	c.mu.Lock()
	if c.closed {
		err := c.closeErr
		c.mu.Unlock()
		return nil, err
	}
	if c.conn != cn {
		c.mu.Unlock()
		return nil, errStaleConn
	}
	req := cn.nextReq()
	cn.pending[req] = pending{reply: ch}
	c.mu.Unlock()

	msg := wire.AppendFrame(nil, build(req))
	var err error
	if cn.maxMsg > 0 && len(msg) > cn.maxMsg {
		err = &ReplyError{Code: codes.TooLarge, Message: "request over the relay's message limit"}
	}
	if err != nil {
		c.mu.Lock()
		delete(cn.pending, req)
		c.mu.Unlock()
		return nil, err
	}
	// A failed write drops the link; the teardown answers ch.
	cn.write(msg, c.opts.CommandTimeout)
	select {
	case r := <-ch:
		return r.reply, r.err
	case <-ctx.Done():
		c.mu.Lock()
		delete(cn.pending, req)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

var errStaleConn = errors.New("client: connection replaced")
