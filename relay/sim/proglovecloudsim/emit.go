package proglovecloudsim

import (
	"fmt"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/proglovecloud"
	"github.com/google/uuid"
)

// symbologies the generator cycles through; "CODE 128" is the seed's.
var symbologies = [...]string{"CODE 128", "EAN 13", "QR CODE", "DATA MATRIX", "CODE 39"}

// Emit broadcasts b verbatim as a text frame to every connected client and
// records it (Sent). Tests use it to inject malformed or oversize frames.
func (s *Simulator) Emit(b []byte) {
	s.broadcast(append([]byte(nil), b...))
}

// EmitScan broadcasts e, encoded in the vendor's shape, and returns the
// frame sent. An empty EventID gets a fresh UUID, a zero TimeCreated or
// TimeReceived the simulator's clock.
func (s *Simulator) EmitScan(e *proglovecloud.Event) ([]byte, error) {
	c := *e
	if c.EventID == "" {
		c.EventID = uuid.NewString()
	}
	now := s.cfg.Now().UnixMilli()
	if c.TimeCreated == 0 {
		c.TimeCreated = now
	}
	if c.TimeReceived == 0 {
		c.TimeReceived = now
	}
	b, err := proglovecloud.Encode(&c)
	if err != nil {
		return nil, fmt.Errorf("proglovecloudsim: encoding a scan: %w", err)
	}
	s.broadcast(b)
	return b, nil
}

// NewScan returns a plausible scan by dev, shaped like the seed's: a fresh
// event id, the clock's time, a generated code and symbology, and a
// bce_duration metric (ms) matching scan_duration (s). It sends nothing.
func (s *Simulator) NewScan(dev Device) *proglovecloud.Event {
	s.genMu.Lock()
	code := fmt.Sprintf("PGAS%08d", s.rng.IntN(100_000_000))
	sym := symbologies[s.rng.IntN(len(symbologies))]
	ms := 150 + s.rng.IntN(250)
	steps := 1 + s.rng.IntN(5)
	battery := 20 + s.rng.IntN(81)
	s.genMu.Unlock()
	now := s.cfg.Now().UnixMilli()
	return &proglovecloud.Event{
		APIVersion:                   "0.5",
		TimeCreated:                  now,
		CustomerGatewayName:          "Proglove Gateway",
		CustomerGatewayUsecase:       "Logistics",
		CustomerGatewayStation:       "Logistics",
		DeviceSerial:                 dev.Serial,
		DeviceModel:                  dev.Model,
		DeviceManufacturer:           dev.Manufacturer,
		DeviceFirmware:               dev.Firmware,
		DeviceBattery:                float64(battery),
		EventType:                    proglovecloud.TypeScan,
		ScanCode:                     code,
		ScanDecodeSymbology:          sym,
		EventID:                      uuid.NewString(),
		TimeReceived:                 now,
		GatewayID:                    "36f00d2a-33a4-43ed-ba8e-2827f0c0ef08",
		ConfigurationID:              "ConfigurationId",
		ConfigurationProfileID:       "profile0",
		ConfigurationProfileRevision: 2,
		ConfigurationTag:             "5c0a65a07b5e15df",
		GatewayFirmware:              "9",
		GatewayManufacturer:          "samsung",
		GatewayModel:                 "SM-J530F",
		GatewayType:                  "mobile",
		Metrics:                      []proglovecloud.Metric{{Name: "bce_duration", Type: "scalars", Unit: "ms", Values: []float64{float64(ms)}}},
		MetricsWorkerSteps:           int64(steps),
		ScanDuration:                 float64(ms) / 1000,
	}
}

// generate sends a scan every ScanEvery, round-robin over the devices,
// from the first client's connection until Close.
func (s *Simulator) generate() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.ScanEvery)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-t.C:
			s.genMu.Lock()
			dev := s.cfg.Devices[s.nextDev%len(s.cfg.Devices)]
			s.nextDev++
			s.genMu.Unlock()
			_, _ = s.EmitScan(s.NewScan(dev))
		}
	}
}
