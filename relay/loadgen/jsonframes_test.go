package loadgen

import (
	"reflect"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto"
)

// The JSON baseline's codec carries every frame the hub and its clients
// exchange, several to a message, so the baseline measures a working
// relay and not one that drops frames it cannot encode.
func TestJSONFramesRoundTrip(t *testing.T) {
	frames := []proto.Frame{
		&proto.Connect{Token: "tok", Name: "loadgen"},
		&proto.Subscribe{Req: 1, Sub: 2, Pattern: "bench/#"},
		&proto.Ping{Req: 3},
		&proto.Connected{Client: "c1", PingMillis: 25000, Limits: proto.Limits{MaxMessage: 65536}},
		&proto.Subscribed{Req: 1, Sub: 2, Epoch: "e", Offset: 7},
		&proto.Reply{Req: 4, Code: 4003, Message: "no"},
		&proto.Pong{Req: 3},
		&proto.Disconnect{Code: 4000, Reason: "bye", Reconnect: true},
	}
	var msg []byte
	for _, f := range frames {
		var err error
		if msg, err = (jsonFrames{}).AppendFrame(msg, f); err != nil {
			t.Fatalf("%T: %v", f, err)
		}
	}
	for i, want := range frames {
		got, rest, err := (jsonFrames{}).DecodeFrame(msg)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d: got %#v, want %#v", i, got, want)
		}
		msg = rest
	}
	if len(msg) != 0 {
		t.Fatalf("%d bytes left", len(msg))
	}
}

// Events carry JSON data verbatim; a client decodes the publication time.
func TestJSONEvents(t *testing.T) {
	var msg []byte
	for i := range 3 {
		ev := &proto.Event{Channel: "bench/ch0", Offset: uint64(i + 1), Prev: uint64(i), Kind: "bench", Data: jsonPayload(jsonPad(16), int64(1000+i))}
		var err error
		if msg, err = (jsonFrames{}).AppendFrame(msg, ev); err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	if err := decodeJSONEvents(msg, func(ch string, ns int64) {
		if ch != "bench/ch0" {
			t.Errorf("channel %q", ch)
		}
		got = append(got, ns)
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int64{1000, 1001, 1002}) {
		t.Fatalf("times %v", got)
	}
	if _, _, err := (jsonFrames{}).DecodeFrame([]byte(`{"t":99,"f":{}}`)); err == nil {
		t.Fatal("unknown type accepted")
	}
}
