package wire

import (
	"errors"
	"strconv"
)

// Subprotocol is the WebSocket subprotocol token of this protocol version.
const Subprotocol = "fieldrelay.v1+msgpack"

// Type identifies a frame. Client → relay types are below 16, relay →
// client types are 16 and above.
type Type uint8

// Frame types.
const (
	TypeConnect     Type = 1
	TypeSubscribe   Type = 2
	TypeUnsubscribe Type = 3
	TypeCommand     Type = 4
	TypeRefresh     Type = 5
	TypePing        Type = 6

	TypeConnected  Type = 16
	TypeSubscribed Type = 17
	TypeEvent      Type = 18
	TypeReply      Type = 19
	TypePong       Type = 20
	TypeDisconnect Type = 21
)

// String names the type as docs/protocol.md does.
func (t Type) String() string {
	switch t {
	case TypeConnect:
		return "connect"
	case TypeSubscribe:
		return "subscribe"
	case TypeUnsubscribe:
		return "unsubscribe"
	case TypeCommand:
		return "command"
	case TypeRefresh:
		return "refresh"
	case TypePing:
		return "ping"
	case TypeConnected:
		return "connected"
	case TypeSubscribed:
		return "subscribed"
	case TypeEvent:
		return "event"
	case TypeReply:
		return "reply"
	case TypePong:
		return "pong"
	case TypeDisconnect:
		return "disconnect"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Errors of DecodeFrame; package proto returns the same values. Both mean
// the peer does not speak this protocol (version).
var (
	ErrMalformed   = errors.New("proto: malformed frame")
	ErrUnknownType = errors.New("proto: unknown frame type")
)

// MaxMap bounds the number of keys of any map in a frame, as the
// //msgp:limit directive of package proto does.
const MaxMap = 1024

// malformed wraps a reader error as DecodeFrame reports it.
type malformed struct {
	t     Type
	field string
	err   error
}

func (e *malformed) Error() string {
	s := ErrMalformed.Error() + ": " + e.t.String()
	if e.field != "" {
		s += "." + e.field
	}
	return s + ": " + e.err.Error()
}

func (e *malformed) Unwrap() []error { return []error{ErrMalformed, e.err} }

// Frame is one of the frame types of this package (pointers).
type Frame interface {
	FrameType() Type
	appendBody(b []byte) []byte
	// field decodes the value of key at the start of b into the frame and
	// returns the bytes after it; unknown keys are skipped.
	field(key string, b []byte) ([]byte, error)
}

// AppendFrame appends f to b as [type, body].
func AppendFrame(b []byte, f Frame) []byte {
	b = append(b, 0x92)
	b = AppendUint(b, uint64(f.FrameType()))
	return f.appendBody(b)
}

// PeekType reads the type of the frame at the start of b and returns the
// bytes of its body.
func PeekType(b []byte) (Type, []byte, error) {
	n, rest, err := ReadArrayHeader(b)
	if err != nil {
		return 0, b, &malformed{err: err}
	}
	if n != 2 {
		return 0, b, &malformed{err: errors.New("frame is not an array of 2")}
	}
	t, rest, err := ReadUint(rest, 8)
	if err != nil {
		return 0, b, &malformed{field: "type", err: err}
	}
	return Type(t), rest, nil
}

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

// DecodeFrame decodes the first frame of b and returns it with the bytes
// that follow it. The frame aliases b.
func DecodeFrame(b []byte) (Frame, []byte, error) {
	t, body, err := PeekType(b)
	if err != nil {
		return nil, b, err
	}
	f := New(t)
	if f == nil {
		return nil, b, errors.Join(ErrUnknownType, errors.New(t.String()))
	}
	rest, err := DecodeBody(f, body)
	if err != nil {
		return nil, b, err
	}
	return f, rest, nil
}

// DecodeBody decodes a frame's body (after PeekType) into f, which should
// be zero: keys absent from the body keep f's values. It returns the
// bytes after the body. Decoding an Event into a reused Event allocates
// nothing.
func DecodeBody(f Frame, b []byte) ([]byte, error) {
	return decodeMap(f.FrameType(), b, f.field)
}

// decodeMap reads a map and hands each key's value to field.
func decodeMap(t Type, b []byte, field func(key string, b []byte) ([]byte, error)) ([]byte, error) {
	n, b, err := ReadMapHeader(b)
	if err != nil {
		return b, &malformed{t: t, err: err}
	}
	if n > MaxMap {
		return b, &malformed{t: t, err: ErrLimit}
	}
	for ; n > 0; n-- {
		var k string
		k, b, err = readKey(b)
		if err != nil {
			return b, &malformed{t: t, err: err}
		}
		b, err = field(k, b)
		if err != nil {
			return b, &malformed{t: t, field: k, err: err}
		}
	}
	return b, nil
}

func readKey(b []byte) (string, []byte, error) {
	k, rest, err := ReadMapKey(b)
	return bytesString(k), rest, err
}

// skip is the field function's answer to a key it does not know.
func skip(b []byte) ([]byte, error) { return Skip(b) }

// The typed readers below store into a field only on success.

func readU32(b []byte, dst *uint32) ([]byte, error) {
	v, rest, err := ReadUint(b, 32)
	if err == nil {
		*dst = uint32(v)
	}
	return rest, err
}

func readU16(b []byte, dst *uint16) ([]byte, error) {
	v, rest, err := ReadUint(b, 16)
	if err == nil {
		*dst = uint16(v)
	}
	return rest, err
}

func readU64(b []byte, dst *uint64) ([]byte, error) {
	v, rest, err := ReadUint64(b)
	if err == nil {
		*dst = v
	}
	return rest, err
}

func readI64(b []byte, dst *int64) ([]byte, error) {
	v, rest, err := ReadInt64(b)
	if err == nil {
		*dst = v
	}
	return rest, err
}

func readStr(b []byte, dst *string) ([]byte, error) {
	v, rest, err := ReadString(b)
	if err == nil {
		*dst = v
	}
	return rest, err
}

func readBool(b []byte, dst *bool) ([]byte, error) {
	v, rest, err := ReadBool(b)
	if err == nil {
		*dst = v
	}
	return rest, err
}

// readBin reads a bin field's bytes, aliasing b; an empty bin is nil. The
// bytes are not looked into: skipping them costs the same whatever they
// hold.
func readBin(b []byte, dst *[]byte) ([]byte, error) {
	v, rest, err := ReadBytes(b)
	if err != nil {
		return b, err
	}
	if len(v) == 0 {
		v = nil
	}
	*dst = v
	return rest, nil
}
