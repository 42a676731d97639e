package atmosphere

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultPadding is the heartbeat text Atmosphere uses unless configured
// otherwise, and the one Navixy's handshake announces.
const DefaultPadding = "X"

// Query is the query string atmosphere-javascript 2.3.6 sends to open a
// WebSocket with contentType application/json and the protocol enabled,
// exactly as the vendor page prints it.
const Query = "X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=2.3.6-javascript" +
	"&X-Atmosphere-Transport=websocket&Content-Type=application/json&X-atmo-protocol=true"

// TrackMessageSize is the query parameter that asks the server to prefix
// every message with its length ("<len>|<message>").
const TrackMessageSize = "X-Atmosphere-TrackMessageSize=true"

// URL returns endpoint with Query (and TrackMessageSize if trackSize)
// appended to any query it already has. An http or https endpoint becomes
// ws or wss; ws and wss are kept; other schemes are an error.
func URL(endpoint string, trackSize bool) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("atmosphere: failed to parse endpoint: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("atmosphere: endpoint scheme %q is not http, https, ws or wss", u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("atmosphere: endpoint %q has no host", endpoint)
	}
	q := Query
	if trackSize {
		q += "&" + TrackMessageSize
	}
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	u.Fragment = ""
	return u.String(), nil
}

// Handshake is the server's first frame:
// "<uuid>|<clientHeartbeatMs>|<padding>|<message>".
type Handshake struct {
	// UUID identifies the connection on the server (the tracking id).
	UUID string
	// HeartbeatInterval is how often the client must send Padding to show
	// it is alive; 0 if the server asked for none.
	HeartbeatInterval time.Duration
	// Padding is the heartbeat text, DefaultPadding unless the server
	// announced another.
	Padding string
	// Messages are the messages that came in the same frame as the
	// handshake: the text after the third '|' if not blank, then any
	// further length-prefixed messages. Usually none.
	Messages [][]byte
}

// ParseHandshake parses the server's first frame. A frame that is not a
// handshake is an ErrNotHandshake, so a caller can fall back to treating it
// as a message.
func ParseHandshake(frame []byte) (Handshake, error) {
	var h Handshake
	fields := bytes.SplitN(frame, []byte("|"), 5)
	if len(fields) < 4 {
		return h, fmt.Errorf("%w: want uuid|interval|padding|", ErrNotHandshake)
	}
	if len(fields) == 5 && allDigits(bytes.TrimSpace(fields[0])) && allDigits(bytes.TrimSpace(fields[2])) {
		// "<len>|<uuid>|<interval>|<padding>|…": the handshake is length
		// prefixed, and more prefixed messages may follow it. If it does
		// not read that way, the uuid was all digits: read it plainly.
		msgs, err := Split(frame)
		if err == nil {
			if h, err := parseFields(msgs[0]); err == nil {
				h.Messages = append(h.Messages, msgs[1:]...)
				return h, nil
			}
		}
		if h, perr := parseFields(frame); perr == nil {
			return h, nil
		}
		if err != nil {
			return h, err
		}
	}
	return parseFields(frame)
}

// parseFields parses "<uuid>|<interval>|<padding>|<message>" without a
// length prefix.
func parseFields(body []byte) (Handshake, error) {
	var h Handshake
	fields := bytes.SplitN(body, []byte("|"), 4)
	if len(fields) < 4 {
		return h, fmt.Errorf("%w: want uuid|interval|padding|", ErrNotHandshake)
	}
	uuid := bytes.TrimSpace(fields[0])
	if len(uuid) == 0 || bytes.ContainsAny(uuid, "{}[]\"") {
		return h, fmt.Errorf("%w: bad uuid %q", ErrNotHandshake, truncate(uuid))
	}
	ms := bytes.TrimSpace(fields[1])
	if !allDigits(ms) || len(ms) > 12 {
		return h, fmt.Errorf("%w: %q", ErrBadInterval, truncate(ms))
	}
	n, _ := strconv.ParseInt(string(ms), 10, 64) // all digits, at most 12
	h.UUID = string(uuid)
	h.HeartbeatInterval = time.Duration(n) * time.Millisecond
	h.Padding = string(fields[2])
	if strings.TrimSpace(h.Padding) == "" {
		h.Padding = DefaultPadding
	}
	if len(bytes.TrimSpace(fields[3])) > 0 {
		h.Messages = append(h.Messages, fields[3])
	}
	return h, nil
}

