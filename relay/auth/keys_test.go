package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testSigners(t testing.TB) []signer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	return []signer{{"rsa-1", jwt.SigningMethodRS256, rk}, {"ec-1", jwt.SigningMethodES256, ek}, {"ed-1", jwt.SigningMethodEdDSA, dk}}
}

// writeKeys writes the signers' public keys to one PEM file with kid
// headers and returns the verifier over it.
func writeKeys(t testing.TB, ss []signer) *PublicKeys {
	t.Helper()
	var buf []byte
	for _, s := range ss {
		der, err := x509.MarshalPKIXPublicKey(s.key.Public())
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"kid": s.kid}, Bytes: der})...)
	}
	path := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadPublicKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return &PublicKeys{Keys: keys, Issuer: "https://idp.example", Audience: "fieldrelay", Now: func() time.Time { return now }}
}

func sign(t testing.TB, s signer, kid string, mutate func(*jwtClaims)) string {
	t.Helper()
	jc := jwtClaims{Tenant: "acme", Subs: []string{"lora/#"}, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "alice", Issuer: "https://idp.example", Audience: jwt.ClaimStrings{"fieldrelay"},
		IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
	if mutate != nil {
		mutate(&jc)
	}
	tok := jwt.NewWithClaims(s.method, jc)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPublicKeysAcceptEachAlgorithm(t *testing.T) {
	ss := testSigners(t)
	v := writeKeys(t, ss)
	for _, s := range ss {
		c, err := v.Verify(sign(t, s, s.kid, nil))
		if err != nil || c.Tenant != "acme" || c.Subject != "alice" || !c.CanSubscribe("lora/a/b/up") {
			t.Errorf("%s: %+v %v", s.method.Alg(), c, err)
		}
	}
}

func TestPublicKeysRefuse(t *testing.T) {
	ss := testSigners(t)
	v := writeKeys(t, ss)
	other := testSigners(t)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(ss[0].key.Public()))})
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{Tenant: "acme", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "https://idp.example", Audience: jwt.ClaimStrings{"fieldrelay"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	confused.Header["kid"] = "rsa-1"
	confusedTok, _ := confused.SignedString(rsaPEM)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwtClaims{Tenant: "acme", RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	many := make([]string, MaxPatterns+1)
	for i := range many {
		many[i] = "a"
	}
	cases := map[string]struct {
		token   string
		expired bool
	}{
		"signed by another key with a known kid": {sign(t, other[0], "rsa-1", nil), false},
		"unknown kid":                            {sign(t, ss[0], "nope", nil), false},
		"no kid with several keys":               {sign(t, ss[0], "", nil), false},
		"ES256 token naming the RSA key":         {sign(t, ss[1], "rsa-1", nil), false},
		"HS256 signed with the RSA key's PEM":    {confusedTok, false},
		"alg none":                               {noneTok, false},
		"expired":                                {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) }), true},
		"no exp":                                 {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.ExpiresAt = nil }), false},
		"not yet valid":                          {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), false},
		"issued in the future":                   {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) }), false},
		"wrong issuer":                           {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.Issuer = "https://evil.example" }), false},
		"wrong audience":                         {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.Audience = jwt.ClaimStrings{"other"} }), false},
		"no tenant":                              {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.Tenant = "" }), false},
		"bad pattern":                            {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.Subs = []string{"a/#/b"} }), false},
		"too many patterns":                      {sign(t, ss[0], "rsa-1", func(c *jwtClaims) { c.Subs = many }), false},
		"oversize":                               {strings.Repeat("a", MaxTokenBytes+1), false},
		"garbage":                                {"x.y.z", false},
	}
	for name, c := range cases {
		_, err := v.Verify(c.token)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired):
			t.Errorf("%s: %v is neither ErrInvalid nor ErrExpired", name, err)
		case errors.Is(err, ErrExpired) != c.expired:
			t.Errorf("%s: %v (expired %v)", name, err, c.expired)
		}
	}
}

func TestLoneKeyWithoutKidAndAny(t *testing.T) {
	ss := testSigners(t)
	v := writeKeys(t, ss[2:])
	if _, err := v.Verify(sign(t, ss[2], "", nil)); err != nil {
		t.Fatalf("a lone key verifies a token without kid: %v", err)
	}
	hs := &HS256{Secret: []byte("dev"), Now: func() time.Time { return now }}
	dev, _ := hs.Mint(Claims{Tenant: "demo", Subject: "dev"}, time.Hour)
	both := Any{v, hs}
	if _, err := both.Verify(dev); err != nil {
		t.Fatalf("Any: the HS256 token: %v", err)
	}
	if _, err := both.Verify(sign(t, ss[2], "", nil)); err != nil {
		t.Fatalf("Any: the EdDSA token: %v", err)
	}
	expired := sign(t, ss[2], "", func(c *jwtClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })
	if _, err := both.Verify(expired); !errors.Is(err, ErrExpired) {
		t.Fatalf("Any: expired token: %v", err)
	}
}

func TestLoadPublicKeysRefusesWeakKeys(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	path := filepath.Join(t.TempDir(), "weak.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&weak.PublicKey))}), 0o600)
	if _, err := LoadPublicKeys(path); err == nil {
		t.Fatal("a 1024-bit RSA key was accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("nothing"), 0o600)
	if _, err := LoadPublicKeys(empty); err == nil {
		t.Fatal("a file without keys was accepted")
	}
}

// FuzzVerify: no input panics either verifier, and nothing but the
// seeds' properly signed tokens verifies.
func FuzzVerify(f *testing.F) {
	ss := testSigners(f)
	v := writeKeys(f, ss)
	hs := &HS256{Secret: []byte("fuzz"), Now: func() time.Time { return now }}
	good := map[string]bool{}
	for _, s := range ss {
		tok := sign(f, s, s.kid, nil)
		good[tok] = true
		f.Add(tok)
	}
	devTok, _ := hs.Mint(Claims{Tenant: "acme"}, time.Hour)
	good[devTok] = true
	f.Add(devTok)
	f.Add("eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJhY21lIn0.")
	f.Fuzz(func(t *testing.T, token string) {
		for _, vv := range []Verifier{v, hs} {
			if _, err := vv.Verify(token); err == nil && !good[token] {
				t.Fatalf("verified a token it never signed: %q", token)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
