//go:build !js

package ws

import (
	"context"
	"errors"

	"github.com/coder/websocket"
)

// DefaultReadLimit is the largest message a new Conn accepts (see
// SetReadLimit). coder/websocket's own default, 32 KiB, is below what the
// relay batches into one message.
const DefaultReadLimit = 32 << 20

// Conn is one WebSocket connection. Read is called from one goroutine at
// a time; Write, Close and CloseNow may be called from any goroutine,
// concurrently with Read and with each other.
type Conn struct {
	c *websocket.Conn
}

// Dial opens a WebSocket to url (ws:// or wss://) offering subprotocols
// (none if empty), bounded by ctx.
func Dial(ctx context.Context, url string, subprotocols []string) (*Conn, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(DefaultReadLimit)
	return &Conn{c: c}, nil
}

// SetReadLimit sets the largest message Read accepts, in bytes. A larger
// message fails the Read and closes the connection (code 1009 natively);
// n < 0 removes the limit.
func (c *Conn) SetReadLimit(n int64) { c.c.SetReadLimit(n) }

// Read returns the next message and its type. A close frame from the peer
// ends the connection with a *CloseError. If ctx ends first Read fails
// and the connection is not to be used again: coder/websocket closes it
// when the Read was waiting for data (a Read given an already ended ctx
// may fail before that, leaving it open; callers drop it either way).
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	typ, msg, err := c.c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return 0, nil, &CloseError{Code: uint16(ce.Code), Reason: ce.Reason}
		}
		return 0, nil, err
	}
	return MessageType(typ), msg, nil
}

// Write sends msg as one message of type typ, bounded by ctx (a write cut
// short by ctx closes the connection, since the frame is then broken).
func (c *Conn) Write(ctx context.Context, typ MessageType, msg []byte) error {
	return c.c.Write(ctx, websocket.MessageType(typ), msg)
}

// Close sends a close frame with code and reason and waits, for a bounded
// time, for the peer's; it unblocks Read.
func (c *Conn) Close(code uint16, reason string) error {
	return c.c.Close(websocket.StatusCode(code), trimReason(reason))
}

// CloseNow drops the connection without a closing handshake (for links
// found dead, where a handshake would only wait) and unblocks Read.
func (c *Conn) CloseNow() error { return c.c.CloseNow() }

// Subprotocol returns the subprotocol the server selected, "" for none.
func (c *Conn) Subprotocol() string { return c.c.Subprotocol() }

// WatchPage is the browser build's hook for page events (the page came
// back online or became visible); a native program has no page, so it
// never calls poke.
func WatchPage(poke func()) (stop func()) { return func() {} }
