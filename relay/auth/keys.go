package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// PublicKeys verifies tokens signed by an identity provider: RS256 (RSA,
// 2048 bits at least), ES256 (ECDSA P-256) and EdDSA (Ed25519), each key
// accepting only its own algorithm, so a token cannot pick a weaker or
// confused one (HS256 signed with a public key's bytes, alg "none").
// A token's "kid" selects the key; a token without one is tried against a
// lone key only.
type PublicKeys struct {
	// Keys by kid.
	Keys map[string]crypto.PublicKey
	// JWKS, if set, adds the keys of a JSON Web Key Set URL; a kid found
	// in neither is looked up there (see JWKS for the rate limit).
	JWKS *JWKS
	// Issuer and Audience, if set, are required to match.
	Issuer, Audience string
	// Leeway for exp, nbf and iat. Default 0.
	Leeway time.Duration
	// Now is the clock, for tests.
	Now func() time.Time
}

var _ Verifier = (*PublicKeys)(nil)

// algOf returns the one algorithm key may verify, or "" if the key is not
// acceptable.
func algOf(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return "RS256"
		}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return "ES256"
		}
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// Verify implements Verifier.
func (p *PublicKeys) Verify(token string) (*Claims, error) {
	if err := checkSize(token); err != nil {
		return nil, err
	}
	if len(p.Keys) == 0 && p.JWKS == nil {
		return nil, fmt.Errorf("%w: no public keys configured", ErrInvalid)
	}
	opts := parserOptions([]string{"RS256", "ES256", "EdDSA"}, p.Issuer, p.Audience, p.Leeway, p.Now)
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := p.Keys[kid]
		if !ok && kid != "" && p.JWKS != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			key, ok = p.JWKS.Keys(ctx, kid)[kid]
			cancel()
		}
		if !ok && kid == "" && len(p.Keys) == 1 {
			for _, k := range p.Keys {
				key, ok = k, true
			}
		}
		if !ok {
			return nil, fmt.Errorf("no key with kid %q", truncate(kid, 64))
		}
		if alg := algOf(key); alg == "" || t.Method.Alg() != alg {
			return nil, fmt.Errorf("key %q does not verify %s", truncate(kid, 64), t.Method.Alg())
		}
		return key, nil
	}, opts...)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, fmt.Errorf("%w: %v", ErrExpired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return toClaims(&jc)
}

// LoadPublicKeys reads PEM files of public keys ("PUBLIC KEY") or
// certificates ("CERTIFICATE"). A block's kid is its "kid" PEM header, or
// else the file's name without extension (with "#2", "#3"… for further
// keys of the same file).
func LoadPublicKeys(paths ...string) (map[string]crypto.PublicKey, error) {
	keys := make(map[string]crypto.PublicKey)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		n := 0
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			var key crypto.PublicKey
			switch b.Type {
			case "PUBLIC KEY":
				key, err = x509.ParsePKIXPublicKey(b.Bytes)
			case "CERTIFICATE":
				var cert *x509.Certificate
				if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
					key = cert.PublicKey
				}
			default:
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if algOf(key) == "" {
				return nil, fmt.Errorf("%s: key %d is not RSA ≥ 2048, ECDSA P-256 or Ed25519", path, n+1)
			}
			n++
			kid := b.Headers["kid"]
			if kid == "" {
				kid = base
				if n > 1 {
					kid = fmt.Sprintf("%s#%d", base, n)
				}
			}
			if _, dup := keys[kid]; dup {
				return nil, fmt.Errorf("%s: kid %q twice", path, kid)
			}
			keys[kid] = key
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no public key or certificate", path)
		}
	}
	return keys, nil
}

// Any accepts a token any of its verifiers accepts (e.g. an identity
// provider's keys, and in development an HS256 secret). An expired token
// reports ErrExpired if a verifier said so.
type Any []Verifier

// Verify implements Verifier.
func (a Any) Verify(token string) (*Claims, error) {
	var first error
	for _, v := range a {
		c, err := v.Verify(token)
		if err == nil {
			return c, nil
		}
		if first == nil || errors.Is(err, ErrExpired) {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: no verifier configured", ErrInvalid)
	}
	return nil, first
}

// Bounds on what a token may hold: it is read before anything else is
// known about the peer.
const (
	MaxTokenBytes = 8 << 10
	MaxPatterns   = 64
)

func checkSize(token string) error {
	if len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: token of %d bytes (at most %d)", ErrInvalid, len(token), MaxTokenBytes)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
