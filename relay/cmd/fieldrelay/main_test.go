package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpForEveryCommand(t *testing.T) {
	if code, out, _ := runCLI("--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "tail") {
		t.Fatalf("top-level help: %d %q", code, out)
	}
	for _, c := range commands {
		code, _, errOut := runCLI(c.name, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: fieldrelay "+c.name) || !strings.Contains(errOut, "Flags:") {
			t.Errorf("%s --help: exit %d, %q", c.name, code, errOut)
		}
	}
	if code, _, _ := runCLI("frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	if code, _, _ := runCLI("serve", "--no-such-flag"); code != 2 {
		t.Errorf("bad flag exit %d, want 2", code)
	}
}

func TestTokenVerifies(t *testing.T) {
	code, out, errOut := runCLI("token", "--secret", "s3", "--tenant", "acme", "--sub", "lora/#", "--cmd", "lora/+/+/down", "--ttl", "1h")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errOut)
	}
	c, err := (&auth.HS256{Secret: []byte("s3")}).Verify(strings.TrimSpace(out))
	if err != nil || c.Tenant != "acme" || !c.CanSubscribe("lora/a/b/up") || c.CanSubscribe("gps/#") || !c.CanCommand("lora/a/b/down") {
		t.Fatalf("minted token: %+v %v", c, err)
	}
	if code, _, _ := runCLI("token", "--secret", ""); code != 1 {
		t.Fatalf("token without a secret: exit %d", code)
	}
}

func TestTailPrintsJSONLines(t *testing.T) {
	leaktest.Check(t)
	n, err := node.Start(node.Config{Listen: "127.0.0.1:0", Secret: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	tok, _ := n.Auth.Mint(auth.Claims{Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := make(chan struct{})
	published := make(chan struct{})
	go func() {
		defer close(published)
		up := event.Uplink{AppEUI: "a", DevEUI: "d", Port: 3, Payload: []byte{1, 2}, Meta: event.Meta{Raw: []byte(`{"CommType":"comm_rx"}`)}}
		data, _ := up.MarshalMsg(nil)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			n.Broker.Publish(ctx, "acme", broker.Message{Channel: "lora/a/d/up", Kind: event.KindUplink, Data: data})
		}
	}()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"tail", "--url", n.URL(), "--token", tok, "-n", "2", "lora/#"}, &out, &errb)
	close(stop)
	<-published
	if code != 0 {
		t.Fatalf("tail exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("tail printed %d lines: %q", len(lines), out.String())
	}
	var ev struct {
		Channel string
		Offset  uint64
		Kind    string
		Event   struct {
			Port int
			Meta struct{ Raw map[string]any }
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Channel != "lora/a/d/up" || ev.Kind != event.KindUplink || ev.Event.Port != 3 || ev.Event.Meta.Raw["CommType"] != "comm_rx" {
		t.Fatalf("tail line %s", lines[0])
	}
}
