package wire_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// samples has every frame type with its optional fields both absent and
// present, and values at the edges of each encoding's forms.
func samples() []proto.Frame {
	// One msgpack value, as bin fields carry: {"p": 200, "b": bin[1 2]}.
	raw := []byte{0x82, 0xa1, 'p', 0xcc, 200, 0xa1, 'b', 0xc4, 2, 1, 2}
	// Bin lengths at the edges of bin 8, 16 and 32; what they hold is not
	// looked at by either codec.
	bin := func(n int) []byte { return bytes.Repeat([]byte{0xc0}, n) }
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
		&proto.Event{Channel: "c", Kind: "k", Data: bin(255)},
		&proto.Event{Channel: "c", Kind: "k", Data: bin(256)},
		&proto.Reply{Req: 2, Data: bin(65535)},
		&proto.Command{Req: 4, ID: "c3", Target: "x", Kind: "k", Body: bin(65536)},
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
// bin field reads as nil).
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

// TestOldRawFormRefused: before bin fields, d and b held one msgpack value
// embedded as is. A peer still speaking that form gets ErrMalformed from
// both codecs, a clear protocol error rather than a misread frame. (Data
// whose old raw value was itself a bin cannot be told apart: it reads as
// that bin's bytes.)
func TestOldRawFormRefused(t *testing.T) {
	cases := map[string][]byte{
		// event {c: "x", d: {p: 1}}
		"event, data a map": {0x92, 0x12, 0x82, 0xa1, 'c', 0xa1, 'x', 0xa1, 'd', 0x81, 0xa1, 'p', 0x01},
		// event {d: 7}, {d: "s"}, {d: [1]}, {d: nil}
		"event, data an int":    {0x92, 0x12, 0x81, 0xa1, 'd', 0x07},
		"event, data a str":     {0x92, 0x12, 0x81, 0xa1, 'd', 0xa1, 's'},
		"event, data an array":  {0x92, 0x12, 0x81, 0xa1, 'd', 0x91, 0x01},
		"event, data nil":       {0x92, 0x12, 0x81, 0xa1, 'd', 0xc0},
		"reply, no data as nil": {0x92, 0x13, 0x83, 0xa1, 'r', 0x01, 0xa1, 'c', 0x00, 0xa1, 'd', 0xc0},
		"reply, data a map":     {0x92, 0x13, 0x82, 0xa1, 'r', 0x01, 0xa1, 'd', 0x81, 0xa3, 'r', 'e', 'f', 0xa1, 'x'},
		"command, body nil":     {0x92, 0x04, 0x81, 0xa1, 'b', 0xc0},
		"command, body a map":   {0x92, 0x04, 0x81, 0xa1, 'b', 0x82, 0xa4, 'p', 'o', 'r', 't', 0x02, 0xa2, 'p', 'l', 0xc4, 0x01, 0x01},
	}
	for name, b := range cases {
		_, _, perr := proto.DecodeFrame(b)
		_, _, werr := wire.DecodeFrame(b)
		if !errors.Is(perr, proto.ErrMalformed) || !errors.Is(werr, wire.ErrMalformed) {
			t.Errorf("%s: proto %v, wire %v: want ErrMalformed from both", name, perr, werr)
		}
	}
	// The same event in the current form decodes.
	ok := []byte{0x92, 0x12, 0x82, 0xa1, 'c', 0xa1, 'x', 0xa1, 'd', 0xc4, 0x04, 0x81, 0xa1, 'p', 0x01}
	pf, _, perr := proto.DecodeFrame(ok)
	wf, _, werr := wire.DecodeFrame(ok)
	if perr != nil || werr != nil || !same(wf, pf) || string(wf.(*wire.Event).Data) != "\x81\xa1p\x01" {
		t.Fatalf("current form: proto %#v %v, wire %#v %v", pf, perr, wf, werr)
	}
}

// TestBinTakenWhole: neither codec looks into a bin field. One that holds
// part of a value, several values or nothing msgpack at all is a frame
// all the same (what its reader makes of it is the reader's business:
// wasm/client counts the event as undecodable, the relay refuses such a
// command body); one that claims more bytes than follow is malformed.
func TestBinTakenWhole(t *testing.T) {
	for _, data := range [][]byte{
		{0x82, 0xa1, 'p'},        // part of a map
		{0x01, 0x02},             // two values
		{0xc1},                   // the one byte msgpack does not use
		{0xdf, 0xff, 0xff, 0xff}, // a map header claiming 2³² pairs
	} {
		b, _ := proto.AppendFrame(nil, &proto.Event{Channel: "c", Kind: "k", Data: data})
		pf, _, perr := proto.DecodeFrame(b)
		wf, _, werr := wire.DecodeFrame(b)
		if perr != nil || werr != nil || !bytes.Equal(pf.(*proto.Event).Data, data) || !same(wf, pf) {
			t.Errorf("% x: proto %v %v, wire %v %v", data, pf, perr, wf, werr)
		}
	}
	// A bin 32 claiming 4 GiB with nothing after it: refused before
	// anything that size is allocated.
	short := []byte{0x92, 0x12, 0x81, 0xa1, 'd', 0xc6, 0xff, 0xff, 0xff, 0xff}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, perr := proto.DecodeFrame(short)
	_, _, werr := wire.DecodeFrame(short)
	runtime.ReadMemStats(&after)
	if !errors.Is(perr, proto.ErrMalformed) || !errors.Is(werr, wire.ErrMalformed) {
		t.Errorf("short bin: proto %v, wire %v", perr, werr)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("refusing a short bin allocated %d bytes", n)
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
