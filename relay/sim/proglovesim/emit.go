package proglovesim

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// envelope is a fresh envelope of typ: api_version 1.0, an event id from
// the seeded generator, time_created now.
func (s *Simulator) envelope(typ string) proglove.Envelope {
	s.devMu.Lock()
	id := s.eventIDLocked()
	s.devMu.Unlock()
	return proglove.Envelope{APIVersion: proglove.APIVersion10, Type: typ, ID: id, Created: s.cfg.now().UnixMilli()}
}

func (s *Simulator) eventIDLocked() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return proglove.FormatUUID(b)
}

func mustEncode(m proglove.Message) []byte {
	b, err := proglove.EncodeMessage(m)
	if err != nil {
		panic("proglovesim: encoding a message: " + err.Error())
	}
	return b
}

// Emit broadcasts b verbatim as a text frame to every connected client.
// Tests use it to inject malformed, oversize or unusual frames.
func (s *Simulator) Emit(b []byte) {
	s.broadcast(append([]byte(nil), b...))
}

// Trigger simulates a gesture on a scanner's trigger and returns the frame
// it broadcast, or nil when it broadcast nothing: the scanner is unknown
// or disconnected, the gesture is blocked by an active trigger_block!, the
// gesture is one of the block's unblock gestures (which lifts the block
// instead), or it is a triple click (which reports nothing). A single click
// scans code (the next generated code when code is ""), a double click is a
// button_pressed.
func (s *Simulator) Trigger(serial, gesture, code string) []byte {
	s.devMu.Lock()
	sc := s.lookupLocked(serial)
	if sc == nil || !sc.connected {
		s.devMu.Unlock()
		return nil
	}
	if b := sc.block; b != nil {
		switch now := s.cfg.now(); {
		case !b.until.IsZero() && !now.Before(b.until):
			sc.block = nil // expired
		case b.unblock[gesture]:
			sc.block = nil
			s.devMu.Unlock()
			return nil
		case len(b.gestures) == 0 || b.gestures[gesture]:
			s.devMu.Unlock()
			return nil
		}
	}
	var frame []byte
	switch gesture {
	case proglove.GestureSingleClick:
		frame = s.scanLocked(sc, code)
	case proglove.GestureDoubleClick:
		frame = mustEncode(&proglove.ButtonPressed{Envelope: s.envelopeLocked(proglove.TypeButtonPressed),
			DeviceSerial: sc.Serial, GatewaySerial: s.cfg.gateway, TriggerGesture: gesture})
	}
	s.devMu.Unlock()
	if frame != nil {
		s.broadcast(frame)
	}
	return frame
}

// Scan is Trigger with a single click: it broadcasts a scan of code ("" for
// the next generated one) unless the trigger is blocked, and returns the
// frame or nil.
func (s *Simulator) Scan(serial, code string) []byte {
	return s.Trigger(serial, proglove.GestureSingleClick, code)
}

// Blocked reports whether a trigger_block! is in force on the scanner.
func (s *Simulator) Blocked(serial string) bool {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	sc := s.lookupLocked(serial)
	if sc == nil || sc.block == nil {
		return false
	}
	return sc.block.until.IsZero() || s.cfg.now().Before(sc.block.until)
}

func (s *Simulator) envelopeLocked(typ string) proglove.Envelope {
	return proglove.Envelope{APIVersion: proglove.APIVersion10, Type: typ, ID: s.eventIDLocked(), Created: s.cfg.now().UnixMilli()}
}

