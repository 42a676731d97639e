package navixy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Message types ("type") a server sends.
const (
	TypeEvent    = "event"
	TypeResponse = "response"
	TypeError    = "error"
)

// Event names ("event").
const (
	EventState         = "state"
	EventStateBatch    = "state_batch"
	EventLifecycle     = "lifecycle"
	EventLogout        = "logout"
	EventReadingsBatch = "readings_batch"
	EventIoTMonitor    = "iot_monitor"
)

// Actions of responses and errors.
const (
	ActionSubscribe   = "subscription/subscribe"
	ActionUnsubscribe = "subscription/unsubscribe"
)

// Lifecycle events (LifecycleEvent.Lifecycle).
const (
	LifecycleBlock   = "block"
	LifecycleUnblock = "unblock"
	LifecycleCorrupt = "corrupt"
)

// Tracker statuses in a subscribe response.
const (
	TrackerNormal     = "normal"
	TrackerBlocked    = "blocked"
	TrackerUnknown    = "unknown"
	TrackerDisallowed = "disallowed"
)

// Frame is what Decode returns: *StateEvent, *StateBatchEvent,
// *LifecycleEvent, *LogoutEvent, *OtherEvent, *Response or *ErrorResponse.
type Frame interface{ frame() }

func (*StateEvent) frame()      {}
func (*StateBatchEvent) frame() {}
func (*LifecycleEvent) frame()  {}
func (*LogoutEvent) frame()     {}
func (*OtherEvent) frame()      {}
func (*Response) frame()        {}
func (*ErrorResponse) frame()   {}

// StateEvent is {"type":"event","event":"state","user_time":…,"data":{…}}.
type StateEvent struct {
	UserTime LocalTime // the server's time in the user's zone, "" if absent
	State    State
	Raw      []byte // the message exactly as passed to Decode
}

// StateBatchEvent is a "state_batch": the states of the trackers that
// changed, each State.Raw being its element of the array.
type StateBatchEvent struct {
	UserTime LocalTime
	States   []State
	Raw      []byte
}

// LifecycleEvent is {"type":"event","event":"lifecycle","data":{
// "source_id":…,"lifecycle_event":"block"}}; the vendor subscribes every
// client to it.
type LifecycleEvent struct {
	UserTime  LocalTime
	SourceID  int64
	Lifecycle string // LifecycleBlock, LifecycleUnblock, LifecycleCorrupt or another
	Raw       []byte
}

// LogoutEvent says the session ended (logout, expiry, password change):
// log in again and resubscribe.
type LogoutEvent struct {
	UserTime LocalTime
	// Reason is data as sent ("session closed"), or its compact JSON text
	// when data is not a string.
	Reason string
	Raw    []byte
}

// OtherEvent is any other event (readings_batch, iot_monitor, new ones),
// passed through with its data.
type OtherEvent struct {
	Event    string
	UserTime LocalTime
	Data     json.RawMessage // nil when absent
	Raw      []byte
}

// Response answers an action: {"type":"response","action":…,"events":[…],
// "data":…}.
type Response struct {
	Action string
	Events []string
	// Subscriptions is data decoded for a subscribe response: one entry per
	// event type, in wire order. Nil for other actions.
	Subscriptions []Subscription
	// Unsubscribed is data decoded for an unsubscribe response: the
	// tracker ids no longer subscribed. Nil for other actions.
	Unsubscribed []int64
	// Data is data as sent (nil when absent).
	Data json.RawMessage
	Raw  []byte
}

// Subscription is one event type's part of a subscribe response. The
// current form wraps the statuses ({"state":{"value":{…},"success":true}});
// the old form does not ({"state":{"15564":"normal",…}}).
type Subscription struct {
	Event   string // "state", "state_batch", …
	Wrapped bool   // current form
	// Success is the wrapper's "success"; true in the old form.
	Success bool
	// Status explains a wrapped failure, when the server gives one.
	Status *Status
	// Statuses are the trackers' statuses, in wire order; nil when the
	// value is absent or not an object of statuses.
	Statuses []TrackerStatus
}

// TrackerStatus is one tracker's status in a subscribe response.
type TrackerStatus struct {
	TrackerID int64
	Status    string // TrackerNormal, TrackerBlocked, TrackerUnknown, TrackerDisallowed
}

// ErrorResponse is {"type":"error","action":…,"status":{…},"data":…}.
// Action may be "null".
type ErrorResponse struct {
	Action string
	Status Status
	Data   json.RawMessage // the server's echo of the request, nil if absent
	Raw    []byte
}

// Err returns the error as an *APIError.
func (e *ErrorResponse) Err() *APIError { return &APIError{Action: e.Action, Status: e.Status} }

type wireMessage struct {
	Type     json.RawMessage `json:"type"`
	Event    json.RawMessage `json:"event"`
	Action   json.RawMessage `json:"action"`
	UserTime json.RawMessage `json:"user_time"`
	Events   json.RawMessage `json:"events"`
	Status   json.RawMessage `json:"status"`
	Data     json.RawMessage `json:"data"`
}

