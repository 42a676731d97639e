package node

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// static serves a directory (the demo app and the browser library) with
// precompressed variants and validators:
//
//   - a request for F is answered with F.br or F.gz when the client accepts
//     that encoding and the file exists (the build writes them for the
//     wasm), with Content-Encoding and Vary: Accept-Encoding;
//   - every response has a strong ETag (a hash of the bytes sent) and
//     Cache-Control: no-cache, so browsers keep the 1 MB wasm and revalidate
//     it with a cheap 304 instead of downloading it again;
//   - .wasm is served as application/wasm, which instantiateStreaming needs.
type static struct {
	root string

	mu    sync.Mutex
	etags map[string]etag // path → hash, keyed with the file's size and mtime
}

type etag struct {
	size  int64
	mtime int64
	tag   string
}

func newStatic(root string) *static { return &static{root: root, etags: make(map[string]etag)} }

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(name, "/") || name == "/" {
		name = path.Join(name, "index.html")
	}
	full := filepath.Join(s.root, filepath.FromSlash(name))
	if fi, err := os.Stat(full); err == nil && fi.IsDir() {
		full = filepath.Join(full, "index.html")
		name = path.Join(name, "index.html")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".wasm" {
		ctype = "application/wasm"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	accept := r.Header.Get("Accept-Encoding")
	send, encoding := full, ""
	for _, enc := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if acceptsEncoding(accept, enc.token) {
			if _, err := os.Stat(full + enc.ext); err == nil {
				send, encoding = full+enc.ext, enc.token
				break
			}
		}
	}
	f, err := os.Open(send)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	tag, err := s.etag(send, fi, f)
	if err != nil {
		http.Error(w, "read error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", tag)
	h.Add("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	// ServeContent answers If-None-Match with 304 and handles Range.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func (s *static) etag(p string, fi os.FileInfo, f *os.File) (string, error) {
	s.mu.Lock()
	e, ok := s.etags[p]
	s.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime == fi.ModTime().UnixNano() {
		return e.tag, nil
	}
	hsh := sha256.New()
	if _, err := io.Copy(hsh, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := fmt.Sprintf("%q", hex.EncodeToString(hsh.Sum(nil)[:12]))
	s.mu.Lock()
	s.etags[p] = etag{fi.Size(), fi.ModTime().UnixNano(), tag}
	s.mu.Unlock()
	return tag, nil
}

// acceptsEncoding reports whether an Accept-Encoding header allows token
// (q=0 refuses it).
func acceptsEncoding(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), token) {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}
