package navixy

import (
	"encoding/json"
	"time"
)

// LocalTime is a time as the vendor writes it: "2018-10-17 12:51:43", in
// the user's time zone, without an offset. It is kept as sent; In gives
// the instant once the zone is known (it is a user setting on the server,
// not in the message).
type LocalTime string

// TimeLayout is the vendor's time format.
const TimeLayout = "2006-01-02 15:04:05"

// layouts are tried in order. Fractional seconds after the seconds are
// accepted by every layout (time.Parse allows them).
var layouts = []string{
	TimeLayout,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	time.RFC3339,
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04",
	"2006-01-02",
}

// In returns the instant t names in loc (UTC if nil). Besides TimeLayout it
// accepts a fraction of a second, a 'T' between date and time, minutes
// without seconds, a bare date, and an explicit offset or Z, which then
// wins over loc. The empty LocalTime gives the zero time and no error.
func (t LocalTime) In(loc *time.Location) (time.Time, error) {
	if t == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	var first error
	for _, l := range layouts {
		v, err := time.ParseInLocation(l, string(t), loc)
		if err == nil {
			return v, nil
		}
		if first == nil {
			first = err
		}
	}
	return time.Time{}, first
}

// MakeLocalTime formats tm in loc (UTC if nil) the vendor's way.
func MakeLocalTime(tm time.Time, loc *time.Location) LocalTime {
	if loc == nil {
		loc = time.UTC
	}
	return LocalTime(tm.In(loc).Format(TimeLayout))
}

// decodeTime decodes and checks a time field; absent, null and "" give "".
func decodeTime(field string, raw json.RawMessage) (LocalTime, error) {
	s, err := decodeString(field, raw)
	if err != nil || s == "" {
		return "", err
	}
	t := LocalTime(s)
	if _, err := t.In(time.UTC); err != nil {
		return "", &FieldError{Field: field, Err: ErrBadTime, Detail: "want YYYY-MM-DD HH:MM:SS", Cause: err}
	}
	return t, nil
}
