package proglovecloud

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error this package returns wraps exactly one of
// them, so callers can test with errors.Is and count with ErrorKind.
var (
	// ErrMalformedJSON: the input is not a JSON object (syntax error,
	// empty input, or a top-level array, string, number or null).
	ErrMalformedJSON = errors.New("proglovecloud: malformed JSON")
	// ErrWrongType: a known field holds a JSON value of the wrong type,
	// for example device_serial as an object or metrics as a string.
	ErrWrongType = errors.New("proglovecloud: wrong JSON type")
	// ErrNoType: an object without event_type. The bodies API Gateway
	// writes itself ({"message":"Forbidden",…}) land here.
	ErrNoType = errors.New("proglovecloud: no event_type")
	// ErrBadNumber: a numeric field is not a finite number, an integer
	// field is not integral, or a time is out of range.
	ErrBadNumber = errors.New("proglovecloud: bad number")
	// ErrNoResult: an InitiateAuth response without AuthenticationResult
	// (and without a challenge).
	ErrNoResult = errors.New("proglovecloud: no AuthenticationResult")
	// ErrChallenge: Cognito answered InitiateAuth with a challenge (such
	// as NEW_PASSWORD_REQUIRED) that a headless link cannot answer.
	ErrChallenge = errors.New("proglovecloud: authentication challenge")
	// ErrBadRequest: an InitiateAuth request that Cognito would refuse
	// (missing flow, client id or parameter); used by the simulator.
	ErrBadRequest = errors.New("proglovecloud: bad InitiateAuth request")
	// ErrBadURL: the live-data URL cannot be built from the given parts.
	ErrBadURL = errors.New("proglovecloud: bad URL")
)

// kinds maps each sentinel to its ErrorKind label. Dashboards key on the
// labels: never rename one.
var kinds = []struct {
	err   error
	label string
}{
	{ErrMalformedJSON, "json"},
	{ErrWrongType, "type"},
	{ErrNoType, "no_type"},
	{ErrBadNumber, "number"},
	{ErrNoResult, "no_result"},
	{ErrChallenge, "challenge"},
	{ErrBadRequest, "bad_request"},
	{ErrBadURL, "url"},
}

// ErrorKind returns a short, stable label for err, meant for metric labels:
// "json", "type", "no_type", "number", "no_result", "challenge",
// "bad_request", "url", or "other" for an error that wraps none of this
// package's sentinels. It returns "" for a nil error.
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

// FieldError reports which field could not be decoded. It wraps one of the
// sentinels (Err) and, when there is one, the underlying cause.
type FieldError struct {
	// Field is the JSON key as the vendor spells it ("device_serial"), or a
	// path into a list ("metrics[0].values[2]").
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
	b.WriteString("proglovecloud: field ")
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "proglovecloud: "))
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
