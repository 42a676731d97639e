//go:build !js

package client

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

// TestJSAgainstRelay runs this package's TestJS* tests compiled for
// GOOS=js GOARCH=wasm, under Node, against a real relay started here: the
// browser transport (transport_js.go) over Node's WebSocket, which is the
// browser's API. The js tests drive the relay through a small control
// server of this test (publish events, drop the connections). Skipped with
// -short or without node.
func TestJSAgainstRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the js/wasm build and run")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: the js/wasm client tests need Node 20+ (and --experimental-websocket, which this test sets)")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to build the js/wasm tests: %v", err)
	}
	execScript := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "client.test.wasm")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the js/wasm tests: %v\n%s", err, out)
	}

	n, err := node.Start(node.Config{Listen: "127.0.0.1:0", Secret: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	tok, err := n.Auth.Mint(auth.Claims{Subject: "js-test", Tenant: "acme", Subscribe: []string{"#"}, Command: []string{"#"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctl := httptest.NewServer(controlHandler(t, n))
	defer ctl.Close()

	run := exec.CommandContext(ctx, execScript, bin, "-test.run", "^TestJS", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(),
		"NODE_OPTIONS="+strings.TrimSpace(os.Getenv("NODE_OPTIONS")+" --experimental-websocket --no-warnings"),
		"FIELDRELAY_TEST_URL="+n.URL(),
		"FIELDRELAY_TEST_TOKEN="+tok,
		"FIELDRELAY_TEST_CONTROL="+ctl.URL,
	)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	err = run.Run()
	t.Logf("js/wasm tests under node:\n%s", out.String())
	if err != nil {
		t.Fatalf("js/wasm tests failed: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: TestJSRelay") {
		t.Fatal("TestJSRelay did not run")
	}
}

// controlHandler lets the js tests act on the relay:
//
//	POST /publish?n=N   publish N uplinks to tenant acme (lora/a1/d1/up)
//	POST /drop          close every connection with codes.Dropped
//	POST /drop?then=N   the same, then publish N uplinks at once
func controlHandler(t *testing.T, n *node.Node) http.Handler {
	fcnt := uint32(0)
	publish := func(count int) error {
		for range count {
			fcnt++
			up := event.Uplink{Meta: event.Meta{Link: "test", Protocol: "resiot", Raw: []byte(`{"x":1}`)},
				AppEUI: "a1", DevEUI: "d1", Port: 2, Payload: []byte{byte(fcnt)}, FCnt: fcnt, RSSI: -70.5}
			data, err := up.MarshalMsg(nil)
			if err != nil {
				return err
			}
			msg := broker.Message{Channel: event.LoRaChannel("a1", "d1", "up"), Kind: event.KindUplink, Data: data}
			if _, err := n.Broker.Publish(context.Background(), "acme", msg); err != nil {
				return err
			}
		}
		return nil
	}
	count := func(r *http.Request, key string) int {
		v, _ := strconv.Atoi(r.URL.Query().Get(key))
		return v
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		if err := publish(count(r, "n")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /drop", func(w http.ResponseWriter, r *http.Request) {
		dropped := n.Hub.Drop("acme", codes.Dropped, "dropped by the test")
		t.Logf("control: dropped %d connections", dropped)
		if err := publish(count(r, "then")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}
