//go:build !js

package direct_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
)

// TestJSAgainstSim runs this package's TestJS* tests compiled for GOOS=js
// GOARCH=wasm, under Node, against a simulated Insight Mobile app started
// here: the session over the browser's WebSocket API (Node's), text frames
// and all, as a page in direct mode runs it. The js tests act on the app
// through a small control server of this test. Skipped with -short or
// without node.
func TestJSAgainstSim(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the js/wasm build and run")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: the js/wasm tests need Node 20+ (with --experimental-websocket, which this test sets)")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to build the js/wasm tests: %v", err)
	}
	execScript := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "direct.test.wasm")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the js/wasm tests: %v\n%s", err, out)
	}

	sim, url := startSim(t, proglovesim.Config{})
	ctl := httptest.NewServer(simControl(sim))
	defer ctl.Close()

	run := exec.CommandContext(ctx, execScript, bin, "-test.run", "^TestJS", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(),
		"NODE_OPTIONS="+strings.TrimSpace(os.Getenv("NODE_OPTIONS")+" --experimental-websocket --no-warnings"),
		"DIRECT_TEST_URL="+url,
		"DIRECT_TEST_CONTROL="+ctl.URL,
	)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	err = run.Run()
	t.Logf("js/wasm tests under node:\n%s", out.String())
	if err != nil {
		t.Fatalf("js/wasm tests failed: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: TestJSDirect") {
		t.Fatal("TestJSDirect did not pass")
	}
}

// simControl lets the js tests act on the simulated app:
//
//	POST /scan?serial=S&code=C   once a client is connected, scan C on S
//	POST /drop                   cut every connection, as a killed app would
func simControl(sim *proglovesim.Simulator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /scan", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), patience)
		defer cancel()
		if err := sim.WaitClients(ctx, 1); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if sim.Scan(r.URL.Query().Get("serial"), r.URL.Query().Get("code")) == nil {
			http.Error(w, "no scan: unknown or disconnected scanner", http.StatusConflict)
		}
	})
	mux.HandleFunc("POST /drop", func(w http.ResponseWriter, r *http.Request) {
		sim.DropClients()
	})
	return mux
}
