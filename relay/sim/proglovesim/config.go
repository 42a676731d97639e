package proglovesim

import (
	"time"
)

// Defaults, taken from the Streams API examples (upstreams/PROTOCOLS.md §1).
const (
	// DefaultAddr is where Start listens when given "": the app's
	// predefined port, on loopback.
	DefaultAddr          = "127.0.0.1:9998"
	DefaultGateway       = "PGGW000000058"
	DefaultAppVersion    = "v1.5.0"
	DefaultFirmware      = "v1.2.0"
	DefaultManufacturer  = "Workaround GmbH"
	DefaultDisplaySerial = "MDMR000000064" // the scan and display examples' scanner
	DefaultMarkSerial    = "M2MR111100928" // the feedback and trigger_block examples' scanner
	DefaultScanEvery     = 5 * time.Second
	DefaultPath          = "/"
)

// DefaultCodes are the barcodes generated scans cycle through.
var DefaultCodes = []string{"Hello, World!", "4006381333931", "PGAS10603924", "R15-ENGINE-12"}

// Scanner is a simulated scanner paired with the gateway.
type Scanner struct {
	Serial string
	// Model is the device_model: LEO, MARK Basic, MARK 2, MARK 3, MARK
	// Display or MAI. Default "MARK Display" when Display is set, else
	// "MARK 2".
	Model        string
	Firmware     string // default DefaultFirmware
	Manufacturer string // default DefaultManufacturer
	// Display makes it accept display! commands; without one the
	// simulator answers them with ERROR_UNKNOWN, as the gateway does.
	Display bool
	// Disconnected starts it disconnected (ConnectScanner connects it).
	Disconnected bool
}

// Config configures a Simulator. A nil *Config, and every zero field, mean
// the default given in the field's comment.
type Config struct {
	// Gateway is the gateway_serial (the phone running Insight Mobile).
	// Default DefaultGateway.
	Gateway string
	// AppVersion is the gateway_app_version. Default DefaultAppVersion.
	AppVersion string
	// Scanners are the scanners paired with the gateway. Default: the
	// examples' two, DefaultDisplaySerial (a MARK Display) and
	// DefaultMarkSerial (a MARK 2), both connected.
	Scanners []Scanner
	// ScanEvery is the period of generated scans, one connected scanner
	// per period, round-robin, each a single click (so a trigger block
	// suppresses it). Default 5s; negative disables them.
	ScanEvery time.Duration
	// Codes are the barcodes generated scans cycle through. Default
	// DefaultCodes.
	Codes []string
	// CRTerminatedCodes ends every generated scan_code with "\r", as some
	// gateways do (the vendor's reference app strips it).
	CRTerminatedCodes bool
	// AnnounceGateway sends a gateway_state (with no event_reference_id)
	// to each client when it connects, as Gateways do at boot. Off by
	// default: it is not documented for Insight Mobile.
	AnnounceGateway bool
	// Path is the URL path Start serves the socket on. Default "/". It does
	// not apply to ServeHTTP, which serves whatever it is mounted on.
	Path string
	// Seed seeds the generator of event ids and scan values: the same seed
	// gives the same sequence. Default 0 (itself a fixed seed).
	Seed uint64
	// Now is the clock for time_created and trigger block expiry. Default
	// time.Now.
	Now func() time.Time
}

// settings is Config with the defaults applied.
type settings struct {
	gateway         string
	appVersion      string
	scanners        []Scanner
	scanEvery       time.Duration
	codes           []string
	crCodes         bool
	announceGateway bool
	path            string
	seed            uint64
	now             func() time.Time
}

func resolve(cfg *Config) settings {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	s := settings{
		gateway:         c.Gateway,
		appVersion:      c.AppVersion,
		scanners:        append([]Scanner(nil), c.Scanners...),
		scanEvery:       c.ScanEvery,
		codes:           append([]string(nil), c.Codes...),
		crCodes:         c.CRTerminatedCodes,
		announceGateway: c.AnnounceGateway,
		path:            c.Path,
		seed:            c.Seed,
		now:             c.Now,
	}
	if s.gateway == "" {
		s.gateway = DefaultGateway
	}
	if s.appVersion == "" {
		s.appVersion = DefaultAppVersion
	}
	if len(s.scanners) == 0 {
		s.scanners = []Scanner{
			{Serial: DefaultDisplaySerial, Display: true},
			{Serial: DefaultMarkSerial},
		}
	}
	for i := range s.scanners {
		s.scanners[i] = withDefaults(s.scanners[i])
	}
	if s.scanEvery == 0 {
		s.scanEvery = DefaultScanEvery
	}
	if len(s.codes) == 0 {
		s.codes = DefaultCodes
	}
	if s.path == "" {
		s.path = DefaultPath
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func withDefaults(sc Scanner) Scanner {
	if sc.Model == "" {
		sc.Model = "MARK 2"
		if sc.Display {
			sc.Model = "MARK Display"
		}
	}
	if sc.Firmware == "" {
		sc.Firmware = DefaultFirmware
	}
	if sc.Manufacturer == "" {
		sc.Manufacturer = DefaultManufacturer
	}
	return sc
}
