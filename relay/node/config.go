package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is a relay's configuration; the JSON form is what
// `fieldrelay serve --config` reads (see docs/configuration in README).
type Config struct {
	// Listen address. Default 127.0.0.1:8080.
	Listen string `json:"listen"`
	// Secret for HS256 tokens (FIELDRELAY_SECRET): development and
	// single-operator setups. Required unless JWTPublicKeys is set.
	Secret string `json:"secret"`
	// JWTPublicKeys are PEM files of an identity provider's public keys or
	// certificates (RS256, ES256, EdDSA; kid from each block's "kid"
	// header or the file name). With them, tokens signed by those keys are
	// accepted, and HS256 ones too only if Secret is also set.
	JWTPublicKeys []string `json:"jwt_public_keys"`
	// JWKSURL is an identity provider's JSON Web Key Set, fetched at the
	// first token and again (at most once a minute) for an unknown kid.
	JWKSURL string `json:"jwks_url"`
	// JWTIssuer and JWTAudience, if set, must match the tokens' iss and aud.
	JWTIssuer   string `json:"jwt_issuer"`
	JWTAudience string `json:"jwt_audience"`
	// Origins allowed besides the relay's own host (host patterns).
	Origins []string `json:"origins"`
	// History bounds of the memory broker.
	History History `json:"history"`
	// Tenants and their upstream links, by tenant id.
	Tenants map[string]Tenant `json:"tenants"`
	// Static, if set, is served at / (the demo app).
	Static string `json:"static"`
	// TLSCert and TLSKey, both set, make the relay serve HTTPS and wss://
	// with that PEM certificate (chain) and key; TLS 1.2 at least.
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// ShutdownTimeout bounds graceful shutdown. Default 10 s.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// PingInterval for browser connections. Default 25 s.
	PingInterval Duration `json:"ping_interval"`
	// PongTimeout is how long the relay waits for a browser's pong before
	// it drops the connection as dead. Default 10 s.
	PongTimeout Duration `json:"pong_timeout"`
	// QueueBytes per browser connection. Default 1 MiB.
	QueueBytes int `json:"queue_bytes"`
	// Dev enables the development endpoints GET /dev/token (a token for
	// tenant "demo" granting everything) and POST /dev/drop (close every
	// browser connection with codes.Dropped). Never in production.
	Dev bool `json:"dev"`
}

// History bounds each tenant's log.
type History struct {
	MaxEntries int      `json:"max_entries"` // default 10 000
	MaxAge     Duration `json:"max_age"`     // default 1 h
}

// Tenant lists a tenant's upstream links.
type Tenant struct {
	Links []LinkConfig `json:"links"`
}

// LinkConfig names one upstream link.
type LinkConfig struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"` // see Protocols()
	// URL of the upstream socket (or API base), for protocols that take one.
	URL string `json:"url"`
	// Options are the protocol's own settings (credentials, ids, timings);
	// see each connector package's Config for the names.
	Options json.RawMessage `json:"options,omitempty"`
}

// Duration is a time.Duration written as "30s" in JSON.
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

// LoadConfig reads a JSON config file; unknown keys are errors, so typos
// do not silently fall back to defaults.
func LoadConfig(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Validate checks what defaults cannot fill in.
func (c *Config) Validate() error {
	if c.Secret == "" && len(c.JWTPublicKeys) == 0 && c.JWKSURL == "" {
		return errors.New("no token keys: set FIELDRELAY_SECRET, --secret, \"secret\" or \"jwt_public_keys\" in the config file")
	}
	for id, t := range c.Tenants {
		if id == "" {
			return errors.New("tenant with an empty id")
		}
		seen := map[string]bool{}
		for _, l := range t.Links {
			if l.Name == "" || seen[l.Name] {
				return fmt.Errorf("tenant %s: link names must be unique and non-empty (%q)", id, l.Name)
			}
			seen[l.Name] = true
			if _, ok := protocols[l.Protocol]; !ok {
				return fmt.Errorf("tenant %s link %s: unknown protocol %q (known: %s)", id, l.Name, l.Protocol, strings.Join(Protocols(), ", "))
			}
		}
	}
	return nil
}
