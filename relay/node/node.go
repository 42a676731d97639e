package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/auth"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/fieldrelay/fieldrelay/relay/server"
)

// Node is a running relay.
type Node struct {
	cfg      Config
	log      *slog.Logger
	Broker   *broker.Memory
	Hub      *hub.Hub
	Auth     *auth.HS256
	Links    *connector.Registry
	endpoint *server.Endpoint
	http     *http.Server
	ln       net.Listener
	conns    *tracker // under ln: every connection, hijacked or not
	tls      bool
	counters []counted

	cancel   context.CancelFunc
	linksRun chan struct{}
	served   chan error
	once     sync.Once
	stopErr  error
}

// Start builds the relay from cfg and starts serving on cfg.Listen.
func Start(cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = Duration(10 * time.Second)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, log: log, linksRun: make(chan struct{}), served: make(chan error, 1)}
	n.Broker = broker.NewMemory(broker.MemoryConfig{MaxEntries: cfg.History.MaxEntries, MaxAge: time.Duration(cfg.History.MaxAge)})
	n.Auth = &auth.HS256{Secret: []byte(cfg.Secret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
	var verifier auth.Verifier = n.Auth
	if len(cfg.JWTPublicKeys) > 0 || cfg.JWKSURL != "" {
		pk := &auth.PublicKeys{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
		if len(cfg.JWTPublicKeys) > 0 {
			keys, err := auth.LoadPublicKeys(cfg.JWTPublicKeys...)
			if err != nil {
				return nil, err
			}
			pk.Keys = keys
		}
		if cfg.JWKSURL != "" {
			pk.JWKS = &auth.JWKS{URL: cfg.JWKSURL}
		}
		verifier = pk
		if cfg.Secret != "" {
			verifier = auth.Any{pk, n.Auth}
		}
	}
	n.Links = &connector.Registry{}
	n.Hub = hub.New(hub.Config{
		Broker: n.Broker, Verifier: verifier, Commander: n.Links, Logger: log,
		PingInterval: time.Duration(cfg.PingInterval), QueueBytes: cfg.QueueBytes,
	})
	for tenant, t := range cfg.Tenants {
		pub := &connector.Publisher{Broker: n.Broker, Tenant: tenant}
		for _, lc := range t.Links {
			l, err := protocols[lc.Protocol].build(lc, pub, log.With("tenant", tenant))
			if err != nil {
				return nil, fmt.Errorf("tenant %s link %s: %w", tenant, lc.Name, err)
			}
			n.Links.Add(tenant, l)
			if c, ok := l.(badInputCounter); ok {
				n.counters = append(n.counters, counted{tenant, c})
			}
		}
	}
	n.endpoint = server.NewEndpoint(server.Config{Hub: n.Hub, OriginPatterns: cfg.Origins, PongTimeout: time.Duration(cfg.PongTimeout), Logger: log})

	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("node: TLS needs both a certificate and a key")
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("node: TLS: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	tcp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	n.conns = &tracker{TCPListener: tcp.(*net.TCPListener), conns: make(map[*trackedConn]struct{})}
	var ln net.Listener = n.conns
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		n.tls = true
	}
	n.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/v1/ws", n.endpoint)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/metrics", n.metrics)
	if cfg.Static != "" {
		mux.Handle("/", newStatic(cfg.Static))
	}
	if cfg.Dev {
		// Development only: a token for the demo page, and a way to cut
		// every browser connection to watch clients recover.
		mux.HandleFunc("GET /dev/token", func(w http.ResponseWriter, r *http.Request) {
			tok, err := n.Auth.Mint(auth.Claims{Subject: "dev", Tenant: "demo", Subscribe: []string{"#"}, Command: []string{"#"}}, time.Hour)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, tok)
		})
		mux.HandleFunc("POST /dev/drop", func(w http.ResponseWriter, r *http.Request) {
			count := n.Hub.Drop(r.URL.Query().Get("tenant"), codes.Dropped, "dropped by /dev/drop")
			fmt.Fprintf(w, "dropped %d connections\n", count)
		})
	}
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.linksRun)
		n.Links.Run(ctx)
	}()
	go func() { n.served <- n.http.Serve(ln) }()
	log.Info("fieldrelay listening", "addr", ln.Addr().String())
	return n, nil
}

// Addr is the address the relay listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// URL is the browser WebSocket endpoint.
func (n *Node) URL() string {
	if n.tls {
		return "wss://" + n.Addr() + "/v1/ws"
	}
	return "ws://" + n.Addr() + "/v1/ws"
}

// BaseURL is the relay's http:// or https:// root.
func (n *Node) BaseURL() string {
	if n.tls {
		return "https://" + n.Addr()
	}
	return "http://" + n.Addr()
}

