package resiotsim

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

// dtLayout writes DT like the vendor's examples: seven fractional digits,
// always present, and a numeric offset ("2017-06-15T09:17:11.2072656+02:00").
const dtLayout = "2006-01-02T15:04:05.0000000-07:00"

// The wire shapes below are structs, not maps, so that keys come out in the
// order of the vendor's examples and with their JSON types.

// uplinkFrame is the shape of comm_gwalive, comm_join and comm_rx.
type uplinkFrame struct {
	CommType    string   `json:"CommType"`
	Connector   string   `json:"Connector"`
	AppEui      string   `json:"AppEui"`
	DevEui      string   `json:"DevEui"`
	Port        string   `json:"Port"`
	GatewayEUIs []string `json:"GatewayEUIs"`
	Payload     string   `json:"Payload"`
	Extra       any      `json:"Extra"`
	DT          string   `json:"DT"`
}

// noExtra encodes as {}.
type noExtra struct{}

// rxExtra is comm_rx's Extra: every value a string, keys as in the seed.
type rxExtra struct {
	ADR       string `json:"adr"`
	Channel   string `json:"channel"`
	Duplicate string `json:"duplicate"`
	Frequency string `json:"frequency"`
	ModBW     string `json:"modBW"`
	RSSI      string `json:"rssi"`
	Seqno     string `json:"seqno"`
	SF        string `json:"sf"`
	SNR       string `json:"snr"`
}

// txFrame is comm_tx: no GatewayEUIs, plus Command, Reference and
// Confirmation, and an Extra whose priority is a number.
type txFrame struct {
	CommType     string  `json:"CommType"`
	Connector    string  `json:"Connector"`
	AppEui       string  `json:"AppEui"`
	DevEui       string  `json:"DevEui"`
	Port         string  `json:"Port"`
	Payload      string  `json:"Payload"`
	Command      string  `json:"Command"`
	Reference    string  `json:"Reference"`
	Confirmation bool    `json:"Confirmation"`
	Extra        txExtra `json:"Extra"`
	DT           string  `json:"DT"`
}

type txExtra struct {
	Priority int    `json:"priority"`
	Window   string `json:"window"`
}

// encode marshals v compactly without HTML escaping. The frame types above
// cannot fail to marshal.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("resiotsim: encoding a frame: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (s *Simulator) dt() string {
	return s.cfg.now().In(s.cfg.loc).Format(dtLayout)
}

func deviceKey(d Device) string {
	return strings.ToLower(d.AppEUI) + "/" + strings.ToLower(d.DevEUI)
}

func connectorOf(d Device) string {
	if d.Connector == "" {
		return DefaultConnector
	}
	return d.Connector
}

// Emit broadcasts b verbatim as a text frame to every connected client.
// Tests use it to inject malformed or unusual frames.
func (s *Simulator) Emit(b []byte) {
	s.broadcast(append([]byte(nil), b...))
}

// EmitGatewayAlive broadcasts a comm_gwalive for gateway gw and returns the
// frame sent.
func (s *Simulator) EmitGatewayAlive(gw string) []byte {
	b := encode(uplinkFrame{
		CommType:    resiot.TypeGatewayAlive,
		Connector:   s.cfg.gatewayConnector,
		GatewayEUIs: []string{gw},
		Extra:       noExtra{},
		DT:          s.dt(),
	})
	s.broadcast(b)
	return b
}

// EmitJoin broadcasts a comm_join for dev and returns the frame sent. The
// device's uplink frame counter restarts at 0, as after a LoRaWAN join.
func (s *Simulator) EmitJoin(dev Device) []byte {
	s.genMu.Lock()
	s.fcnt[deviceKey(dev)] = 0
	s.genMu.Unlock()
	b := encode(uplinkFrame{
		CommType:    resiot.TypeJoin,
		Connector:   connectorOf(dev),
		AppEui:      dev.AppEUI,
		DevEui:      dev.DevEUI,
		GatewayEUIs: []string{},
		Extra:       noExtra{},
		DT:          s.dt(),
	})
	s.broadcast(b)
	return b
}

