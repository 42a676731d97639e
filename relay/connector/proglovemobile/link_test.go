package proglovemobile_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/connector/proglovemobile"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

func TestNewChecksConfig(t *testing.T) {
	pub := &connector.Publisher{Broker: broker.NewMemory(broker.MemoryConfig{}), Tenant: "acme"}
	ok := proglovemobile.Config{Name: "m", Publisher: pub, URL: "ws://127.0.0.1:9998"}
	if _, err := proglovemobile.New(ok); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*proglovemobile.Config)
		want string
	}{
		{"no name", func(c *proglovemobile.Config) { c.Name = "" }, "Name is required"},
		{"no publisher", func(c *proglovemobile.Config) { c.Publisher = nil }, "Publisher is required"},
		{"no url", func(c *proglovemobile.Config) { c.URL = "" }, "url is required"},
		{"port 80", func(c *proglovemobile.Config) { c.URL = "ws://127.0.0.1:80" }, "must be in [1024, 65536)"},
		{"port 1023", func(c *proglovemobile.Config) { c.URL = "ws://127.0.0.1:1023" }, "must be in [1024, 65536)"},
		{"port 65536", func(c *proglovemobile.Config) { c.URL = "ws://127.0.0.1:65536" }, "must be in [1024, 65536)"},
		{"no port", func(c *proglovemobile.Config) { c.URL = "ws://127.0.0.1" }, "no port"},
		{"http", func(c *proglovemobile.Config) { c.URL = "http://127.0.0.1:9998" }, "scheme must be ws"},
		{"path", func(c *proglovemobile.Config) { c.URL = "ws://127.0.0.1:9998/x?token=secret" }, "no credentials, path or query"},
		{"negative timeout", func(c *proglovemobile.Config) { c.CommandTimeout = -time.Second }, "command_timeout must not be negative"},
		{"backoff order", func(c *proglovemobile.Config) { c.MinBackoff, c.MaxBackoff = time.Minute, time.Second }, "min_backoff"},
		{"negative size", func(c *proglovemobile.Config) { c.MaxMessage = -1 }, "max_message"},
	} {
		cfg := ok
		tt.mod(&cfg)
		_, err := proglovemobile.New(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the URL's query: %v", tt.name, err)
		}
	}
	var pe *proglove.FieldError
	cfg := ok
	cfg.URL = "ws://localhost:443"
	if _, err := proglovemobile.New(cfg); !errors.As(err, &pe) || !errors.Is(err, proglove.ErrBadPort) {
		t.Errorf("port error is not a proglove.ErrBadPort: %v", err)
	}
}

