//go:build js && wasm && direct

package main

// Direct mode, in fieldrelay-direct.wasm only (built with -tags direct):
// __fieldrelay.connectDirect(url, options) opens a session with ProGlove
// Insight Mobile's Streams API server (package wasm/direct) and hands
// JavaScript the same handle as connect does, so jsbindings wraps both in
// one Client. It is a separate build because the ProGlove codec and
// package event's decoders it needs (msgp included) cost some 500 KB of
// gzip that relay users should not download.

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/wasm/client"
	"github.com/fieldrelay/fieldrelay/wasm/direct"
)

func init() {
	extensions = append(extensions, func(api js.Value) {
		api.Set("connectDirect", js.FuncOf(func(_ js.Value, args []js.Value) any {
			return connectDirectCall(arg(args, 0), arg(args, 1))
		}))
	})
	codeHooks = append(codeHooks, func(err error) (codes.Code, bool) {
		var re *direct.ReplyError
		switch {
		case errors.As(err, &re):
			return re.Code, true
		case err == direct.ErrClosed:
			return codes.Normal, true
		}
		return 0, false
	})
}

// connectDirectCall implements __fieldrelay.connectDirect(url, options).
func connectDirectCall(url, o js.Value) js.Value {
	return promise(func() (any, error) {
		if url.Type() != js.TypeString {
			return nil, badRequest("url must be a string")
		}
		var opts direct.Options
		r := options{o: o}
		opts.Link = r.str("link")
		onState, onError := r.fn("onState"), r.fn("onError")
		opts.MinBackoff, opts.MaxBackoff = r.ms("minBackoff"), r.ms("maxBackoff")
		opts.CommandTimeout = r.ms("commandTimeout")
		timeout := r.ms("connectTimeout")
		if r.err != nil {
			return nil, r.err
		}
		if timeout <= 0 {
			timeout = defaultConnectTimeout
		}
		// Events are transcoded from their msgpack, as the relay's are.
		opts.RawEvents = true
		report := reporter(onError)
		if onState.Type() == js.TypeFunction {
			opts.OnState = func(s direct.State, cause error) {
				call(report, onState, s.String(), errorOrNull(cause))
			}
		}
		opts.OnError = func(kind string, e error) {
			report(&bridgeError{code: codes.BadRequest, msg: "fieldrelay: dropped a message from the app (" + kind + "): " + e.Error()})
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		s, err := direct.Dial(ctx, url.String(), &opts)
		if err != nil {
			return nil, err
		}
		cn := &conn{c: directSession{s}, onError: onError}
		return cn.object(), nil
	})
}

// directSession adapts a direct.Session to the bridge's session.
type directSession struct{ s *direct.Session }

func (d directSession) Subscribe(ctx context.Context, pattern string, o subscribeOptions) (subscription, error) {
	if o.Since != nil {
		return nil, badRequest("since: direct mode keeps no history across sessions")
	}
	// Recover has nothing to do: a direct session's log is its own, and a
	// subscription sees every event of it from Subscribe on. No
	// confirmations either (onSubscribed is for the relay's).
	sub, err := d.s.Subscribe(ctx, pattern, &direct.SubscribeOptions{
		Latest: o.Latest,
		OnEvents: func(evs []direct.Event) {
			out := make([]client.Event, len(evs))
			for i, ev := range evs {
				out[i] = client.Event{
					Channel:  ev.Channel,
					Position: client.Position{Epoch: ev.Position.Epoch, Offset: ev.Position.Offset},
					Prev:     ev.Prev,
					Kind:     ev.Kind,
					Data:     ev.Data,
					Latest:   ev.Latest,
					Replayed: ev.Replayed,
				}
			}
			o.OnEvents(out)
		},
	})
	if err != nil {
		return nil, err
	}
	return directSub{sub}, nil
}

func (d directSession) Command(ctx context.Context, target, kind string, body []byte) ([]byte, error) {
	r, err := d.s.Command(ctx, target, kind, client.RawBody(body))
	return r.Data, err
}

func (d directSession) State() string { return d.s.State().String() }

func (d directSession) Stats() map[string]any {
	s := d.s.Stats()
	return map[string]any{
		"reconnects": s.Reconnects,
		"gaps":       0,
		"delivered":  s.Delivered,
		"duplicates": 0,
		"lost":       0,
		"badInput":   s.BadInput,
	}
}

func (d directSession) Close() { d.s.Close() }

// directSub adapts a direct.Subscription.
type directSub struct{ *direct.Subscription }

func (d directSub) Position() client.Position {
	p := d.Subscription.Position()
	return client.Position{Epoch: p.Epoch, Offset: p.Offset}
}
