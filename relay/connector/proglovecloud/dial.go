//go:build !js

package proglovecloud

import (
	"github.com/coder/websocket"
)

func (l *Link) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: l.cfg.HTTPClient}
}