func TestOptionsJSON(t *testing.T) {
	var cfg proglovemobile.Config
	err := json.Unmarshal([]byte(`{"url":"ws://192.168.1.20:9998","command_timeout":"1500ms","ping_interval":"10s","pong_timeout":"3s",
		"min_backoff":"250ms","max_backoff":"20s","dial_timeout":"4s","write_timeout":"2s","max_message":131072,"skip_gateway_state":true}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := proglovemobile.Config{URL: "ws://192.168.1.20:9998", CommandTimeout: 1500 * time.Millisecond, PingInterval: 10 * time.Second,
		PongTimeout: 3 * time.Second, MinBackoff: 250 * time.Millisecond, MaxBackoff: 20 * time.Second, DialTimeout: 4 * time.Second,
		WriteTimeout: 2 * time.Second, MaxMessage: 131072, SkipGatewayState: true}
	if cfg != want {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	// Options the JSON does not name keep their values.
	kept := proglovemobile.Config{Name: "m", URL: "ws://127.0.0.1:9998", PongTimeout: time.Second}
	if err := json.Unmarshal([]byte(`{"command_timeout":"3s"}`), &kept); err != nil {
		t.Fatal(err)
	}
	if kept.Name != "m" || kept.URL != "ws://127.0.0.1:9998" || kept.PongTimeout != time.Second || kept.CommandTimeout != 3*time.Second {
		t.Errorf("merged %+v", kept)
	}
	for _, bad := range []string{`{"command_timout":"1s"}`, `{"command_timeout":1500}`, `{"command_timeout":"soon"}`, `{"Name":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &cfg); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// fakeApp is a hand-written Streams API server for behaviours the
// simulator does not have: it refuses gateway_state! and, after that
// refusal, sends a scan.
type fakeApp struct {
	srv  *httptest.Server
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []*websocket.Conn
}

func newFakeApp(t *testing.T) *fakeApp {
	a := &fakeApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.wg.Add(1)
		defer a.wg.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		a.mu.Lock()
		a.conn = append(a.conn, c)
		a.mu.Unlock()
		defer c.CloseNow()
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			cmd, _ := proglove.DecodeCommand(data)
			if cmd == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(r.Context(), patience)
			b, _ := proglove.EncodeMessage(&proglove.ErrorEvent{
				Envelope:    proglove.Envelope{ID: proglove.NewEventID(), Created: time.Now().UnixMilli()},
				ReferenceID: cmd.Header().ID, Severity: "ERROR", Code: proglove.ErrorInvalidCommand, Message: "unsupported event_type",
				GatewaySerial: "PHONE1",
			})
			err = c.Write(ctx, websocket.MessageText, b)
			if err == nil {
				s, _ := proglove.EncodeMessage(&proglove.Scan{ScanCode: "after-refusal", DeviceSerial: "S1"})
				err = c.Write(ctx, websocket.MessageText, s)
			}
			cancel()
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		a.mu.Lock()
		for _, c := range a.conn {
			c.CloseNow()
		}
		a.mu.Unlock()
		a.srv.Close()
		a.wg.Wait()
	})
	return a
}

// An app that refuses the link's own gateway_state! is fine: the refusal
// is logged once and not published; browsers' gateway_state commands get
// the refusal.
func TestGatewayStateRefused(t *testing.T) {
	leaktest.Check(t)
	app := newFakeApp(t)
	b := broker.NewMemory(broker.MemoryConfig{})
	defer b.Close()
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	cfg := testConfig("ws" + strings.TrimPrefix(app.srv.URL, "http"))
	cfg.Name, cfg.Publisher, cfg.Logger = linkName, &connector.Publisher{Broker: b, Tenant: "acme"}, logger
	cfg.CommandTimeout = time.Minute
	link, err := proglovemobile.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- link.Run(ctx) }()
	defer func() {
		stop()
		<-runDone
	}()

	// Follow the tenant's log until the scan that follows the refusal.
	tail, err := b.Tail(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(ctx, patience)
	defer fcancel()
	var kinds []string
	errStop := errors.New("stop")
	err = b.Follow(fctx, "acme", tail.Epoch, 0, func(es []*broker.Entry) error {
		for _, e := range es {
			kinds = append(kinds, e.Kind)
			if e.Kind == event.KindScan {
				return errStop
			}
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("follow: %v (kinds %v)", err, kinds)
	}
	for _, k := range kinds {
		if k == event.KindScannerError {
			t.Errorf("the refusal of the link's own gateway_state! was published: %v", kinds)
		}
	}
	logMu.Lock()
	if n := strings.Count(logs.String(), "refuses gateway_state!"); n != 1 {
		t.Errorf("refusal logged %d times:\n%s", n, logs.String())
	}
	logMu.Unlock()

	res := link.Command(ctx, hub.CommandRequest{Tenant: "acme", ID: "c1", Target: "scanner/gateway/phone1/cmd", Kind: event.CmdScannerGatewayState})
	if res.Code != codes.DeviceRejected || res.Message != "ERROR_INVALID_COMMAND: unsupported event_type" {
		t.Errorf("gateway_state command: %+v", res)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Command checks what it can before touching the socket.
func TestCommandChecksRequest(t *testing.T) {
	pub := &connector.Publisher{Broker: broker.NewMemory(broker.MemoryConfig{}), Tenant: "acme"}
	link, err := proglovemobile.New(proglovemobile.Config{Name: "m", Publisher: pub, URL: "ws://127.0.0.1:9998"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := (&event.ScannerFeedback{Action: proglove.FeedbackPositive}).MarshalMsg(nil)
	for _, tt := range []struct {
		name string
		req  hub.CommandRequest
		code codes.Code
		msg  string
	}{
		{"bad target", hub.CommandRequest{Target: "scanner/x/scan", Kind: event.CmdScannerFeedback, Body: body}, codes.BadRequest, "scanner/<serial>/cmd"},
		{"foreign kind", hub.CommandRequest{Target: "scanner/x/cmd", Kind: event.CmdLoRaDownlink}, codes.BadRequest, "not a scanner command"},
		{"bad body", hub.CommandRequest{Target: "scanner/x/cmd", Kind: event.CmdScannerFeedback, Body: []byte{0xc1}}, codes.BadRequest, "body is not a scanner.feedback"},
		{"not connected", hub.CommandRequest{Target: "scanner/x/cmd", Kind: event.CmdScannerFeedback, Body: body}, codes.Unavailable, "nothing was sent"},
	} {
		res := link.Command(context.Background(), tt.req)
		if res.Code != tt.code || !strings.Contains(res.Message, tt.msg) {
			t.Errorf("%s: %+v", tt.name, res)
		}
	}
	for _, tt := range []struct {
		target, kind string
		want         bool
	}{
		{"scanner/m2mr111100928/cmd", event.CmdScannerFeedback, true},
		{"scanner/m2mr111100928/cmd", event.CmdScannerDisplay, true},
		{"scanner/m2mr111100928/cmd", event.CmdScannerTriggerBlock, true},
		{"scanner/gateway/_/cmd", event.CmdScannerGatewayState, true},
		{"scanner/m2mr111100928/cmd", event.CmdScannerGatewayState, false},
		{"scanner/m2mr111100928/scan", event.CmdScannerFeedback, false},
		{"lora/a/b/down", event.CmdLoRaDownlink, false},
	} {
		if got := link.Serves(tt.target, tt.kind); got != tt.want {
			t.Errorf("Serves(%s, %s) = %v", tt.target, tt.kind, got)
		}
	}
}
