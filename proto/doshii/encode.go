package doshii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// EncodeEvent writes an event in env (EnvelopeEmit, EnvelopeEvent or
// EnvelopeType):
//
//	{"emit":["order_created",{…}]}
//	{"event":"order_created","data":{…}}
//	{"type":"order_created","data":{…}}
//
// data is the payload, a JSON object written as given (nil or empty means
// {}). The heartbeat names "message" and "health_check" are refused: use
// EncodePing and EncodePong.
func EncodeEvent(env Envelope, name string, data []byte) ([]byte, error) {
	if name == "" {
		return nil, ErrNoName
	}
	if name == nameMessage || name == nameHealthCheck {
		return nil, fmt.Errorf("%w: %q is a heartbeat name", ErrBadValue, name)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	if data[0] != '{' || !json.Valid(data) {
		return nil, fmt.Errorf("%w: the payload must be a JSON object", ErrWrongType)
	}
	return wrap(env, name, data)
}

// EncodePing writes a ping in env. A Ping with HealthCheck set is written as
// {"event":"health_check","data":{"ping":ms}} (in env's naming: "emit",
// "event" or "type"; not bare); otherwise the doshii object is
// {"ping":ms,"version":v,"status":{…}}, version and status only when set:
//
//	EnvelopeBare:  {"doshii":{"ping":1539144663417,"version":"5.3.72"}}  (what a client sends)
//	EnvelopeType:  {"type":"message","data":{"doshii":{"ping":…,"version":"3.2.0"}}}  (a server's ping)
//	EnvelopeEvent: {"event":"message","data":{"doshii":{…}}}
//	EnvelopeEmit:  {"emit":["message",{"doshii":{…}}]}
func EncodePing(env Envelope, p Ping) ([]byte, error) {
	var b []byte
	b = append(b, `{"ping":`...)
	b = strconv.AppendInt(b, p.Time, 10)
	if p.Version != "" {
		b = append(b, `,"version":`...)
		b = appendString(b, p.Version)
	}
	if p.HealthCheck {
		if env == EnvelopeBare {
			return nil, fmt.Errorf("%w: a health_check needs a named envelope", ErrBadValue)
		}
		return wrap(env, nameHealthCheck, append(b, '}'))
	}
	if len(p.Status) > 0 {
		b = append(b, `,"status":{`...)
		keys := make([]string, 0, len(p.Status))
		for k := range p.Status {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, p.Status[k])
		}
		b = append(b, '}')
	}
	return heartbeat(env, append(b, '}'))
}

// EncodePong writes a pong in env: {"pong":ms,"version":v} (version only
// when set) in the shapes EncodePing lists. The documented server pong is
// EnvelopeType; a client answering a server's ping uses EnvelopeBare.
func EncodePong(env Envelope, p Pong) ([]byte, error) {
	var b []byte
	b = append(b, `{"pong":`...)
	b = strconv.AppendInt(b, p.Time, 10)
	if p.Version != "" {
		b = append(b, `,"version":`...)
		b = appendString(b, p.Version)
	}
	return heartbeat(env, append(b, '}'))
}

// heartbeat puts a doshii object in env.
func heartbeat(env Envelope, doshii []byte) ([]byte, error) {
	if env == EnvelopeBare {
		return concat(`{"doshii":`, doshii, `}`), nil
	}
	return wrap(env, nameMessage, concat(`{"doshii":`, doshii, `}`))
}

// wrap puts a named payload in one of the three named envelopes.
func wrap(env Envelope, name string, data []byte) ([]byte, error) {
	var b []byte
	switch env {
	case EnvelopeEmit:
		b = append(b, `{"emit":[`...)
		b = appendString(b, name)
		b = append(b, ',')
		b = append(b, data...)
		return append(b, "]}"...), nil
	case EnvelopeEvent, EnvelopeType:
		b = append(b, `{"`...)
		b = append(b, env.String()...)
		b = append(b, `":`...)
		b = appendString(b, name)
		b = append(b, `,"data":`...)
		b = append(b, data...)
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("%w: envelope %q cannot carry %q", ErrBadValue, env, name)
}

func concat(a string, b []byte, c string) []byte {
	out := make([]byte, 0, len(a)+len(b)+len(c))
	out = append(out, a...)
	out = append(out, b...)
	return append(out, c...)
}

// appendString appends s as a JSON string, without HTML escaping.
func appendString(b []byte, s string) []byte {
	enc, err := marshal(s)
	if err != nil {
		// A Go string always marshals (invalid UTF-8 becomes U+FFFD).
		panic("doshii: marshal string: " + err.Error())
	}
	return append(b, enc...)
}
