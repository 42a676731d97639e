package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func jwk(kid string, key any) map[string]string {
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(k.X.FillBytes(make([]byte, 32))), "y": enc(k.Y.FillBytes(make([]byte, 32)))}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(k)}
	}
	panic("key type")
}

// provider serves a JWKS on 127.0.0.1 whose keys and health the test
// changes.
type provider struct {
	mu     sync.Mutex
	keys   []map[string]string
	broken bool
	body   string // overrides the set when set
	srv    *httptest.Server
}

func newProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case p.broken:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case p.body != "":
			w.Write([]byte(p.body))
		default:
			json.NewEncoder(w).Encode(map[string]any{"keys": p.keys})
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) set(f func(p *provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func TestJWKSFetchCacheRotateAndLimit(t *testing.T) {
	ss := testSigners(t)
	prov := newProvider(t)
	prov.set(func(p *provider) {
		p.keys = []map[string]string{jwk(ss[0].kid, ss[0].key.Public()), jwk(ss[1].kid, ss[1].key.Public())}
	})
	j := &JWKS{URL: prov.srv.URL, MinRefresh: time.Hour}
	v := &PublicKeys{JWKS: j, Issuer: "https://idp.example", Audience: "fieldrelay", Now: func() time.Time { return now }}

	for _, s := range ss[:2] {
		for range 3 {
			if _, err := v.Verify(sign(t, s, s.kid, nil)); err != nil {
				t.Fatalf("%s: %v", s.kid, err)
			}
		}
	}
	if n := j.Fetches(); n != 1 {
		t.Fatalf("%d fetches for six tokens of known keys, want 1 (cached)", n)
	}
	// A flood of made-up kids: refused, and the provider is asked at most
	// once per MinRefresh (here: not again).
	for i := range 50 {
		if _, err := v.Verify(sign(t, ss[0], "made-up-"+strings.Repeat("x", i), nil)); err == nil {
			t.Fatal("a token with an unknown kid verified")
		}
	}
	if n := j.Fetches(); n != 1 {
		t.Fatalf("%d fetches after 50 unknown kids within MinRefresh, want 1", n)
	}

	// Rotation: the provider adds a key; once MinRefresh has passed, its
	// first token fetches the set again.
	prov.set(func(p *provider) { p.keys = append(p.keys, jwk(ss[2].kid, ss[2].key.Public())) })
	j.MinRefresh = time.Nanosecond
	if _, err := v.Verify(sign(t, ss[2], ss[2].kid, nil)); err != nil {
		t.Fatalf("the rotated-in key: %v", err)
	}
	// The provider goes down: the keys it had keep working.
	prov.set(func(p *provider) { p.broken = true })
	if _, err := v.Verify(sign(t, ss[0], "unknown-while-down", nil)); err == nil {
		t.Fatal("unknown kid verified while the provider is down")
	}
	if _, err := v.Verify(sign(t, ss[0], ss[0].kid, nil)); err != nil {
		t.Fatalf("a cached key after a failed refresh: %v", err)
	}
}

func TestJWKSRefusesOversizeAndUnusable(t *testing.T) {
	prov := newProvider(t)
	prov.set(func(p *provider) {
		p.body = `{"keys":[` + strings.Repeat(`{"kty":"oct","kid":"a","k":"AAAA"},`, 2000) + `{}]}`
	})
	j := &JWKS{URL: prov.srv.URL, MaxBytes: 4 << 10}
	if keys := j.Keys(t.Context(), "a"); len(keys) != 0 {
		t.Fatalf("an oversize set gave keys: %v", keys)
	}
	for name, body := range map[string]string{
		"symmetric key only": `{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}`,
		"point off curve":    `{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"AQ","y":"AQ"}]}`,
		"short RSA":          `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		"encryption key":     `{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","use":"enc","x":"` + strings.Repeat("A", 43) + `"}]}`,
		"not JSON":           `<html>`,
	} {
		if _, err := ParseJWKS([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
