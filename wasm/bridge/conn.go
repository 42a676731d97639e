//go:build js && wasm

package main

import (
	"context"
	"errors"
	"sync"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// defaultConnectTimeout bounds connect when the caller gives no
// connectTimeout.
const defaultConnectTimeout = 30 * time.Second

// session is what a handle drives: the relay client (relaySession), or
// in the direct build a session with Insight Mobile (direct.go). Both
// deliver client.Events, which the batch writer turns into rows.
type session interface {
	Subscribe(ctx context.Context, pattern string, o subscribeOptions) (subscription, error)
	// Command sends body (msgpack) and returns the result's msgpack.
	Command(ctx context.Context, target, kind string, body []byte) ([]byte, error)
	State() string
	Stats() map[string]any
	Close()
}

type subscribeOptions struct {
	Recover, Latest bool
	Since           *client.Position
	OnEvents        func([]client.Event)
	OnSubscribed    func(client.SubscribedInfo)
}

// subscription is what client.Subscription offers the bridge.
type subscription interface {
	Unsubscribe(ctx context.Context) error
	Position() client.Position
	Pattern() string
	Done() <-chan struct{}
	Err() error
}

// relaySession is a session with the relay.
type relaySession struct{ c *client.Client }

func (r relaySession) Subscribe(ctx context.Context, pattern string, o subscribeOptions) (subscription, error) {
	s, err := r.c.Subscribe(ctx, pattern, &client.SubscribeOptions{
		Recover: o.Recover, Latest: o.Latest, Since: o.Since,
		OnEvents: o.OnEvents, OnSubscribed: o.OnSubscribed,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (r relaySession) Command(ctx context.Context, target, kind string, body []byte) ([]byte, error) {
	rep, err := r.c.Command(ctx, target, kind, client.RawBody(body))
	return rep.Data, err
}

func (r relaySession) State() string { return r.c.State().String() }

func (r relaySession) Stats() map[string]any {
	s := r.c.Stats()
	return map[string]any{
		"reconnects": s.Reconnects,
		"gaps":       s.Gaps,
		"delivered":  s.Delivered,
		"duplicates": s.Duplicates,
		"lost":       s.Lost,
	}
}

func (r relaySession) Close() { r.c.Close() }

// conn is one connected session and the JavaScript object that handles it.
type conn struct {
	c       session
	obj     js.Value
	funcs   []js.Func
	onError js.Value

	mu     sync.Mutex
	closed bool
}

// connectCall implements __fieldrelay.connect(url, options).
func connectCall(url, o js.Value) js.Value {
	return promise(func() (any, error) {
		if url.Type() != js.TypeString {
			return nil, badRequest("url must be a string")
		}
		opts, timeout, onError, err := clientOptions(o)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := client.Dial(ctx, url.String(), opts)
		if err != nil {
			return nil, err
		}
		cn := &conn{c: relaySession{c}, onError: onError}
		return cn.object(), nil
	})
}

// clientOptions reads connect's options.
func clientOptions(o js.Value) (*client.Options, time.Duration, js.Value, error) {
	var opts client.Options
	r := options{o: o}
	opts.Token = r.str("token")
	opts.Name = r.str("name")
	getToken, onState, onError := r.fn("getToken"), r.fn("onState"), r.fn("onError")
	opts.MinBackoff, opts.MaxBackoff = r.ms("minBackoff"), r.ms("maxBackoff")
	opts.CommandTimeout = r.ms("commandTimeout")
	// Events are transcoded from their msgpack (package batch), not
	// decoded into Go values first.
	opts.RawEvents = true
	timeout := r.ms("connectTimeout")
	if r.err != nil {
		return nil, 0, js.Undefined(), r.err
	}
	if timeout <= 0 {
		timeout = defaultConnectTimeout
	}
	report := reporter(onError)
	if getToken.Type() == js.TypeFunction {
		opts.GetToken = func(ctx context.Context) (string, error) {
			v, ok := call(report, getToken)
			if !ok {
				return "", errors.New("getToken threw")
			}
			v, err := await(ctx, v)
			if err != nil {
				return "", err
			}
			if v.Type() != js.TypeString {
				return "", errors.New("getToken did not give a string")
			}
			return v.String(), nil
		}
	}
	if onState.Type() == js.TypeFunction {
		opts.OnState = func(s client.State, cause error) {
			call(report, onState, s.String(), errorOrNull(cause))
		}
	}
	return &opts, timeout, onError, nil
}

// reporter returns how to report an error no call is waiting for: to
// onError if there is one, else to the console.
func reporter(onError js.Value) func(error) {
	return func(err error) {
		if onError.Type() == js.TypeFunction {
			if _, ok := call(nil, onError, errorValue(err)); ok {
				return
			}
		}
		jsConsole.Call("error", "fieldrelay:", err.Error())
	}
}

// object builds the handle's JavaScript object.
func (cn *conn) object() js.Value {
	obj := jsObject.New()
	add := func(name string, f js.Func) {
		cn.funcs = append(cn.funcs, f)
		obj.Set(name, f)
	}
	add("subscribe", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return cn.subscribe(arg(args, 0), arg(args, 1))
	}))
	add("command", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return cn.command(arg(args, 0), arg(args, 1), arg(args, 2))
	}))
	add("state", method(func([]js.Value) any { return cn.c.State() }))
	add("stats", method(func([]js.Value) any { return cn.c.Stats() }))
	add("close", js.FuncOf(func(js.Value, []js.Value) any {
		return promise(func() (any, error) {
			cn.close()
			return nil, nil
		})
	}))
	cn.obj = obj
	return obj
}

