package resiotsim

import (
	"time"
)

// Defaults, taken from the vendor's examples (seed 002).
const (
	DefaultAppEUI            = "006c3b194374ac7f"
	DefaultDevEUI            = "0732227a557d8679"
	DefaultConnector         = "636f6e313332" // connector of the seed's device communications
	DefaultGateway           = "218000AC0000a05f"
	DefaultGatewayConnector  = "69643d3139" // connector of the seed's comm_gwalive
	DefaultGatewayAliveEvery = 30 * time.Second
	DefaultUplinkEvery       = 5 * time.Second
	DefaultUplinkPort        = 128
	DefaultPath              = "/"
)

// DefaultZone is the zone DT is written in unless Config.Location is set:
// the fixed +02:00 offset of every example on the vendor's page.
var DefaultZone = time.FixedZone("+02:00", 2*60*60)

// Device is an end device the simulated application server knows.
type Device struct {
	AppEUI string
	DevEUI string
	// Connector is the hex connector ID its communications arrive on;
	// "" means DefaultConnector.
	Connector string
}

// Config configures a Simulator. A nil *Config, and every zero field, mean
// the default given in the field's comment.
type Config struct {
	// Devices are the known devices: uplinks are generated for them and TX
	// commands must name one. Default: the seed's device (DefaultAppEUI,
	// DefaultDevEUI, DefaultConnector).
	Devices []Device
	// Gateways are the gateway EUIs that send comm_gwalive and hear the
	// generated uplinks. Default: [DefaultGateway].
	Gateways []string
	// GatewayConnector is the Connector of comm_gwalive frames.
	// Default: DefaultGatewayConnector.
	GatewayConnector string
	// GatewayAliveEvery is the period of comm_gwalive, one per gateway per
	// period. Default 30s; negative disables it.
	GatewayAliveEvery time.Duration
	// UplinkEvery is the period of generated comm_rx, one device per
	// period, round-robin. Default 5s; negative disables it.
	UplinkEvery time.Duration
	// UplinkPort is the FPort of generated uplinks. Default 128 (the seed's).
	UplinkPort uint8
	// JoinOnStart makes every device send a comm_join when the generator
	// starts, which is when the first client connects (so it is not lost).
	JoinOnStart bool
	// DisableCommTx turns off the comm_tx broadcast that otherwise follows
	// every accepted TX command (as the platform logs the downlink).
	DisableCommTx bool
	// Path is the URL path Start serves the socket on. Default "/". It does
	// not apply to ServeHTTP, which serves whatever it is mounted on.
	Path string
	// Seed seeds the generator of radio values and payloads: the same seed
	// gives the same sequence. Default 0 (itself a fixed seed).
	Seed uint64
	// Now is the clock for DT. Default time.Now.
	Now func() time.Time
	// Location is the zone DT is written in. Default DefaultZone (+02:00).
	Location *time.Location
}

// settings is Config with the defaults applied.
type settings struct {
	devices          []Device
	gateways         []string
	gatewayConnector string
	gwAliveEvery     time.Duration
	uplinkEvery      time.Duration
	uplinkPort       uint8
	joinOnStart      bool
	commTx           bool
	path             string
	seed             uint64
	now              func() time.Time
	loc              *time.Location
}

func resolve(cfg *Config) settings {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	s := settings{
		devices:          append([]Device(nil), c.Devices...),
		gateways:         append([]string(nil), c.Gateways...),
		gatewayConnector: c.GatewayConnector,
		gwAliveEvery:     c.GatewayAliveEvery,
		uplinkEvery:      c.UplinkEvery,
		uplinkPort:       c.UplinkPort,
		joinOnStart:      c.JoinOnStart,
		commTx:           !c.DisableCommTx,
		path:             c.Path,
		seed:             c.Seed,
		now:              c.Now,
		loc:              c.Location,
	}
	if len(s.devices) == 0 {
		s.devices = []Device{{AppEUI: DefaultAppEUI, DevEUI: DefaultDevEUI}}
	}
	for i := range s.devices {
		if s.devices[i].Connector == "" {
			s.devices[i].Connector = DefaultConnector
		}
	}
	if len(s.gateways) == 0 {
		s.gateways = []string{DefaultGateway}
	}
	if s.gatewayConnector == "" {
		s.gatewayConnector = DefaultGatewayConnector
	}
	if s.gwAliveEvery == 0 {
		s.gwAliveEvery = DefaultGatewayAliveEvery
	}
	if s.uplinkEvery == 0 {
		s.uplinkEvery = DefaultUplinkEvery
	}
	if s.uplinkPort == 0 {
		s.uplinkPort = DefaultUplinkPort
	}
	if s.path == "" {
		s.path = DefaultPath
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = DefaultZone
	}
	return s
}
