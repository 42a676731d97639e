//go:build !js

package client

import "github.com/fieldrelay/fieldrelay/proto/event"

// Value is an event's typed value, a pointer to one of package event's
// types (e.g. *event.Uplink).
type Value = event.Event

// decodeValue decodes an event's Data; nil if its kind is unknown here.
func decodeValue(kind string, data []byte) Value {
	v, _ := event.Decode(kind, data)
	return v
}
