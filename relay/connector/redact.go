package connector

import (
	"net/url"
	"strings"
)

// RedactURL returns u with its user info and every query value replaced,
// for logs and status channels: upstream URLs carry tokens (token=,
// auth=, customer ids) in their queries.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable url>"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// RedactError returns err's text with every occurrence of the secret-bearing
// URL replaced by its redacted form (dial errors quote the URL they dialled).
func RedactError(err error, rawURL string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if rawURL == "" {
		return s
	}
	red := RedactURL(rawURL)
	s = strings.ReplaceAll(s, rawURL, red)
	if u, perr := url.Parse(rawURL); perr == nil && u.RawQuery != "" {
		s = strings.ReplaceAll(s, u.RawQuery, "REDACTED")
	}
	return s
}
