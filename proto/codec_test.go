package proto

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

func sampleFrames(t testing.TB) []Frame {
	up := event.Uplink{
		Meta:   event.Meta{Link: "lora-eu", Protocol: "resiot", Time: 1497511606529531, Received: 1497511606530000, Raw: []byte(`{"CommType":"comm_rx"}`)},
		AppEUI: "006c3b194374ac7f", DevEUI: "0732227a557d8679", Port: 128,
		Payload: []byte{0x9b, 0x69, 0x02, 0x91, 0x01, 0x0f, 0x1b, 0x24, 0x01, 0xce, 0x01, 0xc0},
		FCnt:    1953, RSSI: -18, SNR: 9.5, SF: 7, Frequency: 867.3, Bandwidth: 125, Channel: 4,
		Gateways: []string{"218000ac0000a05f"}, ADR: true, Connector: "636f6e313332",
	}
	data, err := up.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := (&event.LoRaDownlink{Port: 15, Payload: []byte("OFF")}).MarshalMsg(nil)
	return []Frame{
		&Connect{Token: "eyJ.x.y", Name: "test/1"},
		&Subscribe{Req: 1, Sub: 2, Pattern: "lora/#", Recover: true, Epoch: "e1", Offset: 42, Latest: true},
		&Unsubscribe{Req: 3, Sub: 2},
		&Command{Req: 4, ID: "0190-…", Target: "lora/a/b/down", Kind: event.CmdLoRaDownlink, Body: body},
		&Refresh{Req: 5, Token: "t2"},
		&Ping{Req: 6},
		&Connected{Client: "c", PingMillis: 25000, Expires: 1, Limits: Limits{MaxMessage: 65536, MaxSubs: 128, MaxPendingCmd: 32}},
		&Subscribed{Req: 1, Sub: 2, Epoch: "e1", Offset: 50, Recovered: true, Replayed: 8},
		&Event{Channel: "lora/006c3b194374ac7f/0732227a557d8679/up", Offset: 43, Prev: 40, Kind: event.KindUplink, Data: data},
		&Event{Channel: "lora/gateway/g", Offset: 7, Kind: event.KindGateway, Data: []byte{0x80}, Sub: 3, Latest: true},
		&Reply{Req: 4, Code: 502, Message: "device not found"},
		&Pong{Req: 6},
		&Disconnect{Code: 4001, Reason: "slow", Reconnect: true},
	}
}

