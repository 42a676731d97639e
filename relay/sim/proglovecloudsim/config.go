package proglovecloudsim

import (
	"time"
)

// Defaults. The device and gateway values are the seed's scan (seed 001);
// the identifiers of the customer and its user pool are made up in the
// shapes AWS uses.
const (
	DefaultCustomerID    = "c0ffee00-1234-4d5e-8f90-abcdefabcdef"
	DefaultRegion        = "eu-west-1"
	DefaultUserPoolID    = "eu-west-1_AbCdEfGhI"
	DefaultClientID      = "5u7o1b2c3d4e5f6g7h8i9j0k1l"
	DefaultUsername      = "operator@example.com"
	DefaultPassword      = "insight-sim-password"
	DefaultStage         = "prod"
	DefaultTokenLifetime = time.Hour        // Cognito's IdToken and AccessToken
	DefaultIdleTimeout   = 10 * time.Minute // API Gateway WebSocket idle timeout
	DefaultMaxAge        = 2 * time.Hour    // API Gateway WebSocket maximum connection duration
	DefaultMaxFrame      = 32 << 10         // API Gateway WebSocket frame size
	DefaultScanEvery     = 2 * time.Second
	DefaultSerial        = "M2SR121103132"
)

// Token kinds: which Cognito token the socket accepts in ?token=
// (Config.TokenKind).
const (
	TokenID     = "id"     // the IdToken, as the older page says (the default)
	TokenAccess = "access" // the AccessToken, as the newer page says
)

// Device is a scanner whose scans the simulator generates.
type Device struct {
	Serial       string // default DefaultSerial
	Model        string // default "Mark"
	Manufacturer string // default "Workaround GmbH"
	Firmware     string // default "v1.2.0"
}

// Config configures a Simulator. A nil *Config, and every zero field, mean
// the default given in the field's comment.
type Config struct {
	// CustomerID is the customer that /auth-information knows and that
	// the socket's customer= must name. Default DefaultCustomerID.
	CustomerID string
	// Region, UserPoolID and ClientID describe the customer's Cognito user
	// pool in /auth-information; InitiateAuth requires ClientId to match.
	// Defaults DefaultRegion, DefaultUserPoolID, DefaultClientID.
	Region, UserPoolID, ClientID string
	// Username and Password are the one user's credentials. Defaults
	// DefaultUsername and DefaultPassword. SetPassword changes it later.
	Username, Password string
	// Stage is the API stage the socket is served on: /{stage}/. Default
	// "prod" (the older page); the newer page's is "latest".
	Stage string
	// TokenKind is the kind of token the socket accepts: TokenID
	// (default) or TokenAccess.
	TokenKind string
	// NoCustomer serves the newer form, /{stage}/?token=…, which does not
	// need customer=. By default (the older form) customer= is required and
	// must equal CustomerID.
	NoCustomer bool
	// TokenLifetime is how long IdTokens and AccessTokens are accepted.
	// InitiateAuth's ExpiresIn is it in whole seconds, rounded up. Default
	// 1 h. Refresh tokens last until RevokeRefreshTokens.
	TokenLifetime time.Duration
	// IdleTimeout closes a connection (1001) on which the client has sent
	// no frame and no ping for that long. Default 10 min; negative disables.
	IdleTimeout time.Duration
	// MaxAge closes a connection (1001) that long after it opened. Default
	// 2 h; negative disables.
	MaxAge time.Duration
	// MaxFrame is the largest frame a client may send; a larger one closes
	// the connection with 1009. Default 32 KiB.
	MaxFrame int64
	// ScanEvery is the period of generated scans, one device per period,
	// round-robin. Default 2 s; negative disables.
	ScanEvery time.Duration
	// Devices whose scans are generated. Default: the seed's scanner.
	Devices []Device
	// Seed seeds the generator of scan codes: the same seed gives the same
	// codes. Event ids are random UUIDs regardless.
	Seed uint64
	// Now is the clock for time_created and time_received and for token
	// expiry. Default time.Now.
	Now func() time.Time
}

type settings struct {
	Config
}

func resolve(cfg *Config) settings {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Devices = append([]Device(nil), c.Devices...)
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.CustomerID, DefaultCustomerID)
	def(&c.Region, DefaultRegion)
	def(&c.UserPoolID, DefaultUserPoolID)
	def(&c.ClientID, DefaultClientID)
	def(&c.Username, DefaultUsername)
	def(&c.Password, DefaultPassword)
	def(&c.Stage, DefaultStage)
	def(&c.TokenKind, TokenID)
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.ScanEvery == 0 {
		c.ScanEvery = DefaultScanEvery
	}
	if len(c.Devices) == 0 {
		c.Devices = []Device{{}}
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		def(&d.Serial, DefaultSerial)
		def(&d.Model, "Mark")
		def(&d.Manufacturer, "Workaround GmbH")
		def(&d.Firmware, "v1.2.0")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return settings{c}
}
