package navixy

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/atmosphere"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/relay/connector"
)

// Subscribe forms (Config.SubscribeForm).
const (
	FormCurrent = "current" // {"requests":[{"type":…,…}]}
	FormOld     = "old"     // {"events":[…],"trackers":[…]}
)

// Defaults.
const (
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultSilenceTimeout    = 150 * time.Second // 2.5 × the server's 60 s heartbeat
	DefaultMinBackoff        = 2 * time.Second
	DefaultMaxBackoff        = 60 * time.Second
	DefaultTimeout           = 10 * time.Second
	DefaultMaxMessage        = 1 << 20
)

// Config configures a Link. The fields with json tags are the link's
// "options" in the relay's configuration file (see ParseOptions); zero
// values take the defaults given.
type Config struct {
	Name      string               `json:"-"` // link name, required
	Publisher *connector.Publisher `json:"-"` // required
	Logger    *slog.Logger         `json:"-"` // default: discard

	// BaseURL is the API base: "https://api.itrack.live/v2" for iTrack,
	// "https://api.<domain>" on premise. Required.
	BaseURL string `json:"base_url"`
	// SocketURL overrides the socket's address (without the Atmosphere
	// query). Default: BaseURL + "/event/subscription", as ws or wss.
	SocketURL string `json:"socket_url,omitempty"`

	// Login and Password log in with user/auth. Required unless APIKey
	// is set. DealerID is sent when not 0.
	Login    string `json:"login,omitempty"`
	Password string `json:"password,omitempty"`
	DealerID int64  `json:"dealer_id,omitempty"`
	// AuthJSON sends user/auth as a JSON body. Default: a form.
	AuthJSON bool `json:"auth_json,omitempty"`
	// APIKey is a hash used as is instead of logging in.
	APIKey string `json:"api_key,omitempty"`

	// SubscribeForm is FormCurrent (default) or FormOld.
	SubscribeForm string `json:"subscribe_form,omitempty"`
	// Event is the event type subscribed to: "state" (default, one
	// message per tracker; the vendor advises ≤ 100 trackers) or
	// "state_batch" (batches of changed trackers; current form only).
	Event string `json:"event,omitempty"`
	// Format is "full" or "compact" (current form only). Default: not
	// sent, which the vendor treats as full.
	Format string `json:"format,omitempty"`
	// RateLimit is state_batch's rate_limit, e.g. "5s". Default: not sent.
	RateLimit string `json:"rate_limit,omitempty"`
	// Trackers are the tracker ids to subscribe to. Default: every
	// tracker tracker/list returns (state), or all (state_batch).
	Trackers []int64 `json:"trackers,omitempty"`

	// TimeZone is the account's time zone, in which the vendor writes
	// times: an IANA name, "UTC" or an offset like "-06:00". Default UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// TrackMessageSize asks the server to prefix messages with their
	// length. Default off, as in the vendor's sample (prefixes are
	// stripped either way).
	TrackMessageSize bool `json:"track_message_size,omitempty"`

	// HeartbeatInterval is how often "X" is sent when the handshake does
	// not say. Default 30 s.
	HeartbeatInterval Duration `json:"heartbeat_interval,omitempty"`
	// SilenceTimeout: a socket on which nothing at all arrives for this
	// long is dropped and reopened. Default 150 s.
	SilenceTimeout Duration `json:"silence_timeout,omitempty"`
	// MinBackoff and MaxBackoff bound reconnect delays (capped
	// exponential, full jitter). Defaults 2 s and 60 s.
	MinBackoff Duration `json:"min_backoff,omitempty"`
	MaxBackoff Duration `json:"max_backoff,omitempty"`
	// Timeout bounds each REST call, the dial, the wait for the handshake
	// and the wait for the subscribe response. Default 10 s.
	Timeout Duration `json:"timeout,omitempty"`
	// MaxMessage is the largest frame (and REST answer) accepted, in
	// bytes. Default 1 MiB.
	MaxMessage int64 `json:"max_message,omitempty"`

	// HTTPClient makes the REST calls and the WebSocket handshake.
	// Default: http.DefaultClient (Timeout applies either way).
	HTTPClient *http.Client `json:"-"`
}

// Duration is a time.Duration written as a string like "30s" in JSON.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ParseOptions reads a link's "options" object into a Config. Unknown
// keys are errors, so that typos do not fall back to defaults silently.
// Name, Publisher and Logger are left for the caller to set.
func ParseOptions(raw json.RawMessage) (Config, error) {
	var c Config
	if len(raw) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("navixy options: %w", err)
	}
	return c, nil
}

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	zone       *time.Location
	socketURL  string // with the Atmosphere query
	base       string // without a trailing slash
	heartbeat  time.Duration
	silence    time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
	timeout    time.Duration
}

