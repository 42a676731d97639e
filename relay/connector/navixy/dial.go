//go:build !js

package navixy

import (
	"net/http"

	"github.com/coder/websocket"
)

// dialOptions makes the socket's handshake with the configured client.
func dialOptions(c *http.Client) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: c}
}
