package proglovecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	insight "github.com/fieldrelay/fieldrelay/proto/proglovecloud"
	"github.com/fieldrelay/fieldrelay/relay/connector"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func loadSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "proto", "proglovecloud", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeSeed(t testing.TB, name string) *insight.Event {
	t.Helper()
	e, err := insight.Decode(loadSeed(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// seedCloudScan is the seed's scan as a CloudScan: every key of the
// vendor's example, with times in µs.
func seedCloudScan(raw []byte, received time.Time) *event.CloudScan {
	return &event.CloudScan{
		Meta: event.Meta{Link: "insight", Protocol: Protocol, ID: "5a2eb866-f037-4b19-8122-82692ff64f93",
			Time: 1598259269761000, Received: received.UnixMicro(), Raw: raw},
		Serial: "M2SR121103132", Code: "PGAS10603924", Symbology: "CODE 128", Duration: 0.27,
		Model: "Mark", Maker: "Workaround GmbH", Firmware: "v1.2.0", Battery: 100, Type: "scan", API: "0.5",
		Created: 1598259269761000, Received: 1573116501587000,
		GatewayID: "36f00d2a-33a4-43ed-ba8e-2827f0c0ef08", GwName: "Proglove Gateway", GwUsecase: "Logistics",
		GwStation: "Logistics", GwFw: "9", GwMaker: "samsung", GwModel: "SM-J530F", GwType: "mobile",
		ConfigID: "ConfigurationId", ProfileID: "profile0", Revision: 2, ConfigTag: "5c0a65a07b5e15df",
		Steps:   3,
		Metrics: []event.CloudMetric{{Name: "bce_duration", Type: "scalars", Unit: "ms", Values: []float64{270}}},
	}
}

// Every field of the seed's scan survives into the typed event, through
// msgpack (what the browser gets) and into its JSON names (what the
// browser bridge shows), the latter pinned by a golden file.
func TestNormalizeSeedScan(t *testing.T) {
	e := decodeSeed(t, "scan.json")
	now := time.Unix(1800000000, 123000)
	outs, err := Normalize(e, "insight", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Channel != "scanner/m2sr121103132/scan" || outs[0].Event.Kind() != event.KindCloudScan {
		t.Fatalf("outs %+v", outs)
	}
	want := seedCloudScan(e.Raw, now)
	if !reflect.DeepEqual(outs[0].Event, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", outs[0].Event, want)
	}
	// Through msgpack, as a client decodes it. The seed as printed (1101
	// bytes with its indentation) is over the 1024-byte decode limit that
	// event.go's //msgp:limit puts on Meta.Raw, so the round trip uses the
	// seed compacted (930 bytes); every field is the same.
	var compact bytes.Buffer
	if err := json.Compact(&compact, e.Raw); err != nil {
		t.Fatal(err)
	}
	viaWire := *want
	viaWire.Meta.Raw = compact.Bytes()
	data, err := viaWire.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := event.Decode(event.KindCloudScan, data)
	if err != nil || !reflect.DeepEqual(back, &viaWire) {
		t.Fatalf("msgpack round trip: %v\n%+v", err, back)
	}
	if event.Retained(event.KindCloudScan) {
		t.Error("scans are not state")
	}

	js, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "seed_scan_event.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantJS, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(js, '\n'), wantJS) {
		t.Errorf("JSON form changed (run with -update if intended):\n%s", js)
	}
}

func TestNormalizeOtherTypePassesThrough(t *testing.T) {
	e := decodeSeed(t, "other_event.json")
	outs, err := Normalize(e, "insight", time.Unix(1, 0))
	if err != nil || len(outs) != 1 || outs[0].Channel != "scanner/m2sr121103132/other" {
		t.Fatalf("%+v %v", outs, err)
	}
	o := outs[0].Event.(*event.CloudEvent)
	if o.Type != "device_disconnected" || o.Serial != "M2SR121103132" || o.GatewayID == "" || o.Meta.ID != e.EventID || !bytes.Equal(o.Meta.Raw, e.Raw) {
		t.Errorf("%+v", o)
	}
	// No serial: the channel level is "_".
	e2, _ := insight.Decode([]byte(`{"event_type":"gateway_heartbeat"}`))
	if outs, _ := Normalize(e2, "insight", time.Unix(1, 0)); outs[0].Channel != "scanner/_/other" {
		t.Errorf("channel %s", outs[0].Channel)
	}
}

func TestNormalizeLimits(t *testing.T) {
	many := `{"event_type":"scan","metrics":[` + strings.Repeat(`{"metric_name":"m","values":[1]},`, 1024) + `{"metric_name":"m"}]}`
	values := `{"event_type":"scan","metrics":[{"metric_name":"m","values":[` + strings.Repeat("1,", 1024) + `1]}]}`
	keys := `{"event_type":"scan"` + strings.Repeat(`,"k`, 0)
	var b strings.Builder
	b.WriteString(keys)
	for i := range 257 {
		b.WriteString(`,"k` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":1`)
	}
	b.WriteString("}")
	for name, in := range map[string]string{"metrics": many, "values": values, "keys": b.String()} {
		e, err := insight.Decode([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Normalize(e, "l", time.Now()); !errors.Is(err, ErrLimits) {
			t.Errorf("%s: err %v, want ErrLimits", name, err)
		}
	}
}

func TestRecentForgetsTheOldest(t *testing.T) {
	r := newRecent(3)
	for _, id := range []string{"a", "b", "c", "a"} {
		r.add(id)
	}
	if !r.seen("a") || !r.seen("b") || !r.seen("c") || r.len() != 3 {
		t.Fatal("want a, b, c")
	}
	r.add("d")
	if r.seen("a") || !r.seen("d") || r.len() != 3 {
		t.Errorf("after d: a seen %v, d seen %v, len %d", r.seen("a"), r.seen("d"), r.len())
	}
}

func TestNewValidates(t *testing.T) {
	pub := &connector.Publisher{}
	ok := Config{Name: "insight", Publisher: pub, URL: "wss://x.execute-api.eu-west-1.amazonaws.com", CustomerID: "c",
		Username: "u", Password: "hunter22", AuthURL: "https://insight.example"}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	newer := Config{Name: "insight", Publisher: pub, URL: "wss://x", Stage: "latest", TokenKind: TokenAccess, OmitCustomer: true,
		Username: "u", Password: "hunter22", ClientID: "cid", Region: "eu-west-1"}
	if _, err := New(newer); err != nil {
		t.Fatalf("newer form without auth_url: %v", err)
	}
	bad := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "url"},
		{"url with a query", func(c *Config) { c.URL = "wss://x/?token=hunter22" }, "query"},
		{"ftp", func(c *Config) { c.URL = "ftp://x" }, "scheme"},
		{"token kind", func(c *Config) { c.TokenKind = "refresh" }, "token_kind must be"},
		{"no password", func(c *Config) { c.Password = "" }, "password"},
		{"no customer", func(c *Config) { c.CustomerID = "" }, "customer_id"},
		{"no pool", func(c *Config) { c.AuthURL = "" }, "auth_url"},
		{"stage", func(c *Config) { c.Stage = "a/b" }, "stage"},
		{"negative", func(c *Config) { c.Overlap = -1 }, "overlap"},
		{"no name", func(c *Config) { c.Name = "" }, "name"},
	}
	for _, b := range bad {
		c := ok
		b.mod(&c)
		_, err := New(c)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want an ErrConfig mentioning %q", b.name, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("%s: the error quotes the password: %v", b.name, err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"1m30s"`), &d); err != nil || time.Duration(d) != 90*time.Second {
		t.Errorf("Duration: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`90`), &d); err == nil {
		t.Error("a bare number is not a duration")
	}
}

// A link's "options" object, as the relay's config file gives it, decodes
// strictly into Config.
func TestOptionsFromJSON(t *testing.T) {
	opts := `{"url":"ws://127.0.0.1:9103","stage":"prod","token_kind":"id","customer_id":"c0ffee00-1234-4d5e-8f90-abcdefabcdef",
		"username":"operator@example.com","password":"insight-sim-password","auth_url":"http://127.0.0.1:9103",
		"cognito_url":"http://127.0.0.1:9103/","refresh_before":"5m","max_age":"1h50m","overlap":"10s","ping_interval":"5m",
		"pong_timeout":"30s","min_backoff":"500ms","max_backoff":"30s","failed_retry":"5m","dial_timeout":"10s",
		"max_message":131072,"dedupe_window":4096,"omit_customer":false,"client_id":"","region":""}`
	dec := json.NewDecoder(strings.NewReader(opts))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.Publisher = "insight", &connector.Publisher{}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(l.cfg.MaxAge) != 110*time.Minute || l.cfg.TokenKind != TokenID || l.cfg.CognitoURL != "http://127.0.0.1:9103/" {
		t.Errorf("max_age %v, token_kind %q, cognito_url %q", time.Duration(l.cfg.MaxAge), l.cfg.TokenKind, l.cfg.CognitoURL)
	}
}
