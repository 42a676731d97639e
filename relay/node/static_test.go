package node

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

func TestStaticPrecompressedAndCached(t *testing.T) {
	leaktest.Check(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>demo</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "lib", "x.wasm"), []byte("RAW"), 0o644)
	os.WriteFile(filepath.Join(dir, "lib", "x.wasm.br"), []byte("BROTLI"), 0o644)
	os.WriteFile(filepath.Join(dir, "lib", "x.wasm.gz"), []byte("GZIP"), 0o644)
	n, err := Start(Config{Listen: "127.0.0.1:0", Secret: "s", Static: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	base := "http://" + n.Addr()
	// A transport that does not add Accept-Encoding or decompress.
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer hc.CloseIdleConnections()
	get := func(path, accept, inm string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	cases := []struct{ accept, body, enc string }{
		{"gzip, deflate, br", "BROTLI", "br"},
		{"gzip", "GZIP", "gzip"},
		{"br;q=0, gzip", "GZIP", "gzip"},
		{"", "RAW", ""},
	}
	for _, c := range cases {
		resp, body := get("/lib/x.wasm", c.accept, "")
		if body != c.body || resp.Header.Get("Content-Encoding") != c.enc || resp.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("Accept-Encoding %q: body %q, encoding %q, type %q", c.accept, body, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("caching headers: %v", resp.Header)
		}
	}
	resp, _ := get("/lib/x.wasm", "br", "")
	tag := resp.Header.Get("ETag")
	if resp2, body := get("/lib/x.wasm", "br", tag); resp2.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation with the ETag: %d %q", resp2.StatusCode, body)
	}
	if resp, body := get("/", "", ""); resp.StatusCode != 200 || body != "<h1>demo</h1>" {
		t.Errorf("index: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/../../etc/passwd", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("path escape: %d", resp.StatusCode)
	}
}

func TestDevEndpoints(t *testing.T) {
	e := start(t, History{})
	// A node without Dev has no /dev routes.
	resp, err := http.Get("http://" + e.node.Addr() + "/dev/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/dev/token without dev: %v", resp.StatusCode)
	}
	n, err := Start(Config{Listen: "127.0.0.1:0", Secret: "s", Dev: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	resp, err = http.Get("http://" + n.Addr() + "/dev/token")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	states := make(chan error, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, n.URL(), &client.Options{Token: string(tok), MinBackoff: 10 * time.Millisecond, OnState: func(s client.State, err error) {
		if s == client.Reconnecting {
			states <- err
		}
	}})
	if err != nil {
		t.Fatalf("dial with the dev token: %v", err)
	}
	defer c.Close()
	resp, err = http.Post("http://"+n.Addr()+"/dev/drop", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("drop: %v", err)
	}
	resp.Body.Close()
	select {
	case err := <-states:
		var ce *client.CloseError
		if !errors.As(err, &ce) || ce.Code != codes.Dropped {
			t.Fatalf("reconnecting because of %v, want DROPPED", err)
		}
	case <-ctx.Done():
		t.Fatal("client not dropped")
	}
}
