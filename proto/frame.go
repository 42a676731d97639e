package proto

import "github.com/fieldrelay/fieldrelay/proto/wire"

//go:generate go tool msgp -io=false -file frame.go -o frame_gen.go

// Bounds applied by every generated decoder to untrusted input: no map in a
// frame may declare more than 1024 elements (frames have no arrays). Byte
// and string sizes are bounded by the WebSocket read limit of the
// connection: a bin's length is checked against the input before anything
// is allocated. (msgp applies an arrays limit to bin lengths too, where it
// would cap Event.Data at 1 KiB, and allocates the declared length before
// checking it against the input: hence no arrays limit here.)
//msgp:limit maps:1024
//msgp:ignore Type

// Subprotocol is the WebSocket subprotocol token of this protocol version.
const Subprotocol = wire.Subprotocol

// Type identifies a frame. Client → relay types are below 16, relay →
// client types are 16 and above. Package wire defines the numbers; both
// codecs share them.
type Type = wire.Type

// Frame types.
const (
	TypeConnect     = wire.TypeConnect
	TypeSubscribe   = wire.TypeSubscribe
	TypeUnsubscribe = wire.TypeUnsubscribe
	TypeCommand     = wire.TypeCommand
	TypeRefresh     = wire.TypeRefresh
	TypePing        = wire.TypePing

	TypeConnected  = wire.TypeConnected
	TypeSubscribed = wire.TypeSubscribed
	TypeEvent      = wire.TypeEvent
	TypeReply      = wire.TypeReply
	TypePong       = wire.TypePong
	TypeDisconnect = wire.TypeDisconnect
)

// Connect must be the first frame a client sends. The relay answers with
// Connected, or with Disconnect and a close.
type Connect struct {
	Token string `msg:"tok"`
	// Name is a free label for the relay's logs (app name and version).
	Name string `msg:"n,omitempty"`
}

// Connected accepts a connection.
type Connected struct {
	// Client is the relay-assigned connection id (a UUID).
	Client string `msg:"cid"`
	// PingMillis is the interval at which the client should send Ping;
	// a client that has heard nothing for two intervals should reconnect.
	PingMillis uint32 `msg:"pi"`
	// Expires is the token's expiry, Unix seconds (0 = none). The client
	// must send Refresh before it.
	Expires int64  `msg:"exp,omitempty"`
	Limits  Limits `msg:"lim"`
}

// Limits tells a client what the relay will enforce on this connection.
type Limits struct {
	MaxMessage    uint32 `msg:"mm"` // bytes per inbound WebSocket message
	MaxSubs       uint32 `msg:"ms"` // subscriptions per connection
	MaxPendingCmd uint32 `msg:"mc"` // commands awaiting a reply
}

// Subscribe asks for the events of every channel that Pattern matches.
//
// With Recover set and Epoch non-empty, the relay replays exactly the
// matching events after (Epoch, Offset) and answers Recovered=true, or
// answers Recovered=false and replays nothing. With Latest set, and when
// nothing was recovered, it first sends the last event of every matching
// state channel (frames with Latest=true).
type Subscribe struct {
	Req     uint32 `msg:"r"`
	Sub     uint32 `msg:"s"`
	Pattern string `msg:"p"`
	Recover bool   `msg:"rc,omitempty"`
	Epoch   string `msg:"ep,omitempty"`
	Offset  uint64 `msg:"o,omitempty"`
	Latest  bool   `msg:"l,omitempty"`
}

// Subscribed confirms a Subscribe. It precedes any replayed or latest-value
// event of the subscription. Every matching event with an offset greater
// than Offset follows live.
type Subscribed struct {
	Req       uint32 `msg:"r"`
	Sub       uint32 `msg:"s"`
	Epoch     string `msg:"ep"`
	Offset    uint64 `msg:"o"`
	Recovered bool   `msg:"rc"`
	// Replayed is the number of recovered events that follow.
	Replayed uint32 `msg:"n"`
}

// Unsubscribe ends a subscription; the relay answers with a Reply.
type Unsubscribe struct {
	Req uint32 `msg:"r"`
	Sub uint32 `msg:"s"`
}

// Command asks the relay to act on a device. Target is a channel name the
// token's command patterns must match; Kind selects the body's type (see
// package event); ID is the client's idempotency key: a second Command with
// the same ID on the same tenant is not sent to the device again.
//
// Body is the msgpack encoding of the body, carried as a bin (empty for
// none): the frame codec does not look inside, the relay decodes it by Kind.
type Command struct {
	Req    uint32 `msg:"r"`
	ID     string `msg:"id"`
	Target string `msg:"tg"`
	Kind   string `msg:"k"`
	Body   []byte `msg:"b"`
}

// Refresh replaces the connection's token without reconnecting.
type Refresh struct {
	Req   uint32 `msg:"r"`
	Token string `msg:"tok"`
}

// Ping asks for a Pong. Clients use it to notice dead links.
type Ping struct {
	Req uint32 `msg:"r"`
}

// Pong answers a Ping.
type Pong struct {
	Req uint32 `msg:"r"`
}

// Event carries one published event.
//
// Offset is the event's position in the tenant's log (within the epoch
// given by Subscribed). Prev is the offset of the previous event on the same
// channel (0 if none): a client that subscribed from position P and sees
// Prev > P without having seen Prev has missed an event.
//
// Sub is 0 on live events, which a client routes to each of its matching
// subscriptions; replayed and latest-value events name the subscription.
//
// Data is the event as the broker stores it, one msgpack value (see package
// event), carried as a bin so that a reader skips it in O(1) and decodes it
// only when it wants it.
type Event struct {
	Channel string `msg:"c"`
	Offset  uint64 `msg:"o"`
	Prev    uint64 `msg:"q"`
	Kind    string `msg:"k"`
	Data    []byte `msg:"d"`
	Sub     uint32 `msg:"s,omitempty"`
	Latest  bool   `msg:"l,omitempty"`
}

// Reply answers a request frame (Subscribe failures, Unsubscribe, Command,
// Refresh). Code 0 is success; otherwise see package codes. Data is the
// msgpack encoding of a command's result, carried as a bin (an empty bin
// when there is none).
type Reply struct {
	Req     uint32 `msg:"r"`
	Code    uint16 `msg:"c"`
	Message string `msg:"m,omitempty"`
	Data    []byte `msg:"d"`
}

// Disconnect precedes a close by the relay; it carries the same code as the
// WebSocket close frame, for clients that cannot read close codes.
type Disconnect struct {
	Code      uint16 `msg:"c"`
	Reason    string `msg:"m"`
	Reconnect bool   `msg:"rc"`
}
