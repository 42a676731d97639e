package proglovesim

import (
	"strings"

	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

// Messages of the errors events. The vendor documents the codes but not
// their texts (its one example, "No suitable font for input string", is a
// display failure); these are the simulator's own.
const (
	// MessageDeviceNotFound prefixes the serial of a command's scanner
	// that is not connected to the gateway.
	MessageDeviceNotFound = "device not found: "
	// MessageNoDisplay prefixes the model of a scanner without a display
	// that was sent a display! command.
	MessageNoDisplay = "device has no display: "
	// MessageNotASCII refuses a display! command whose frame carries
	// non-ASCII bytes: the notes ask for \uXXXX escapes.
	MessageNotASCII = "display!: write non-ASCII characters as \\uXXXX escapes"
)

// handleCommand answers one frame from client c. The gateway answers
// failures only, with an errors event naming the command's event_id; a
// command it accepts gets no answer, except gateway_state!, answered with
// a gateway_state.
func (s *Simulator) handleCommand(c *client, data []byte) {
	cmd, err := proglove.DecodeCommand(data)
	if err != nil {
		var ref, serial string
		if cmd != nil {
			ref, serial = cmd.Header().ID, cmd.Serial()
		}
		s.reject(c, ref, serial, proglove.ErrorInvalidCommand, strings.TrimPrefix(err.Error(), "proglove: "))
		return
	}
	ref := cmd.Header().ID
	if isDisplay(cmd) && !ascii(data) {
		s.reject(c, ref, cmd.Serial(), proglove.ErrorInvalidCommand, MessageNotASCII)
		return
	}
	if _, ok := cmd.(*proglove.GatewayStateRequest); ok {
		s.accept(cmd)
		s.reply(c, s.gatewayState(ref))
		return
	}
	serial := cmd.Serial()
	s.devMu.Lock()
	sc := s.lookupLocked(serial)
	switch {
	case sc == nil || !sc.connected:
		s.devMu.Unlock()
		s.reject(c, ref, serial, proglove.ErrorDeviceNotFound, MessageDeviceNotFound+serial)
		return
	case isDisplay(cmd) && !sc.Display:
		model := sc.Model
		s.devMu.Unlock()
		s.reject(c, ref, serial, proglove.ErrorUnknown, MessageNoDisplay+model)
		return
	}
	if tb, ok := cmd.(*proglove.TriggerBlock); ok {
		sc.block = nil
		if tb.BlockState {
			b := &block{gestures: set(tb.BlockGestures), unblock: set(tb.UnblockGestures)}
			if tb.ValidityDuration > 0 {
				b.until = s.cfg.now().Add(ms(tb.ValidityDuration))
			}
			sc.block = b
		}
	}
	s.devMu.Unlock()
	s.accept(cmd)
}

func isDisplay(c proglove.Command) bool {
	_, ok := c.(*proglove.Display)
	return ok
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, g := range list {
		m[g] = true
	}
	return m
}

func (s *Simulator) accept(c proglove.Command) {
	s.mu.Lock()
	s.received = append(s.received, c)
	s.mu.Unlock()
}

// reject answers client c with an errors event; event_reference_id is
// always written, "" when the command had no readable event_id.
func (s *Simulator) reject(c *client, ref, serial, code, message string) {
	if r := []rune(message); len(r) > proglove.MaxErrorMessage {
		message = string(r[:proglove.MaxErrorMessage])
	}
	e := proglove.ErrorEvent{
		Envelope:    s.envelope(proglove.TypeErrors),
		ReferenceID: ref, Severity: proglove.SeverityError, Message: message, Code: code,
		DeviceSerial: serial, GatewaySerial: s.cfg.gateway,
	}
	s.mu.Lock()
	s.rejected = append(s.rejected, e)
	s.mu.Unlock()
	b, err := proglove.EncodeMessage(&e)
	if err != nil {
		return // a message of strings always encodes
	}
	s.reply(c, b)
}

// lookupLocked finds a scanner by its exact serial.
func (s *Simulator) lookupLocked(serial string) *scanner {
	for _, sc := range s.scanners {
		if sc.Serial == serial {
			return sc
		}
	}
	return nil
}
