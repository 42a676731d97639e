package wire

import "unsafe"

// The frames, field for field as package proto defines them (see there
// and docs/protocol.md for what each field means). The byte fields
// (Command.Body, Event.Data, Reply.Data) are msgpack bin on the wire, whose
// bytes are one msgpack value: decoded, they alias the message (nil when
// the bin is empty or absent) and are not looked into.

// Connect must be the first frame a client sends.
type Connect struct {
	Token string // tok
	Name  string // n, omitempty
}

// Connected accepts a connection.
type Connected struct {
	Client     string // cid
	PingMillis uint32 // pi
	Expires    int64  // exp, omitempty
	Limits     Limits // lim
}

// Limits tells a client what the relay enforces on its connection.
type Limits struct {
	MaxMessage    uint32 // mm
	MaxSubs       uint32 // ms
	MaxPendingCmd uint32 // mc
}

// Subscribe asks for the events of every channel Pattern matches.
type Subscribe struct {
	Req     uint32 // r
	Sub     uint32 // s
	Pattern string // p
	Recover bool   // rc, omitempty
	Epoch   string // ep, omitempty
	Offset  uint64 // o, omitempty
	Latest  bool   // l, omitempty
}

// Subscribed confirms a Subscribe.
type Subscribed struct {
	Req       uint32 // r
	Sub       uint32 // s
	Epoch     string // ep
	Offset    uint64 // o
	Recovered bool   // rc
	Replayed  uint32 // n
}

// Unsubscribe ends a subscription.
type Unsubscribe struct {
	Req uint32 // r
	Sub uint32 // s
}

// Command asks the relay to act on a device.
type Command struct {
	Req    uint32 // r
	ID     string // id
	Target string // tg
	Kind   string // k
	Body   []byte // b, bin
}

// Refresh replaces the connection's token.
type Refresh struct {
	Req   uint32 // r
	Token string // tok
}

// Ping asks for a Pong.
type Ping struct {
	Req uint32 // r
}

// Pong answers a Ping.
type Pong struct {
	Req uint32 // r
}

// Event carries one published event.
type Event struct {
	Channel string // c
	Offset  uint64 // o
	Prev    uint64 // q
	Kind    string // k
	Data    []byte // d, bin
	Sub     uint32 // s, omitempty
	Latest  bool   // l, omitempty
}

// Reply answers a request frame.
type Reply struct {
	Req     uint32 // r
	Code    uint16 // c
	Message string // m, omitempty
	Data    []byte // d, bin (nil when empty)
}

// Disconnect precedes a close by the relay.
type Disconnect struct {
	Code      uint16 // c
	Reason    string // m
	Reconnect bool   // rc
}

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

// count returns how many of the optional fields are present.
func count(present ...bool) uint32 {
	var n uint32
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

func (f *Connect) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 1+count(f.Name != ""))
	b = AppendString(AppendString(b, "tok"), f.Token)
	if f.Name != "" {
		b = AppendString(AppendString(b, "n"), f.Name)
	}
	return b
}

func (f *Connect) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "tok":
		return readStr(b, &f.Token)
	case "n":
		return readStr(b, &f.Name)
	}
	return skip(b)
}

func (f *Connected) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 3+count(f.Expires != 0))
	b = AppendString(AppendString(b, "cid"), f.Client)
	b = AppendUint(AppendString(b, "pi"), uint64(f.PingMillis))
	if f.Expires != 0 {
		b = AppendInt(AppendString(b, "exp"), f.Expires)
	}
	b = AppendMapHeader(AppendString(b, "lim"), 3)
	b = AppendUint(AppendString(b, "mm"), uint64(f.Limits.MaxMessage))
	b = AppendUint(AppendString(b, "ms"), uint64(f.Limits.MaxSubs))
	return AppendUint(AppendString(b, "mc"), uint64(f.Limits.MaxPendingCmd))
}

func (f *Connected) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "cid":
		return readStr(b, &f.Client)
	case "pi":
		return readU32(b, &f.PingMillis)
	case "exp":
		return readI64(b, &f.Expires)
	case "lim":
		return decodeMap(TypeConnected, b, f.Limits.field)
	}
	return skip(b)
}

func (f *Limits) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "mm":
		return readU32(b, &f.MaxMessage)
	case "ms":
		return readU32(b, &f.MaxSubs)
	case "mc":
		return readU32(b, &f.MaxPendingCmd)
	}
	return skip(b)
}

func (f *Subscribe) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 3+count(f.Recover, f.Epoch != "", f.Offset != 0, f.Latest))
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	b = AppendUint(AppendString(b, "s"), uint64(f.Sub))
	b = AppendString(AppendString(b, "p"), f.Pattern)
	if f.Recover {
		b = AppendBool(AppendString(b, "rc"), true)
	}
	if f.Epoch != "" {
		b = AppendString(AppendString(b, "ep"), f.Epoch)
	}
	if f.Offset != 0 {
		b = AppendUint(AppendString(b, "o"), f.Offset)
	}
	if f.Latest {
		b = AppendBool(AppendString(b, "l"), true)
	}
	return b
}

