// Package auth verifies and mints the tokens browsers connect with.
//
// A token is a JWT whose claims name the tenant, the subject, and the
// channel patterns the holder may subscribe to and send commands to:
//
//	{"sub":"alice","tenant":"acme","subs":["lora/#"],"cmds":["lora/+/+/down"],"exp":…}
//
// The tenant is never taken from anything else a client sends, which is
// what keeps tenants apart. HS256 (a shared secret) is for development and
// single-operator setups; PublicKeys verifies an identity provider's
// RS256, ES256 and EdDSA tokens from PEM files. Tokens over MaxTokenBytes
// or with more than MaxPatterns patterns are refused unread. It builds for
// GOOS=js.
package auth
