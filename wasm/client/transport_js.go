//go:build js

package client

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// The browser transport: a thin wrapper over the page's WebSocket object
// (coder/websocket would do, but on js it links net/http and crypto/tls,
// about 1 MB of gzip). The browser runs the socket on its own; the event
// handlers below only queue what it reports, and Read takes from the
// queue. A handler never blocks: blocking inside a js.FuncOf callback
// stops the whole program.

// readyState values of a WebSocket.
const (
	wsConnecting = 0
	wsOpen       = 1
)

// closeTimeout bounds Close's wait for the relay's close frame.
const closeTimeout = 5 * time.Second

var (
	errNoWebSocket = errors.New("client: no WebSocket in this JavaScript environment (Node 20 needs --experimental-websocket)")
	errNotOpen     = errors.New("client: WebSocket is not open")
	errClosedHere  = errors.New("client: WebSocket closed by the client")
	errTextMessage = errors.New("client: relay sent a text message")
)

// jsTransport is one browser WebSocket.
type jsTransport struct {
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
	msgs     [][]byte // received and not yet read
	err      error    // why the socket ended: Read returns it after msgs
	finished bool
}

var _ transport = (*jsTransport)(nil)

func dialTransport(ctx context.Context, url string, subprotocols []string) (tr transport, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errNoWebSocket
	}
	protos := make([]any, len(subprotocols))
	for i, p := range subprotocols {
		protos[i] = p
	}
	t := &jsTransport{
		opened: make(chan struct{}),
		signal: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	// The constructor throws (a js.Error panic here) on a malformed URL
	// or subprotocol.
	defer func() {
		if r := recover(); r != nil {
			tr, err = nil, &dialError{msg: panicString(r)}
		}
	}()
	t.ws = ctor.New(url, protos)
	t.ws.Set("binaryType", "arraybuffer")
	t.onOpen = js.FuncOf(func(js.Value, []js.Value) any {
		close(t.opened)
		return nil
	})
	t.onMessage = js.FuncOf(func(_ js.Value, args []js.Value) any {
		t.message(args[0].Get("data"))
		return nil
	})
	t.onClose = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ev := args[0]
		t.closed(ev.Get("code").Int(), ev.Get("reason").String(), ev.Get("wasClean").Bool())
		return nil
	})
	// In browsers an error event is followed by a close event, which says
	// more. Node 20's WebSocket gives none when it fails to connect (and
	// stays CONNECTING): an error before the open event ends the dial.
	t.onError = js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case <-t.opened:
		default:
			t.closed(1006, "", false)
		}
		return nil
	})
	t.ws.Set("onopen", t.onOpen)
	t.ws.Set("onmessage", t.onMessage)
	t.ws.Set("onclose", t.onClose)
	t.ws.Set("onerror", t.onError)

	select {
	case <-t.opened:
		return t, nil
	case <-t.done:
		t.mu.Lock()
		err := t.err
		t.mu.Unlock()
		return nil, &dialError{msg: "failed to open WebSocket to " + url, cause: err}
	case <-ctx.Done():
		t.CloseNow()
		return nil, ctx.Err()
	}
}

// message queues one message the socket received.
func (t *jsTransport) message(data js.Value) {
	var msg []byte
	var err error
	if data.Type() == js.TypeString {
		err = errTextMessage
	} else {
		u8 := uint8Array.New(data)
		msg = make([]byte, u8.Length())
		js.CopyBytesToGo(msg, u8)
	}
	t.mu.Lock()
	if t.err == nil {
		if err != nil {
			t.err = err
		} else {
			t.msgs = append(t.msgs, msg)
		}
	}
	t.mu.Unlock()
	t.notify()
	if err != nil {
		t.CloseNow()
	}
}

// closed handles the close event: a close frame from the relay (wasClean)
// is a *CloseError; anything else, the link dropped.
func (t *jsTransport) closed(code int, reason string, clean bool) {
	t.mu.Lock()
	if t.err == nil {
		if clean && code != 1006 {
			t.err = &CloseError{Code: codes.Code(code), Reason: reason}
		} else {
			t.err = &linkError{code: code}
		}
	}
	t.mu.Unlock()
	t.finish()
}

