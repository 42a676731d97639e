package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// JWKS keeps the keys of a JSON Web Key Set URL for PublicKeys: fetched
// at start, then again when a token names a kid it does not know (a
// provider rotating keys), at most once per MinRefresh so that tokens with
// made-up kids cannot make the relay hammer the provider. A failed fetch
// keeps the keys it had. Responses are bounded in size and time.
type JWKS struct {
	URL        string
	Client     *http.Client  // default: a client with a 10 s timeout
	MinRefresh time.Duration // default 1 min
	MaxBytes   int64         // default 1 MiB

	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fetched time.Time // of the last attempt
	fetches int
}

// Fetches returns how many times the set was fetched (for tests and
// metrics).
func (j *JWKS) Fetches() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetches
}

// Keys returns the current keys, fetching the set if it never was or if
// kid is unknown and the last attempt is older than MinRefresh.
func (j *JWKS) Keys(ctx context.Context, kid string) map[string]crypto.PublicKey {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, known := j.keys[kid]
	minRefresh := j.MinRefresh
	if minRefresh <= 0 {
		minRefresh = time.Minute
	}
	if j.keys == nil || (!known && time.Since(j.fetched) >= minRefresh) {
		j.fetched = time.Now()
		j.fetches++
		if keys, err := j.fetch(ctx); err == nil {
			j.keys = keys
		}
	}
	return j.keys
}

func (j *JWKS) fetch(ctx context.Context) (map[string]crypto.PublicKey, error) {
	c := j.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	max := j.MaxBytes
	if max <= 0 {
		max = 1 << 20
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, errors.New("jwks: response over the size limit")
	}
	return ParseJWKS(body)
}

// ParseJWKS reads a JSON Web Key Set: RSA ("RSA", n, e; 2048 bits at
// least), EC P-256 ("EC", crv "P-256", x, y) and Ed25519 ("OKP", crv
// "Ed25519", x) signing keys with a kid. Other keys are skipped; a set
// with no usable key is an error.
func ParseJWKS(b []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]crypto.PublicKey)
	for _, k := range set.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		var key crypto.PublicKey
		switch {
		case k.Kty == "RSA":
			n, e := b64int(k.N), b64int(k.E)
			if n == nil || e == nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
				continue
			}
			key = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case k.Kty == "EC" && k.Crv == "P-256":
			x, y := b64int(k.X), b64int(k.Y)
			if x == nil || y == nil {
				continue
			}
			pk := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
			if _, err := pk.ECDH(); err != nil { // not on the curve
				continue
			}
			key = pk
		case k.Kty == "OKP" && k.Crv == "Ed25519":
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil || len(x) != ed25519.PublicKeySize {
				continue
			}
			key = ed25519.PublicKey(x)
		default:
			continue
		}
		if algOf(key) != "" {
			keys[k.Kid] = key
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no usable signing key")
	}
	return keys, nil
}

func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > 1024 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
