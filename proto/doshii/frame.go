package doshii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Envelope is the shape a message arrives in. The zero value means "not
// chosen" in configurations; Decode never returns it.
type Envelope uint8

// Envelopes. Events come in the first three; heartbeats in any of the four.
const (
	// EnvelopeEmit is {"emit":["<name>",{payload}]}, what the official
	// partner SDK parses and its tests push.
	EnvelopeEmit Envelope = iota + 1
	// EnvelopeEvent is {"event":"<name>","data":{payload}}, the app-partner
	// help pages' shape (and health_check's).
	EnvelopeEvent
	// EnvelopeType is {"type":"<name>","data":{payload}}, the older POS
	// pages' shape; {"type":"message",…} carries the documented pong.
	EnvelopeType
	// EnvelopeBare is {"doshii":{…}}: client pings, and the pong of the
	// SDK's mock server. Only heartbeats come bare.
	EnvelopeBare
)

var envelopeNames = [...]string{"", "emit", "event", "type", "bare"}

// String returns "emit", "event", "type", "bare", or "" for the zero value.
func (e Envelope) String() string {
	if int(e) < len(envelopeNames) {
		return envelopeNames[e]
	}
	return "Envelope(" + strconv.Itoa(int(e)) + ")"
}

// ParseEnvelope is the inverse of String, for configuration files. The
// empty string gives the zero Envelope.
func ParseEnvelope(s string) (Envelope, error) {
	for i, n := range envelopeNames {
		if n == s {
			return Envelope(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown envelope %q (want emit, event, type or bare)", ErrBadValue, s)
}

// MarshalText implements encoding.TextMarshaler.
func (e Envelope) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Envelope) UnmarshalText(b []byte) error {
	v, err := ParseEnvelope(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// Frame is what Decode returns: an *Event, a *Ping or a *Pong.
type Frame interface {
	frame()
}

func (*Event) frame() {}
func (*Ping) frame()  {}
func (*Pong) frame()  {}

// Event is a named notification pushed by Doshii. Its payload is thin: ids,
// a status and the REST uri of the full object.
type Event struct {
	// Name is the event name exactly as sent ("order_created",
	// "ckeckin_updated"); Canonical(Name) corrects known misspellings.
	Name string
	// Envelope is the shape the event came in.
	Envelope Envelope
	// Data is the payload object exactly as sent, or {} when the message
	// had none (or null).
	Data json.RawMessage
	// Payload is Data's documented fields, typed.
	Payload Payload
	// Raw is a copy of the whole message exactly as passed to Decode.
	Raw []byte
}

// Payload holds the fields the help pages document for event payloads.
// Ids are strings; one sent as a JSON number is kept as its JSON text.
type Payload struct {
	ID               string // "id"
	Status           string // "status", e.g. "pending", "subscribed"
	URI              string // "uri", the REST address of the full object
	LocationID       string // "locationId", Doshii's location id
	MappedLocationID string // "mappedLocationId", the POS's own id for it
	// Other holds every other key of the payload, its value verbatim
	// ("app", "orderId", "tableName", …). Nil when there is none.
	Other map[string]json.RawMessage
}

// Ping is a heartbeat that expects a pong: a client's
// {"doshii":{"ping":ms,"version":v}}, a server's
// {"type":"message","data":{"doshii":{"ping":ms,…}}}, or a POS health
// check {"event":"health_check","data":{"ping":ms}}.
type Ping struct {
	// Time is the sender's clock, Unix milliseconds. A pong echoes it.
	Time int64
	// Version is the sender's software version ("5.3.72"), or "".
	Version string
	// Status is the POS's component status ({"database":"online",
	// "processor":"offline"}), when sent. Non-string values keep their
	// compact JSON text.
	Status map[string]string
	// HealthCheck marks a health_check event (which carries no "doshii"
	// object); it is answered like any other ping.
	HealthCheck bool
	// Envelope is the shape the ping came in.
	Envelope Envelope
	// Raw is a copy of the message exactly as passed to Decode (nil for
	// values built to be encoded).
	Raw []byte
}

// Pong answers a ping: {"type":"message","data":{"doshii":{"pong":ms,
// "version":v}}} as documented, or the bare {"doshii":{"pong":ms}} of the
// SDK's mock server.
type Pong struct {
	// Time is the echoed ping time, Unix milliseconds.
	Time int64
	// Version is the sender's software version, or "".
	Version string
	// Envelope is the shape the pong came in.
	Envelope Envelope
	// Raw is a copy of the message exactly as passed to Decode.
	Raw []byte
}

// object is a JSON object with its values kept verbatim. Keys are matched
// exactly (Doshii's are camelCase); a repeated key keeps its last value.
type object map[string]json.RawMessage

// Decode decodes one message received on the socket (by a client or, for
// the client's own heartbeats, by a server): an *Event, a *Ping or a *Pong.
//
// The envelope is chosen by the first of these keys present and not null:
// "emit", "event", "type", "doshii". An event named "message" is a
// heartbeat whose data holds a "doshii" object; one named "health_check"
// is a ping whose data holds "ping". A "doshii" object with "pong" is a
// pong (even if it also has "ping"), else with "ping" a ping.
//
// Leading and trailing white space is ignored. Decode never panics and
// imposes no size limit. Errors wrap one of the package's sentinels (see
// ErrorKind); field errors are *FieldError values naming the field.
func Decode(b []byte) (Frame, error) {
	top, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	var f Frame
	switch {
	case !absent(top["emit"]):
		f, err = decodeEmit(top["emit"])
	case !absent(top["event"]):
		f, err = decodeNamed(EnvelopeEvent, "event", top)
	case !absent(top["type"]):
		f, err = decodeNamed(EnvelopeType, "type", top)
	case !absent(top["doshii"]):
		f, err = decodeHeartbeat(EnvelopeBare, "doshii", top["doshii"])
	default:
		return nil, fmt.Errorf("%w: want one of the keys emit, event, type, doshii", ErrNoEnvelope)
	}
	if err != nil {
		return nil, err
	}
	raw := append([]byte(nil), b...)
	switch f := f.(type) {
	case *Event:
		f.Raw = raw
	case *Ping:
		f.Raw = raw
	case *Pong:
		f.Raw = raw
	}
	return f, nil
}

// decodeEmit reads {"emit":["<name>",{payload}]}. Elements after the
// payload are ignored, as the SDK ignores them.
func decodeEmit(raw json.RawMessage) (Frame, error) {
	if raw[0] != '[' {
		return nil, wrongType("emit", raw, "array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &FieldError{Field: "emit", Err: ErrMalformedJSON, Cause: err}
	}
	if len(items) == 0 {
		return nil, &FieldError{Field: "emit", Err: ErrNoName, Detail: "empty array"}
	}
	name, err := decodeString("emit[0]", items[0])
	if err != nil {
		return nil, err
	}
	if absent(items[0]) {
		return nil, &FieldError{Field: "emit[0]", Err: ErrNoName, Detail: "null"}
	}
	var data json.RawMessage
	if len(items) > 1 {
		data = items[1]
	}
	return dispatch(EnvelopeEmit, name, "emit[1]", data)
}

// decodeNamed reads {"<key>":"<name>","data":{payload}}.
func decodeNamed(env Envelope, key string, top object) (Frame, error) {
	name, err := decodeString(key, top[key])
	if err != nil {
		return nil, err
	}
	return dispatch(env, name, "data", top["data"])
}

// dispatch turns a named message into an event, or a heartbeat when the
// name says so.
func dispatch(env Envelope, name, dataField string, data json.RawMessage) (Frame, error) {
	if name == "" {
		return nil, ErrNoName
	}
	obj, err := decodeObject(dataField, data)
	if err != nil {
		return nil, err
	}
	switch name {
	case nameMessage:
		if absent(obj["doshii"]) {
			return nil, &FieldError{Field: dataField + ".doshii", Err: ErrBadHeartbeat, Detail: "a message without a doshii object"}
		}
		return decodeHeartbeat(env, dataField+".doshii", obj["doshii"])
	case nameHealthCheck:
		if absent(obj["ping"]) {
			return nil, &FieldError{Field: dataField + ".ping", Err: ErrBadHeartbeat, Detail: "a health_check without ping"}
		}
		p := &Ping{HealthCheck: true, Envelope: env}
		if p.Time, err = decodeMillis(dataField+".ping", obj["ping"]); err != nil {
			return nil, err
		}
		if p.Version, err = decodeText(dataField+".version", obj["version"]); err != nil {
			return nil, err
		}
		return p, nil
	}
	e := &Event{Name: name, Envelope: env, Data: json.RawMessage("{}")}
	if !absent(data) {
		e.Data = bytes.TrimSpace(data)
	}
	if e.Payload, err = decodePayload(dataField, obj); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeHeartbeat reads a "doshii" object: {"ping"|"pong":ms,"version":v,…}.
func decodeHeartbeat(env Envelope, field string, raw json.RawMessage) (Frame, error) {
	obj, err := decodeObject(field, raw)
	if err != nil {
		return nil, err
	}
	version, err := decodeText(field+".version", obj["version"])
	if err != nil {
		return nil, err
	}
	switch {
	case !absent(obj["pong"]):
		t, err := decodeMillis(field+".pong", obj["pong"])
		if err != nil {
			return nil, err
		}
		return &Pong{Time: t, Version: version, Envelope: env}, nil
	case !absent(obj["ping"]):
		t, err := decodeMillis(field+".ping", obj["ping"])
		if err != nil {
			return nil, err
		}
		p := &Ping{Time: t, Version: version, Envelope: env}
		if p.Status, err = decodeStatus(field+".status", obj["status"]); err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, &FieldError{Field: field, Err: ErrBadHeartbeat, Detail: "neither ping nor pong"}
}

// decodePayload splits a payload object into its documented fields and the
// rest.
func decodePayload(field string, obj object) (Payload, error) {
	var p Payload
	var err error
	typed := []struct {
		dst  *string
		key  string
		text bool // a number is accepted and kept as its JSON text
	}{
		{&p.ID, "id", true},
		{&p.Status, "status", false},
		{&p.URI, "uri", false},
		{&p.LocationID, "locationId", true},
		{&p.MappedLocationID, "mappedLocationId", true},
	}
	for _, t := range typed {
		if t.text {
			*t.dst, err = decodeText(field+"."+t.key, obj[t.key])
		} else {
			*t.dst, err = decodeString(field+"."+t.key, obj[t.key])
		}
		if err != nil {
			return Payload{}, err
		}
	}
	for k, v := range obj {
		switch k {
		case "id", "status", "uri", "locationId", "mappedLocationId":
			continue
		}
		if p.Other == nil {
			p.Other = make(map[string]json.RawMessage)
		}
		p.Other[k] = v
	}
	return p, nil
}

// decodeStatus reads a POS ping's status object.
func decodeStatus(field string, raw json.RawMessage) (map[string]string, error) {
	obj, err := decodeObject(field, raw)
	if err != nil || len(obj) == 0 {
		return nil, err
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		if !absent(v) && v[0] == '"' {
			s, err := decodeString(field+"."+k, v)
			if err != nil {
				return nil, err
			}
			out[k] = s
			continue
		}
		out[k] = compactText(v)
	}
	return out, nil
}

// decodeMillis reads a Unix millisecond time: a JSON integer, or a string
// of one (tolerated).
func decodeMillis(field string, raw json.RawMessage) (int64, error) {
	var text string
	switch jsonKind(raw) {
	case "number":
		text = string(raw)
	case "string":
		s, err := decodeString(field, raw)
		if err != nil {
			return 0, err
		}
		text = s
	default:
		return 0, wrongType(field, raw, "integer")
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, &FieldError{Field: field, Err: ErrBadValue, Detail: "want an integer of Unix milliseconds", Cause: err}
	}
	return n, nil
}
