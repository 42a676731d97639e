package navixy

import (
	"encoding/json"
	"slices"
	"strconv"
)

// Client actions.
const (
	Subscribe   = "subscribe"
	Unsubscribe = "unsubscribe"
)

// Target types of a current-form request.
const (
	TargetAll      = "all"
	TargetSelected = "selected"
)

// Action is what a client sends on the socket: subscribe or unsubscribe,
// in the old form (Events and Trackers) or the current one (Requests).
//
//	{"action":"subscribe","hash":"…","events":["state"],"trackers":[15564,15565]}
//	{"action":"subscribe","hash":"…","requests":[{"type":"state","trackers":[1701976],"format":"compact"},
//	                                             {"type":"state_batch","target":{"type":"all"},"rate_limit":"5s"}]}
type Action struct {
	Action string // Subscribe or Unsubscribe
	Hash   string
	// Old form.
	Events   []string
	Trackers []int64
	// Current form; when set, Events and Trackers are not written.
	Requests []Request
}

// Request is one element of a current-form action's "requests".
type Request struct {
	Type string // "state", "state_batch", "readings_batch", "iot_monitor"
	// Trackers lists tracker ids directly, as the vendor's sample does
	// for "state". Target is the other way to say which trackers.
	Trackers []int64
	Target   *Target
	// RateLimit bounds how often a batch is sent ("5s"); "" = not sent.
	RateLimit string
	// Format is FormatFull or FormatCompact; "" = not sent (full).
	Format string
	// Extra holds other keys (sensor_type, include_components, …),
	// written after the known ones in key order.
	Extra map[string]json.RawMessage
}

// Target is a request's {"type":"all"} or {"type":"selected","tracker_ids":[…]}.
type Target struct {
	Type       string // TargetAll or TargetSelected
	TrackerIDs []int64
}

// Current reports whether a is in the current (requests) form.
func (a *Action) Current() bool { return a.Requests != nil }

// Encode writes a in the vendor's key order: action, hash, then events and
// trackers, or requests.
func (a *Action) Encode() []byte {
	w := &writer{}
	w.open('{')
	w.str("action", a.Action)
	w.str("hash", a.Hash)
	if a.Requests != nil {
		w.key("requests")
		w.open('[')
		for _, r := range a.Requests {
			w.sep()
			writeRequest(w, &r)
		}
		w.close(']')
	} else {
		w.strings("events", nonNil(a.Events))
		w.ints("trackers", nonNil(a.Trackers))
	}
	w.close('}')
	return w.b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeRequest(w *writer, r *Request) {
	w.open('{')
	w.str("type", r.Type)
	if r.Trackers != nil {
		w.ints("trackers", r.Trackers)
	}
	if r.Target != nil {
		w.key("target")
		w.open('{')
		w.str("type", r.Target.Type)
		if r.Target.TrackerIDs != nil {
			w.ints("tracker_ids", r.Target.TrackerIDs)
		}
		w.close('}')
	}
	if r.RateLimit != "" {
		w.str("rate_limit", r.RateLimit)
	}
	if r.Format != "" {
		w.str("format", r.Format)
	}
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.raw(k, r.Extra[k])
	}
	w.close('}')
}

// DecodeAction reads a client's action, as a server receives it. It does
// not check the action name, the hash or the request types: that is the
// server's job. "trackers" and "tracker_ids" may hold numbers or numeric
// strings.
func DecodeAction(b []byte) (Action, error) {
	var a Action
	var w struct {
		Action   json.RawMessage `json:"action"`
		Hash     json.RawMessage `json:"hash"`
		Events   json.RawMessage `json:"events"`
		Trackers json.RawMessage `json:"trackers"`
		Requests json.RawMessage `json:"requests"`
	}
	if err := parseObject("", b, &w); err != nil {
		return a, err
	}
	var err error
	if a.Action, err = decodeString("action", w.Action); err != nil {
		return a, err
	}
	if a.Hash, err = decodeString("hash", w.Hash); err != nil {
		return a, err
	}
	if a.Events, err = decodeStrings("events", w.Events); err != nil {
		return a, err
	}
	if a.Trackers, err = decodeInts("trackers", w.Trackers); err != nil {
		return a, err
	}
	items, err := decodeArray("requests", w.Requests)
	if err != nil {
		return a, err
	}
	if items != nil {
		a.Requests = make([]Request, 0, len(items))
	}
	for i, it := range items {
		r, err := decodeRequest("requests["+strconv.Itoa(i)+"]", it)
		if err != nil {
			return a, err
		}
		a.Requests = append(a.Requests, r)
	}
	return a, nil
}

func decodeRequest(p string, raw json.RawMessage) (Request, error) {
	var r Request
	if absent(raw) {
		return r, wrongType(p, raw, "object")
	}
	ms, err := members(p, raw)
	if err != nil {
		return r, err
	}
	for _, m := range ms {
		f := p + "." + m.key
		switch m.key {
		case "type":
			r.Type, err = decodeString(f, m.val)
		case "trackers":
			r.Trackers, err = decodeInts(f, m.val)
		case "target":
			if absent(m.val) {
				r.Target = nil
				continue
			}
			var t struct {
				Type       json.RawMessage `json:"type"`
				TrackerIDs json.RawMessage `json:"tracker_ids"`
			}
			if err = parseObject(f, m.val, &t); err != nil {
				return r, err
			}
			r.Target = &Target{}
			if r.Target.Type, err = decodeString(f+".type", t.Type); err != nil {
				return r, err
			}
			r.Target.TrackerIDs, err = decodeInts(f+".tracker_ids", t.TrackerIDs)
		case "rate_limit":
			r.RateLimit, err = decodeString(f, m.val)
		case "format":
			r.Format, err = decodeString(f, m.val)
		default:
			if r.Extra == nil {
				r.Extra = make(map[string]json.RawMessage)
			}
			r.Extra[m.key] = m.val
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}