// close closes the client and releases the handle's functions: calling
// them afterwards only logs "call to released function" (jsbindings
// guards against it).
func (cn *conn) close() {
	cn.mu.Lock()
	if cn.closed {
		cn.mu.Unlock()
		return
	}
	cn.closed = true
	cn.mu.Unlock()
	cn.c.Close()
	for _, f := range cn.funcs {
		f.Release()
	}
	cn.funcs = nil
}

// sub is one subscription and its JavaScript object.
type sub struct {
	s      subscription
	report func(error)

	onBatch, onSubscribed, onEnd js.Value
	// ended is closed when the subscription ends (or fails to start), to
	// stop waiting for a batch's Promise.
	ended chan struct{}
	w     batch.Writer
}

// subscribe implements handle.subscribe(pattern, options).
func (cn *conn) subscribe(pattern, o js.Value) js.Value {
	return promise(func() (any, error) {
		if pattern.Type() != js.TypeString {
			return nil, badRequest("pattern must be a string")
		}
		s := &sub{report: reporter(cn.onError), ended: make(chan struct{})}
		var err error
		if s.onBatch, err = optFunc(o, "onBatch"); err != nil {
			return nil, err
		}
		if s.onSubscribed, err = optFunc(o, "onSubscribed"); err != nil {
			return nil, err
		}
		if s.onEnd, err = optFunc(o, "onEnd"); err != nil {
			return nil, err
		}
		opts := subscribeOptions{
			Recover:  optBool(o, "recover"),
			Latest:   optBool(o, "latest"),
			OnEvents: s.deliver,
		}
		if present(o) && present(o.Get("since")) {
			since := o.Get("since")
			epoch, err := optString(since, "epoch")
			if err != nil {
				return nil, err
			}
			off, err := optNumber(since, "offset")
			if err != nil || off != float64(uint64(off)) {
				return nil, badRequest("since.offset must be a non-negative integer")
			}
			opts.Since = &client.Position{Epoch: epoch, Offset: uint64(off)}
		}
		if s.onSubscribed.Type() == js.TypeFunction {
			opts.OnSubscribed = func(info client.SubscribedInfo) {
				call(s.report, s.onSubscribed, map[string]any{
					"epoch":     info.Position.Epoch,
					"offset":    info.Position.Offset,
					"recovered": info.Recovered,
					"replayed":  info.Replayed,
					"resumed":   info.Resumed,
				})
			}
		}
		cs, err := cn.c.Subscribe(context.Background(), pattern.String(), opts)
		if err != nil {
			close(s.ended)
			return nil, err
		}
		s.s = cs
		return s.object(), nil
	})
}