// Decode decodes one message from the server (after Atmosphere framing is
// removed). Leading and trailing white space is ignored; unknown keys are
// ignored; Raw fields keep a copy of b. Decode never panics and imposes no
// size limit. Errors wrap one of the package's sentinels (see ErrorKind).
func Decode(b []byte) (Frame, error) {
	raw := append([]byte(nil), b...)
	var w wireMessage
	if err := parseObject("", raw, &w); err != nil {
		return nil, err
	}
	typ, err := decodeString("type", w.Type)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "":
		return nil, ErrNoType
	case TypeEvent:
		return decodeEvent(&w, raw)
	case TypeResponse:
		return decodeResponse(&w, raw)
	case TypeError:
		return decodeError(&w, raw)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownType, truncate(typ))
}

func decodeEvent(w *wireMessage, raw []byte) (Frame, error) {
	name, err := decodeString("event", w.Event)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, ErrNoEvent
	}
	ut, err := decodeTime("user_time", w.UserTime)
	if err != nil {
		return nil, err
	}
	switch name {
	case EventState:
		s, err := decodeState("data", w.Data)
		if err != nil {
			return nil, err
		}
		return &StateEvent{UserTime: ut, State: s, Raw: raw}, nil
	case EventStateBatch:
		items, err := decodeArray("data", w.Data)
		if err != nil {
			return nil, err
		}
		e := &StateBatchEvent{UserTime: ut, States: make([]State, 0, len(items)), Raw: raw}
		for i, it := range items {
			s, err := decodeState("data["+strconv.Itoa(i)+"]", it)
			if err != nil {
				return nil, err
			}
			e.States = append(e.States, s)
		}
		return e, nil
	case EventLifecycle:
		var d struct {
			SourceID  json.RawMessage `json:"source_id"`
			Lifecycle json.RawMessage `json:"lifecycle_event"`
		}
		if absent(w.Data) {
			return nil, &FieldError{Field: "data", Err: ErrMissing}
		}
		if err := parseObject("data", w.Data, &d); err != nil {
			return nil, err
		}
		if absent(d.SourceID) {
			return nil, &FieldError{Field: "data.source_id", Err: ErrMissing}
		}
		e := &LifecycleEvent{UserTime: ut, Raw: raw}
		if e.SourceID, err = decodeInt("data.source_id", d.SourceID); err != nil {
			return nil, err
		}
		if e.Lifecycle, err = decodeString("data.lifecycle_event", d.Lifecycle); err != nil {
			return nil, err
		}
		return e, nil
	case EventLogout:
		e := &LogoutEvent{UserTime: ut, Raw: raw}
		switch {
		case absent(w.Data):
		case w.Data[0] == '"':
			if e.Reason, err = decodeString("data", w.Data); err != nil {
				return nil, err
			}
		default:
			e.Reason = string(compact(w.Data))
		}
		return e, nil
	}
	return &OtherEvent{Event: name, UserTime: ut, Data: w.Data, Raw: raw}, nil
}

