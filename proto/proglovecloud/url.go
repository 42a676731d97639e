package proglovecloud

import (
	"fmt"
	"net/url"
	"strings"
)

// LiveURL builds the live-data socket address from the socket's base
// (scheme and host, e.g. "wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com",
// optionally with a path prefix), the API stage ("prod" in the older page,
// "latest" in the newer), the customer id ("" leaves customer= out, as the
// newer page does) and the token:
//
//	base/stage/?customer=…&token=…
//
// The scheme may be ws, wss, http or https.
func LiveURL(base, stage, customer, token string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return "", fmt.Errorf("%w: scheme %q, want ws, wss, http or https", ErrBadURL, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: no host", ErrBadURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: the base must not have a query or fragment", ErrBadURL)
	}
	stage = strings.Trim(stage, "/")
	if stage == "" || strings.ContainsAny(stage, "/?#") {
		return "", fmt.Errorf("%w: stage %q must be one path segment", ErrBadURL, stage)
	}
	if token == "" {
		return "", fmt.Errorf("%w: no token", ErrBadURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + stage + "/"
	u.RawPath = ""
	q := url.Values{}
	if customer != "" {
		q.Set("customer", customer)
	}
	q.Set("token", token)
	u.RawQuery = q.Encode() // keys sorted: customer before token, as in the example
	return u.String(), nil
}
