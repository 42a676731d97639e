package event

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tinylib/msgp/msgp"
)

//go:generate go tool msgp -io=false -file event.go -o event_gen.go
//go:generate go run ./gen

//msgp:limit arrays:1024 maps:256

// Event kinds.
const (
	KindUplink     = "lora.uplink"
	KindJoin       = "lora.join"
	KindGateway    = "lora.gateway"
	KindDownlink   = "lora.downlink"
	KindLoRaOther  = "lora.other"
	KindLinkStatus = "link.status"
)

// Command kinds.
const (
	// CmdLoRaDownlink asks a LoRaWAN network to send a downlink; its body
	// is a LoRaDownlink, its target channel lora/<appEUI>/<devEUI>/down.
	CmdLoRaDownlink = "lora.downlink"
)

// Event is implemented by every event type.
type Event interface {
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
	Kind() string
	Header() *Meta
}

// ErrUnknownKind is returned by Decode for kinds this version does not know.
// Clients keep such events' raw bytes rather than failing.
var ErrUnknownKind = errors.New("event: unknown kind")

// Meta is what every event keeps of its origin.
type Meta struct {
	Link     string `msg:"src" json:"link"`                  // the relay's name for the upstream link
	Protocol string `msg:"pr" json:"protocol"`               // "resiot", "proglove", …
	ID       string `msg:"id,omitempty" json:"id,omitempty"` // the upstream's own event id, if it has one
	Time     int64  `msg:"t" json:"time"`                    // the upstream's time, Unix µs (0 if it gave none)
	Received int64  `msg:"rt" json:"received"`               // when the relay read it, Unix µs
	Raw      []byte `msg:"raw,limit=1048576" json:"raw"`     // the upstream message, verbatim
}

// Uplink is a LoRaWAN uplink from a device.
type Uplink struct {
	Meta      Meta              `msg:"m" json:"meta"`
	AppEUI    string            `msg:"app" json:"appEUI"`
	DevEUI    string            `msg:"dev" json:"devEUI"`
	Port      uint8             `msg:"port" json:"port"`
	Payload   []byte            `msg:"pl,limit=65536" json:"payload"`
	FCnt      uint32            `msg:"fcnt" json:"fcnt"`
	RSSI      float64           `msg:"rssi" json:"rssi"`      // dBm
	SNR       float64           `msg:"snr" json:"snr"`        // dB
	SF        uint8             `msg:"sf" json:"sf"`          // spreading factor
	Frequency float64           `msg:"freq" json:"frequency"` // MHz
	Bandwidth float64           `msg:"bw" json:"bandwidth"`   // kHz
	Channel   int32             `msg:"ch" json:"channel"`
	Gateways  []string          `msg:"gws" json:"gateways"`
	ADR       bool              `msg:"adr" json:"adr"`
	Duplicate bool              `msg:"dup" json:"duplicate"`
	Connector string            `msg:"conn" json:"connector"`              // the network's connector id
	Extra     map[string]string `msg:"x,omitempty" json:"extra,omitempty"` // vendor fields not mapped above
}

// Join is a device's join (activation) request.
type Join struct {
	Meta      Meta     `msg:"m" json:"meta"`
	AppEUI    string   `msg:"app" json:"appEUI"`
	DevEUI    string   `msg:"dev" json:"devEUI"`
	Gateways  []string `msg:"gws" json:"gateways"`
	Connector string   `msg:"conn" json:"connector"`
}

// GatewayAlive says a LoRaWAN gateway reported in.
type GatewayAlive struct {
	Meta      Meta   `msg:"m" json:"meta"`
	Gateway   string `msg:"gw" json:"gateway"`
	Connector string `msg:"conn" json:"connector"`
}

// Downlink reports a downlink the network sent or queued (ResIOT comm_tx).
type Downlink struct {
	Meta      Meta   `msg:"m" json:"meta"`
	AppEUI    string `msg:"app" json:"appEUI"`
	DevEUI    string `msg:"dev" json:"devEUI"`
	Port      uint8  `msg:"port" json:"port"`
	Payload   []byte `msg:"pl,limit=65536" json:"payload"`
	Reference string `msg:"ref" json:"reference"`
	Command   string `msg:"cmd,omitempty" json:"command,omitempty"`
	Confirmed bool   `msg:"conf" json:"confirmed"`
	Connector string `msg:"conn" json:"connector"`
}

// LoRaOther passes through a LoRa network message of a type fieldrelay does
// not normalise (its Meta.Raw has it whole).
type LoRaOther struct {
	Meta   Meta   `msg:"m" json:"meta"`
	Type   string `msg:"type" json:"type"`
	AppEUI string `msg:"app,omitempty" json:"appEUI,omitempty"`
	DevEUI string `msg:"dev,omitempty" json:"devEUI,omitempty"`
}

// Link states reported by LinkStatus.
const (
	LinkConnecting = "connecting"
	LinkConnected  = "connected"
	LinkBackoff    = "backing_off"
	LinkFailed     = "failed"
	LinkStopped    = "stopped"
)

