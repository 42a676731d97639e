package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/golang-jwt/jwt/v5"
)

// Errors wrapped by Verify.
var (
	ErrInvalid = errors.New("auth: invalid token")
	ErrExpired = errors.New("auth: token expired")
)

// Claims are what a verified token grants.
type Claims struct {
	Subject   string
	Tenant    string
	Subscribe []string // patterns
	Command   []string // patterns
	Expires   time.Time
}

// CanSubscribe reports whether pattern lies within an allowed pattern.
func (c *Claims) CanSubscribe(pattern string) bool { return covered(c.Subscribe, pattern) }

// CanCommand reports whether commands may target the channel.
func (c *Claims) CanCommand(target string) bool { return covered(c.Command, target) }

func covered(allowed []string, p string) bool {
	for _, a := range allowed {
		if channel.Covers(a, p) {
			return true
		}
	}
	return false
}

// Verifier checks tokens.
type Verifier interface {
	Verify(token string) (*Claims, error)
}

type jwtClaims struct {
	Tenant string   `json:"tenant"`
	Subs   []string `json:"subs,omitempty"`
	Cmds   []string `json:"cmds,omitempty"`
	jwt.RegisteredClaims
}

// HS256 verifies and mints HMAC-SHA256 tokens with one shared secret.
type HS256 struct {
	Secret []byte
	// Issuer and Audience, if set, are required to match.
	Issuer, Audience string
	// Leeway for exp and nbf. Default 0.
	Leeway time.Duration
	// Now is the clock, for tests.
	Now func() time.Time
}

var _ Verifier = (*HS256)(nil)

// Verify implements Verifier.
func (h *HS256) Verify(token string) (*Claims, error) {
	if err := checkSize(token); err != nil {
		return nil, err
	}
	if len(h.Secret) == 0 {
		return nil, fmt.Errorf("%w: no secret configured", ErrInvalid)
	}
	opts := parserOptions([]string{"HS256"}, h.Issuer, h.Audience, h.Leeway, h.Now)
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(*jwt.Token) (any, error) { return h.Secret, nil }, opts...)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, fmt.Errorf("%w: %v", ErrExpired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return toClaims(&jc)
}

// parserOptions are the checks every verifier makes: only its algorithms,
// exp required, iat and nbf checked (with leeway), iss and aud if set,
// strict base64.
func parserOptions(methods []string, issuer, audience string, leeway time.Duration, now func() time.Time) []jwt.ParserOption {
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithStrictDecoding()}
	if issuer != "" {
		opts = append(opts, jwt.WithIssuer(issuer))
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	if now != nil {
		opts = append(opts, jwt.WithTimeFunc(now))
	}
	return opts
}

func toClaims(jc *jwtClaims) (*Claims, error) {
	if jc.Tenant == "" {
		return nil, fmt.Errorf("%w: no tenant claim", ErrInvalid)
	}
	if n := len(jc.Subs) + len(jc.Cmds); n > MaxPatterns {
		return nil, fmt.Errorf("%w: %d patterns (at most %d)", ErrInvalid, n, MaxPatterns)
	}
	for _, p := range append(append([]string(nil), jc.Subs...), jc.Cmds...) {
		if err := channel.ValidPattern(p); err != nil {
			return nil, fmt.Errorf("%w: pattern %q: %v", ErrInvalid, p, err)
		}
	}
	c := &Claims{Subject: jc.Subject, Tenant: jc.Tenant, Subscribe: jc.Subs, Command: jc.Cmds}
	if jc.ExpiresAt != nil {
		c.Expires = jc.ExpiresAt.Time
	}
	return c, nil
}

// Mint signs a token for c, valid for ttl from now.
func (h *HS256) Mint(c Claims, ttl time.Duration) (string, error) {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	jc := jwtClaims{
		Tenant: c.Tenant, Subs: c.Subscribe, Cmds: c.Command,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			Issuer:    h.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if h.Audience != "" {
		jc.Audience = jwt.ClaimStrings{h.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString(h.Secret)
}
