package navixysim

import (
	"time"

	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

// Defaults.
const (
	DefaultLogin             = "demo"
	DefaultPassword          = "demo"
	DefaultAPIPrefix         = "/v2"
	DefaultHeartbeatInterval = 30 * time.Second // announced in the handshake, as the vendor does
	DefaultServerHeartbeat   = 60 * time.Second // Atmosphere's default
	DefaultMoveEvery         = 5 * time.Second
	DefaultMaxMessage        = 64 << 10
)

// Tracker is a tracker the simulated account owns.
type Tracker struct {
	ID       int64 // tracker id (what subscriptions name)
	SourceID int64 // source id (what state events carry)
	Label    string
	// Status is the tracker's subscription status: navixy.TrackerNormal
	// (default), navixy.TrackerBlocked or navixy.TrackerDisallowed.
	Status   string
	Lat, Lng float64
	Heading  float64
	Alt      float64
	DeviceID string
	Model    string
}

// DefaultTrackers are the vendor samples' trackers: 15564 (source 10284,
// at the state sample's position) and 15565 (source 10285, blocked).
// Subscribing to 15568, as the samples do, gives "unknown".
var DefaultTrackers = []Tracker{
	{ID: 15564, SourceID: 10284, Label: "Truck 1", Lat: 14.330065796228606, Lng: -90.99037259141691, Heading: 248, Alt: 431,
		DeviceID: "356173068105960", Model: "telfmb120"},
	{ID: 15565, SourceID: 10285, Label: "Van 2", Status: navixy.TrackerBlocked, Lat: 14.6349, Lng: -90.5069, Alt: 1500,
		DeviceID: "356173068105961", Model: "telfmb120"},
}

// User is an account that can log in.
type User struct {
	Login, Password string
	// NotActivated makes user/auth answer 103 "User not activated".
	NotActivated bool
}

// Config configures a Simulator. A nil *Config, and every zero field, mean
// the default given in the field's comment.
type Config struct {
	// Users who can log in. Default: DefaultLogin / DefaultPassword.
	Users []User
	// Trackers of the account. Default: DefaultTrackers.
	Trackers []Tracker
	// APIPrefix is the path of the API base. Default "/v2".
	APIPrefix string
	// HeartbeatInterval is the client heartbeat interval announced in the
	// handshake. Default 30 s.
	HeartbeatInterval time.Duration
	// ServerHeartbeat is how often the server sends "X". Default 60 s;
	// negative disables it.
	ServerHeartbeat time.Duration
	// ClientTimeout drops a socket that sends no "X" for this long.
	// Default 3 × HeartbeatInterval; negative disables it.
	ClientTimeout time.Duration
	// TrackMessageSize prefixes every frame with its length, as if every
	// client had asked for it.
	TrackMessageSize bool
	// MoveEvery moves every normal tracker a little, one after the other,
	// this often, once the first socket connects. Default 5 s; negative
	// disables it (tests call Move).
	MoveEvery time.Duration
	// MaxMessage is the largest client frame accepted. Default 64 KiB.
	MaxMessage int64
	// Location is the user's time zone, in which times are written.
	// Default UTC.
	Location *time.Location
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Seed seeds the movement generator. Default 0 (itself a fixed seed).
	Seed uint64
}

type settings struct {
	users         []User
	trackers      []Tracker
	prefix        string
	hbInterval    time.Duration
	serverBeat    time.Duration
	clientTimeout time.Duration
	trackSize     bool
	moveEvery     time.Duration
	maxMessage    int64
	loc           *time.Location
	now           func() time.Time
	seed          uint64
}

func resolve(cfg *Config) settings {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	s := settings{
		users:         append([]User(nil), c.Users...),
		trackers:      append([]Tracker(nil), c.Trackers...),
		prefix:        c.APIPrefix,
		hbInterval:    c.HeartbeatInterval,
		serverBeat:    c.ServerHeartbeat,
		clientTimeout: c.ClientTimeout,
		trackSize:     c.TrackMessageSize,
		moveEvery:     c.MoveEvery,
		maxMessage:    c.MaxMessage,
		loc:           c.Location,
		now:           c.Now,
		seed:          c.Seed,
	}
	if len(s.users) == 0 {
		s.users = []User{{Login: DefaultLogin, Password: DefaultPassword}}
	}
	if len(s.trackers) == 0 {
		s.trackers = append([]Tracker(nil), DefaultTrackers...)
	}
	for i := range s.trackers {
		if s.trackers[i].Status == "" {
			s.trackers[i].Status = navixy.TrackerNormal
		}
	}
	if s.prefix == "" {
		s.prefix = DefaultAPIPrefix
	}
	if s.hbInterval <= 0 {
		s.hbInterval = DefaultHeartbeatInterval
	}
	if s.serverBeat == 0 {
		s.serverBeat = DefaultServerHeartbeat
	}
	if s.clientTimeout == 0 {
		s.clientTimeout = 3 * s.hbInterval
	}
	if s.moveEvery == 0 {
		s.moveEvery = DefaultMoveEvery
	}
	if s.maxMessage <= 0 {
		s.maxMessage = DefaultMaxMessage
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}
