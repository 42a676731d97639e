package doshii

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Socket URLs. The base URL is configuration: the help pages, the older
// guide and the SDK each name another host, and "older naming patterns …
// continue to work".
const (
	// SandboxURL is the v3 App socket of the sandbox environment
	// ("Connection" help page).
	SandboxURL = "wss://socket.sandbox.doshii.co/app/socket/v3"
	// PathV3 and PathLegacy are the socket paths in circulation.
	PathV3     = "/app/socket/v3"
	PathLegacy = "/app/socket"
)

// AuthToken is the socket's credential: base64 (standard alphabet, padded,
// as JavaScript's btoa) of the partner's client id.
func AuthToken(clientID string) string {
	return base64.StdEncoding.EncodeToString([]byte(clientID))
}

// ClientIDFromAuth decodes an auth query value back to the client id. It
// accepts the standard and URL-safe alphabets, with or without padding,
// and a '+' that reached the query unescaped (btoa's output appended to a
// URL without encodeURIComponent), which query parsing turns into a space.
// Errors never contain the token.
func ClientIDFromAuth(token string) (string, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return "", fmt.Errorf("%w: empty", ErrBadAuth)
	}
	token = strings.ReplaceAll(token, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(token)
		if err != nil {
			continue
		}
		if len(b) == 0 || !utf8.Valid(b) {
			return "", fmt.Errorf("%w: does not decode to a client id", ErrBadAuth)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("%w: not base64", ErrBadAuth)
}

// SocketURL builds the address to dial from a base socket URL (ws:// or
// wss://, any path, e.g. SandboxURL or a legacy …/app/socket), the client
// id and an optional device id: base?auth=<AuthToken(clientID)>&deviceId=<id>.
// Query parameters already in base are kept, except auth and deviceId,
// which are replaced. Errors never contain the client id.
func SocketURL(base, clientID, deviceID string) (string, error) {
	if clientID == "" {
		return "", fmt.Errorf("%w: empty client id", ErrBadURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: cannot parse the base URL", ErrBadURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
	default:
		return "", fmt.Errorf("%w: scheme %q, want ws or wss", ErrBadURL, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: no host", ErrBadURL)
	}
	q := u.Query()
	q.Set("auth", AuthToken(clientID))
	q.Del("deviceId")
	if deviceID != "" {
		q.Set("deviceId", deviceID)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
