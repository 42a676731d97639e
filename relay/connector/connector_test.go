package connector

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBackoffFullJitterCapped(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for i := range 50 {
		d := b.Next()
		ceil := min(time.Second, 100*time.Millisecond<<i)
		if i > 20 {
			ceil = time.Second
		}
		if d <= 0 || d > ceil {
			t.Fatalf("attempt %d: delay %v outside (0, %v]", i, d, ceil)
		}
	}
	// Full jitter: delays spread over the range, not clustered at the cap.
	var low int
	for range 200 {
		if b.Next() < 500*time.Millisecond {
			low++
		}
	}
	if low < 40 || low > 160 {
		t.Fatalf("%d of 200 capped delays below half the cap: not full jitter", low)
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset delay %v > Min", d)
	}
}

func TestRedact(t *testing.T) {
	raw := "wss://user:pw@example.test/prod/?customer=c123&token=eyJsecret"
	red := RedactURL(raw)
	for _, secret := range []string{"c123", "eyJsecret", "pw"} {
		if strings.Contains(red, secret) {
			t.Fatalf("RedactURL left %q in %q", secret, red)
		}
	}
	err := errors.New(`failed to WebSocket dial: Get "` + raw + `": connection refused`)
	if s := RedactError(err, raw); strings.Contains(s, "eyJsecret") || !strings.Contains(s, "connection refused") {
		t.Fatalf("RedactError = %q", s)
	}
}

func TestBadInputCountsAllLogsOncePerKind(t *testing.T) {
	var logs strings.Builder
	b := BadInput{Link: "l", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 5 {
		b.Note("json", errors.New("unexpected end"))
	}
	b.Note("hex", errors.New("odd length"))
	if c := b.Counts(); c["json"] != 5 || c["hex"] != 1 {
		t.Fatalf("counts %v", c)
	}
	if n := strings.Count(logs.String(), "dropping malformed"); n != 2 {
		t.Fatalf("%d log lines for 2 kinds:\n%s", n, logs.String())
	}
}
