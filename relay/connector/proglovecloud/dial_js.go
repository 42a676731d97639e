//go:build js

package proglovecloud

import (
	"github.com/coder/websocket"
)

// In the browser the WebSocket object dials; there is no HTTP client to
// pass, and a refused upgrade shows no status (it is handled like any
// failed dial, after a forced token refresh).
func (l *Link) dialOptions() *websocket.DialOptions { return nil }