// scanLocked builds a scan like the documented example: the code and its
// URL-safe Base64 bytes, decimals as strings, a session id counting per
// scanner.
func (s *Simulator) scanLocked(sc *scanner, code string) []byte {
	if code == "" {
		code = s.cfg.codes[s.nextCode%len(s.cfg.codes)]
		s.nextCode++
		if s.cfg.crCodes {
			code += "\r"
		}
	}
	sc.session++
	session := sc.session
	dur := 0.05 + s.rng.Float64()*1.2 // seconds
	temp := 18 + s.rng.Float64()*12.0 // °C
	return mustEncode(&proglove.Scan{
		Envelope:          s.envelopeLocked(proglove.TypeScan),
		ScanCode:          code,
		ScanBytes:         base64.URLEncoding.EncodeToString([]byte(code)),
		DeviceSerial:      sc.Serial,
		DeviceModel:       sc.Model,
		GatewaySerial:     s.cfg.gateway,
		ScanMode:          "SCAN_MODE_SINGLE",
		ScanDuration:      strconv.FormatFloat(dur, 'f', 2, 64),
		DeviceTemperature: strconv.FormatFloat(temp, 'f', 2, 64),
		ScanSessionID:     &session,
	})
}

// ConnectScanner connects a scanner to the gateway (adding it if its
// serial is new) and broadcasts its scanner_state, which it returns.
func (s *Simulator) ConnectScanner(sc Scanner) []byte {
	s.devMu.Lock()
	cur := s.lookupLocked(sc.Serial)
	if cur == nil {
		cur = &scanner{Scanner: withDefaults(sc)}
		s.scanners = append(s.scanners, cur)
	}
	cur.connected = true
	frame := mustEncode(&proglove.ScannerState{Envelope: s.envelopeLocked(proglove.TypeScannerState),
		GatewaySerial: s.cfg.gateway, ConnectedState: proglove.StateConnected, DeviceSerial: cur.Serial})
	s.devMu.Unlock()
	s.broadcast(frame)
	return frame
}

// DisconnectScanner disconnects a scanner and broadcasts its scanner_state
// (reason UNKNOWN), which it returns; nil if the serial is unknown. Its
// trigger block, if any, ends.
func (s *Simulator) DisconnectScanner(serial string) []byte {
	s.devMu.Lock()
	sc := s.lookupLocked(serial)
	if sc == nil {
		s.devMu.Unlock()
		return nil
	}
	sc.connected = false
	sc.block = nil
	frame := mustEncode(&proglove.ScannerState{Envelope: s.envelopeLocked(proglove.TypeScannerState),
		GatewaySerial: s.cfg.gateway, ConnectedState: proglove.StateDisconnected,
		DisconnectReason: proglove.DisconnectUnknown, DeviceSerial: sc.Serial})
	s.devMu.Unlock()
	s.broadcast(frame)
	return frame
}

// Connected lists the serials of the connected scanners, in configuration
// order.
func (s *Simulator) Connected() []string {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	var out []string
	for _, sc := range s.scanners {
		if sc.connected {
			out = append(out, sc.Serial)
		}
	}
	return out
}

// gatewayState is the gateway's state: its version and connected scanners,
// answering the request ref ("" for an unsolicited one).
func (s *Simulator) gatewayState(ref string) []byte {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	g := &proglove.GatewayState{Envelope: s.envelopeLocked(proglove.TypeGatewayState), ReferenceID: ref,
		GatewaySerial: s.cfg.gateway, AppVersion: s.cfg.appVersion, Devices: []proglove.Device{}}
	for _, sc := range s.scanners {
		if sc.connected {
			g.Devices = append(g.Devices, proglove.Device{Serial: sc.Serial, FirmwareVersion: sc.Firmware, Model: sc.Model, Manufacturer: sc.Manufacturer})
		}
	}
	return mustEncode(g)
}

// EmitGatewayState broadcasts an unsolicited gateway_state, as a Gateway
// does at boot, and returns it.
func (s *Simulator) EmitGatewayState() []byte {
	b := s.gatewayState("")
	s.broadcast(b)
	return b
}

// generate runs from the first client's connection until Close: a single
// click on the next connected scanner every ScanEvery (blocked triggers
// suppress the scan, as on the device).
func (s *Simulator) generate() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.scanEvery)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-t.C:
		}
		s.devMu.Lock()
		var serial string
		for range len(s.scanners) {
			sc := s.scanners[s.nextScan%len(s.scanners)]
			s.nextScan++
			if sc.connected {
				serial = sc.Serial
				break
			}
		}
		s.devMu.Unlock()
		if serial != "" {
			s.Scan(serial, "")
		}
	}
}
