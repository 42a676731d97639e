package doshii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	wire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/relay/connector"
)

// Defaults of Config's zero fields.
const (
	DefaultURL          = wire.SandboxURL
	DefaultAppVersion   = "1.0.0"
	DefaultPingInterval = 30 * time.Second // the help pages' "every 30 seconds"
	DefaultMissedPongs  = 2
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultRetryBudget  = 10
	DefaultRetryWindow  = 5 * time.Minute
	DefaultMaxMessage   = 64 << 10
	DefaultDialTimeout  = 10 * time.Second
)

// Config configures a Link. Zero fields take the defaults named in their
// comments. In a relay config file the protocol's fields come from the
// link's "options" object, by their json names, durations written as
// strings ("30s"); unknown names are errors.
type Config struct {
	Name      string // link name, required
	Publisher *connector.Publisher
	Logger    *slog.Logger // default: discard

	// URL is the socket's base address, ws:// or wss://, without auth:
	// the connector adds auth and deviceId. Older paths (/app/socket) and
	// hosts work as well. Default DefaultURL, the sandbox's v3 socket.
	URL string `json:"url"`
	// ClientID is the partner's Doshii client id, required. It is sent as
	// auth=base64(ClientID) and never appears in logs or statuses.
	ClientID string `json:"client_id"`
	// DeviceID, if set, is sent as deviceId: Doshii then sends only the
	// events matching the device's registered filter.
	DeviceID string `json:"device_id"`
	// AppVersion is the "version" of heartbeats. Default "1.0.0".
	AppVersion string `json:"app_version"`
	// PingInterval between heartbeats; the first goes right after the
	// socket opens. Default 30 s.
	PingInterval time.Duration `json:"ping_interval"`
	// MissedPongs is how many pings in a row may go unanswered (no pong
	// before the next ping is due) before the link is called dead and
	// redialled. Default 2.
	MissedPongs int `json:"missed_pongs"`
	// MinBackoff and MaxBackoff bound reconnect delays (capped exponential,
	// full jitter). Defaults 500 ms and 30 s.
	MinBackoff time.Duration `json:"min_backoff"`
	MaxBackoff time.Duration `json:"max_backoff"`
	// RetryBudget is the most connection attempts made within any
	// RetryWindow. When it is spent the link reports failed and waits
	// until the window allows another. Defaults 10 in 5 min; a negative
	// RetryBudget removes the limit.
	RetryBudget int           `json:"retry_budget"`
	RetryWindow time.Duration `json:"retry_window"`
	// MaxMessage is the largest upstream message accepted; larger ones
	// are read to their end, counted as bad input ("oversize") and dropped
	// without dropping the link. Default 64 KiB.
	MaxMessage int64 `json:"max_message"`
	// DialTimeout bounds one connection attempt. Default 10 s.
	DialTimeout time.Duration `json:"dial_timeout"`
}

// jsonDuration reads "30s"-style durations.
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration must be a string like \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = jsonDuration(v)
	return nil
}

// UnmarshalJSON reads the protocol's fields from a link's options object:
// durations as strings ("30s", "500ms"); unknown keys are errors, so that a
// typo is not silently replaced by a default. Name, Publisher and Logger
// are left as they are.
func (c *Config) UnmarshalJSON(b []byte) error {
	var w struct {
		URL          string       `json:"url"`
		ClientID     string       `json:"client_id"`
		DeviceID     string       `json:"device_id"`
		AppVersion   string       `json:"app_version"`
		PingInterval jsonDuration `json:"ping_interval"`
		MissedPongs  int          `json:"missed_pongs"`
		MinBackoff   jsonDuration `json:"min_backoff"`
		MaxBackoff   jsonDuration `json:"max_backoff"`
		RetryBudget  int          `json:"retry_budget"`
		RetryWindow  jsonDuration `json:"retry_window"`
		MaxMessage   int64        `json:"max_message"`
		DialTimeout  jsonDuration `json:"dial_timeout"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("doshii options: %w", err)
	}
	c.URL, c.ClientID, c.DeviceID, c.AppVersion = w.URL, w.ClientID, w.DeviceID, w.AppVersion
	c.PingInterval, c.MissedPongs = time.Duration(w.PingInterval), w.MissedPongs
	c.MinBackoff, c.MaxBackoff = time.Duration(w.MinBackoff), time.Duration(w.MaxBackoff)
	c.RetryBudget, c.RetryWindow = w.RetryBudget, time.Duration(w.RetryWindow)
	c.MaxMessage, c.DialTimeout = w.MaxMessage, time.Duration(w.DialTimeout)
	return nil
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if c.Publisher == nil {
		errs = append(errs, errors.New("a publisher is required"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id is required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ping_interval", c.PingInterval}, {"min_backoff", c.MinBackoff}, {"max_backoff", c.MaxBackoff},
		{"retry_window", c.RetryWindow}, {"dial_timeout", c.DialTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", d.name))
		}
	}
	if c.MissedPongs < 0 {
		errs = append(errs, errors.New("missed_pongs must not be negative"))
	}
	if c.MaxMessage < 0 {
		errs = append(errs, errors.New("max_message must not be negative"))
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.ClientID != "" {
		// Checks the URL; the error names neither the URL's query nor the id.
		if _, err := wire.SocketURL(c.URL, c.ClientID, c.DeviceID); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("doshii link %q: %w", c.Name, errors.Join(errs...))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AppVersion == "" {
		c.AppVersion = DefaultAppVersion
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.MissedPongs == 0 {
		c.MissedPongs = DefaultMissedPongs
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.RetryBudget == 0 {
		c.RetryBudget = DefaultRetryBudget
	}
	if c.RetryWindow == 0 {
		c.RetryWindow = DefaultRetryWindow
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c, nil
}
