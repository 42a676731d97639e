//go:build !js

package client

import (
	"context"
	"errors"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/wasm/internal/ws"
)

// The native transport: package ws over coder/websocket. It is the same
// adapter as the browser's (transport_js.go); only the build differs.

// readLimit bounds one message from the relay. The relay batches what a
// client has queued into one message, so this is well above any single
// frame.
const readLimit = 32 << 20

// wsTransport adapts a ws.Conn to the client's transport: binary messages
// only, close codes as codes.Code.
type wsTransport struct {
	c *ws.Conn
}

var _ transport = (*wsTransport)(nil)

func dialTransport(ctx context.Context, url string, subprotocols []string) (transport, error) {
	c, err := ws.Dial(ctx, url, subprotocols)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &wsTransport{c: c}, nil
}

var errTextMessage = errors.New("client: relay sent a text message")

// Read returns the next binary message. A text message breaks the
// protocol: the link is dropped and the error says why.
func (t *wsTransport) Read(ctx context.Context) ([]byte, error) {
	typ, msg, err := t.c.Read(ctx)
	if err != nil {
		if ce, ok := err.(*ws.CloseError); ok {
			return nil, &CloseError{Code: codes.Code(ce.Code), Reason: ce.Reason}
		}
		return nil, err
	}
	if typ != ws.MessageBinary {
		t.c.CloseNow()
		return nil, errTextMessage
	}
	return msg, nil
}

func (t *wsTransport) Write(ctx context.Context, msg []byte) error {
	return t.c.Write(ctx, ws.MessageBinary, msg)
}

func (t *wsTransport) Close(code codes.Code, reason string) error {
	return t.c.Close(uint16(code), reason)
}

func (t *wsTransport) CloseNow() error { return t.c.CloseNow() }

func (t *wsTransport) Subprotocol() string { return t.c.Subprotocol() }

// watchPage pokes the client when the page comes back online or becomes
// visible again (see Client.poke); a native client has no page to watch.
func watchPage(poke func()) (stop func()) { return ws.WatchPage(poke) }
