package doshii

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can test with errors.Is and count with ErrorKind.
var (
	// ErrMalformedJSON: the message is not a JSON object (syntax error,
	// empty message, trailing data, or a top-level array, string, number
	// or null).
	ErrMalformedJSON = errors.New("doshii: malformed JSON")
	// ErrWrongType: a known field holds a JSON value of the wrong type, for
	// example "emit" as an object or "data" as a string.
	ErrWrongType = errors.New("doshii: wrong JSON type")
	// ErrNoEnvelope: an object with none of the keys that make a message:
	// "emit", "event", "type" or "doshii".
	ErrNoEnvelope = errors.New("doshii: no envelope")
	// ErrNoName: an event envelope whose name is empty, or an "emit" array
	// without elements.
	ErrNoName = errors.New("doshii: no event name")
	// ErrBadHeartbeat: a heartbeat that carries neither a ping nor a pong
	// (a "message" without a "doshii" object, a "doshii" object without
	// "ping" or "pong", a health_check without "ping").
	ErrBadHeartbeat = errors.New("doshii: bad heartbeat")
	// ErrBadValue: a value of the right JSON type that cannot be used, such
	// as a ping time that is not an integer.
	ErrBadValue = errors.New("doshii: bad value")
	// ErrBadURL: a socket URL that is not ws:// or wss://, or an empty
	// client id (SocketURL).
	ErrBadURL = errors.New("doshii: bad socket URL")
	// ErrBadAuth: an auth token that is not base64 of a client id
	// (ClientIDFromAuth).
	ErrBadAuth = errors.New("doshii: bad auth token")
)

// kinds maps each sentinel to its ErrorKind label. The labels are part of the
// API: dashboards and alerts key on them, so never rename one.
var kinds = []struct {
	err   error
	label string
}{
	{ErrMalformedJSON, "json"},
	{ErrWrongType, "type"},
	{ErrNoEnvelope, "envelope"},
	{ErrNoName, "name"},
	{ErrBadHeartbeat, "heartbeat"},
	{ErrBadValue, "value"},
	{ErrBadURL, "url"},
	{ErrBadAuth, "auth"},
}

// ErrorKind returns a short, stable label for err, meant for metric labels:
// "json", "type", "envelope", "name", "heartbeat", "value", "url", "auth",
// or "other" for an error that wraps none of this package's sentinels. It
// returns "" for a nil error.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.label
		}
	}
	return "other"
}

// FieldError reports which field of a message could not be decoded. It
// wraps one of the sentinel errors (Err) and, when there is one, the
// underlying cause (for example a *strconv.NumError).
type FieldError struct {
	// Field is the path of the key as sent: "emit[0]", "data.id",
	// "data.doshii.ping".
	Field string
	// Err is one of the package's sentinel errors.
	Err error
	// Detail is a human-readable specific, such as "got object, want string".
	Detail string
	// Cause is the underlying error, or nil.
	Cause error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("doshii: field ")
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "doshii: "))
	} else {
		b.WriteString("invalid")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and, if set, the cause.
func (e *FieldError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}
