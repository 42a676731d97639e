package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// TestIdentityProviderKeys: a relay configured with an identity provider's
// public key (and no secret) accepts that provider's EdDSA tokens, with
// issuer and audience checked, and refuses an HS256 token.
func TestIdentityProviderKeys(t *testing.T) {
	leaktest.Check(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	path := filepath.Join(t.TempDir(), "idp.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"kid": "k1"}, Bytes: der}), 0o600)
	n, err := Start(Config{Listen: "127.0.0.1:0", JWTPublicKeys: []string{path}, JWTIssuer: "idp", JWTAudience: "fieldrelay"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown() })
	mint := func(iss string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"sub": "alice", "tenant": "acme", "subs": []string{"#"}, "iss": iss, "aud": "fieldrelay",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dial := func(tok string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, n.URL(), &client.Options{Token: tok})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(mint("idp")); err != nil {
		t.Fatalf("the provider's token: %v", err)
	}
	hs, _ := (&auth.HS256{Secret: []byte("guess")}).Mint(auth.Claims{Tenant: "acme"}, time.Hour)
	for name, tok := range map[string]string{"another issuer": mint("evil"), "an HS256 token": hs} {
		var ce *client.CloseError
		if err := dial(tok); !errors.As(err, &ce) || ce.Code != codes.InvalidToken {
			t.Errorf("%s: %v, want INVALID_TOKEN", name, err)
		}
	}
}