func decodeResponse(w *wireMessage, raw []byte) (Frame, error) {
	r := &Response{Data: w.Data, Raw: raw}
	var err error
	if r.Action, err = decodeString("action", w.Action); err != nil {
		return nil, err
	}
	if r.Events, err = decodeStrings("events", w.Events); err != nil {
		return nil, err
	}
	switch {
	// Data of another shape than documented is kept in Data only.
	case strings.HasSuffix(r.Action, "unsubscribe"):
		if !absent(w.Data) && w.Data[0] == '[' {
			if r.Unsubscribed, err = decodeInts("data", w.Data); err != nil {
				return nil, err
			}
		}
	case strings.HasSuffix(r.Action, "subscribe"):
		if !absent(w.Data) && w.Data[0] == '{' {
			if r.Subscriptions, err = decodeSubscriptions(w.Data); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// decodeSubscriptions reads a subscribe response's data, in either form.
// An object with a "value" or "success" key is the current form's wrapper;
// any other object is the old form's statuses.
func decodeSubscriptions(raw json.RawMessage) ([]Subscription, error) {
	ms, err := members("data", raw)
	if err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(ms))
	for _, m := range ms {
		p := "data." + m.key
		sub := Subscription{Event: m.key}
		if absent(m.val) || m.val[0] != '{' {
			return nil, wrongType(p, m.val, "object")
		}
		inner, err := members(p, m.val)
		if err != nil {
			return nil, err
		}
		var value, success, status json.RawMessage
		for _, im := range inner {
			switch im.key {
			case "value":
				value, sub.Wrapped = im.val, true
			case "success":
				success, sub.Wrapped = im.val, true
			case "status":
				status = im.val
			}
		}
		if !sub.Wrapped {
			sub.Success = true
			if sub.Statuses, err = decodeStatuses(p, inner); err != nil {
				return nil, err
			}
			out = append(out, sub)
			continue
		}
		if sub.Success, err = decodeBool(p+".success", success); err != nil {
			return nil, err
		}
		if !absent(status) {
			st, err := decodeStatus(p+".status", status)
			if err != nil {
				return nil, err
			}
			sub.Status = &st
		}
		if !absent(value) && value[0] == '{' {
			vm, err := members(p+".value", value)
			if err != nil {
				return nil, err
			}
			if sub.Statuses, err = decodeStatuses(p+".value", vm); err != nil {
				return nil, err
			}
		}
		out = append(out, sub)
	}
	return out, nil
}

func decodeStatuses(p string, ms []member) ([]TrackerStatus, error) {
	out := make([]TrackerStatus, 0, len(ms))
	for _, m := range ms {
		f := p + "." + m.key
		id, err := strconv.ParseInt(strings.TrimSpace(m.key), 10, 64)
		if err != nil {
			return nil, &FieldError{Field: f, Err: ErrBadNumber, Detail: "tracker id is not an integer"}
		}
		if absent(m.val) {
			return nil, wrongType(f, m.val, "string")
		}
		st, err := decodeString(f, m.val)
		if err != nil {
			return nil, err
		}
		out = append(out, TrackerStatus{TrackerID: id, Status: st})
	}
	return out, nil
}

func decodeStatus(p string, raw json.RawMessage) (Status, error) {
	var st Status
	var w struct {
		Code        json.RawMessage `json:"code"`
		Description json.RawMessage `json:"description"`
	}
	if err := parseObject(p, raw, &w); err != nil {
		return st, err
	}
	code, err := decodeInt(p+".code", w.Code)
	if err != nil {
		return st, err
	}
	if code < -1<<31 || code > 1<<31-1 {
		return st, &FieldError{Field: p + ".code", Err: ErrBadNumber, Detail: "out of range"}
	}
	st.Code = int(code)
	if st.Description, err = decodeString(p+".description", w.Description); err != nil {
		return st, err
	}
	return st, nil
}

func decodeError(w *wireMessage, raw []byte) (Frame, error) {
	e := &ErrorResponse{Data: w.Data, Raw: raw}
	var err error
	if e.Action, err = decodeString("action", w.Action); err != nil {
		return nil, err
	}
	if !absent(w.Status) {
		if e.Status, err = decodeStatus("status", w.Status); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Encode writes f in the vendor's key order, with states in the full
// format. Raw fields are ignored.
func Encode(f Frame) ([]byte, error) { return EncodeFormat(f, FormatFull) }

// EncodeFormat is Encode with states written in format (FormatFull or
// FormatCompact), as a subscription with "format" receives them.
func EncodeFormat(f Frame, format string) ([]byte, error) {
	w := &writer{}
	w.open('{')
	switch f := f.(type) {
	case *StateEvent:
		writeEventHead(w, EventState, f.UserTime)
		w.key("data")
		writeState(w, &f.State, format)
	case *StateBatchEvent:
		writeEventHead(w, EventStateBatch, f.UserTime)
		w.key("data")
		w.open('[')
		for i := range f.States {
			w.sep()
			writeState(w, &f.States[i], format)
		}
		w.close(']')
	case *LifecycleEvent:
		writeEventHead(w, EventLifecycle, f.UserTime)
		w.key("data")
		w.open('{')
		w.integer("source_id", f.SourceID)
		w.str("lifecycle_event", f.Lifecycle)
		w.close('}')
	case *LogoutEvent:
		writeEventHead(w, EventLogout, f.UserTime)
		w.str("data", f.Reason)
	case *OtherEvent:
		writeEventHead(w, f.Event, f.UserTime)
		if f.Data != nil {
			w.raw("data", f.Data)
		}
	case *Response:
		w.str("type", TypeResponse)
		w.str("action", f.Action)
		if f.Events != nil {
			w.strings("events", f.Events)
		}
		switch {
		case f.Subscriptions != nil:
			w.key("data")
			writeSubscriptions(w, f.Subscriptions)
		case f.Unsubscribed != nil:
			w.ints("data", f.Unsubscribed)
		case f.Data != nil:
			w.raw("data", f.Data)
		}
	case *ErrorResponse:
		w.str("type", TypeError)
		w.str("action", f.Action)
		writeStatus(w, f.Status)
		if f.Data != nil {
			w.raw("data", f.Data)
		}
	default:
		return nil, fmt.Errorf("navixy: cannot encode %T", f)
	}
	w.close('}')
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

func writeEventHead(w *writer, name string, userTime LocalTime) {
	w.str("type", TypeEvent)
	w.str("event", name)
	if userTime != "" {
		w.str("user_time", string(userTime))
	}
}

func writeStatus(w *writer, st Status) {
	w.key("status")
	w.open('{')
	w.integer("code", int64(st.Code))
	w.str("description", st.Description)
	w.close('}')
}

func writeSubscriptions(w *writer, subs []Subscription) {
	w.open('{')
	for _, s := range subs {
		w.key(s.Event)
		w.open('{')
		if s.Wrapped {
			w.key("value")
			w.open('{')
		}
		for _, ts := range s.Statuses {
			w.str(strconv.FormatInt(ts.TrackerID, 10), ts.Status)
		}
		if s.Wrapped {
			w.close('}')
			w.boolean("success", s.Success)
			if s.Status != nil {
				writeStatus(w, *s.Status)
			}
		}
		w.close('}')
	}
	w.close('}')
}