// deliver is the subscription's OnEvents: one call of onBatch per message.
// If onBatch returns a Promise (jsbindings does when its async iterator's
// buffer is full) the read loop waits for it, which is the backpressure
// the Go client's Events channel gives: the relay, and in the end its slow
// consumer limit, see the wait.
func (s *sub) deliver(evs []client.Event) {
	defer func() {
		if r := recover(); r != nil {
			s.report(&bridgeError{code: codes.Internal, msg: "fieldrelay: failed to deliver a batch: " + panicText(r)})
		}
	}()
	w := &s.w
	w.Reset()
	for i := range evs {
		w.Add(&evs[i])
	}
	text := w.Close()
	blob := jsUint8Array.New(len(w.Bytes))
	if len(w.Bytes) > 0 {
		js.CopyBytesToJS(blob, w.Bytes)
	}
	// The string is copied into JavaScript during the call; no need to
	// copy it in Go first.
	r, ok := call(s.report, s.onBatch, unsafe.String(unsafe.SliceData(text), len(text)), blob, len(evs))
	if ok && isThenable(r) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.ended:
				cancel()
			case <-ctx.Done():
			}
		}()
		await(ctx, r)
		cancel()
	}
}

// object builds the subscription's JavaScript object, whose functions are
// released when it ends; onEnd(error|null, position) then tells
// JavaScript.
func (s *sub) object() js.Value {
	obj := jsObject.New()
	unsubscribe := js.FuncOf(func(js.Value, []js.Value) any {
		return promise(func() (any, error) {
			return nil, s.s.Unsubscribe(context.Background())
		})
	})
	position := method(func([]js.Value) any { return positionValue(s.s.Position()) })
	obj.Set("unsubscribe", unsubscribe)
	obj.Set("position", position)
	obj.Set("pattern", s.s.Pattern())
	go func() {
		<-s.s.Done()
		close(s.ended)
		err := s.s.Err()
		call(s.report, s.onEnd, errorOrNull(err), positionValue(s.s.Position()))
		unsubscribe.Release()
		position.Release()
	}()
	return obj
}

func positionValue(p client.Position) map[string]any {
	return map[string]any{"epoch": p.Epoch, "offset": p.Offset}
}

// command implements handle.command(target, kind, body).
func (cn *conn) command(target, kind, body js.Value) js.Value {
	return promise(func() (any, error) {
		if target.Type() != js.TypeString || kind.Type() != js.TypeString {
			return nil, badRequest("target and kind must be strings")
		}
		k := kind.String()
		if !batch.IsCommand(k) {
			return nil, badRequest("unknown command kind " + quote(k))
		}
		b, err := encodeBody(k, body)
		if err != nil {
			return nil, err
		}
		data, err := cn.c.Command(context.Background(), target.String(), k, b)
		if err != nil {
			return nil, err
		}
		raw := jsUint8Array.New(len(data))
		js.CopyBytesToJS(raw, data)
		out := map[string]any{"raw": raw, "data": nil}
		// The result of kinds this version does not know stays raw, and
		// so does data their result type's decoder would refuse.
		if len(data) > 0 {
			var w batch.Writer
			if w.Result(k, data) == nil {
				blob := jsUint8Array.New(len(w.Bytes))
				js.CopyBytesToJS(blob, w.Bytes)
				out["data"] = map[string]any{"json": string(w.Text), "bytes": blob,
					"paths": pathsValue(batch.ResultPaths(k))}
			}
		}
		return out, nil
	})
}
