package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", `
Run the relay. Settings come from, in rising precedence: a JSON config file
(--config), environment variables (FIELDRELAY_*), then flags. The config
file names tenants and their upstream links, e.g.

  {"listen": "127.0.0.1:8080", "secret": "…",
   "tenants": {"acme": {"links": [
     {"name": "lora-eu", "protocol": "resiot", "url": "wss://…"}]}}}

With --dev, every simulator starts in-process on 127.0.0.1, a tenant "demo"
is wired to them, and a development token is printed.`, stderr)
	configPath := fs.String("config", envOr("FIELDRELAY_CONFIG", ""), "JSON config file (env FIELDRELAY_CONFIG)")
	listen := fs.String("listen", "", "listen address (env FIELDRELAY_LISTEN; default 127.0.0.1:8080)")
	secret := fs.String("secret", "", "HS256 token secret (env FIELDRELAY_SECRET; --dev makes one up)")
	static := fs.String("static", "", "directory served at / (env FIELDRELAY_STATIC)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) to serve https and wss (env FIELDRELAY_TLS_CERT)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert (env FIELDRELAY_TLS_KEY)")
	dev := fs.Bool("dev", false, "start every simulator and a \"demo\" tenant wired to them")
	every := fs.Duration("sim-every", 2*time.Second, "with --dev: interval between simulated device events")
	logLevel := fs.String("log-level", envOr("FIELDRELAY_LOG_LEVEL", "info"), "debug, info, warn or error")
	var origins, jwtKeys multi
	fs.Var(&origins, "origin", "allowed browser Origin host pattern, e.g. app.example.com (repeatable)")
	fs.Var(&jwtKeys, "jwt-public-key", "PEM file of an identity provider's public keys or certificates: RS256, ES256, EdDSA tokens (repeatable)")
	jwtIssuer := fs.String("jwt-issuer", "", "required iss of tokens")
	jwksURL := fs.String("jwks-url", "", "an identity provider's JSON Web Key Set URL (RS256, ES256, EdDSA keys)")
	jwtAudience := fs.String("jwt-audience", "", "required aud of tokens")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}

	var cfg node.Config
	if *configPath != "" {
		if cfg, err = node.LoadConfig(*configPath); err != nil {
			return err
		}
	}
	for env, dst := range map[string]*string{"FIELDRELAY_LISTEN": &cfg.Listen, "FIELDRELAY_SECRET": &cfg.Secret, "FIELDRELAY_STATIC": &cfg.Static,
		"FIELDRELAY_TLS_CERT": &cfg.TLSCert, "FIELDRELAY_TLS_KEY": &cfg.TLSKey} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "secret":
			cfg.Secret = *secret
		case "static":
			cfg.Static = *static
		case "tls-cert":
			cfg.TLSCert = *tlsCert
		case "tls-key":
			cfg.TLSKey = *tlsKey
		case "origin":
			cfg.Origins = append(cfg.Origins, origins...)
		case "jwt-public-key":
			cfg.JWTPublicKeys = append(cfg.JWTPublicKeys, jwtKeys...)
		case "jwt-issuer":
			cfg.JWTIssuer = *jwtIssuer
		case "jwks-url":
			cfg.JWKSURL = *jwksURL
		case "jwt-audience":
			cfg.JWTAudience = *jwtAudience
		}
	})

	var sims []string
	if *dev {
		if cfg.Secret == "" {
			var b [16]byte
			rand.Read(b[:])
			cfg.Secret = hex.EncodeToString(b[:])
		}
		if cfg.Tenants == nil {
			cfg.Tenants = map[string]node.Tenant{}
		}
		demo := cfg.Tenants["demo"]
		for _, s := range simulators {
			url, stop, err := s.start(ctx, "127.0.0.1:0", simOptions{Every: *every})
			if err != nil {
				return fmt.Errorf("simulator %s: %w", s.name, err)
			}
			defer stop()
			demo.Links = append(demo.Links, s.link(url))
			sims = append(sims, fmt.Sprintf("  %-15s %s", s.name, url))
		}
		cfg.Tenants["demo"] = demo
		cfg.Dev = true
		if cfg.Static == "" {
			if fi, err := os.Stat("build/web"); err == nil && fi.IsDir() {
				cfg.Static = "build/web"
			}
		}
	}

	n, err := node.Start(cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fieldrelay relay listening on %s\n", n.BaseURL())
	fmt.Fprintf(stdout, "  browser WebSocket: %s (subprotocol fieldrelay.v1+msgpack)\n", n.URL())
	fmt.Fprintf(stdout, "  health: %s/healthz   metrics: %s/metrics\n", n.BaseURL(), n.BaseURL())
	if cfg.Static != "" {
		fmt.Fprintf(stdout, "  demo page: %s/\n", n.BaseURL())
	}
	if *dev {
		tok, err := n.Auth.Mint(auth.Claims{Subject: "dev", Tenant: "demo", Subscribe: []string{"#"}, Command: []string{"#"}}, 24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "simulators:")
		for _, s := range sims {
			fmt.Fprintln(stdout, s)
		}
		fmt.Fprintf(stdout, "development token (tenant demo, 24 h):\n  %s\n", tok)
		fmt.Fprintf(stdout, "watch every event:\n  go run ./relay/cmd/fieldrelay tail --url %s --token %s '#'\n", n.URL(), tok)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down: clients are told to reconnect")
	return n.Shutdown()
}
