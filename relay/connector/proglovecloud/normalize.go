package proglovecloud

import (
	"errors"
	"fmt"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	insight "github.com/fieldrelay/fieldrelay/proto/proglovecloud"
)

// Protocol is the value of Meta.Protocol on this connector's events.
const Protocol = "proglovecloud"

// ErrLimits: a message that decodes but holds more metrics, values or
// unknown keys than an event may carry (the browser protocol's msgpack
// limits: 1024 array items, 256 map entries). Counted as "limit".
var ErrLimits = errors.New("proglovecloud: message exceeds the event limits")

const (
	maxItems   = 1024 // arrays
	maxEntries = 256  // maps
)

// Out is one normalised event and the channel it is published on.
type Out struct {
	Channel string
	Event   event.Event
}

// Normalize turns a live-data message into a fieldrelay event: a scan into
// an event.CloudScan on scanner/<device_serial>/scan, any other event_type
// into an event.CloudEvent on scanner/<device_serial>/other. Meta.ID is
// the event_id, Meta.Time the time_created (µs), Meta.Raw the message.
func Normalize(e *insight.Event, link string, received time.Time) ([]Out, error) {
	meta := event.Meta{Link: link, Protocol: Protocol, ID: e.EventID, Time: e.TimeCreated * 1000, Received: received.UnixMicro(), Raw: e.Raw}
	if !e.IsScan() {
		o := &event.CloudEvent{Meta: meta, Type: e.EventType, Serial: e.DeviceSerial, GatewayID: e.GatewayID}
		return []Out{{event.CloudOtherChannel(e.DeviceSerial), o}}, nil
	}
	if err := fits(e); err != nil {
		return nil, err
	}
	s := &event.CloudScan{
		Meta: meta, Serial: e.DeviceSerial, Code: e.ScanCode, Symbology: e.ScanDecodeSymbology,
		Duration: e.ScanDuration, Model: e.DeviceModel, Maker: e.DeviceManufacturer, Firmware: e.DeviceFirmware,
		Battery: e.DeviceBattery, Type: e.EventType, API: e.APIVersion,
		Created: e.TimeCreated * 1000, Received: e.TimeReceived * 1000,
		GatewayID: e.GatewayID, GwName: e.CustomerGatewayName, GwUsecase: e.CustomerGatewayUsecase,
		GwStation: e.CustomerGatewayStation, GwFw: e.GatewayFirmware, GwMaker: e.GatewayManufacturer,
		GwModel: e.GatewayModel, GwType: e.GatewayType, ConfigID: e.ConfigurationID,
		ProfileID: e.ConfigurationProfileID, Revision: e.ConfigurationProfileRevision,
		ConfigTag: e.ConfigurationTag, Steps: e.MetricsWorkerSteps, Extra: e.Extra,
	}
	if len(e.Metrics) > 0 {
		s.Metrics = make([]event.CloudMetric, len(e.Metrics))
		for i, m := range e.Metrics {
			s.Metrics[i] = event.CloudMetric{Name: m.Name, Type: m.Type, Unit: m.Unit, Values: m.Values, Extra: m.Extra}
		}
	}
	return []Out{{event.CloudScanChannel(e.DeviceSerial), s}}, nil
}

// fits checks the msgpack limits every client applies when decoding.
func fits(e *insight.Event) error {
	if len(e.Metrics) > maxItems || len(e.Extra) > maxEntries {
		return fmt.Errorf("%w: %d metrics, %d unknown keys", ErrLimits, len(e.Metrics), len(e.Extra))
	}
	for i, m := range e.Metrics {
		if len(m.Values) > maxItems || len(m.Extra) > maxEntries {
			return fmt.Errorf("%w: metrics[%d] has %d values, %d unknown keys", ErrLimits, i, len(m.Values), len(m.Extra))
		}
	}
	return nil
}
