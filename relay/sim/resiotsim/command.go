package resiotsim

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

// Details of the Fail replies. The vendor documents the reply's shape but
// not its texts; these are the simulator's own.
const (
	DetailMalformedJSON   = "malformed json"
	DetailUnknownFunction = "unknown function"
	DetailMissingAppEUI   = "missing AppEui"
	DetailMissingDevEUI   = "missing DevEUI"
	DetailDeviceNotFound  = "device not found"
	DetailMissingPort     = "missing Port"
	DetailInvalidPort     = "invalid Port: must be 1..223"
	DetailBadHex          = "payload is not valid hex"
	// DetailInvalidField prefixes the name of a field of the wrong JSON
	// type, as in "invalid field Raw".
	DetailInvalidField = "invalid field "
)

// LoRaWAN application ports; 0 carries MAC commands and 224 is the test
// port, neither of which a downlink request may use.
const (
	minAppPort = 1
	maxAppPort = 223
)

// handleCommand answers one frame from client c and, on success, logs the
// downlink to every client as comm_tx.
func (s *Simulator) handleCommand(c *client, data []byte) {
	tx, err := resiot.DecodeTX(data)
	reply, dev := s.check(tx, err)
	if reply.OK() {
		s.mu.Lock()
		s.received = append(s.received, tx)
		s.mu.Unlock()
	}
	b, err := resiot.EncodeReply(reply)
	if err != nil {
		return // a Reply of strings always encodes
	}
	c.enqueue(b)
	if reply.OK() && s.cfg.commTx {
		s.broadcast(s.commTx(dev, tx))
	}
}

// check validates a decoded command and returns the reply and, on success,
// the device it names.
func (s *Simulator) check(tx resiot.TX, decodeErr error) (resiot.Reply, Device) {
	fail := func(details string) (resiot.Reply, Device) {
		return resiot.Reply{Result: resiot.ResultFail, Details: details, Reference: tx.Reference}, Device{}
	}
	if decodeErr != nil {
		if errors.Is(decodeErr, resiot.ErrMalformedJSON) {
			return fail(DetailMalformedJSON) // tx is zero: no Reference to echo
		}
		if errors.Is(decodeErr, resiot.ErrBadPort) {
			return fail(DetailInvalidPort)
		}
		var fe *resiot.FieldError
		if errors.As(decodeErr, &fe) {
			return fail(DetailInvalidField + fe.Field)
		}
		return fail(DetailMalformedJSON)
	}
	if tx.Function != resiot.FunctionTX {
		return fail(DetailUnknownFunction)
	}
	if tx.AppEUI == "" {
		return fail(DetailMissingAppEUI)
	}
	if tx.DevEUI == "" {
		return fail(DetailMissingDevEUI)
	}
	dev, ok := s.lookup(tx.AppEUI, tx.DevEUI)
	if !ok {
		return fail(DetailDeviceNotFound)
	}
	if !tx.HasPort {
		return fail(DetailMissingPort)
	}
	if tx.Port < minAppPort || tx.Port > maxAppPort {
		return fail(DetailInvalidPort)
	}
	if !tx.Raw {
		if _, err := hex.DecodeString(tx.Payload); err != nil {
			return fail(DetailBadHex)
		}
	}
	return resiot.Reply{Result: resiot.ResultSuccess, Reference: tx.Reference}, dev
}

// lookup finds a configured device; EUIs are hex, so case does not matter.
func (s *Simulator) lookup(appEUI, devEUI string) (Device, bool) {
	for _, d := range s.cfg.devices {
		if strings.EqualFold(d.AppEUI, appEUI) && strings.EqualFold(d.DevEUI, devEUI) {
			return d, true
		}
	}
	return Device{}, false
}

// commTx is the platform's log of an accepted downlink, shaped like the
// seed's comm_tx. The payload is written as lowercase hex of the bytes sent
// (a Raw payload's text is hex encoded).
func (s *Simulator) commTx(dev Device, tx resiot.TX) []byte {
	payload := []byte(tx.Payload)
	if !tx.Raw {
		payload, _ = hex.DecodeString(tx.Payload) // validated by check
	}
	connector := tx.Connector
	if connector == "" {
		connector = connectorOf(dev)
	}
	return encode(txFrame{
		CommType:     resiot.TypeTx,
		Connector:    connector,
		AppEui:       dev.AppEUI,
		DevEui:       dev.DevEUI,
		Port:         strconv.Itoa(int(tx.Port)),
		Payload:      hex.EncodeToString(payload),
		Command:      tx.WSCommand,
		Reference:    tx.Reference,
		Confirmation: tx.Confirm,
		Extra:        txExtra{Priority: 0, Window: "BOTH"},
		DT:           s.dt(),
	})
}
