//go:build js

package client

import (
	"context"
	"errors"
)

// dialTransport is the browser transport's entry point. The syscall/js
// wrapper over the browser's WebSocket replaces this stub.
func dialTransport(ctx context.Context, url string, subprotocols []string) (transport, error) {
	return nil, errors.New("client: browser transport not yet implemented")
}
