package proglovecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/connector"
)

// Token kinds for Config.TokenKind.
const (
	TokenID     = "id"     // the IdToken, as the older page says (the default)
	TokenAccess = "access" // the AccessToken, as the newer page says
)

// Config configures a Link. Zero fields take the defaults given in their
// comments. The json names are those of a link's "options" object in the
// relay's configuration file.
type Config struct {
	Name      string               // link name, required
	Publisher *connector.Publisher // required
	Logger    *slog.Logger         // default: discard
	// HTTPClient makes the authentication requests and the WebSocket
	// upgrade. Default http.DefaultClient. It must not set Timeout (the
	// WebSocket library refuses one); DialTimeout bounds each request.
	HTTPClient *http.Client

	// URL is the live-data socket's base, without the stage:
	// "wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com". Required.
	URL string `json:"url"`
	// Stage is the API stage appended to URL: "prod" (default, the older
	// page) or "latest" (the newer page).
	Stage string `json:"stage"`
	// TokenKind is the Cognito token put in ?token=: "id" (default, the
	// IdToken, as the older page says) or "access" (the AccessToken, as
	// the newer page says).
	TokenKind string `json:"token_kind"`
	// OmitCustomer leaves customer= out of the socket URL, as the newer
	// page does. By default it is sent, as the older page does.
	OmitCustomer bool `json:"omit_customer"`
	// CustomerID is the Insight customer id: customer= in the socket URL
	// and the id of /auth-information. Required unless OmitCustomer is set
	// and ClientID and Region (or CognitoURL) are given.
	CustomerID string `json:"customer_id"`
	// Username and Password are the Insight user's credentials. Required.
	// They are never logged nor put in a status.
	Username string `json:"username"`
	Password string `json:"password"`
	// AuthURL is the Insight API base on which GET
	// /auth-information?id=CustomerID tells the user pool's region and
	// client id. Required unless ClientID and Region (or CognitoURL) are
	// given.
	AuthURL string `json:"auth_url"`
	// ClientID, Region: the Cognito user pool client id and region, when
	// known without asking AuthURL.
	ClientID string `json:"client_id"`
	Region   string `json:"region"`
	// CognitoURL is where InitiateAuth is posted. Default
	// "https://cognito-idp.<region>.amazonaws.com/".
	CognitoURL string `json:"cognito_url"`

	// RefreshBefore is how long before the token expires the link gets a
	// new one and moves to a new connection (the token rides in the URL,
	// so a refresh is a reconnect). At most half the token's lifetime.
	// Default 5 min.
	RefreshBefore Duration `json:"refresh_before"`
	// MaxAge is the age at which a connection is replaced, ahead of API
	// Gateway's 2 h limit. Default 1 h 50 min.
	MaxAge Duration `json:"max_age"`
	// Overlap bounds a handover: the old connection stays open until it
	// has delivered what the new one starts with, or for this long.
	// Default 10 s.
	Overlap Duration `json:"overlap"`
	// PingInterval between WebSocket pings, to stay under API Gateway's
	// 10 min idle timeout. Default 5 min; negative disables pings.
	PingInterval Duration `json:"ping_interval"`
	// PongTimeout before a link whose ping went unanswered is dropped.
	// Default 30 s.
	PongTimeout Duration `json:"pong_timeout"`
	// MinBackoff and MaxBackoff bound reconnect delays (full jitter).
	// Defaults 500 ms and 30 s.
	MinBackoff Duration `json:"min_backoff"`
	MaxBackoff Duration `json:"max_backoff"`
	// FailedRetry is the wait after the credentials or the configuration
	// were refused (status failed) before trying again. Default 5 min.
	FailedRetry Duration `json:"failed_retry"`
	// DialTimeout bounds one upgrade and one authentication request.
	// Default 10 s.
	DialTimeout Duration `json:"dial_timeout"`
	// MaxMessage is the largest upstream message accepted; a larger one is
	// counted as "oversize" and dropped. Default 128 KiB (API Gateway's
	// message limit).
	MaxMessage int64 `json:"max_message"`
	// DedupeWindow is how many recent event_ids are remembered to drop
	// duplicates. Default 4096.
	DedupeWindow int `json:"dedupe_window"`
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

// Defaults.
const (
	DefaultStage         = "prod"
	DefaultRefreshBefore = 5 * time.Minute
	DefaultMaxAge        = 110 * time.Minute
	DefaultOverlap       = 10 * time.Second
	DefaultPingInterval  = 5 * time.Minute
	DefaultPongTimeout   = 30 * time.Second
	DefaultFailedRetry   = 5 * time.Minute
	DefaultDialTimeout   = 10 * time.Second
	DefaultMaxMessage    = 128 << 10
	DefaultDedupeWindow  = 4096
)

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("proglovecloud: invalid config")

func (c *Config) defaults() {
	set := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if c.Stage == "" {
		c.Stage = DefaultStage
	}
	if c.TokenKind == "" {
		c.TokenKind = TokenID
	}
	set(&c.RefreshBefore, DefaultRefreshBefore)
	set(&c.MaxAge, DefaultMaxAge)
	set(&c.Overlap, DefaultOverlap)
	set(&c.PingInterval, DefaultPingInterval)
	set(&c.PongTimeout, DefaultPongTimeout)
	set(&c.FailedRetry, DefaultFailedRetry)
	set(&c.DialTimeout, DefaultDialTimeout)
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.DedupeWindow <= 0 {
		c.DedupeWindow = DefaultDedupeWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	c.CognitoURL = strings.TrimSpace(c.CognitoURL)
}

// validate reports what is missing or wrong, never quoting a secret.
func (c *Config) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.Name == "" {
		bad("name is required")
	}
	if c.Publisher == nil {
		bad("a Publisher is required")
	}
	switch u, err := url.Parse(c.URL); {
	case c.URL == "":
		bad("url (the live-data socket base, e.g. wss://….execute-api.eu-west-1.amazonaws.com) is required")
	case err != nil:
		bad("url does not parse")
	case u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https":
		bad("url scheme must be wss, ws, https or http, not %q", u.Scheme)
	case u.RawQuery != "":
		bad("url must not carry a query: the link adds customer= and token=")
	}
	if strings.ContainsAny(strings.Trim(c.Stage, "/"), "/?#") {
		bad("stage must be one path segment such as \"prod\" or \"latest\"")
	}
	if c.TokenKind != TokenID && c.TokenKind != TokenAccess {
		bad("token_kind must be %q or %q, not %q", TokenID, TokenAccess, c.TokenKind)
	}
	if c.Username == "" || c.Password == "" {
		bad("username and password are required")
	}
	if c.CustomerID == "" && !c.OmitCustomer {
		bad("customer_id is required (or set omit_customer for the newer URL form)")
	}
	knowsPool := c.ClientID != "" && (c.Region != "" || c.CognitoURL != "")
	if !knowsPool && (c.AuthURL == "" || c.CustomerID == "") {
		bad("auth_url and customer_id are required unless client_id and region (or cognito_url) are given")
	}
	for name, raw := range map[string]string{"auth_url": c.AuthURL, "cognito_url": c.CognitoURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s must be an http or https URL", name)
		}
	}
	for name, d := range map[string]Duration{"refresh_before": c.RefreshBefore, "max_age": c.MaxAge, "overlap": c.Overlap,
		"pong_timeout": c.PongTimeout, "failed_retry": c.FailedRetry, "dial_timeout": c.DialTimeout} {
		if d < 0 {
			bad("%s must not be negative", name)
		}
	}
	if c.MinBackoff < 0 || c.MaxBackoff < 0 {
		bad("min_backoff and max_backoff must not be negative")
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
}