// EncodeHandshake writes h as a server sends it, with its first message (if
// any) piggy-backed after the third '|'; later messages are not written.
// An empty Padding is written as DefaultPadding.
func EncodeHandshake(h Handshake) []byte {
	pad := h.Padding
	if pad == "" {
		pad = DefaultPadding
	}
	b := make([]byte, 0, len(h.UUID)+len(pad)+16)
	b = append(b, h.UUID...)
	b = append(b, '|')
	b = strconv.AppendInt(b, h.HeartbeatInterval.Milliseconds(), 10)
	b = append(b, '|')
	b = append(b, pad...)
	b = append(b, '|')
	if len(h.Messages) > 0 {
		b = append(b, h.Messages[0]...)
	}
	return b
}

// maxLengthDigits bounds a length prefix: more digits than this is not a
// length a WebSocket frame could hold.
const maxLengthDigits = 10

// Split returns the messages of one frame. A frame without a "<len>|"
// prefix is one message, returned as is (sharing frame's memory). A
// prefixed frame holds one or more prefixed messages; see the package
// documentation for how lengths are counted.
func Split(frame []byte) ([][]byte, error) {
	if _, _, ok := lengthPrefix(frame); !ok {
		return [][]byte{frame}, nil
	}
	var out [][]byte
	rest := frame
	for len(rest) > 0 {
		n, body, ok := lengthPrefix(rest)
		if !ok {
			return nil, fmt.Errorf("%w: %d bytes after message %d have no length prefix", ErrBadLength, len(rest), len(out))
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: more than %d digits", ErrBadLength, maxLengthDigits)
		}
		end, ok := messageEnd(body, n)
		if !ok {
			return nil, fmt.Errorf("%w: prefix says %d, %d bytes follow", ErrBadLength, n, len(body))
		}
		out = append(out, body[:end])
		rest = body[end:]
	}
	return out, nil
}

// lengthPrefix reports whether b starts with "<digits>|" and returns the
// number (-1 if it has too many digits) and what follows the '|'.
func lengthPrefix(b []byte) (n int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(b) || b[i] != '|' {
		return 0, nil, false
	}
	if i > maxLengthDigits {
		return -1, b[i+1:], true
	}
	v, err := strconv.Atoi(string(b[:i]))
	if err != nil {
		return -1, b[i+1:], true
	}
	return v, b[i+1:], true
}

// messageEnd finds where a message of declared length n ends in b: after n
// UTF-16 code units, or else after n bytes. A candidate is accepted if it
// ends b or is followed by another length prefix.
func messageEnd(b []byte, n int) (int, bool) {
	fits := func(end int) bool {
		if end < 0 || end > len(b) {
			return false
		}
		if end == len(b) {
			return true
		}
		_, _, ok := lengthPrefix(b[end:])
		return ok
	}
	if end := utf16Offset(b, n); fits(end) {
		return end, true
	}
	if fits(n) {
		return n, true
	}
	return 0, false
}

// utf16Offset returns the byte offset in b after n UTF-16 code units, or -1
// if b is shorter. An invalid byte counts as one unit.
func utf16Offset(b []byte, n int) int {
	i, units := 0, 0
	for units < n {
		if i >= len(b) {
			return -1
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r >= 0x10000 && size == 4 {
			units += 2
		} else {
			units++
		}
	}
	if units != n {
		return -1 // n ended inside a surrogate pair
	}
	return i
}

// UTF16Len is the length Atmosphere declares for a message: its UTF-16
// code units (an invalid byte counts as one).
func UTF16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r >= 0x10000 && size == 4 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// EncodeTracked prefixes msg with its length as Atmosphere's message-size
// tracking does: "<UTF16Len(msg)>|<msg>".
func EncodeTracked(msg []byte) []byte {
	b := strconv.AppendInt(make([]byte, 0, len(msg)+8), int64(UTF16Len(msg)), 10)
	b = append(b, '|')
	return append(b, msg...)
}

// IsBlank reports whether msg holds only white space (or nothing).
func IsBlank(msg []byte) bool { return len(bytes.TrimSpace(msg)) == 0 }

// IsHeartbeat reports whether msg is a heartbeat: padding once or more,
// with optional white space around. An empty padding means DefaultPadding.
func IsHeartbeat(msg []byte, padding string) bool {
	if padding == "" {
		padding = DefaultPadding
	}
	m := bytes.TrimSpace(msg)
	if len(m) == 0 {
		return false
	}
	for len(m) > 0 {
		if !bytes.HasPrefix(m, []byte(padding)) {
			return false
		}
		m = m[len(padding):]
	}
	return true
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func truncate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
