package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/auth"
)

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", "[flags]", `
Mint an HS256 token for development: it names the tenant and the channel
patterns the holder may subscribe to and send commands to. The secret must
be the relay's (--secret or FIELDRELAY_SECRET).`, stderr)
	secret := fs.String("secret", envOr("FIELDRELAY_SECRET", ""), "HS256 secret (env FIELDRELAY_SECRET)")
	tenant := fs.String("tenant", "demo", "tenant the token grants")
	subject := fs.String("subject", "dev", "subject (user or device) of the token")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	var subs, cmds multi
	fs.Var(&subs, "sub", "subscribe pattern (repeatable; default \"#\")")
	fs.Var(&cmds, "cmd", "command target pattern (repeatable; default \"#\")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("no secret: pass --secret or set FIELDRELAY_SECRET")
	}
	if len(subs) == 0 {
		subs = multi{"#"}
	}
	if len(cmds) == 0 {
		cmds = multi{"#"}
	}
	tok, err := (&auth.HS256{Secret: []byte(*secret)}).Mint(auth.Claims{Subject: *subject, Tenant: *tenant, Subscribe: subs, Command: cmds}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