// finish detaches the handlers from the socket, releases them, and wakes
// everyone waiting. Idempotent.
func (t *jsTransport) finish() {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return
	}
	t.finished = true
	t.mu.Unlock()
	for _, name := range [...]string{"onopen", "onmessage", "onclose", "onerror"} {
		t.ws.Set(name, js.Null())
	}
	t.onOpen.Release()
	t.onMessage.Release()
	t.onClose.Release()
	t.onError.Release()
	close(t.done)
	t.notify()
}

func (t *jsTransport) notify() {
	select {
	case t.signal <- struct{}{}:
	default:
	}
}

// Read returns the next message, or why the socket ended once every
// message before that is read. Like coder/websocket, it closes the socket
// if ctx ends first.
func (t *jsTransport) Read(ctx context.Context) ([]byte, error) {
	for {
		t.mu.Lock()
		if len(t.msgs) > 0 {
			msg := t.msgs[0]
			t.msgs[0] = nil
			t.msgs = t.msgs[1:]
			if len(t.msgs) == 0 {
				t.msgs = t.msgs[:0:0]
			}
			t.mu.Unlock()
			return msg, nil
		}
		err := t.err
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-t.signal:
		case <-ctx.Done():
			t.CloseNow()
			return nil, ctx.Err()
		}
	}
}

// Write sends msg. The browser queues it (bufferedAmount) without
// backpressure, so ctx is unused.
func (t *jsTransport) Write(ctx context.Context, msg []byte) (err error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.ws.Get("readyState").Int() != wsOpen {
		return errNotOpen
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("client: WebSocket send failed: " + panicString(r))
		}
	}()
	buf := uint8Array.New(len(msg))
	js.CopyBytesToJS(buf, msg)
	t.ws.Call("send", buf)
	return nil
}

// Close sends a close frame and waits, at most closeTimeout, for the
// relay's. Browsers only let a page send 1000 or 3000–4999, and reasons of
// at most 123 bytes.
func (t *jsTransport) Close(code codes.Code, reason string) error {
	if code != codes.Normal && (code < 3000 || code > 4999) {
		code = codes.Normal
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	t.close(int(code), reason)
	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
		t.CloseNow()
	}
	return nil
}

// CloseNow gives up on the socket at once: a browser cannot drop a
// connection without a close frame, so it starts the closing handshake,
// and stops listening.
func (t *jsTransport) CloseNow() error {
	t.close(int(codes.Normal), "")
	t.mu.Lock()
	if t.err == nil {
		t.err = errClosedHere
	}
	t.mu.Unlock()
	t.finish()
	return nil
}

func (t *jsTransport) close(code int, reason string) {
	defer func() { recover() }() // close only throws on arguments checked above
	if s := t.ws.Get("readyState").Int(); s == wsConnecting || s == wsOpen {
		t.ws.Call("close", code, reason)
	}
}

func (t *jsTransport) Subprotocol() string { return t.ws.Get("protocol").String() }

var uint8Array = js.Global().Get("Uint8Array")

// linkError is a socket that closed without a close frame from the relay.
type linkError struct{ code int }

func (e *linkError) Error() string {
	return "client: WebSocket closed without a close frame (code " + strconv.Itoa(e.code) + ")"
}

// dialError is a socket that failed to open.
type dialError struct {
	msg   string
	cause error
}

func (e *dialError) Error() string {
	if e.cause != nil {
		return "client: " + e.msg + ": " + e.cause.Error()
	}
	return "client: " + e.msg
}

func (e *dialError) Unwrap() error { return e.cause }

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

// watchPage pokes the client when the page comes back online or becomes
// visible again (see Client.poke), and returns a function that stops it.
// Outside a page (Node, workers without a document) it watches what there
// is.
func watchPage(poke func()) (stop func()) {
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
