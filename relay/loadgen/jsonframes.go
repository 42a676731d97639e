package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto"
)

// jsonFrames is the hub's frames through encoding/json: what a relay
// without msgpack would send, for the JSON baseline. A frame is one line
// {"t":<type>,"f":<the frame's fields>}; a message holds one or more. An
// event's data is JSON stored by the publisher and sent verbatim (as a
// JSON relay stores events), not msgpack converted on the way.
type jsonFrames struct{}

// jsonEvent is an event frame with JSON data.
type jsonEvent struct {
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Prev    uint64          `json:"prev"`
	Kind    string          `json:"kind"`
	Sub     uint32          `json:"sub,omitempty"`
	Latest  bool            `json:"latest,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// jsonReply is a reply with its data (msgpack from the hub) as JSON.
type jsonReply struct {
	Req     uint32          `json:"req"`
	Code    uint16          `json:"code"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type jsonEnvelope struct {
	T proto.Type      `json:"t"`
	F json.RawMessage `json:"f"`
}

func (jsonFrames) AppendFrame(dst []byte, f proto.Frame) ([]byte, error) {
	var body any = f
	switch f := f.(type) {
	case *proto.Event:
		body = &jsonEvent{Channel: f.Channel, Offset: f.Offset, Prev: f.Prev, Kind: f.Kind, Sub: f.Sub, Latest: f.Latest, Data: json.RawMessage(f.Data)}
	case *proto.Reply:
		r := &jsonReply{Req: f.Req, Code: f.Code, Message: f.Message}
		if len(f.Data) > 0 {
			raw := msgp.Raw(f.Data)
			d, err := raw.MarshalJSON()
			if err != nil {
				return dst, err
			}
			r.Data = d
		}
		body = r
	}
	b, err := json.Marshal(body)
	if err != nil {
		return dst, err
	}
	dst = fmt.Appendf(dst, `{"t":%d,"f":`, uint8(f.FrameType()))
	dst = append(dst, b...)
	return append(dst, '}', '\n'), nil
}

func (jsonFrames) DecodeFrame(msg []byte) (proto.Frame, []byte, error) {
	line, rest, _ := bytes.Cut(msg, []byte{'\n'})
	var env jsonEnvelope
	if err := json.Unmarshal(line, &env); err != nil {
		return nil, msg, fmt.Errorf("%w: %v", proto.ErrMalformed, err)
	}
	if env.T == proto.TypeReply { // its data stays JSON: clients only
		var r jsonReply
		if err := json.Unmarshal(env.F, &r); err != nil {
			return nil, msg, fmt.Errorf("%w: %v", proto.ErrMalformed, err)
		}
		return &proto.Reply{Req: r.Req, Code: r.Code, Message: r.Message}, rest, nil
	}
	f := proto.New(env.T)
	if f == nil {
		return nil, msg, fmt.Errorf("%w: %d", proto.ErrUnknownType, uint8(env.T))
	}
	if err := json.Unmarshal(env.F, f); err != nil {
		return nil, msg, fmt.Errorf("%w: %v", proto.ErrMalformed, err)
	}
	return f, rest, nil
}

// jsonPayload is an event's data in the JSON baseline,
// {"t":<publication time, ns>,"pad":"<pad>"}, pad being the payload's
// bytes of padding (jsonPad).
func jsonPayload(pad []byte, ns int64) []byte {
	b := make([]byte, 0, len(pad)+32)
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, ns, 10)
	b = append(b, `,"pad":"`...)
	b = append(b, pad...)
	return append(b, `"}`...)
}

// jsonPad is payload bytes of padding.
func jsonPad(payload int) []byte { return bytes.Repeat([]byte{'x'}, payload) }

// jsonLine is what a client of the JSON relay reads of a frame, in one
// pass (as JSON.parse would): the type, and of an event its channel and
// publication time. Other frames leave the fields empty.
type jsonLine struct {
	T proto.Type `json:"t"`
	F struct {
		Channel string `json:"channel"`
		Data    struct {
			T int64 `json:"t"`
		} `json:"data"`
	} `json:"f"`
}

// decodeJSONEvents decodes a message of JSON frames as a client would, one
// encoding/json pass a frame, calling fn with each event's channel and
// publication time.
func decodeJSONEvents(msg []byte, fn func(channel string, sentNS int64)) error {
	for len(msg) > 0 {
		var line []byte
		line, msg, _ = bytes.Cut(msg, []byte{'\n'})
		if len(line) == 0 {
			continue
		}
		var l jsonLine
		if err := json.Unmarshal(line, &l); err != nil {
			return err
		}
		if l.T != proto.TypeEvent {
			continue
		}
		if l.F.Data.T == 0 {
			return errors.New("json baseline: event without a time")
		}
		fn(l.F.Channel, l.F.Data.T)
	}
	return nil
}
