//go:build js && wasm

package ws_test

import (
	"os"
	"testing"
)

// testServer is the native test's echo server (see TestJSConn); run alone
// the js tests skip.
func testServer(t *testing.T) string {
	u := os.Getenv("WS_TEST_URL")
	if u == "" {
		t.Skip("run by TestJSConn (go test ./wasm/internal/ws natively), which starts the peer")
	}
	return u
}

// refusedURL is a URL the native test found nothing listening on.
func refusedURL(t *testing.T) string { return os.Getenv("WS_TEST_REFUSED") }