// LinkStatus is the state of one upstream link, published on
// link/<name>/status whenever it changes.
type LinkStatus struct {
	Meta    Meta   `msg:"m" json:"meta"`
	State   string `msg:"st" json:"state"`
	Reason  string `msg:"why,omitempty" json:"reason,omitempty"`
	Attempt uint32 `msg:"n,omitempty" json:"attempt,omitempty"`
	RetryMS int64  `msg:"retry,omitempty" json:"retryMs,omitempty"`
}

// LoRaDownlink is the body of a CmdLoRaDownlink command. AppEUI and DevEUI
// come from the target channel.
type LoRaDownlink struct {
	Port    uint8  `msg:"port" json:"port"`
	Payload []byte `msg:"pl,limit=65536" json:"payload"`
	Confirm bool   `msg:"confirm,omitempty" json:"confirm,omitempty"`
	// Connector picks the network connector; empty lets the network choose.
	Connector string `msg:"conn,omitempty" json:"connector,omitempty"`
}

// DownlinkResult is the Data of a successful CmdLoRaDownlink reply.
type DownlinkResult struct {
	Reference string `msg:"ref" json:"reference"`
}

func (*Uplink) Kind() string       { return KindUplink }
func (*Join) Kind() string         { return KindJoin }
func (*GatewayAlive) Kind() string { return KindGateway }
func (*Downlink) Kind() string     { return KindDownlink }
func (*LoRaOther) Kind() string    { return KindLoRaOther }
func (*LinkStatus) Kind() string   { return KindLinkStatus }

func (e *Uplink) Header() *Meta       { return &e.Meta }
func (e *Join) Header() *Meta         { return &e.Meta }
func (e *GatewayAlive) Header() *Meta { return &e.Meta }
func (e *Downlink) Header() *Meta     { return &e.Meta }
func (e *LoRaOther) Header() *Meta    { return &e.Meta }
func (e *LinkStatus) Header() *Meta   { return &e.Meta }

// kinds maps every known kind to its constructor. Each file of this
// package registers its own kinds in init.
var kinds = map[string]kindInfo{}

type kindInfo struct {
	new      func() Event
	retained bool
}

// register adds a kind; retained kinds describe state (see Retained).
func register(kind string, retained bool, f func() Event) {
	if _, dup := kinds[kind]; dup {
		panic("event: kind registered twice: " + kind)
	}
	kinds[kind] = kindInfo{f, retained}
}

func init() {
	register(KindUplink, false, func() Event { return new(Uplink) })
	register(KindJoin, false, func() Event { return new(Join) })
	register(KindGateway, true, func() Event { return new(GatewayAlive) })
	register(KindDownlink, false, func() Event { return new(Downlink) })
	register(KindLoRaOther, false, func() Event { return new(LoRaOther) })
	register(KindLinkStatus, true, func() Event { return new(LinkStatus) })
	registerCommand(CmdLoRaDownlink, func() Command { return new(LoRaDownlink) })
}

// Command is implemented by every command body type.
type Command interface {
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
	CommandKind() string
}

var commands = map[string]func() Command{}

// registerCommand adds a command kind and its body type.
func registerCommand(kind string, f func() Command) {
	if _, dup := commands[kind]; dup {
		panic("event: command kind registered twice: " + kind)
	}
	commands[kind] = f
}

// NewCommand returns a zero body for the command kind, or nil.
func NewCommand(kind string) Command {
	if f, ok := commands[kind]; ok {
		return f()
	}
	return nil
}

// CommandKind implements Command.
func (*LoRaDownlink) CommandKind() string { return CmdLoRaDownlink }

// New returns a zero event of the kind, or nil if it is unknown.
func New(kind string) Event {
	if k, ok := kinds[kind]; ok {
		return k.new()
	}
	return nil
}

// Kinds lists every known kind.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	return out
}

// Decode decodes the msgp data of an event of the given kind.
func Decode(kind string, data []byte) (Event, error) {
	e := New(kind)
	if e == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	if _, err := e.UnmarshalMsg(data); err != nil {
		return nil, fmt.Errorf("event: decode %s: %w", kind, err)
	}
	return e, nil
}

// Retained reports whether the kind describes state, so that the last event
// of each of its channels is kept for subscribers that ask for it (Latest).
func Retained(kind string) bool { return kinds[kind].retained }

// Channel names. EUIs are lower-cased so that one device has one name.

// LoRaChannel is lora/<appEUI>/<devEUI>/<leaf>, leaf being "up", "join",
// "down" or "other".
func LoRaChannel(appEUI, devEUI, leaf string) string {
	return "lora/" + level(appEUI) + "/" + level(devEUI) + "/" + leaf
}

// GatewayChannel is lora/gateway/<gwEUI>.
func GatewayChannel(gw string) string { return "lora/gateway/" + level(gw) }

// LinkStatusChannel is link/<name>/status.
func LinkStatusChannel(link string) string { return "link/" + level(link) + "/status" }

// level makes s usable as one channel level: lower-case, with characters
// that channel names forbid replaced by '_', and "_" for empty.
func level(s string) string {
	if s == "" {
		return "_"
	}
	s = strings.ToLower(s)
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '/' || c == '+' || c == '#' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c <= 0x20 || c >= 0x7f || c == '/' || c == '+' || c == '#' {
			b[i] = '_'
		}
	}
	return string(b)
}
