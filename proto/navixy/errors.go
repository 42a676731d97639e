package navixy

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one
// of them, so callers can test with errors.Is and count with ErrorKind.
var (
	// ErrMalformedJSON: not a JSON object (syntax error, empty, or a
	// top-level array, string, number or null).
	ErrMalformedJSON = errors.New("navixy: malformed JSON")
	// ErrWrongType: a known field holds a JSON value of the wrong type.
	ErrWrongType = errors.New("navixy: wrong JSON type")
	// ErrNoType: a server message without "type".
	ErrNoType = errors.New("navixy: no type")
	// ErrUnknownType: a server message whose "type" is not event,
	// response or error.
	ErrUnknownType = errors.New("navixy: unknown type")
	// ErrNoEvent: an event message without "event".
	ErrNoEvent = errors.New("navixy: no event name")
	// ErrMissing: a required field is absent or null (source_id in a
	// state, hash in an auth success).
	ErrMissing = errors.New("navixy: missing field")
	// ErrBadNumber: a number that should be an integer is not one, or is
	// out of range, or a numeric string does not parse.
	ErrBadNumber = errors.New("navixy: bad number")
	// ErrBadTime: a time is not "YYYY-MM-DD HH:MM:SS" (or a tolerated
	// variant, see LocalTime).
	ErrBadTime = errors.New("navixy: bad time")
	// ErrAPI: the server answered with {"success":false,"status":…}; the
	// error is an *APIError carrying the status.
	ErrAPI = errors.New("navixy: API error")
)

var kinds = []struct {
	err   error
	label string
}{
	{ErrMalformedJSON, "json"},
	{ErrWrongType, "type"},
	{ErrNoType, "no_type"},
	{ErrUnknownType, "unknown_type"},
	{ErrNoEvent, "no_event"},
	{ErrMissing, "missing"},
	{ErrBadNumber, "number"},
	{ErrBadTime, "time"},
	{ErrAPI, "api"},
}

// ErrorKind returns a short, stable label for err, meant for metric labels:
// "json", "type", "no_type", "unknown_type", "no_event", "missing",
// "number", "time", "api", or "other" for an error that wraps none of this
// package's sentinels; "" for nil. Never rename a label.
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

// FieldError reports which field of a message could not be decoded.
type FieldError struct {
	// Field is the JSON path as the vendor spells it: "data.gps.updated",
	// "data[2].source_id", "status.code".
	Field string
	// Err is one of the package's sentinel errors.
	Err error
	// Detail is a human-readable specific, such as "got string, want number".
	Detail string
	// Cause is the underlying error, or nil.
	Cause error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("navixy: field ")
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "navixy: "))
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

// Status is the vendor's error status: {"code":3,"description":"Wrong hash"}.
type Status struct {
	Code        int
	Description string
}

// Error codes of the common API (1–100) and of user/auth (101–200) that a
// connector acts on. Other codes are passed through.
const (
	CodeDatabase      = 1   // Database error
	CodeServiceAuth   = 2   // Service Auth error
	CodeWrongHash     = 3   // Wrong hash
	CodeSessionEnded  = 4   // User or API key not found or session ended
	CodeBadFormat     = 5   // Wrong request format
	CodeUnexpected    = 6   // Unexpected error
	CodeInvalidParams = 7   // Invalid parameters
	CodeAccessDenied  = 11  // Access denied
	CodeRateLimit     = 15  // Too many requests (rate limit exceeded)
	CodeWrongLogin    = 102 // Wrong login or password
	CodeNotActivated  = 103 // User not activated
	CodeLoginsLimit   = 104 // logins limit (description inferred)
	CodeAttemptsLimit = 105 // login attempts limit (description inferred)
	CodeWrongHandler  = 111 // Wrong handler
	CodeWrongMethod   = 112 // Wrong method
)

// descriptions are the vendor's texts for the codes above. The texts of 104
// and 105 are not documented verbatim and are inferred.
var descriptions = map[int]string{
	CodeDatabase:      "Database error",
	CodeServiceAuth:   "Service Auth error",
	CodeWrongHash:     "Wrong hash",
	CodeSessionEnded:  "User or API key not found or session ended",
	CodeBadFormat:     "Wrong request format",
	CodeUnexpected:    "Unexpected error",
	CodeInvalidParams: "Invalid parameters",
	CodeAccessDenied:  "Access denied",
	CodeRateLimit:     "Too many requests (rate limit exceeded)",
	CodeWrongLogin:    "Wrong login or password",
	CodeNotActivated:  "User not activated",
	CodeLoginsLimit:   "Logins limit exceeded",
	CodeAttemptsLimit: "Login attempts limit exceeded",
	CodeWrongHandler:  "Wrong handler",
	CodeWrongMethod:   "Wrong method",
}

// StatusFor returns the Status the vendor sends for code.
func StatusFor(code int) Status {
	d, ok := descriptions[code]
	if !ok {
		d = "Error " + strconv.Itoa(code)
	}
	return Status{Code: code, Description: d}
}

// HTTPStatus is the HTTP status the vendor documents for an error code:
// 400 unless stated otherwise.
func HTTPStatus(code int) int {
	switch code {
	case CodeDatabase, CodeUnexpected:
		return 500
	case CodeServiceAuth, CodeAccessDenied:
		return 403
	case CodeRateLimit:
		return 429
	}
	return 400
}

// NeedsLogin reports whether code means the hash is no longer good (3 wrong
// hash, 4 session ended): log in again and resubscribe.
func NeedsLogin(code int) bool { return code == CodeWrongHash || code == CodeSessionEnded }

// APIError is a {"success":false,"status":{…}} answer of the REST API, or a
// {"type":"error",…} message on the socket. It matches ErrAPI.
type APIError struct {
	// Action is the socket message's action ("subscription/subscribe",
	// "null"), or "" for a REST answer.
	Action string
	Status Status
}

func (e *APIError) Error() string {
	s := "navixy: error " + strconv.Itoa(e.Status.Code)
	if e.Status.Description != "" {
		s += ": " + e.Status.Description
	}
	if e.Action != "" {
		s += " (" + e.Action + ")"
	}
	return s
}

// Is makes an *APIError match ErrAPI.
func (e *APIError) Is(target error) bool { return target == ErrAPI }
