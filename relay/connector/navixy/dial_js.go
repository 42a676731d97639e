package navixy

import (
	"net/http"

	"github.com/coder/websocket"
)

// dialOptions: in the browser the WebSocket API makes the handshake; the
// HTTP client cannot take part.
func dialOptions(*http.Client) *websocket.DialOptions { return nil }
