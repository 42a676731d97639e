package client

import (
	"context"

	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// transport is one WebSocket connection as the session logic needs it. Each
// platform provides dialTransport:
//
//	dialTransport(ctx context.Context, url string, subprotocols []string) (transport, error)
//
// natively over coder/websocket (transport_native.go), in the browser over
// the WebSocket object (transport_js.go), so that the session logic, which
// is the same on both, links neither net/http nor syscall/js.
type transport interface {
	// Read returns the next binary message. It is called from one
	// goroutine at a time. A close frame from the peer ends the connection
	// with a *CloseError carrying the peer's code; any other error means
	// the link dropped.
	Read(ctx context.Context) ([]byte, error)
	// Write sends msg as one binary message. It is safe to call
	// concurrently with Read and with other Writes.
	Write(ctx context.Context, msg []byte) error
	// Close performs the closing handshake, bounded in time, and unblocks
	// Read.
	Close(code codes.Code, reason string) error
	// CloseNow drops the link without a handshake (for links found dead,
	// where a handshake would only wait) and unblocks Read.
	CloseNow() error
	// Subprotocol returns the subprotocol the server selected.
	Subprotocol() string
}
