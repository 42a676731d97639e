//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
)

var (
	peerOnce sync.Once
	peerURL  string
)

// testServer starts, once per test binary, the peer the Conn tests talk
// to:
//
//	/echo   echoes every message with its type; selects subprotocol
//	        test.v1 when offered
//	/close  sends the text "bye soon", then closes with 4001 "going"
//
// It is shared by every test and outlives them: the test binary's exit
// ends it.
func testServer(t *testing.T) string {
	peerOnce.Do(func() {
		mux := http.NewServeMux()
		mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, Subprotocols: []string{"test.v1"}})
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			for {
				typ, b, err := c.Read(r.Context())
				if err != nil {
					return
				}
				if err := c.Write(r.Context(), typ, b); err != nil {
					return
				}
			}
		})
		mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
			if err != nil {
				return
			}
			defer c.CloseNow()
			if c.Write(r.Context(), websocket.MessageText, []byte("bye soon")) == nil {
				c.Close(4001, "going")
			}
		})
		srv := httptest.NewServer(mux)
		peerURL = "ws" + strings.TrimPrefix(srv.URL, "http")
	})
	return peerURL
}

// refusedURL is a ws:// URL on a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/"
}

// Dial, Read, Write and Close leave no goroutine of the package behind.
func TestConnNoLeak(t *testing.T) {
	testServer(t) // shared by every test: started before the check
	leaktest.Check(t)
	TestConnTextAndBinary(t)
	TestConnPeerClose(t)
	TestConnReadContext(t)
}

// TestJSConn runs this package's TestConn* tests compiled for GOOS=js
// GOARCH=wasm, under Node, against this binary's echo server: the browser
// implementation (conn_js.go) over Node's WebSocket, which is the
// browser's API. Skipped with -short or without node.
func TestJSConn(t *testing.T) {
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
	bin := filepath.Join(t.TempDir(), "ws.test.wasm")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the js/wasm tests: %v\n%s", err, out)
	}
	run := exec.CommandContext(ctx, execScript, bin, "-test.run", "^Test(Conn|CloseErrorText)", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(),
		"NODE_OPTIONS="+strings.TrimSpace(os.Getenv("NODE_OPTIONS")+" --experimental-websocket --no-warnings"),
		"WS_TEST_URL="+testServer(t),
		"WS_TEST_REFUSED="+refusedURL(t),
	)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	err = run.Run()
	t.Logf("js/wasm tests under node:\n%s", out.String())
	if err != nil {
		t.Fatalf("js/wasm tests failed: %v", err)
	}
	for _, name := range []string{"TestConnTextAndBinary", "TestConnSubprotocol", "TestConnPeerClose", "TestConnReadLimit", "TestConnReadContext", "TestConnDialRefused"} {
		if !strings.Contains(out.String(), "--- PASS: "+name) {
			t.Errorf("%s did not pass under node", name)
		}
	}
}
