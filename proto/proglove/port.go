package proglove

import (
	"strconv"
	"strings"
)

// Ports. The app's WebSocket server listens on a port set in an Insight
// Webportal configuration, DefaultPort unless changed. The vendor advises
// against ports below 1024 (they need root on the device) and TCP has none
// from 65536, so a port must be in [MinPort, MaxPort].
const (
	DefaultPort = 9998
	MinPort     = 1024
	MaxPort     = 65535
)

// ValidatePort returns nil for a port in [1024, 65536) and otherwise a
// *FieldError wrapping ErrBadPort that states the rule.
func ValidatePort(port int) error {
	if port < MinPort || port > MaxPort {
		return &FieldError{Field: "port", Err: ErrBadPort,
			Detail: "must be in [1024, 65536) (ports below 1024 need root on the device; TCP has no port 65536 or above), got " + strconv.Itoa(port)}
	}
	return nil
}

// ValidateURL checks the address of an Insight Mobile WebSocket server:
// ws://<host>:<port> (wss:// is accepted for a TLS-terminating tunnel),
// with a host and an explicit port that ValidatePort accepts, and nothing
// else: the app takes no path, query or credentials. A trailing "/" is
// allowed. Errors wrap ErrBadURL or ErrBadPort. Browsers in direct mode use
// it before opening the socket, the relay's connector when it is
// configured. (It parses by hand rather than with net/url, which would add
// to the browser's wasm.)
func ValidateURL(raw string) error {
	bad := func(detail string) error { return &FieldError{Field: "url", Err: ErrBadURL, Detail: detail} }
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return bad("want ws://<host>:<port>")
	}
	if s := strings.ToLower(scheme); s != "ws" && s != "wss" {
		return bad("scheme must be ws (the app serves no TLS), got " + strconv.Quote(scheme))
	}
	rest = strings.TrimSuffix(rest, "/")
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\' {
			return bad("want ws://<host>:<port> with no credentials, path or query")
		}
	}
	var host, port string
	if strings.HasPrefix(rest, "[") { // an IPv6 address
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("unclosed [ in host")
		}
		host, rest = rest[1:end], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return bad("want ws://<host>:<port>")
		}
		port, ok = strings.CutPrefix(rest, ":")
	} else {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			host, ok = rest, false
		} else {
			host, port, ok = rest[:i], rest[i+1:], true
		}
		if strings.Contains(host, ":") {
			return bad("an IPv6 host must be in brackets: ws://[::1]:9998")
		}
	}
	if host == "" {
		return bad("no host: want ws://<host>:<port>")
	}
	if !ok || port == "" {
		return &FieldError{Field: "url", Err: ErrBadPort, Detail: "no port: ws:// would mean port 80; the port must be in [1024, 65536) (the app's default is 9998)"}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return &FieldError{Field: "url", Err: ErrBadPort, Detail: "port is not a number: " + strconv.Quote(port)}
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		n = MaxPort + 1 // too many digits
	}
	return ValidatePort(n)
}

// URL returns ws://<host>:<port> after checking the port.
func URL(host string, port int) (string, error) {
	if err := ValidatePort(port); err != nil {
		return "", err
	}
	if host == "" {
		return "", &FieldError{Field: "host", Err: ErrBadURL, Detail: "empty host"}
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // an IPv6 address
	}
	return "ws://" + host + ":" + strconv.Itoa(port), nil
}
