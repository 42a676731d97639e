package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/relay/auth"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fieldrelay test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServesWSS: with a certificate and key the relay serves wss:// (a
// client that trusts the certificate connects and is accepted) and refuses
// plain ws:// on the same port.
func TestServesWSS(t *testing.T) {
	leaktest.Check(t)
	certFile, keyFile, pool := selfSigned(t)
	n, err := Start(Config{Listen: "127.0.0.1:0", Secret: "s", TLSCert: certFile, TLSKey: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown() })
	if !strings.HasPrefix(n.URL(), "wss://") || !strings.HasPrefix(n.BaseURL(), "https://") {
		t.Fatalf("URL %s, BaseURL %s", n.URL(), n.BaseURL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	c, _, err := websocket.Dial(ctx, n.URL(), &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer c.CloseNow()
	tok, _ := (&auth.HS256{Secret: []byte("s")}).Mint(auth.Claims{Subject: "u", Tenant: "acme", Subscribe: []string{"#"}}, time.Hour)
	msg, _ := proto.AppendFrame(nil, &proto.Connect{Token: tok})
	if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, _, err := proto.DecodeFrame(b); err != nil {
		t.Fatal(err)
	} else if _, ok := f.(*proto.Connected); !ok {
		t.Fatalf("over wss: %#v", f)
	}
	c.Close(websocket.StatusNormalClosure, "")

	// Plain ws:// to the TLS port gets no WebSocket.
	if c, _, err := websocket.Dial(ctx, "ws://"+n.Addr()+"/v1/ws", &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}}); err == nil {
		c.CloseNow()
		t.Fatal("plain ws:// accepted on the TLS port")
	}
	// An untrusted certificate is refused by a default client.
	if c, _, err := websocket.Dial(ctx, n.URL(), nil); err == nil {
		c.CloseNow()
		t.Fatal("a client without the certificate in its roots connected")
	}
}

func TestTLSNeedsCertAndKey(t *testing.T) {
	certFile, _, _ := selfSigned(t)
	if _, err := Start(Config{Listen: "127.0.0.1:0", Secret: "s", TLSCert: certFile}, nil); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("a certificate without a key: %v", err)
	}
}
