package resiot

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can test with errors.Is and count with ErrorKind.
var (
	// ErrMalformedJSON: the frame is not a JSON object (syntax error, empty
	// frame, or a top-level array, string, number or null).
	ErrMalformedJSON = errors.New("resiot: malformed JSON")
	// ErrWrongType: a known field holds a JSON value of the wrong type, for
	// example Port as an object or GatewayEUIs as a string.
	ErrWrongType = errors.New("resiot: wrong JSON type")
	// ErrNoType: an object that is neither a communication (no CommType or
	// MsgType) nor a reply (no Result).
	ErrNoType = errors.New("resiot: no CommType or MsgType")
	// ErrBadTime: DT is not an RFC 3339 timestamp.
	ErrBadTime = errors.New("resiot: bad time")
	// ErrBadHex: a payload that should be hex encoded is not.
	ErrBadHex = errors.New("resiot: bad hex")
	// ErrNoPort: the communication carries no port (Port is "").
	ErrNoPort = errors.New("resiot: no port")
	// ErrBadPort: a port is not an integer in 0..255.
	ErrBadPort = errors.New("resiot: bad port")
	// ErrBadValue: a value in Extra cannot be parsed as the type its key
	// implies (see Message.Radio).
	ErrBadValue = errors.New("resiot: bad value")
)

// kinds maps each sentinel to its ErrorKind label. The labels are part of the
// API: dashboards and alerts key on them, so never rename one.
var kinds = []struct {
	err   error
	label string
}{
	{ErrMalformedJSON, "json"},
	{ErrWrongType, "type"},
	{ErrNoType, "no_type"},
	{ErrBadTime, "time"},
	{ErrBadHex, "hex"},
	{ErrNoPort, "no_port"},
	{ErrBadPort, "port"},
	{ErrBadValue, "value"},
}

// ErrorKind returns a short, stable label for err, meant for metric labels:
// "json", "type", "no_type", "time", "hex", "no_port", "port", "value", or
// "other" for an error that wraps none of this package's sentinels. It
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

// FieldError reports which field of a frame could not be decoded or parsed.
// It wraps one of the sentinel errors (Err) and, when there is one, the
// underlying cause (for example a *strconv.NumError or *time.ParseError).
type FieldError struct {
	// Field is the JSON key as the vendor spells it ("Port", "DT"), a key
	// inside Extra ("Extra.rssi"), or an element of a list ("Extra[2]").
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
	b.WriteString("resiot: field ")
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "resiot: "))
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
