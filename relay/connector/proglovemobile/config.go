package proglovemobile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/connector"
)

// Defaults of Config's zero fields.
const (
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultPingInterval   = 15 * time.Second
	DefaultPongTimeout    = 5 * time.Second
	DefaultCommandTimeout = 2 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 5 * time.Second
	DefaultMaxMessage     = 64 << 10
)

// Config configures a Link. Zero fields take the defaults given in their
// comments. The json names are those of a link's "options" object in the
// relay's configuration file, where durations are strings ("2s", "250ms").
type Config struct {
	Name      string               // link name, required
	Publisher *connector.Publisher // required
	Logger    *slog.Logger         // default: discard

	// URL is the app's socket, ws://<host>:<port>: the port set in the
	// Insight Webportal configuration (9998 unless changed), which must be
	// in [1024, 65536). Required (proglove.ValidateURL).
	URL string `json:"url"`
	// MinBackoff and MaxBackoff bound reconnect delays (capped exponential,
	// full jitter). Defaults 500ms and 30s.
	MinBackoff time.Duration `json:"min_backoff"`
	MaxBackoff time.Duration `json:"max_backoff"`
	// PingInterval between WebSocket pings (the Streams API has no
	// heartbeat of its own). Default 15s.
	PingInterval time.Duration `json:"ping_interval"`
	// PongTimeout: a ping not answered this fast means the app is gone and
	// the link is re-dialled. Default 5s.
	PongTimeout time.Duration `json:"pong_timeout"`
	// CommandTimeout is how long a command waits for an errors event
	// naming it; silence that long is success, as the Streams API has no
	// positive acknowledgement. Default 2s.
	CommandTimeout time.Duration `json:"command_timeout"`
	// DialTimeout bounds each connection attempt. Default 10s.
	DialTimeout time.Duration `json:"dial_timeout"`
	// WriteTimeout bounds sending one command. Default 5s.
	WriteTimeout time.Duration `json:"write_timeout"`
	// MaxMessage is the largest message accepted, in bytes; larger ones are
	// skipped (read through, never held in memory), counted as "oversize"
	// and the link stays up. Default 64 KiB.
	MaxMessage int64 `json:"max_message"`
	// SkipGatewayState stops the link from sending gateway_state! after
	// each connect to learn which scanners are connected (Insight Mobile
	// need not support it; scanner_state events say the same over time).
	SkipGatewayState bool `json:"skip_gateway_state"`
}

// UnmarshalJSON reads a link's options: the json names of Config's fields,
// durations as strings ("2s"). Fields the JSON does not name keep their
// values (so the relay may set URL from the link's "url" before or after).
// Unknown names are errors, so that a typo does not silently fall back to a
// default.
func (c *Config) UnmarshalJSON(b []byte) error {
	var w struct {
		URL              *string   `json:"url"`
		MinBackoff       *duration `json:"min_backoff"`
		MaxBackoff       *duration `json:"max_backoff"`
		PingInterval     *duration `json:"ping_interval"`
		PongTimeout      *duration `json:"pong_timeout"`
		CommandTimeout   *duration `json:"command_timeout"`
		DialTimeout      *duration `json:"dial_timeout"`
		WriteTimeout     *duration `json:"write_timeout"`
		MaxMessage       *int64    `json:"max_message"`
		SkipGatewayState *bool     `json:"skip_gateway_state"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("proglovemobile options: %w", err)
	}
	if w.URL != nil {
		c.URL = *w.URL
	}
	for _, d := range []struct {
		src *duration
		dst *time.Duration
	}{
		{w.MinBackoff, &c.MinBackoff}, {w.MaxBackoff, &c.MaxBackoff}, {w.PingInterval, &c.PingInterval},
		{w.PongTimeout, &c.PongTimeout}, {w.CommandTimeout, &c.CommandTimeout}, {w.DialTimeout, &c.DialTimeout},
		{w.WriteTimeout, &c.WriteTimeout},
	} {
		if d.src != nil {
			*d.dst = time.Duration(*d.src)
		}
	}
	if w.MaxMessage != nil {
		c.MaxMessage = *w.MaxMessage
	}
	if w.SkipGatewayState != nil {
		c.SkipGatewayState = *w.SkipGatewayState
	}
	return nil
}

// duration is a time.Duration written as "2s" in JSON.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration must be a string like "2s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// check validates c and fills in the defaults.
func (c *Config) check() error {
	if c.Name == "" {
		return errors.New("proglovemobile: Name is required")
	}
	if c.Publisher == nil {
		return errors.New("proglovemobile: Publisher is required")
	}
	if c.URL == "" {
		return errors.New("proglovemobile: url is required: ws://<host>:<port> of the Insight Mobile app (port 9998 unless configured)")
	}
	if err := proglove.ValidateURL(c.URL); err != nil {
		return fmt.Errorf("proglovemobile: url %s: %w", connector.RedactURL(c.URL), err)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"min_backoff", &c.MinBackoff, DefaultMinBackoff},
		{"max_backoff", &c.MaxBackoff, DefaultMaxBackoff},
		{"ping_interval", &c.PingInterval, DefaultPingInterval},
		{"pong_timeout", &c.PongTimeout, DefaultPongTimeout},
		{"command_timeout", &c.CommandTimeout, DefaultCommandTimeout},
		{"dial_timeout", &c.DialTimeout, DefaultDialTimeout},
		{"write_timeout", &c.WriteTimeout, DefaultWriteTimeout},
	} {
		if *d.v < 0 {
			return fmt.Errorf("proglovemobile: %s must not be negative, got %v", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.MinBackoff > c.MaxBackoff {
		return fmt.Errorf("proglovemobile: min_backoff %v is above max_backoff %v", c.MinBackoff, c.MaxBackoff)
	}
	if c.MaxMessage < 0 {
		return fmt.Errorf("proglovemobile: max_message must not be negative, got %d", c.MaxMessage)
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