// EmitRx broadcasts a comm_rx from dev on port with payload and returns the
// frame sent. With radio nil, plausible radio values are generated and the
// frame counter ("seqno") is the device's next one; otherwise radio is
// written as given and the device's counter continues from radio.FCnt.
// GatewayEUIs holds the first configured gateway.
func (s *Simulator) EmitRx(dev Device, port uint8, payload []byte, radio *resiot.Radio) []byte {
	s.genMu.Lock()
	var r resiot.Radio
	if radio != nil {
		r = *radio
	} else {
		r = s.randomRadioLocked()
		r.FCnt = s.fcnt[deviceKey(dev)]
	}
	s.fcnt[deviceKey(dev)] = r.FCnt + 1
	s.genMu.Unlock()

	b := encode(uplinkFrame{
		CommType:    resiot.TypeRx,
		Connector:   connectorOf(dev),
		AppEui:      dev.AppEUI,
		DevEui:      dev.DevEUI,
		Port:        strconv.Itoa(int(port)),
		GatewayEUIs: []string{s.cfg.gateways[0]},
		Payload:     hex.EncodeToString(payload),
		Extra: rxExtra{
			ADR:       strconv.FormatBool(r.ADR),
			Channel:   strconv.Itoa(r.Channel),
			Duplicate: strconv.FormatBool(r.Duplicate),
			Frequency: formatFloat(r.FrequencyMHz),
			ModBW:     formatFloat(r.BandwidthKHz),
			RSSI:      formatFloat(r.RSSI),
			Seqno:     strconv.FormatUint(uint64(r.FCnt), 10),
			SF:        strconv.Itoa(int(r.SF)),
			SNR:       formatFloat(r.SNR),
		},
		DT: s.dt(),
	})
	s.broadcast(b)
	return b
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// eu868 are the default EU868 uplink channels; the seed's 867.3 MHz is
// channel 4.
var eu868 = [...]float64{868.1, 868.3, 868.5, 867.1, 867.3, 867.5, 867.7, 867.9}

func (s *Simulator) randomRadioLocked() resiot.Radio {
	ch := s.rng.IntN(len(eu868))
	return resiot.Radio{
		RSSI:         float64(-120 + s.rng.IntN(100)), // -120..-21 dBm
		SNR:          float64(-20+s.rng.IntN(53)) / 2, // -10..16 dB in 0.5 steps
		SF:           uint8(7 + s.rng.IntN(6)),        // SF7..SF12
		FrequencyMHz: eu868[ch],
		BandwidthKHz: 125,
		Channel:      ch,
		ADR:          true,
	}
}

// samplePayload is a plausible sensor reading: the low 16 bits of the
// frame counter, the temperature in 0.01 °C (int16) and the relative
// humidity in % (uint8), all big-endian.
func (s *Simulator) samplePayloadLocked(fcnt uint32) []byte {
	temp := int16(1500 + s.rng.IntN(1500)) // 15.00..29.99 °C
	hum := uint8(30 + s.rng.IntN(50))
	b := binary.BigEndian.AppendUint16(nil, uint16(fcnt))
	b = binary.BigEndian.AppendUint16(b, uint16(temp))
	return append(b, hum)
}

// emitNextUplink sends a generated comm_rx for the next device in turn.
func (s *Simulator) emitNextUplink() {
	s.genMu.Lock()
	dev := s.cfg.devices[s.nextDev%len(s.cfg.devices)]
	s.nextDev++
	payload := s.samplePayloadLocked(s.fcnt[deviceKey(dev)])
	s.genMu.Unlock()
	s.EmitRx(dev, s.cfg.uplinkPort, payload, nil)
}

// generate runs from the first client's connection until Close: joins
// first when configured, then gateway heartbeats and uplinks on their
// tickers. Messages go to whoever is connected at the time.
func (s *Simulator) generate() {
	defer s.wg.Done()
	if s.cfg.joinOnStart {
		for _, d := range s.cfg.devices {
			s.EmitJoin(d)
		}
	}
	var aliveC, uplinkC <-chan time.Time
	if s.cfg.gwAliveEvery > 0 {
		t := time.NewTicker(s.cfg.gwAliveEvery)
		defer t.Stop()
		aliveC = t.C
	}
	if s.cfg.uplinkEvery > 0 {
		t := time.NewTicker(s.cfg.uplinkEvery)
		defer t.Stop()
		uplinkC = t.C
	}
	for {
		select {
		case <-s.life.Done():
			return
		case <-aliveC:
			for _, gw := range s.cfg.gateways {
				s.EmitGatewayAlive(gw)
			}
		case <-uplinkC:
			s.emitNextUplink()
		}
	}
}
