//go:build js && wasm

package ws

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"syscall/js"
	"time"
)

// The browser connection: a thin wrapper over the page's WebSocket object.
// The browser runs the socket on its own; the event handlers below only
// queue what it reports, and Read takes from the queue. A handler never
// blocks: blocking inside a js.FuncOf callback stops the whole program.

// DefaultReadLimit is the largest message a new Conn accepts (see
// SetReadLimit); the same as natively.
const DefaultReadLimit = 32 << 20

// readyState values of a WebSocket.
const (
	wsConnecting = 0
	wsOpen       = 1
)

// closeTimeout bounds Close's wait for the peer's close frame.
const closeTimeout = 5 * time.Second

var (
	errNoWebSocket = errors.New("ws: no WebSocket in this JavaScript environment (Node 20 needs --experimental-websocket)")
	errNotOpen     = errors.New("ws: WebSocket is not open")
	errClosedHere  = errors.New("ws: WebSocket closed by this side")
	errTooBig      = errors.New("ws: message over the read limit")
)

// message is one received message.
type message struct {
	typ MessageType
	b   []byte
}

// Conn is one browser WebSocket. Read is called from one goroutine at a
// time; Write, Close and CloseNow may be called from any goroutine,
// concurrently with Read and with each other.
type Conn struct {
	ws js.Value
	// Handlers set as the socket's on* properties; released, after the
	// properties are cleared, once the socket has closed.
	onOpen, onMessage, onClose, onError js.Func

	opened chan struct{} // closed by the open event
	signal chan struct{} // has a token when msgs or err changed
	done   chan struct{} // closed once the socket is closed (or given up)

	// wmu serializes Writes (the browser would too; this keeps the
	// readyState check and the send together).
	wmu sync.Mutex

	mu       sync.Mutex
	msgs     []message // received and not yet read
	err      error     // why the socket ended: Read returns it after msgs
	finished bool
	limit    int64
}

// Dial opens a WebSocket to url (ws:// or wss://) offering subprotocols
// (none if empty), and waits for it to open or fail, or for ctx to end.
// A socket that fails to open is a *DialError: the browser says no more.
func Dial(ctx context.Context, url string, subprotocols []string) (conn *Conn, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errNoWebSocket
	}
	protos := make([]any, len(subprotocols))
	for i, p := range subprotocols {
		protos[i] = p
	}
	c := &Conn{
		opened: make(chan struct{}),
		signal: make(chan struct{}, 1),
		done:   make(chan struct{}),
		limit:  DefaultReadLimit,
	}
	// The constructor throws (a js.Error panic here) on a malformed URL
	// or subprotocol.
	defer func() {
		if r := recover(); r != nil {
			conn, err = nil, &DialError{Msg: panicString(r)}
		}
	}()
	c.ws = ctor.New(url, protos)
	c.ws.Set("binaryType", "arraybuffer")
	c.onOpen = js.FuncOf(func(js.Value, []js.Value) any {
		close(c.opened)
		return nil
	})
	c.onMessage = js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.message(args[0].Get("data"))
		return nil
	})
	c.onClose = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ev := args[0]
		c.closed(ev.Get("code").Int(), ev.Get("reason").String(), ev.Get("wasClean").Bool())
		return nil
	})
	// In browsers an error event is followed by a close event, which says
	// more. Node 20's WebSocket gives none when it fails to connect (and
	// stays CONNECTING): an error before the open event ends the dial.
	c.onError = js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case <-c.opened:
		default:
			c.closed(1006, "", false)
		}
		return nil
	})
	c.ws.Set("onopen", c.onOpen)
	c.ws.Set("onmessage", c.onMessage)
	c.ws.Set("onclose", c.onClose)
	c.ws.Set("onerror", c.onError)

	select {
	case <-c.opened:
		return c, nil
	case <-c.done:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		return nil, &DialError{Msg: "failed to open WebSocket to " + url, Cause: err}
	case <-ctx.Done():
		c.CloseNow()
		return nil, ctx.Err()
	}
}

// SetReadLimit sets the largest message Read accepts, in bytes. A larger
// message (which the browser has already received whole) fails the Read
// and closes the connection; n < 0 removes the limit. Text is measured in
// UTF-8 bytes, as natively.
func (c *Conn) SetReadLimit(n int64) {
	c.mu.Lock()
	c.limit = n
	c.mu.Unlock()
}

// message queues one message the socket received: a string is a text
// message, an ArrayBuffer (binaryType) a binary one.
func (c *Conn) message(data js.Value) {
	m := message{typ: MessageBinary}
	if data.Type() == js.TypeString {
		m.typ = MessageText
		m.b = []byte(data.String())
	} else {
		u8 := uint8Array.New(data)
		m.b = make([]byte, u8.Length())
		js.CopyBytesToGo(m.b, u8)
	}
	c.mu.Lock()
	tooBig := c.limit >= 0 && int64(len(m.b)) > c.limit
	if c.err == nil {
		if tooBig {
			c.err = errors.New(errTooBig.Error() + " (" + strconv.Itoa(len(m.b)) + " > " + strconv.FormatInt(c.limit, 10) + " bytes)")
		} else {
			c.msgs = append(c.msgs, m)
		}
	}
	c.mu.Unlock()
	c.notify()
	if tooBig {
		c.CloseNow()
	}
}