func (c Config) resolve() (*settings, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &settings{Config: c}
	if c.Name == "" {
		bad("name is required")
	}
	if c.Publisher == nil {
		bad("publisher is required")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.base = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if u, err := url.Parse(s.base); s.base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("base_url must be an http or https URL such as https://api.itrack.live/v2 (got %q)", connector.RedactURL(c.BaseURL))
	}
	sock := c.SocketURL
	if sock == "" {
		sock = s.base + "/event/subscription"
	}
	if u, err := atmosphere.URL(sock, c.TrackMessageSize); err != nil {
		bad("socket_url: %v", err)
	} else {
		s.socketURL = u
	}
	switch {
	case c.APIKey != "":
		if strings.TrimSpace(c.APIKey) != c.APIKey || strings.ContainsAny(c.APIKey, "\"\\") {
			bad("api_key must be a bare hash")
		}
	case c.Login == "" || c.Password == "":
		bad("login and password are required (or api_key)")
	case !nx.ValidPassword(c.Password):
		bad("password must be 1 to 40 printable characters")
	}
	switch c.SubscribeForm {
	case "":
		s.SubscribeForm = FormCurrent
	case FormCurrent, FormOld:
	default:
		bad("subscribe_form must be %q or %q (got %q)", FormCurrent, FormOld, c.SubscribeForm)
	}
	switch c.Event {
	case "":
		s.Event = nx.EventState
	case nx.EventState, nx.EventStateBatch:
	default:
		bad("event must be %q or %q (got %q)", nx.EventState, nx.EventStateBatch, c.Event)
	}
	switch c.Format {
	case "", nx.FormatFull, nx.FormatCompact:
	default:
		bad("format must be %q or %q (got %q)", nx.FormatFull, nx.FormatCompact, c.Format)
	}
	if s.SubscribeForm == FormOld && (c.Format != "" || c.RateLimit != "" || s.Event == nx.EventStateBatch) {
		bad("format, rate_limit and event %q need subscribe_form %q", nx.EventStateBatch, FormCurrent)
	}
	if c.RateLimit != "" && s.Event != nx.EventStateBatch {
		bad("rate_limit applies to event %q only", nx.EventStateBatch)
	}
	for _, id := range c.Trackers {
		if id <= 0 {
			bad("trackers must be positive ids (got %d)", id)
		}
	}
	zone, err := ParseZone(c.TimeZone)
	if err != nil {
		bad("time_zone: %v", err)
	}
	s.zone = zone
	dur := func(name string, v Duration, def time.Duration) time.Duration {
		switch {
		case v < 0:
			bad("%s must not be negative", name)
		case v == 0:
			return def
		}
		return time.Duration(v)
	}
	s.heartbeat = dur("heartbeat_interval", c.HeartbeatInterval, DefaultHeartbeatInterval)
	s.silence = dur("silence_timeout", c.SilenceTimeout, DefaultSilenceTimeout)
	s.minBackoff = dur("min_backoff", c.MinBackoff, DefaultMinBackoff)
	s.maxBackoff = dur("max_backoff", c.MaxBackoff, DefaultMaxBackoff)
	s.timeout = dur("timeout", c.Timeout, DefaultTimeout)
	if s.maxBackoff < s.minBackoff {
		bad("max_backoff (%v) is below min_backoff (%v)", s.maxBackoff, s.minBackoff)
	}
	switch {
	case c.MaxMessage < 0:
		bad("max_message must not be negative")
	case c.MaxMessage == 0:
		s.MaxMessage = DefaultMaxMessage
	}
	if s.HTTPClient == nil {
		s.HTTPClient = http.DefaultClient
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("navixy link %q: %w", c.Name, err)
	}
	return s, nil
}

var offsetZone = regexp.MustCompile(`^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$`)

// ParseZone reads Config.TimeZone: "" or "UTC" (UTC), a fixed offset
// ("-06:00", "+0530", "UTC+2", "GMT-3"), or an IANA name, which needs the
// time zone database (the system's, or time/tzdata in the binary).
func ParseZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "", "UTC", "GMT", "Z":
		return time.UTC, nil
	}
	if m := offsetZone.FindStringSubmatch(strings.ToUpper(s)); m != nil {
		h, _ := strconv.Atoi(m[2])
		min := 0
		if m[3] != "" {
			min, _ = strconv.Atoi(m[3])
		}
		if h > 14 || min > 59 {
			return nil, fmt.Errorf("offset %q out of range", s)
		}
		off := h*3600 + min*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone(s, off), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("%w (an IANA name needs the time zone database; an offset such as -06:00 does not)", err)
	}
	return loc, nil
}
