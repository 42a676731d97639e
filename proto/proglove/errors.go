package proglove

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can test with errors.Is and count with ErrorKind.
var (
	// ErrMalformedJSON: a message is not a JSON object (syntax error, empty,
	// or a top-level array, string, number or null).
	ErrMalformedJSON = errors.New("proglove: malformed JSON")
	// ErrWrongType: a known field holds a JSON value of the wrong type,
	// such as scan_code as a number or display_fields as an object.
	ErrWrongType = errors.New("proglove: wrong JSON type")
	// ErrNoType: the object has no event_type.
	ErrNoType = errors.New("proglove: no event_type")
	// ErrUnknownCommand: a command's event_type (or a command body's kind)
	// is not one of the Streams API commands.
	ErrUnknownCommand = errors.New("proglove: unknown command")
	// ErrMissing: a required field is absent.
	ErrMissing = errors.New("proglove: missing field")
	// ErrBadValue: a field's value breaks the protocol's rules: out of
	// range, not in its enumeration, too long or too short, or text that
	// does not parse (a number, Base64, a UUID).
	ErrBadValue = errors.New("proglove: bad value")
	// ErrBadPort: a port outside [1024, 65536).
	ErrBadPort = errors.New("proglove: bad port")
	// ErrBadURL: a socket address that is not ws://host:port.
	ErrBadURL = errors.New("proglove: bad URL")
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
	{ErrUnknownCommand, "command"},
	{ErrMissing, "missing"},
	{ErrBadValue, "value"},
	{ErrBadPort, "port"},
	{ErrBadURL, "url"},
}

// ErrorKind returns a short, stable label for err, meant for metric labels:
// "json", "type", "no_type", "command", "missing", "value", "port", "url",
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

// FieldError reports which field of a message is wrong and by which rule.
// It wraps one of the sentinel errors (Err) and, when there is one, the
// underlying cause.
type FieldError struct {
	// Field is the JSON key as the vendor spells it ("scan_code"), with an
	// index or sub-key for nested values ("display_fields[2].display_field_text").
	Field string
	// Err is one of the package's sentinel errors.
	Err error
	// Detail states the rule broken, such as "at most 80 characters, got 95".
	Detail string
	// Cause is the underlying error, or nil.
	Cause error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("proglove: field ")
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "proglove: "))
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

func badValue(field, detail string) error {
	return &FieldError{Field: field, Err: ErrBadValue, Detail: detail}
}

func missing(field string) error {
	return &FieldError{Field: field, Err: ErrMissing}
}
