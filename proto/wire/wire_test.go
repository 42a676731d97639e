package wire_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// samples has every frame type with its optional fields both absent and
// present, and values at the edges of each encoding's forms.
func samples() []proto.Frame {
	raw := msgp.Raw{0x82, 0xa1, 'p', 0xcc, 200, 0xa1, 'b', 0xc4, 2, 1, 2}
	return []proto.Frame{
		&proto.Connect{Token: "t"},
		&proto.Connect{Token: string(make([]byte, 300)), Name: "demo/1.0"},
		&proto.Subscribe{Req: 1, Sub: 2, Pattern: "lora/+/uplink"},
		&proto.Subscribe{Req: math.MaxUint32, Sub: 70000, Pattern: "#", Recover: true, Epoch: "e1", Offset: math.MaxUint64, Latest: true},
		&proto.Unsubscribe{Req: 128, Sub: 255},
		&proto.Command{Req: 3, ID: "c1", Target: "lora/0102/downlink", Kind: "lora.downlink", Body: raw},
		&proto.Command{Req: 3, ID: "c2", Target: "x", Kind: "k"},
		&proto.Refresh{Req: 65536, Token: "tok"},
		&proto.Ping{Req: 0},
		&proto.Pong{Req: 1 << 31},
		&proto.Connected{Client: "cid", PingMillis: 25000, Limits: proto.Limits{MaxMessage: 1 << 20, MaxSubs: 64, MaxPendingCmd: 16}},
		&proto.Connected{Client: "cid", PingMillis: 1, Expires: -5, Limits: proto.Limits{}},
		&proto.Connected{Client: "cid", Expires: math.MaxInt64},
		&proto.Subscribed{Req: 1, Sub: 1, Epoch: "ep", Offset: 1 << 40, Recovered: true, Replayed: 3},
		&proto.Subscribed{},
		&proto.Event{Channel: "lora/a/uplink", Offset: 7, Prev: 6, Kind: "lora.uplink", Data: raw},
		&proto.Event{Channel: "c", Offset: 1, Kind: "k", Sub: 9, Latest: true},
		&proto.Reply{Req: 1, Code: 4501, Message: "denied"},
		&proto.Reply{Req: 1, Data: raw},
		&proto.Disconnect{Code: 4001, Reason: "slow", Reconnect: true},
	}
}

// same reports whether a wire frame and a proto frame say the same:
// exported fields are matched by name, bytes by value.
func same(w wire.Frame, p proto.Frame) bool {
	if w.FrameType() != p.FrameType() {
		return false
	}
	return sameValue(reflect.ValueOf(w).Elem(), reflect.ValueOf(p).Elem())
}

func sameValue(w, p reflect.Value) bool {
	if w.Kind() == reflect.Struct {
		if w.NumField() != p.NumField() {
			return false
		}
		for i := 0; i < w.NumField(); i++ {
			name := w.Type().Field(i).Name
			pf := p.FieldByName(name)
			if !pf.IsValid() || !sameValue(w.Field(i), pf) {
				return false
			}
		}
		return true
	}
	if w.Kind() == reflect.Slice {
		return bytes.Equal(w.Bytes(), p.Bytes())
	}
	return w.Interface() == p.Interface()
}

// TestBothCodecsAgree encodes every sample with proto's generated codec,
// decodes it with wire, encodes it again with wire: the bytes must be the
// same and proto must read back the frame it started from.
func TestBothCodecsAgree(t *testing.T) {
	for _, pf := range samples() {
		pb, err := proto.AppendFrame(nil, pf)
		if err != nil {
			t.Fatal(err)
		}
		wf, rest, err := wire.DecodeFrame(pb)
		if err != nil || len(rest) != 0 {
			t.Fatalf("wire cannot decode %#v: %v (%d left)", pf, err, len(rest))
		}
		if !same(wf, pf) {
			t.Errorf("wire decoded %#v as %#v", pf, wf)
		}
		wb := wire.AppendFrame(nil, wf)
		if !bytes.Equal(wb, pb) {
			t.Errorf("%T: wire encodes\n%x\nproto encodes\n%x", pf, wb, pb)
		}
		back, _, err := proto.DecodeFrame(wb)
		if err != nil || !reflect.DeepEqual(back, pf) && !sameAsRead(back, pf) {
			t.Errorf("proto read wire's %T back as %#v (%v)", pf, back, err)
		}
	}
}

