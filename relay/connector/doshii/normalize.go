package doshii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	wire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
)

// Limits of POSEvent.Fields, so that every client can decode the event:
// msgp frames hold at most 256 map entries at the top level (the event's
// //msgp:limit), and deep nesting buys nothing for thin payloads.
const (
	maxFields     = 256
	maxFieldDepth = 16
	maxFieldItems = 1024
)

// Out is one normalised event and the channel it is published on.
type Out struct {
	Channel string
	Event   event.Event
}

// Normalize turns a Doshii event into a POS event on
// pos/<locationId>/<category>. It always returns the event; dropped is
// non-nil when the payload had more other keys than an event may carry,
// in which case Fields is empty (Meta.Raw still has them all).
func Normalize(e *wire.Event, link string, received time.Time) (outs []Out, dropped error) {
	name := wire.Canonical(e.Name)
	cat := wire.Category(name)
	p := e.Payload
	ev := &event.POSEvent{
		Meta:     event.Meta{Link: link, Protocol: Protocol, Received: received.UnixMicro(), Raw: e.Raw},
		Name:     name,
		Category: cat,
		ID:       p.ID, Status: p.Status, URI: p.URI,
		LocationID: p.LocationID, MappedLocationID: p.MappedLocationID,
	}
	if n := len(p.Other); n > maxFields {
		dropped = fmt.Errorf("%s: %d payload fields, over the %d an event carries", e.Name, n, maxFields)
	} else if n > 0 {
		ev.Fields = make(map[string]interface{}, n)
		for k, raw := range p.Other {
			ev.Fields[k] = jsonValue(raw)
		}
	}
	return []Out{{event.POSChannel(p.LocationID, cat), ev}}, dropped
}

// jsonValue converts a JSON value (already validated by the codec) into the
// values msgp encodes natively: nil, bool, string, int64 or float64,
// []interface{}, map[string]interface{}. What is nested deeper than
// maxFieldDepth, or larger than the frame limits, stays as its JSON text.
func jsonValue(raw json.RawMessage) interface{} {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	return convert(v, 0)
}

func convert(v interface{}, depth int) interface{} {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
		return string(v) // beyond float64's range: keep the digits
	case map[string]interface{}:
		if depth >= maxFieldDepth || len(v) > maxFields {
			return text(v)
		}
		for k, x := range v {
			v[k] = convert(x, depth+1)
		}
		return v
	case []interface{}:
		if depth >= maxFieldDepth || len(v) > maxFieldItems {
			return text(v)
		}
		for i, x := range v {
			v[i] = convert(x, depth+1)
		}
		return v
	}
	return v // nil, bool, string
}

// text re-encodes a decoded value as compact JSON.
func text(v interface{}) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