func (f *Subscribe) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "s":
		return readU32(b, &f.Sub)
	case "p":
		return readStr(b, &f.Pattern)
	case "rc":
		return readBool(b, &f.Recover)
	case "ep":
		return readStr(b, &f.Epoch)
	case "o":
		return readU64(b, &f.Offset)
	case "l":
		return readBool(b, &f.Latest)
	}
	return skip(b)
}

func (f *Subscribed) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 6)
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	b = AppendUint(AppendString(b, "s"), uint64(f.Sub))
	b = AppendString(AppendString(b, "ep"), f.Epoch)
	b = AppendUint(AppendString(b, "o"), f.Offset)
	b = AppendBool(AppendString(b, "rc"), f.Recovered)
	return AppendUint(AppendString(b, "n"), uint64(f.Replayed))
}

func (f *Subscribed) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "s":
		return readU32(b, &f.Sub)
	case "ep":
		return readStr(b, &f.Epoch)
	case "o":
		return readU64(b, &f.Offset)
	case "rc":
		return readBool(b, &f.Recovered)
	case "n":
		return readU32(b, &f.Replayed)
	}
	return skip(b)
}

func (f *Unsubscribe) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 2)
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	return AppendUint(AppendString(b, "s"), uint64(f.Sub))
}

func (f *Unsubscribe) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "s":
		return readU32(b, &f.Sub)
	}
	return skip(b)
}

func (f *Command) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 5)
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	b = AppendString(AppendString(b, "id"), f.ID)
	b = AppendString(AppendString(b, "tg"), f.Target)
	b = AppendString(AppendString(b, "k"), f.Kind)
	return AppendBytes(AppendString(b, "b"), f.Body)
}

func (f *Command) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "id":
		return readStr(b, &f.ID)
	case "tg":
		return readStr(b, &f.Target)
	case "k":
		return readStr(b, &f.Kind)
	case "b":
		return readBin(b, &f.Body)
	}
	return skip(b)
}

func (f *Refresh) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 2)
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	return AppendString(AppendString(b, "tok"), f.Token)
}

func (f *Refresh) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "tok":
		return readStr(b, &f.Token)
	}
	return skip(b)
}

func (f *Ping) appendBody(b []byte) []byte {
	return AppendUint(AppendString(AppendMapHeader(b, 1), "r"), uint64(f.Req))
}

func (f *Ping) field(k string, b []byte) ([]byte, error) {
	if k == "r" {
		return readU32(b, &f.Req)
	}
	return skip(b)
}

func (f *Pong) appendBody(b []byte) []byte {
	return AppendUint(AppendString(AppendMapHeader(b, 1), "r"), uint64(f.Req))
}

func (f *Pong) field(k string, b []byte) ([]byte, error) {
	if k == "r" {
		return readU32(b, &f.Req)
	}
	return skip(b)
}

func (f *Event) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 5+count(f.Sub != 0, f.Latest))
	b = AppendString(AppendString(b, "c"), f.Channel)
	b = AppendUint(AppendString(b, "o"), f.Offset)
	b = AppendUint(AppendString(b, "q"), f.Prev)
	b = AppendString(AppendString(b, "k"), f.Kind)
	b = AppendBytes(AppendString(b, "d"), f.Data)
	if f.Sub != 0 {
		b = AppendUint(AppendString(b, "s"), uint64(f.Sub))
	}
	if f.Latest {
		b = AppendBool(AppendString(b, "l"), true)
	}
	return b
}

func (f *Event) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "c":
		return readStr(b, &f.Channel)
	case "o":
		return readU64(b, &f.Offset)
	case "q":
		return readU64(b, &f.Prev)
	case "k":
		return readStr(b, &f.Kind)
	case "d":
		return readBin(b, &f.Data)
	case "s":
		return readU32(b, &f.Sub)
	case "l":
		return readBool(b, &f.Latest)
	}
	return skip(b)
}

func (f *Reply) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 3+count(f.Message != ""))
	b = AppendUint(AppendString(b, "r"), uint64(f.Req))
	b = AppendUint(AppendString(b, "c"), uint64(f.Code))
	if f.Message != "" {
		b = AppendString(AppendString(b, "m"), f.Message)
	}
	return AppendBytes(AppendString(b, "d"), f.Data)
}

func (f *Reply) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "r":
		return readU32(b, &f.Req)
	case "c":
		return readU16(b, &f.Code)
	case "m":
		return readStr(b, &f.Message)
	case "d":
		return readBin(b, &f.Data)
	}
	return skip(b)
}

func (f *Disconnect) appendBody(b []byte) []byte {
	b = AppendMapHeader(b, 3)
	b = AppendUint(AppendString(b, "c"), uint64(f.Code))
	b = AppendString(AppendString(b, "m"), f.Reason)
	return AppendBool(AppendString(b, "rc"), f.Reconnect)
}

func (f *Disconnect) field(k string, b []byte) ([]byte, error) {
	switch k {
	case "c":
		return readU16(b, &f.Code)
	case "m":
		return readStr(b, &f.Reason)
	case "rc":
		return readBool(b, &f.Reconnect)
	}
	return skip(b)
}

// bytesString views b as a string without copying.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