// sameAsRead allows for what proto's decoder itself normalises (an empty
// raw field reads as nil).
func sameAsRead(a, b proto.Frame) bool {
	ab, _ := proto.AppendFrame(nil, a)
	bb, _ := proto.AppendFrame(nil, b)
	return bytes.Equal(ab, bb)
}

// TestDecodeErrors: what proto refuses, wire refuses with the same
// sentinel.
func TestDecodeErrors(t *testing.T) {
	cases := map[string][]byte{
		"empty":          {},
		"not an array":   {0x81, 0x01, 0x02},
		"array of 3":     {0x93, 0x06, 0x80, 0x80},
		"unknown type":   {0x92, 0x07, 0x80},
		"body not a map": {0x92, 0x06, 0x90},
		"wrong type":     {0x92, 0x06, 0x81, 0xa1, 'r', 0xa1, 'x'},
		"negative uint":  {0x92, 0x06, 0x81, 0xa1, 'r', 0xff},
		"uint32 too big": {0x92, 0x06, 0x81, 0xa1, 'r', 0xcf, 0, 0, 0, 1, 0, 0, 0, 0},
		"truncated":      {0x92, 0x12, 0x85, 0xa1, 'c'},
		"too many keys":  {0x92, 0x06, 0xde, 0x04, 0x01},
		"bad skipped":    {0x92, 0x06, 0x81, 0xa1, 'z', 0xc1},
	}
	for name, b := range cases {
		_, _, perr := proto.DecodeFrame(b)
		_, _, werr := wire.DecodeFrame(b)
		if perr == nil || werr == nil {
			t.Errorf("%s: proto %v, wire %v: both must refuse", name, perr, werr)
			continue
		}
		for _, sentinel := range []error{wire.ErrMalformed, wire.ErrUnknownType} {
			if errors.Is(perr, sentinel) != errors.Is(werr, sentinel) {
				t.Errorf("%s: proto %v, wire %v", name, perr, werr)
			}
		}
	}
}

// TestDecodeEventAllocatesNothing is the client's hot path: an event frame
// decoded into a reused Event.
func TestDecodeEventAllocatesNothing(t *testing.T) {
	b, _ := proto.AppendFrame(nil, samples()[15])
	var ev wire.Event
	allocs := testing.AllocsPerRun(100, func() {
		_, body, err := wire.PeekType(b)
		if err != nil {
			t.Fatal(err)
		}
		ev = wire.Event{}
		if _, err := wire.DecodeBody(&ev, body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || ev.Channel != "lora/a/uplink" {
		t.Errorf("%v allocations, event %+v", allocs, ev)
	}
}

// FuzzDecodeFrame feeds the same bytes to both decoders: they must agree
// on whether the input is a frame, on what it says, on where it ends and
// on how it is written back.
func FuzzDecodeFrame(f *testing.F) {
	for _, pf := range samples() {
		b, _ := proto.AppendFrame(nil, pf)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, prest, perr := proto.DecodeFrame(b)
		wf, wrest, werr := wire.DecodeFrame(b)
		if (perr == nil) != (werr == nil) {
			t.Fatalf("proto: %v, wire: %v", perr, werr)
		}
		if perr != nil {
			return
		}
		if len(prest) != len(wrest) || !same(wf, pf) {
			t.Fatalf("proto %#v (%d left), wire %#v (%d left)", pf, len(prest), wf, len(wrest))
		}
		pb, err := proto.AppendFrame(nil, pf)
		if err != nil {
			t.Fatal(err)
		}
		if wb := wire.AppendFrame(nil, wf); !bytes.Equal(pb, wb) {
			t.Fatalf("re-encoded: proto %x, wire %x", pb, wb)
		}
	})
}
