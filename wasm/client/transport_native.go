//go:build !js

package client

import (
	"context"
	"errors"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// readLimit bounds one message from the relay. The relay batches what a
// client has queued into one message, so this is well above any single
// frame.
const readLimit = 32 << 20

// wsTransport is the native transport over coder/websocket.
type wsTransport struct {
	c *websocket.Conn
}

var _ transport = (*wsTransport)(nil)

func dialTransport(ctx context.Context, url string, subprotocols []string) (transport, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &wsTransport{c: c}, nil
}

var errTextMessage = errors.New("client: relay sent a text message")

func (t *wsTransport) Read(ctx context.Context) ([]byte, error) {
	typ, msg, err := t.c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, &CloseError{Code: codes.Code(ce.Code), Reason: ce.Reason}
		}
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, errTextMessage
	}
	return msg, nil
}

func (t *wsTransport) Write(ctx context.Context, msg []byte) error {
	return t.c.Write(ctx, websocket.MessageBinary, msg)
}

func (t *wsTransport) Close(code codes.Code, reason string) error {
	return t.c.Close(websocket.StatusCode(code), reason)
}

func (t *wsTransport) CloseNow() error { return t.c.CloseNow() }

func (t *wsTransport) Subprotocol() string { return t.c.Subprotocol() }

// watchPage is the browser build's hook for page events (see poke); a
// native client has no page to watch.
func watchPage(poke func()) (stop func()) { return func() {} }