// closed handles the close event: a close frame from the peer (wasClean)
// is a *CloseError; anything else, the link dropped.
func (c *Conn) closed(code int, reason string, clean bool) {
	c.mu.Lock()
	if c.err == nil {
		if clean && code != 1006 {
			c.err = &CloseError{Code: uint16(code), Reason: reason}
		} else {
			c.err = &linkError{code: code}
		}
	}
	c.mu.Unlock()
	c.finish()
}

// finish detaches the handlers from the socket, releases them, and wakes
// everyone waiting. Idempotent.
func (c *Conn) finish() {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished = true
	c.mu.Unlock()
	for _, name := range [...]string{"onopen", "onmessage", "onclose", "onerror"} {
		c.ws.Set(name, js.Null())
	}
	c.onOpen.Release()
	c.onMessage.Release()
	c.onClose.Release()
	c.onError.Release()
	close(c.done)
	c.notify()
}

func (c *Conn) notify() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// Read returns the next message and its type, or why the socket ended
// once every message before that is read. Like coder/websocket, it closes
// the socket if ctx ends first.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	for {
		c.mu.Lock()
		if len(c.msgs) > 0 {
			m := c.msgs[0]
			c.msgs[0] = message{}
			c.msgs = c.msgs[1:]
			if len(c.msgs) == 0 {
				c.msgs = c.msgs[:0:0]
			}
			c.mu.Unlock()
			return m.typ, m.b, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return 0, nil, err
		}
		select {
		case <-c.signal:
		case <-ctx.Done():
			c.CloseNow()
			return 0, nil, ctx.Err()
		}
	}
}

// Write sends msg as one message of type typ: text as a JavaScript string
// (msg must be UTF-8), binary as bytes. The browser queues it
// (bufferedAmount) without backpressure, so ctx is unused.
func (c *Conn) Write(ctx context.Context, typ MessageType, msg []byte) (err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ws.Get("readyState").Int() != wsOpen {
		return errNotOpen
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("ws: WebSocket send failed: " + panicString(r))
		}
	}()
	if typ == MessageText {
		c.ws.Call("send", string(msg))
		return nil
	}
	buf := uint8Array.New(len(msg))
	js.CopyBytesToJS(buf, msg)
	c.ws.Call("send", buf)
	return nil
}

// Close sends a close frame and waits, at most closeTimeout, for the
// peer's. Browsers only let a page send 1000 or 3000–4999: other codes
// are sent as 1000.
func (c *Conn) Close(code uint16, reason string) error {
	if code != 1000 && (code < 3000 || code > 4999) {
		code = 1000
	}
	c.close(int(code), trimReason(reason))
	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		c.CloseNow()
	}
	return nil
}

// CloseNow gives up on the socket at once: a browser cannot drop a
// connection without a close frame, so it starts the closing handshake,
// and stops listening.
func (c *Conn) CloseNow() error {
	c.close(1000, "")
	c.mu.Lock()
	if c.err == nil {
		c.err = errClosedHere
	}
	c.mu.Unlock()
	c.finish()
	return nil
}

func (c *Conn) close(code int, reason string) {
	defer func() { recover() }() // close only throws on arguments checked above
	if s := c.ws.Get("readyState").Int(); s == wsConnecting || s == wsOpen {
		c.ws.Call("close", code, reason)
	}
}

// Subprotocol returns the subprotocol the server selected, "" for none.
func (c *Conn) Subprotocol() string { return c.ws.Get("protocol").String() }

var uint8Array = js.Global().Get("Uint8Array")

// linkError is a socket that closed without a close frame from the peer.
type linkError struct{ code int }

func (e *linkError) Error() string {
	return "ws: WebSocket closed without a close frame (code " + strconv.Itoa(e.code) + ")"
}

// panicString describes a recovered panic, usually a js.Error.
func panicString(r any) string {
	switch r := r.(type) {
	case error:
		return r.Error()
	case string:
		return r
	}
	return "panic"
}

// WatchPage calls poke when the page comes back online or becomes visible
// again, when a link may have died unnoticed (a sleeping tab's timers are
// throttled) or a backoff may be waiting for nothing, and returns a
// function that stops listening. Outside a page (Node, workers without a
// document) it watches what there is. poke runs inside a JavaScript event
// handler: it must not block.
func WatchPage(poke func()) (stop func()) {
	var stops []func()
	listen := func(target js.Value, event string, fn func()) {
		if target.Type() != js.TypeObject || target.Get("addEventListener").Type() != js.TypeFunction {
			return
		}
		f := js.FuncOf(func(js.Value, []js.Value) any {
			fn()
			return nil
		})
		target.Call("addEventListener", event, f)
		stops = append(stops, func() {
			target.Call("removeEventListener", event, f)
			f.Release()
		})
	}
	g := js.Global()
	listen(g, "online", poke)
	doc := g.Get("document")
	listen(doc, "visibilitychange", func() {
		if doc.Get("visibilityState").String() == "visible" {
			poke()
		}
	})
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
