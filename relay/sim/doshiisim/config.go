package doshiisim

import (
	"time"

	"github.com/fieldrelay/fieldrelay/proto/doshii"
)

// Defaults. The location ids are those of the help pages' examples.
const (
	DefaultClientID         = "fieldrelay-dev-client"
	DefaultDeviceID         = "fieldrelay-dev-device"
	DefaultLocationID       = "aH43yx2"
	DefaultMappedLocationID = "1354"
	DefaultVersion          = "3.2.0" // the server version in the pong example
	DefaultBaseURI          = "https://sandbox.doshii.co"
	DefaultIdleTimeout      = 90 * time.Second
	DefaultEventEvery       = 10 * time.Second
)

// Client is a partner app the simulated platform knows: its socket auth is
// base64 of ID.
type Client struct {
	ID string
	// Devices are the devices registered for the client. A connection
	// with ?deviceId= must name one of them.
	Devices []Device
}

// Device is a registered device. Its filter criteria are locations: a
// connection with its deviceId receives only events whose payload's
// locationId is one of Locations (events without a locationId included
// in none), and no event at all if Locations is empty.
type Device struct {
	ID        string
	Locations []string
}

// Location is a venue events are generated for.
type Location struct {
	ID       string // Doshii's id ("locationId")
	MappedID string // the POS's id for it ("mappedLocationId")
}

// Config configures a Simulator. A nil *Config, and every zero field, mean
// the default given in the field's comment.
type Config struct {
	// Clients are the known partner apps. Default: one, DefaultClientID,
	// with one device, DefaultDeviceID, filtered to DefaultLocationID.
	Clients []Client
	// Locations events are generated for, round-robin. Default: one,
	// DefaultLocationID mapped to DefaultMappedLocationID.
	Locations []Location
	// Envelope events are pushed in. Default doshii.EnvelopeEmit, the
	// SDK's shape.
	Envelope doshii.Envelope
	// EnvelopeFor overrides Envelope per event name.
	EnvelopeFor map[string]doshii.Envelope
	// PongEnvelope is the shape of pongs and server pings. Default
	// doshii.EnvelopeType ({"type":"message","data":{"doshii":…}}, as
	// documented); doshii.EnvelopeBare gives the SDK mock's {"doshii":…}.
	PongEnvelope doshii.Envelope
	// Version is the server version in pongs and pings. Default "3.2.0".
	Version string
	// IdleTimeout drops (closes with 1008) a client that has sent no ping
	// for this long. Default 90s; negative disables it.
	IdleTimeout time.Duration
	// ServerPingEvery sends every client a server ping at this period.
	// Zero (the default) sends none; see also SendPing.
	ServerPingEvery time.Duration
	// HealthCheckEvery sends every client {"event":"health_check",…} at
	// this period. Zero (the default) sends none; see SendHealthCheck.
	HealthCheckEvery time.Duration
	// EventEvery is the period of generated order and transaction events,
	// round-robin over Locations. Default 10s; negative disables them.
	EventEvery time.Duration
	// BaseURI prefixes the REST uri of generated events. Default
	// "https://sandbox.doshii.co".
	BaseURI string
	// Now is the clock for server ping times. Default time.Now.
	Now func() time.Time
}

// settings is Config with the defaults applied.
type settings struct {
	clients      map[string]Client // by id
	locations    []Location
	envelope     doshii.Envelope
	envelopeFor  map[string]doshii.Envelope
	pongEnvelope doshii.Envelope
	version      string
	idle         time.Duration
	pingEvery    time.Duration
	healthEvery  time.Duration
	eventEvery   time.Duration
	baseURI      string
	now          func() time.Time
}

func resolve(cfg *Config) settings {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	s := settings{
		clients:      make(map[string]Client),
		locations:    append([]Location(nil), c.Locations...),
		envelope:     c.Envelope,
		envelopeFor:  make(map[string]doshii.Envelope, len(c.EnvelopeFor)),
		pongEnvelope: c.PongEnvelope,
		version:      c.Version,
		idle:         c.IdleTimeout,
		pingEvery:    c.ServerPingEvery,
		healthEvery:  c.HealthCheckEvery,
		eventEvery:   c.EventEvery,
		baseURI:      c.BaseURI,
		now:          c.Now,
	}
	clients := c.Clients
	if len(clients) == 0 {
		clients = []Client{{ID: DefaultClientID, Devices: []Device{{ID: DefaultDeviceID, Locations: []string{DefaultLocationID}}}}}
	}
	for _, cl := range clients {
		cl.Devices = append([]Device(nil), cl.Devices...)
		s.clients[cl.ID] = cl
	}
	if len(s.locations) == 0 {
		s.locations = []Location{{ID: DefaultLocationID, MappedID: DefaultMappedLocationID}}
	}
	for k, v := range c.EnvelopeFor {
		s.envelopeFor[k] = v
	}
	if s.envelope == 0 {
		s.envelope = doshii.EnvelopeEmit
	}
	if s.pongEnvelope == 0 {
		s.pongEnvelope = doshii.EnvelopeType
	}
	if s.version == "" {
		s.version = DefaultVersion
	}
	if s.idle == 0 {
		s.idle = DefaultIdleTimeout
	}
	if s.eventEvery == 0 {
		s.eventEvery = DefaultEventEvery
	}
	if s.baseURI == "" {
		s.baseURI = DefaultBaseURI
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}
