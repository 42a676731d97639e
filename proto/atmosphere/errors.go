package atmosphere

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one.
var (
	// ErrNotHandshake: a frame expected to be the handshake is not
	// "<uuid>|<interval>|<padding>|…".
	ErrNotHandshake = errors.New("atmosphere: not a handshake")
	// ErrBadInterval: the handshake's heartbeat interval is not a
	// non-negative integer number of milliseconds.
	ErrBadInterval = errors.New("atmosphere: bad heartbeat interval")
	// ErrBadLength: a "<len>|" prefix does not match what follows it, or
	// has too many digits.
	ErrBadLength = errors.New("atmosphere: bad message length")
)

// ErrorKind returns a short, stable label for err, for metric labels:
// "handshake", "interval", "length", or "other" for an error that wraps
// none of this package's sentinels; "" for nil. Never rename a label.
func ErrorKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotHandshake):
		return "handshake"
	case errors.Is(err, ErrBadInterval):
		return "interval"
	case errors.Is(err, ErrBadLength):
		return "length"
	}
	return "other"
}
