package proglove

import (
	"sort"
	"strings"

	"github.com/fieldrelay/fieldrelay/proto/event"
)

// DerivedFromGatewayState is event.ScannerState.Derived on the states a
// Roster infers from a gateway_state.
const DerivedFromGatewayState = "gateway_state"

// Roster keeps what one link knows of its gateway's scanners, from the
// normalised events it sees: each scanner's serial as the gateway spells
// it (channels lower-case it, commands need it back) and whether it is
// connected. The Streams API has no "list scanners" but gateway_state, and
// a link that reconnects cannot know what changed meanwhile; so when a
// gateway_state arrives, the Roster reconciles: every listed scanner not
// known to be connected gets a derived "connected" ScannerState, and every
// scanner believed connected but not listed a derived "disconnected" one.
//
// The zero Roster is ready to use. It is not safe for concurrent use.
type Roster struct {
	scanners map[string]*rosterEntry // by lower-case serial
	gateway  string
}

type rosterEntry struct {
	serial    string
	connected bool
}

func (r *Roster) entry(serial string) *rosterEntry {
	if r.scanners == nil {
		r.scanners = make(map[string]*rosterEntry)
	}
	key := strings.ToLower(serial)
	e := r.scanners[key]
	if e == nil {
		e = &rosterEntry{serial: serial}
		r.scanners[key] = e
	}
	e.serial = serial
	return e
}

// Observe records what o says about the scanners and returns the derived
// events it implies (only a ScannerGateway implies any), in a stable order:
// connections in the gateway's list order, then disconnections by serial.
func (r *Roster) Observe(o Out) []Out {
	switch e := o.Event.(type) {
	case *event.Scan:
		r.entry(e.Serial)
		r.noteGateway(e.Gateway)
	case *event.ScannerButton:
		r.entry(e.Serial)
		r.noteGateway(e.Gateway)
	case *event.ScannerState:
		r.entry(e.Serial).connected = e.Connected
		r.noteGateway(e.Gateway)
	case *event.ScannerError:
		if e.Serial != "" {
			r.entry(e.Serial)
		}
		r.noteGateway(e.Gateway)
	case *event.ScannerGateway:
		r.noteGateway(e.Gateway)
		return r.reconcile(e)
	}
	return nil
}

func (r *Roster) noteGateway(gw string) {
	if gw != "" {
		r.gateway = gw
	}
}

func (r *Roster) reconcile(g *event.ScannerGateway) []Out {
	var outs []Out
	meta := g.Meta
	meta.ID = "" // derived: no upstream event of its own
	listed := make(map[string]bool, len(g.Devices))
	for _, d := range g.Devices {
		key := strings.ToLower(d.Serial)
		if d.Serial == "" || listed[key] {
			continue
		}
		listed[key] = true
		e := r.entry(d.Serial)
		if e.connected {
			continue
		}
		e.connected = true
		outs = append(outs, Out{event.ScannerChannel(d.Serial, "state"), &event.ScannerState{
			Meta: meta, Serial: d.Serial, Gateway: g.Gateway, State: StateConnected, Connected: true,
			Derived: DerivedFromGatewayState, Model: d.Model, Firmware: d.Firmware, Manufacturer: d.Manufacturer,
		}})
	}
	var gone []string
	for key, e := range r.scanners {
		if e.connected && !listed[key] {
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)
	for _, key := range gone {
		e := r.scanners[key]
		e.connected = false
		outs = append(outs, Out{event.ScannerChannel(e.serial, "state"), &event.ScannerState{
			Meta: meta, Serial: e.serial, Gateway: g.Gateway, State: StateDisconnected, Connected: false,
			Reason: DisconnectUnknown, Derived: DerivedFromGatewayState,
		}})
	}
	return outs
}

// Serial returns the serial a command for the channel level should carry:
// the gateway's own spelling of a scanner seen before (levels are lower
// case), else the level upper-cased, as ProGlove serials are written
// ("M2MR111100928").
func (r *Roster) Serial(level string) string {
	if e := r.scanners[strings.ToLower(level)]; e != nil {
		return e.serial
	}
	return strings.ToUpper(level)
}

// Connected lists the serials believed connected, sorted.
func (r *Roster) Connected() []string {
	var out []string
	for _, e := range r.scanners {
		if e.connected {
			out = append(out, e.serial)
		}
	}
	sort.Strings(out)
	return out
}

// Gateway is the last gateway serial seen, "" if none.
func (r *Roster) Gateway() string { return r.gateway }
