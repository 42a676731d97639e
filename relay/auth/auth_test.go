package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHS256RoundTrip(t *testing.T) {
	h := &HS256{Secret: []byte("s3cret"), Issuer: "fieldrelay"}
	tok, err := h.Mint(Claims{Subject: "alice", Tenant: "acme", Subscribe: []string{"lora/#"}, Command: []string{"lora/+/+/down"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenant != "acme" || c.Subject != "alice" || !c.CanSubscribe("lora/+/+/up") || c.CanSubscribe("#") {
		t.Fatalf("claims %+v", c)
	}
	if !c.CanCommand("lora/a/b/down") || c.CanCommand("lora/a/b/up") {
		t.Fatalf("command patterns not applied: %+v", c)
	}
}

func TestHS256Rejects(t *testing.T) {
	h := &HS256{Secret: []byte("s3cret")}
	other := &HS256{Secret: []byte("other")}
	forged, _ := other.Mint(Claims{Tenant: "acme"}, time.Hour)
	expired, _ := (&HS256{Secret: []byte("s3cret"), Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}).Mint(Claims{Tenant: "acme"}, time.Hour)
	noTenant, _ := h.Mint(Claims{Subject: "x"}, time.Hour)
	badPattern, _ := h.Mint(Claims{Tenant: "acme", Subscribe: []string{"a/#/b"}}, time.Hour)
	parts := strings.Split(forged, ".")
	noneAlg := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	cases := map[string]struct {
		tok  string
		want error
	}{
		"forged":      {forged, ErrInvalid},
		"expired":     {expired, ErrExpired},
		"no tenant":   {noTenant, ErrInvalid},
		"bad pattern": {badPattern, ErrInvalid},
		"alg none":    {noneAlg, ErrInvalid},
		"garbage":     {"not.a.token", ErrInvalid},
		"empty":       {"", ErrInvalid},
	}
	for name, c := range cases {
		if _, err := h.Verify(c.tok); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
}
