//go:build !js

package client

import "github.com/fieldrelay/fieldrelay/proto/event"

// Value is an event's typed value, a pointer to one of package event's
// types (e.g. *event.Uplink).
type Value = event.Event

// decodeValue decodes an event's Data. It returns nil and true if the
// kind is unknown here, and nil and false if Data is not exactly one
// msgpack value of the kind's type: the frame carries Data as a bin, which
// the frame decoder does not look into.
func decodeValue(kind string, data []byte) (Value, bool) {
	e := event.New(kind)
	if e == nil {
		return nil, true
	}
	if rest, err := e.UnmarshalMsg(data); err != nil || len(rest) != 0 {
		return nil, false
	}
	return e, true
}
