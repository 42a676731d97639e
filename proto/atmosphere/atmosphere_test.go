package atmosphere_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/atmosphere"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func TestSeedHandshake(t *testing.T) {
	h, err := atmosphere.ParseHandshake(load(t, "handshake.txt"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "UUID", h.UUID, "b623a15d-9623-4fd8-a9d3-697036635c29")
	equal(t, "HeartbeatInterval", h.HeartbeatInterval, 30*time.Second)
	equal(t, "Padding", h.Padding, "X")
	if h.Messages != nil {
		t.Errorf("Messages = %q, want none", h.Messages)
	}
	equal(t, "EncodeHandshake", string(atmosphere.EncodeHandshake(h)), string(load(t, "handshake.txt")))
}

func TestSeedRequestURL(t *testing.T) {
	got, err := atmosphere.URL("ws://domain.com/event/subscription", false)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "URL", got, string(load(t, "request_url.txt")))
}

func TestURL(t *testing.T) {
	tests := []struct {
		in    string
		track bool
		want  string
	}{
		{"https://api.itrack.live/v2/event/subscription", false, "wss://api.itrack.live/v2/event/subscription?" + atmosphere.Query},
		{"http://127.0.0.1:9/v2/event/subscription", true, "ws://127.0.0.1:9/v2/event/subscription?" + atmosphere.Query + "&X-Atmosphere-TrackMessageSize=true"},
		{"wss://h/p?a=1#frag", false, "wss://h/p?a=1&" + atmosphere.Query},
	}
	for _, tt := range tests {
		got, err := atmosphere.URL(tt.in, tt.track)
		if err != nil {
			t.Fatalf("URL(%q): %v", tt.in, err)
		}
		equal(t, "URL("+tt.in+")", got, tt.want)
	}
	for _, bad := range []string{"ftp://h/p", "h/p", "http:///p", "://"} {
		if _, err := atmosphere.URL(bad, false); err == nil {
			t.Errorf("URL(%q): no error", bad)
		}
	}
}

func TestHandshakeForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     atmosphere.Handshake
	}{
		{"piggy-backed message", `u-1|30000|X|{"type":"event","event":"logout","data":"session closed"}`,
			atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 30 * time.Second, Padding: "X",
				Messages: [][]byte{[]byte(`{"type":"event","event":"logout","data":"session closed"}`)}}},
		{"message with pipes", `u-1|50|X|a|b|c`,
			atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 50 * time.Millisecond, Padding: "X", Messages: [][]byte{[]byte("a|b|c")}}},
		{"blank piggy-back", "u-1|30000|X| \n",
			atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 30 * time.Second, Padding: "X"}},
		{"length prefixed", "45|b623a15d-9623-4fd8-a9d3-697036635c29|30000|X|",
			atmosphere.Handshake{UUID: "b623a15d-9623-4fd8-a9d3-697036635c29", HeartbeatInterval: 30 * time.Second, Padding: "X"}},
		{"length prefixed with a message", `12|u-1|30000|X|7|{"a":1}`,
			atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 30 * time.Second, Padding: "X", Messages: [][]byte{[]byte(`{"a":1}`)}}},
		{"all-digit uuid, untracked", "123|30000|X|",
			atmosphere.Handshake{UUID: "123", HeartbeatInterval: 30 * time.Second, Padding: "X"}},
		{"white space", " u-1 | 30000 |X|",
			atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 30 * time.Second, Padding: "X"}},
		{"no heartbeat asked", "u-1|0|X|", atmosphere.Handshake{UUID: "u-1", Padding: "X"}},
		{"empty padding", "u-1|10||", atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 10 * time.Millisecond, Padding: "X"}},
		{"other padding", "u-1|10|_|", atmosphere.Handshake{UUID: "u-1", HeartbeatInterval: 10 * time.Millisecond, Padding: "_"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := atmosphere.ParseHandshake([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Handshake", h, tt.want)
		})
	}
}

func TestHandshakeErrors(t *testing.T) {
	tests := []struct {
		name, in, kind string
	}{
		{"json", `{"type":"event","event":"state","data":{}}`, "handshake"},
		{"json with pipes", `{"a":"x|1|y|"}`, "handshake"},
		{"heartbeat", "X", "handshake"},
		{"too few fields", "u-1|30000|X", "handshake"},
		{"empty uuid", "|30000|X|", "handshake"},
		{"interval text", "u-1|soon|X|", "interval"},
		{"interval negative", "u-1|-5|X|", "interval"},
		{"interval huge", "u-1|9999999999999|X|", "interval"},
		{"bad length", "99|u-1|30000|X|", "length"},
		{"empty", "", "handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := atmosphere.ParseHandshake([]byte(tt.in))
			equal(t, "ErrorKind", atmosphere.ErrorKind(err), tt.kind)
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain", `{"type":"event"}`, []string{`{"type":"event"}`}},
		{"plain heartbeat", "X", []string{"X"}},
		{"empty", "", []string{""}},
		{"prefixed", `16|{"type":"event"}`, []string{`{"type":"event"}`}},
		{"prefixed heartbeat", "1|X", []string{"X"}},
		{"two messages", `1|X7|{"a":1}`, []string{"X", `{"a":1}`}},
		{"utf-16 count", `10|{"n":"é€"}` + `1|X`, []string{`{"n":"é€"}`, "X"}},
		{"astral is two units", `10|{"n":"😀"}`, []string{`{"n":"😀"}`}},
		{"byte count fallback", `13|{"n":"é€"}`, []string{`{"n":"é€"}`}},
		{"byte count fallback, two", `13|{"n":"é€"}13|{"m":"é€"}`, []string{`{"n":"é€"}`, `{"m":"é€"}`}},
		// Counted in UTF-16 units, as Atmosphere does, 13 takes in the next prefix.
		{"units win", `13|{"n":"é€"}1|X`, []string{`{"n":"é€"}1|X`}},
		{"zero length", "0|", []string{""}},
		{"digits without pipe", "123", []string{"123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := atmosphere.Split([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Split", strs(got), tt.want)
		})
	}
}

