package event

// Events of the ProGlove Insight live-data feed (the cloud WebSocket,
// proto/proglovecloud). Scans share their channel, scanner/<serial>/scan,
// with the Insight Mobile scans of scanner.go, under a kind of their own
// whose common fields carry the same names (serial, code, symbology,
// duration, model), so a page can show both alike.

//go:generate go tool msgp -io=false -file cloudscan.go -o cloudscan_gen.go

//msgp:limit arrays:1024 maps:256

// Insight live-data event kinds.
const (
	// KindCloudScan is a scan from the Insight cloud feed, on
	// CloudScanChannel(serial).
	KindCloudScan = "scanner.cloud_scan"
	// KindCloudEvent passes through a cloud feed event of a type other
	// than "scan", on CloudOtherChannel(serial).
	KindCloudEvent = "scanner.cloud_event"
)

// CloudScan is one scan from the Insight live-data feed. Every key of the
// vendor's scan has a field; Meta.ID is its event_id, Meta.Time its
// time_created. Times are Unix µs (the vendor's milliseconds × 1000).
type CloudScan struct {
	Meta      Meta          `msg:"m" json:"meta"`
	Serial    string        `msg:"dev" json:"serial"`                // device_serial, as sent
	Code      string        `msg:"code" json:"code"`                 // scan_code
	Symbology string        `msg:"sym" json:"symbology"`             // scan_decode_symbology ("CODE 128")
	Duration  float64       `msg:"dur" json:"duration"`              // scan_duration, seconds
	Model     string        `msg:"model" json:"model"`               // device_model ("Mark")
	Maker     string        `msg:"mfr" json:"manufacturer"`          // device_manufacturer
	Firmware  string        `msg:"fw" json:"firmware"`               // device_firmware
	Battery   float64       `msg:"bat" json:"battery"`               // device_battery, % (0 when not sent)
	Type      string        `msg:"type" json:"type"`                 // event_type: "scan"
	API       string        `msg:"api" json:"apiVersion"`            // api_version ("0.5")
	Created   int64         `msg:"tc" json:"timeCreated"`            // time_created, Unix µs
	Received  int64         `msg:"trcv" json:"timeReceived"`         // time_received, Unix µs
	GatewayID string        `msg:"gwid" json:"gatewayId"`            // gateway_id (a UUID)
	GwName    string        `msg:"gwname" json:"gatewayName"`        // customer_gateway_name
	GwUsecase string        `msg:"gwuse" json:"gatewayUsecase"`      // customer_gateway_usecase
	GwStation string        `msg:"gwst" json:"gatewayStation"`       // customer_gateway_station
	GwFw      string        `msg:"gwfw" json:"gatewayFirmware"`      // gateway_firmware
	GwMaker   string        `msg:"gwmfr" json:"gatewayManufacturer"` // gateway_manufacturer
	GwModel   string        `msg:"gwmodel" json:"gatewayModel"`      // gateway_model
	GwType    string        `msg:"gwtype" json:"gatewayType"`        // gateway_type ("mobile")
	ConfigID  string        `msg:"cfg" json:"configurationId"`       // configuration_id
	ProfileID string        `msg:"prof" json:"profileId"`            // configuration_profile_id
	Revision  int64         `msg:"rev" json:"profileRevision"`       // configuration_profile_revision
	ConfigTag string        `msg:"ctag" json:"configurationTag"`     // configuration_tag
	Steps     int64         `msg:"steps" json:"workerSteps"`         // metrics_worker_steps
	Metrics   []CloudMetric `msg:"mx" json:"metrics"`                // metrics
	// Extra holds keys the vendor added that fieldrelay does not know:
	// strings as sent, other values as compact JSON.
	Extra map[string]string `msg:"x,omitempty" json:"extra,omitempty"`
}

// CloudMetric is one item of a cloud scan's metrics, such as
// {bce_duration, scalars, ms, [270]}.
type CloudMetric struct {
	Name   string    `msg:"n" json:"name"`   // metric_name
	Type   string    `msg:"t" json:"type"`   // metric_type
	Unit   string    `msg:"u" json:"unit"`   // metric_unit
	Values []float64 `msg:"v" json:"values"` // values
	// Extra holds the item's other keys, and "values" when they were not
	// numbers (as compact JSON).
	Extra map[string]string `msg:"x,omitempty" json:"extra,omitempty"`
}

// CloudEvent passes through a live-data event whose event_type fieldrelay
// does not normalise; Meta.Raw has it whole.
type CloudEvent struct {
	Meta      Meta   `msg:"m" json:"meta"`
	Type      string `msg:"type" json:"type"` // event_type
	Serial    string `msg:"dev,omitempty" json:"serial,omitempty"`
	GatewayID string `msg:"gwid,omitempty" json:"gatewayId,omitempty"`
}

func (*CloudScan) Kind() string  { return KindCloudScan }
func (*CloudEvent) Kind() string { return KindCloudEvent }

func (e *CloudScan) Header() *Meta  { return &e.Meta }
func (e *CloudEvent) Header() *Meta { return &e.Meta }

func init() {
	register(KindCloudScan, false, func() Event { return new(CloudScan) })
	register(KindCloudEvent, false, func() Event { return new(CloudEvent) })
}

// CloudScanChannel is scanner/<serial>/scan, the channel of a scanner's
// scans whatever their source.
func CloudScanChannel(serial string) string { return "scanner/" + level(serial) + "/scan" }

// CloudOtherChannel is scanner/<serial>/other, for events passed through.
// An event without a device serial goes to scanner/_/other.
func CloudOtherChannel(serial string) string { return "scanner/" + level(serial) + "/other" }
