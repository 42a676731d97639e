package client

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
)

// A poke (the browser build's online and visibilitychange events) makes a
// connected client ping at once rather than at the next interval.
func TestPokePingsNow(t *testing.T) {
	r := newFakeRelay(t)
	c, fc := dialFake(t, r, testOptions(), &proto.Connected{Client: "c-1", PingMillis: 60_000})
	c.poke()
	recv(t, fc.pings, "a ping after the poke")
	select {
	case <-fc.done:
		t.Fatal("the client dropped a live link")
	case <-time.After(100 * time.Millisecond):
	}
	if s := c.State(); s != Connected {
		t.Fatalf("State() = %s", s)
	}
}

// A poked client whose relay does not answer drops the link after
// pokeTimeout, not two ping intervals, and reconnects.
func TestPokeDeadLink(t *testing.T) {
	defer func(d time.Duration) { pokeTimeout = d }(pokeTimeout)
	pokeTimeout = 50 * time.Millisecond
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	connected := &proto.Connected{Client: "c-1", PingMillis: 60_000}
	c, fc := dialFake(t, r, opts, connected)
	fc.pong.Store(false)
	start := time.Now()
	c.poke()
	if err := st.until(t, Reconnecting); !errors.Is(err, errDeadLink) {
		t.Fatalf("OnState(reconnecting, %v), want the dead link", err)
	}
	if d := time.Since(start); d > wait/2 {
		t.Errorf("dead link noticed after %v", d)
	}
	r.accept(t).handshake(t, connected)
	st.until(t, Connected)
}

// A poke during a backoff dials at once.
func TestPokeEndsBackoff(t *testing.T) {
	r := newFakeRelay(t)
	st := make(states, 16)
	opts := testOptions()
	opts.OnState = st.on
	opts.MinBackoff, opts.MaxBackoff = time.Hour, time.Hour
	c, fc := dialFake(t, r, opts, nil)
	fc.drop()
	st.until(t, Reconnecting)
	// The first wait is random in [0, 1 h): allow the poke to be the cause
	// in all but a negligible share of runs.
	c.poke()
	r.accept(t).handshake(t, nil)
	st.until(t, Connected)
}

func TestDecodeBase64URL(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		s := base64.RawURLEncoding.EncodeToString(b)
		got, ok := decodeBase64URL(s)
		if !ok || string(got) != string(b) {
			t.Fatalf("decodeBase64URL(%q) = %x, %v; want %x", s, got, ok, b)
		}
	}
	for _, bad := range []string{"a", "abcde", "ab+c", "ab/c", "ab=c", "ab c"} {
		_, ok := decodeBase64URL(bad)
		_, err := base64.RawURLEncoding.DecodeString(bad)
		if ok != (err == nil) {
			t.Errorf("decodeBase64URL(%q) ok=%v, encoding/base64 says %v", bad, ok, err)
		}
	}
}