// Shutdown stops the relay gracefully: every browser is told to reconnect
// (codes.Shutdown), links are stopped, and it returns once everything has
// ended or after Config.ShutdownTimeout: then the connections still open
// (a client that does not read, or does not answer the close handshake
// because its link went half-open) are cut. Idempotent.
func (n *Node) Shutdown() error {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n.cfg.ShutdownTimeout))
		defer cancel()
		// WebSockets are hijacked connections, which http.Server forgets:
		// without this a close handshake with a dead peer would hold the
		// shutdown for the WebSocket library's own timeouts.
		stop := context.AfterFunc(ctx, n.conns.cutAll)
		defer stop()
		err := n.Hub.Shutdown(ctx)
		n.cancel()
		herr := n.http.Shutdown(ctx)
		if herr != nil {
			n.http.Close()
		}
		n.endpoint.Wait()
		<-n.linksRun
		n.Broker.Close()
		if serr := <-n.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		n.stopErr = errors.Join(err, herr)
	})
	return n.stopErr
}

// badInputCounter is implemented by links that count malformed input.
type badInputCounter interface {
	Name() string
	BadInputCounts() map[string]uint64
}

type counted struct {
	tenant string
	badInputCounter
}

// metrics writes the counters in the Prometheus text format.
func (n *Node) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s := n.Hub.Stats()
	var b strings.Builder
	g := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP fieldrelay_%s %s\n# TYPE fieldrelay_%s gauge\nfieldrelay_%s %d\n", name, help, name, name, v)
	}
	c := func(name, help string, v uint64) {
		fmt.Fprintf(&b, "# HELP fieldrelay_%s %s\n# TYPE fieldrelay_%s counter\nfieldrelay_%s %d\n", name, help, name, name, v)
	}
	// Process memory, for the idle-connection figure (fieldrelay loadgen
	// --idle). With Dev, ?gc=1 collects first so the heap is what is live.
	if n.cfg.Dev && r.URL.Query().Get("gc") == "1" {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g("heap_inuse_bytes", "Bytes in in-use heap spans.", int64(ms.HeapInuse))
	g("stack_inuse_bytes", "Bytes of goroutine stacks.", int64(ms.StackInuse))
	g("goroutines", "Goroutines.", int64(runtime.NumGoroutine()))
	g("sessions", "Open browser sessions.", s.Sessions.Load())
	g("queued_bytes", "Bytes waiting in session queues.", s.QueuedBytes.Load())
	g("tenants_active", "Tenants with a log follower.", s.Tenants.Load())
	g("pending_commands", "Commands awaiting an upstream reply.", s.PendingCommands.Load())
	c("connects_total", "Sessions that completed Connect.", s.Connects.Load())
	c("dispatched_total", "Events taken from the log.", s.Dispatched.Load())
	c("deliveries_total", "Event frames queued to sessions.", s.Deliveries.Load())
	c("messages_total", "WebSocket messages written.", s.Messages.Load())
	c("replayed_total", "Events replayed for recovery.", s.Replayed.Load())
	c("recovered_total", "Subscribes answered recovered=true.", s.Recovered.Load())
	c("not_recovered_total", "Recovering subscribes answered recovered=false.", s.NotRecovered.Load())
	c("slow_closed_total", "Sessions cut for a full queue.", s.SlowClosed.Load())
	c("protocol_errors_total", "Sessions closed for malformed frames.", s.ProtocolErrors.Load())
	c("auth_failures_total", "Rejected tokens.", s.AuthFailures.Load())
	c("commands_total", "Commands accepted.", s.Commands.Load())
	c("rate_limited_total", "Sessions closed for sending frames over the rate.", s.RateLimited.Load())
	c("connections_refused_total", "Connections over a tenant or subject limit.", s.ConnsRefused.Load())
	c("commands_limited_total", "Commands refused for the tenant's command rate.", s.CommandsLimited.Load())
	b.WriteString("# HELP fieldrelay_upstream_bad_input_total Malformed upstream messages dropped.\n# TYPE fieldrelay_upstream_bad_input_total counter\n")
	for _, l := range n.counters {
		counts := l.BadInputCounts()
		kinds := make([]string, 0, len(counts))
		for k := range counts {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(&b, "fieldrelay_upstream_bad_input_total{tenant=%q,link=%q,kind=%q} %d\n", l.tenant, l.Name(), k, counts[k])
		}
	}
	w.Write([]byte(b.String()))
}

// tracker is the relay's listener. It keeps every connection it accepted
// until that connection is closed, so that Shutdown can cut them all.
type tracker struct {
	*net.TCPListener

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// Accept implements net.Listener.
func (t *tracker) Accept() (net.Conn, error) {
	c, err := t.AcceptTCP()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{TCPConn: c, t: t}
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc, nil
}

// cutAll closes every connection still open.
func (t *tracker) cutAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		c.TCPConn.Close()
	}
}

// trackedConn is an accepted connection (with all of *net.TCPConn's
// methods, so that net/http keeps its sendfile and half-close paths) that
// leaves its tracker when closed.
type trackedConn struct {
	*net.TCPConn
	t    *tracker
	once sync.Once
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.TCPConn.Close()
}
