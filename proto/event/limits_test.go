package event

import (
	"bytes"
	"testing"
)

// Events keep the upstream message verbatim: a realistic one is several
// KiB and must survive the msgp limits that bound untrusted arrays.
func TestLargeRawSurvives(t *testing.T) {
	raw := bytes.Repeat([]byte("x"), 100<<10)
	up := &Uplink{Meta: Meta{Raw: raw}, Payload: bytes.Repeat([]byte{1}, 242)}
	b, err := up.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(KindUplink, b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Header().Raw, raw) {
		t.Fatal("raw changed")
	}
}
