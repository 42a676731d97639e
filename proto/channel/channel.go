package channel

import (
	"errors"
	"strings"
)

// Bounds on names.
const (
	MaxLen    = 256
	MaxLevels = 16
)

// Errors returned by Valid and ValidPattern.
var (
	ErrEmpty    = errors.New("channel: empty name or level")
	ErrTooLong  = errors.New("channel: name too long or too deep")
	ErrBadChar  = errors.New("channel: invalid character")
	ErrWildcard = errors.New("channel: misplaced wildcard")
)

// Valid checks a concrete channel name.
func Valid(name string) error { return check(name, false) }

// ValidPattern checks a subscription pattern.
func ValidPattern(p string) error { return check(p, true) }

func check(s string, pattern bool) error {
	if s == "" {
		return ErrEmpty
	}
	if len(s) > MaxLen {
		return ErrTooLong
	}
	levels := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' {
			c := s[i]
			if c < 0x21 || c > 0x7e {
				return ErrBadChar
			}
			continue
		}
		lvl := s[start:i]
		levels++
		if levels > MaxLevels {
			return ErrTooLong
		}
		switch {
		case lvl == "":
			return ErrEmpty
		case lvl == "+":
			if !pattern {
				return ErrWildcard
			}
		case lvl == "#":
			if !pattern || i != len(s) {
				return ErrWildcard
			}
		case strings.ContainsAny(lvl, "+#"):
			return ErrWildcard
		}
		start = i + 1
	}
	return nil
}

// Match reports whether channel name matches pattern. Both are assumed
// valid.
func Match(pattern, name string) bool {
	for {
		pl, prest, pmore := cut(pattern)
		if pl == "#" {
			return true
		}
		nl, nrest, nmore := cut(name)
		if pl != "+" && pl != nl {
			return false
		}
		if !pmore || !nmore {
			// "a/#" also matches "a": '#' covers zero levels.
			return pmore == nmore || (pmore && prest == "#")
		}
		pattern, name = prest, nrest
	}
}

// Covers reports whether every channel that inner matches is also matched
// by outer. The relay uses it to check a subscription against the token's
// allowed patterns. Both are assumed valid.
func Covers(outer, inner string) bool {
	for {
		ol, orest, omore := cut(outer)
		if ol == "#" {
			return true
		}
		il, irest, imore := cut(inner)
		switch {
		case il == "#":
			return false // inner reaches levels outer does not
		case ol == "+":
			// '+' covers any single level, literal or '+'.
		case ol != il:
			return false
		}
		if !omore || !imore {
			return omore == imore || (omore && orest == "#")
		}
		outer, inner = orest, irest
	}
}

// Literal reports whether p has no wildcard, i.e. names one channel.
func Literal(p string) bool { return !strings.ContainsAny(p, "+#") }

// Split returns the levels of a name or pattern.
func Split(s string) []string { return strings.Split(s, "/") }

func cut(s string) (level, rest string, more bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
