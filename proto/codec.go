package proto

import (
	"fmt"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// Frame is implemented by every frame type of this package.
type Frame interface {
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
	FrameType() Type
}

// Errors returned by DecodeFrame. Both mean the peer does not speak this
// protocol (version); the relay closes with codes.ProtocolError.
// They are package wire's, so that a caller can test for them whichever
// codec decoded.
var (
	ErrMalformed   = wire.ErrMalformed
	ErrUnknownType = wire.ErrUnknownType
)

func (*Connect) FrameType() Type     { return TypeConnect }
func (*Subscribe) FrameType() Type   { return TypeSubscribe }
func (*Unsubscribe) FrameType() Type { return TypeUnsubscribe }
func (*Command) FrameType() Type     { return TypeCommand }
func (*Refresh) FrameType() Type     { return TypeRefresh }
func (*Ping) FrameType() Type        { return TypePing }
func (*Connected) FrameType() Type   { return TypeConnected }
func (*Subscribed) FrameType() Type  { return TypeSubscribed }
func (*Event) FrameType() Type       { return TypeEvent }
func (*Reply) FrameType() Type       { return TypeReply }
func (*Pong) FrameType() Type        { return TypePong }
func (*Disconnect) FrameType() Type  { return TypeDisconnect }

// New returns a zero frame of type t, or nil if t is unknown.
func New(t Type) Frame {
	switch t {
	case TypeConnect:
		return new(Connect)
	case TypeSubscribe:
		return new(Subscribe)
	case TypeUnsubscribe:
		return new(Unsubscribe)
	case TypeCommand:
		return new(Command)
	case TypeRefresh:
		return new(Refresh)
	case TypePing:
		return new(Ping)
	case TypeConnected:
		return new(Connected)
	case TypeSubscribed:
		return new(Subscribed)
	case TypeEvent:
		return new(Event)
	case TypeReply:
		return new(Reply)
	case TypePong:
		return new(Pong)
	case TypeDisconnect:
		return new(Disconnect)
	}
	return nil
}

// AppendFrame appends f to b as [type, body].
func AppendFrame(b []byte, f Frame) ([]byte, error) {
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendUint8(b, uint8(f.FrameType()))
	return f.MarshalMsg(b)
}

// PeekType reads the type of the frame at the start of b and returns the
// bytes of its body, so a caller can decode into a frame it reuses.
func PeekType(b []byte) (Type, []byte, error) {
	n, rest, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return 0, b, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if n != 2 {
		return 0, b, fmt.Errorf("%w: frame is an array of %d, want 2", ErrMalformed, n)
	}
	t, rest, err := msgp.ReadUint8Bytes(rest)
	if err != nil {
		return 0, b, fmt.Errorf("%w: frame type: %v", ErrMalformed, err)
	}
	return Type(t), rest, nil
}

// DecodeFrame decodes the first frame of b and returns it with the bytes
// that follow it. Byte fields of the frame (Event.Data, Reply.Data,
// Command.Body) are copies: the frame does not alias b. Their content is
// not looked at: a bin is taken whole, whatever it holds.
func DecodeFrame(b []byte) (Frame, []byte, error) {
	t, body, err := PeekType(b)
	if err != nil {
		return nil, b, err
	}
	f := New(t)
	if f == nil {
		return nil, b, fmt.Errorf("%w: %d", ErrUnknownType, uint8(t))
	}
	rest, err := f.UnmarshalMsg(body)
	if err != nil {
		return nil, b, fmt.Errorf("%w: %s: %v", ErrMalformed, t, err)
	}
	normalize(f)
	return f, rest, nil
}

// normalize gives each frame one in-memory form per wire meaning: an empty
// bin field (absent, an empty bin, or a key repeated with an empty bin last)
// is nil.
func normalize(f Frame) {
	switch f := f.(type) {
	case *Event:
		if len(f.Data) == 0 {
			f.Data = nil
		}
	case *Reply:
		if len(f.Data) == 0 {
			f.Data = nil
		}
	case *Command:
		if len(f.Body) == 0 {
			f.Body = nil
		}
	}
}

// DecodeAll decodes every frame of one WebSocket message.
func DecodeAll(msg []byte, fn func(Frame) error) error {
	for len(msg) > 0 {
		f, rest, err := DecodeFrame(msg)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		msg = rest
	}
	return nil
}