func TestFramesRoundTripInOneMessage(t *testing.T) {
	frames := sampleFrames(t)
	var msg []byte
	for _, f := range frames {
		var err error
		if msg, err = AppendFrame(msg, f); err != nil {
			t.Fatal(err)
		}
	}
	var got []Frame
	if err := DecodeAll(msg, func(f Frame) error { got = append(got, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("decoded %d frames, want %d", len(got), len(frames))
	}
	for i := range frames {
		if !reflect.DeepEqual(got[i], frames[i]) {
			t.Errorf("frame %d: got %#v, want %#v", i, got[i], frames[i])
		}
	}
}

// The wire layout is the contract docs/protocol.md describes: pin one frame
// byte for byte.
func TestWireLayout(t *testing.T) {
	b, _ := AppendFrame(nil, &Ping{Req: 7})
	want := []byte{0x92, 0x06, 0x81, 0xa1, 'r', 0x07}
	if !bytes.Equal(b, want) {
		t.Fatalf("ping = % x, want % x", b, want)
	}
	// The event's data {"x": 1} is a bin holding its msgpack (c4 04 …).
	b, _ = AppendFrame(nil, &Event{Channel: "a/b", Offset: 5, Prev: 3, Kind: "k", Data: []byte{0x81, 0xa1, 'x', 0x01}})
	want = []byte{0x92, 0x12, 0x85, 0xa1, 'c', 0xa3, 'a', '/', 'b', 0xa1, 'o', 0x05, 0xa1, 'q', 0x03,
		0xa1, 'k', 0xa1, 'k', 0xa1, 'd', 0xc4, 0x04, 0x81, 0xa1, 'x', 0x01}
	if !bytes.Equal(b, want) {
		t.Fatalf("event = % x, want % x", b, want)
	}
	// A reply without data has an empty bin.
	b, _ = AppendFrame(nil, &Reply{Req: 4})
	want = []byte{0x92, 0x13, 0x83, 0xa1, 'r', 0x04, 0xa1, 'c', 0x00, 0xa1, 'd', 0xc4, 0x00}
	if !bytes.Equal(b, want) {
		t.Fatalf("reply = % x, want % x", b, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"empty":          {nil, ErrMalformed},
		"not array":      {[]byte{0x81, 0xa1, 'r', 0x01}, ErrMalformed},
		"array of 3":     {[]byte{0x93, 0x06, 0x80, 0x80}, ErrMalformed},
		"unknown type":   {[]byte{0x92, 0x63, 0x80}, ErrUnknownType},
		"body not a map": {[]byte{0x92, 0x06, 0x01}, ErrMalformed},
		"wrong key type": {[]byte{0x92, 0x06, 0x81, 0xa1, 'r', 0xa1, 'x'}, ErrMalformed},
		"truncated":      {[]byte{0x92, 0x02, 0x82, 0xa1, 'p'}, ErrMalformed},
		"huge map":       {[]byte{0x92, 0x02, 0xdf, 0x7f, 0xff, 0xff, 0xff}, ErrMalformed},
	}
	for name, c := range cases {
		if _, _, err := DecodeFrame(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
	// Unknown keys are skipped: that is how optional fields are added.
	b := []byte{0x92, 0x06, 0x82, 0xa1, 'r', 0x07, 0xa3, 'n', 'e', 'w', 0xc3}
	f, _, err := DecodeFrame(b)
	if err != nil || f.(*Ping).Req != 7 {
		t.Fatalf("frame with an unknown key: %v %v", f, err)
	}
}

// FuzzDecodeFrame: no input may panic the decoder; whatever decodes must
// re-encode to something that decodes to the same frame.
func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range sampleFrames(f) {
		b, _ := AppendFrame(nil, fr)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, rest, err := DecodeFrame(b)
			if err != nil {
				return
			}
			if len(rest) >= len(b) {
				t.Fatal("decoder made no progress")
			}
			again, err := AppendFrame(nil, fr)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			fr2, _, err := DecodeFrame(again)
			if err != nil || !reflect.DeepEqual(fr, fr2) {
				t.Fatalf("round trip changed %#v into %#v (%v)", fr, fr2, err)
			}
			b = rest
		}
	})
}

// jsonEvent is the same event frame with encoding/json, the baseline the
// msgp encoding is measured against.
type jsonEvent struct {
	Channel string          `json:"c"`
	Offset  uint64          `json:"o"`
	Prev    uint64          `json:"q"`
	Kind    string          `json:"k"`
	Data    json.RawMessage `json:"d"`
}

func benchFrames(b *testing.B) (*Event, *jsonEvent) {
	var ev *Event
	for _, f := range sampleFrames(b) {
		if e, ok := f.(*Event); ok && e.Kind == event.KindUplink {
			ev = e
			break
		}
	}
	var up event.Uplink
	up.UnmarshalMsg(ev.Data)
	jd, _ := json.Marshal(&up)
	return ev, &jsonEvent{Channel: ev.Channel, Offset: ev.Offset, Prev: ev.Prev, Kind: ev.Kind, Data: jd}
}

func BenchmarkEventFrame(b *testing.B) {
	ev, jev := benchFrames(b)
	b.Run("encode/msgp", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = AppendFrame(buf[:0], ev)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encode/json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			enc.Encode(jev)
		}
		b.SetBytes(int64(buf.Len()))
	})
	enc, _ := AppendFrame(nil, ev)
	jenc, _ := json.Marshal(jev)
	b.Run("decode/msgp", func(b *testing.B) {
		var e Event
		b.ReportAllocs()
		for b.Loop() {
			_, body, _ := PeekType(enc)
			if _, err := e.UnmarshalMsg(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		var e jsonEvent
		b.ReportAllocs()
		for b.Loop() {
			if err := json.Unmarshal(jenc, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The clients' decoder (package wire, zero-copy) against msgp's.
	b.Run("clientdecode/wire", func(b *testing.B) {
		var e wire.Event
		b.ReportAllocs()
		for b.Loop() {
			_, body, _ := wire.PeekType(enc)
			e = wire.Event{}
			if _, err := wire.DecodeBody(&e, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clientdecode/msgp", func(b *testing.B) {
		var e Event
		b.ReportAllocs()
		for b.Loop() {
			_, body, _ := PeekType(enc)
			if _, err := e.UnmarshalMsg(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFrames: every frame type, msgp against encoding/json on the
// same Go value (json writes the field names, and the byte fields, the
// event's data for one, as Base64), encode and decode, side by side.
func BenchmarkFrames(b *testing.B) {
	seen := map[Type]bool{}
	for _, f := range sampleFrames(b) {
		t := f.FrameType()
		if seen[t] {
			continue
		}
		seen[t] = true
		enc, _ := AppendFrame(nil, f)
		jenc, err := json.Marshal(f)
		if err != nil {
			b.Fatal(err)
		}
		name := t.String()
		b.Run(name+"/encode/msgp", func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendFrame(buf[:0], f)
			}
		})
		b.Run(name+"/encode/json", func(b *testing.B) {
			var buf bytes.Buffer
			e := json.NewEncoder(&buf)
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				e.Encode(f)
			}
		})
		b.Run(name+"/decode/msgp", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := DecodeFrame(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/decode/json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := json.Unmarshal(jenc, New(t)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
