package proglove

import "math/rand/v2"

// NewEventID returns a fresh random (version 4) UUID in lower case, the
// form event_id takes. Event ids need to be unique, not secret: the
// randomness is math/rand/v2's, which the runtime seeds from the system
// (crypto.getRandomValues in a browser) and which, unlike crypto/rand,
// adds next to nothing to a wasm build.
func NewEventID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return FormatUUID(b)
}

// FormatUUID writes 16 bytes as a lowercase UUID, 8-4-4-4-12 hex digits.
func FormatUUID(b [16]byte) string {
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return string(out)
}

// ValidEventID reports whether s is a UUID written in lower case
// (8-4-4-4-12 hex digits), as event_id must be. Any version is accepted.
func ValidEventID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
