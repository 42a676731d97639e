package client

import (
	"encoding/base64"
	"strings"
)

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
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
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