func TestSplitErrors(t *testing.T) {
	for _, in := range []string{
		`99|{"a":1}`,               // truncated: longer than the frame
		`3|{"a":1}`,                // shorter, and no prefix follows
		`7|{"a":1}garbage`,         // trailing text without a prefix
		"12345678901|x",            // too many digits
		`10|{"n":"😀"}` + "\xff",    // a stray byte after the message
		"1|" + "\xf0\x9f\x98\x80x", // n ends inside a surrogate pair, bytes don't fit either
	} {
		_, err := atmosphere.Split([]byte(in))
		if !errors.Is(err, atmosphere.ErrBadLength) || atmosphere.ErrorKind(err) != "length" {
			t.Errorf("Split(%q): err = %v, want ErrBadLength", in, err)
		}
	}
}

func TestEncodeTrackedRoundTrip(t *testing.T) {
	for _, msg := range []string{"X", "", `{"type":"response"}`, `{"n":"é€😀"}`, "1|2|3"} {
		enc := atmosphere.EncodeTracked([]byte(msg))
		got, err := atmosphere.Split(enc)
		if err != nil || len(got) != 1 || string(got[0]) != msg {
			t.Errorf("Split(EncodeTracked(%q)) = %q, %v", msg, strs(got), err)
		}
	}
	equal(t, "EncodeTracked", string(atmosphere.EncodeTracked([]byte(`{"n":"😀"}`))), `10|{"n":"😀"}`)
}

func TestHeartbeatAndBlank(t *testing.T) {
	for _, in := range []string{"X", " X\n", "XX", "XXX"} {
		if !atmosphere.IsHeartbeat([]byte(in), "X") {
			t.Errorf("IsHeartbeat(%q) = false", in)
		}
	}
	if !atmosphere.IsHeartbeat([]byte("X"), "") {
		t.Error("empty padding is not the default")
	}
	for _, in := range []string{"", " ", "x", "XY", `{"X":1}`, "X X"} {
		if atmosphere.IsHeartbeat([]byte(in), "X") {
			t.Errorf("IsHeartbeat(%q) = true", in)
		}
	}
	for _, in := range []string{"", " ", "\r\n\t"} {
		if !atmosphere.IsBlank([]byte(in)) {
			t.Errorf("IsBlank(%q) = false", in)
		}
	}
	if atmosphere.IsBlank([]byte("X")) {
		t.Error("IsBlank(X) = true")
	}
}

func TestErrorKindLabels(t *testing.T) {
	equal(t, "nil", atmosphere.ErrorKind(nil), "")
	equal(t, "foreign", atmosphere.ErrorKind(errors.New("x")), "other")
}

func addFiles(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzSplit(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := atmosphere.Split(b)
		if err != nil {
			if atmosphere.ErrorKind(err) != "length" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(msgs) == 0 {
			t.Fatal("no message and no error")
		}
		// Each message is a piece of the frame, in order.
		var total int
		for _, m := range msgs {
			total += len(m)
		}
		if total > len(b) {
			t.Fatalf("messages hold %d bytes, frame %d", total, len(b))
		}
		// Re-framing every message gives the same messages back.
		var again []byte
		for _, m := range msgs {
			again = append(again, atmosphere.EncodeTracked(m)...)
		}
		got, err := atmosphere.Split(again)
		if err != nil {
			t.Fatalf("Split of re-framed %q: %v", again, err)
		}
		if len(got) != len(msgs) {
			t.Fatalf("re-framed %d messages into %d", len(msgs), len(got))
		}
		for i := range got {
			if !bytes.Equal(got[i], msgs[i]) {
				t.Fatalf("message %d: %q became %q", i, msgs[i], got[i])
			}
		}
	})
}

func FuzzParseHandshake(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := atmosphere.ParseHandshake(b)
		if err != nil {
			if k := atmosphere.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if h.UUID == "" || h.Padding == "" || h.HeartbeatInterval < 0 {
			t.Fatalf("accepted %q as %+v", b, h)
		}
		if strings.Contains(h.UUID, "|") {
			t.Fatalf("uuid %q holds the delimiter", h.UUID)
		}
		if strings.Contains(h.Padding, "|") || strings.TrimSpace(h.UUID) != h.UUID {
			return // padding or uuid the encoder cannot reproduce verbatim
		}
		if strings.Trim(h.UUID, "0123456789") == "" {
			// An all-digit uuid reads like a length prefix (see the
			// package documentation): no round trip is promised.
			return
		}
		// What the handshake says survives encoding.
		h2, err := atmosphere.ParseHandshake(atmosphere.EncodeHandshake(h))
		if err != nil {
			t.Fatalf("re-parsing %+v: %v", h, err)
		}
		if h2.UUID != h.UUID || h2.HeartbeatInterval != h.HeartbeatInterval || h2.Padding != h.Padding {
			t.Fatalf("round trip changed %+v into %+v", h, h2)
		}
	})
}
