package client

import "strings"

// tokenExpiry returns the exp claim of a JWT, unverified, or 0 if token is
// not a JWT with one. The relay's Refresh reply does not say when the new
// token expires, and the client needs it to schedule the next refresh.
//
// It scans for the claim instead of using encoding/json, whose decoder
// would add some 100 KB to the wasm build for one integer.
func tokenExpiry(token string) int64 {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return 0
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return 0
	}
	b, ok := decodeBase64URL(strings.TrimRight(payload, "="))
	if !ok {
		return 0
	}
	claims := string(b)
	for {
		i := strings.Index(claims, `"exp"`)
		if i < 0 {
			return 0
		}
		claims = strings.TrimLeft(claims[i+len(`"exp"`):], " \t\r\n")
		if !strings.HasPrefix(claims, ":") {
			continue // "exp" was a value, not a key
		}
		claims = strings.TrimLeft(claims[1:], " \t\r\n")
		var exp int64
		n := 0
		for ; n < len(claims) && n < 18 && claims[n] >= '0' && claims[n] <= '9'; n++ {
			exp = exp*10 + int64(claims[n]-'0')
		}
		if n == 0 {
			return 0
		}
		return exp
	}
}

// decodeBase64URL decodes unpadded base64url (RFC 4648 §5), as JWTs encode
// their parts, and reports whether s was valid. encoding/base64's decoder
// would add some 3 KB of gzip to the WebAssembly build for this one use.
func decodeBase64URL(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32 // the bits read and not yet written, in the low n
	n := 0
	for i := 0; i < len(s); i++ {
		var v byte
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			v = c - 'A'
		case 'a' <= c && c <= 'z':
			v = c - 'a' + 26
		case '0' <= c && c <= '9':
			v = c - '0' + 52
		case c == '-':
			v = 62
		case c == '_':
			v = 63
		default:
			return nil, false
		}
		acc = acc<<6 | uint32(v)
		n += 6
		if n >= 8 {
			n -= 8
			out = append(out, byte(acc>>n))
		}
	}
	// One character alone cannot end the input: it holds less than a byte.
	return out, n < 6
}
