package navixy_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/connector/navixy"
)

func decodeFile(t *testing.T, name string) nx.Frame {
	t.Helper()
	b, err := os.ReadFile("../../../proto/navixy/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := nx.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var seedTrackers = map[int64]nx.Tracker{10284: {ID: 15564, Label: "Truck 1", Source: nx.Source{ID: 10284}}}

// The vendor's state sample normalises field by field, its times read in
// the account's zone.
func TestNormalizeSeedState(t *testing.T) {
	received := time.Unix(1800000000, 0)
	f := decodeFile(t, "state_full.json")
	outs, unmapped := navixy.Normalize(f, "gps", seedTrackers, gt, received)
	if len(outs) != 1 || len(unmapped) != 0 || outs[0].Channel != "gps/15564/state" || outs[0].Event.Kind() != event.KindTrackerState {
		t.Fatalf("%+v %v", outs, unmapped)
	}
	s := outs[0].Event.(*event.TrackerState)
	at := func(v string) int64 {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", v, gt)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	want := event.TrackerState{
		Meta:      event.Meta{Link: "gps", Protocol: "navixy", Time: at("2018-10-17 12:51:46"), Received: received.UnixMicro(), Raw: f.(*nx.StateEvent).Raw},
		TrackerID: 15564, SourceID: 10284, Label: "Truck 1",
		HasPosition: true, Lat: 14.330065796228606, Lng: -90.99037259141691, Speed: 0, Heading: 248, Alt: 431,
		GPSTime: at("2018-10-17 12:51:43"), GPSSignal: 100, Connection: "active", Movement: "parked",
		MovementTime: at("2018-10-04 22:47:07"), Ignition: ptr(false), IgnitionTime: at("2018-10-04 22:47:07"),
		Battery: ptr(int32(87)), BatteryTime: at("2018-10-17 12:51:43"),
		GSM:    &event.TrackerGSM{Time: at("2018-10-17 12:51:43"), Signal: ptr(int32(61)), Network: "Tigo GT", Roaming: ptr(false)},
		Inputs: make([]bool, 8), InputsTime: at("2018-10-17 12:51:43"), Outputs: make([]bool, 8), OutputsTime: at("2018-10-17 12:51:43"),
		LastUpdate: at("2018-10-17 12:51:46"), TrackTime: at("2018-10-04 22:47:07"),
	}
	gotJSON, _ := json.Marshal(s)
	wantJSON, _ := json.Marshal(&want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("normalised state:\n got  %s\n want %s", gotJSON, wantJSON)
	}
	// It survives the relay's encoding.
	b, err := s.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := event.Decode(event.KindTrackerState, b)
	if err != nil {
		t.Fatal(err)
	}
	if bj, _ := json.Marshal(back); string(bj) != string(gotJSON) {
		t.Errorf("msgp round trip:\n %s\n %s", bj, gotJSON)
	}
	if !event.Retained(event.KindTrackerState) || !event.Retained(event.KindTrackerSubscription) || event.Retained(event.KindTrackerLifecycle) {
		t.Error("retained kinds")
	}
}

func ptr[T any](v T) *T { return &v }

func TestNormalizeOtherMessages(t *testing.T) {
	now := time.Now()
	// The sample's lifecycle names a source the list does not have.
	outs, unmapped := navixy.Normalize(decodeFile(t, "lifecycle.json"), "gps", seedTrackers, time.UTC, now)
	if len(outs) != 1 || outs[0].Channel != "gps/src-123456/lifecycle" || len(unmapped) != 1 || unmapped[0] != 123456 {
		t.Fatalf("%+v %v", outs, unmapped)
	}
	if l := outs[0].Event.(*event.TrackerLifecycle); l.Event != "block" || l.TrackerID != 0 || l.SourceID != 123456 {
		t.Errorf("%+v", l)
	}
	// A batch: one state per element, each with its own bytes.
	outs, _ = navixy.Normalize(decodeFile(t, "state_batch_compact.json"), "gps", seedTrackers, time.UTC, now)
	if len(outs) != 2 || outs[0].Channel != "gps/15564/state" || outs[1].Channel != "gps/src-10285/state" {
		t.Fatalf("%+v", outs)
	}
	if raw := string(outs[1].Event.Header().Raw); !strings.HasPrefix(raw, `{"source_id":10285,`) || !strings.HasSuffix(raw, `}`) {
		t.Errorf("element raw %s", raw)
	}
	// Events the relay does not normalise pass through.
	f, _ := nx.Decode([]byte(`{"type":"event","event":"readings_batch","user_time":"2018-10-17 12:51:55","data":[]}`))
	outs, _ = navixy.Normalize(f, "gps", nil, time.UTC, now)
	if len(outs) != 1 || outs[0].Channel != "gps/other/readings_batch" || outs[0].Event.(*event.GPSOther).Event != "readings_batch" {
		t.Fatalf("%+v", outs)
	}
	// A state without a fix has no position; without last_update its
	// time is the fix's, then the message's.
	f, _ = nx.Decode([]byte(`{"type":"event","event":"state","user_time":"2018-10-17 12:51:55","data":{"source_id":10284,"gps":{"location":null}}}`))
	outs, _ = navixy.Normalize(f, "gps", seedTrackers, time.UTC, now)
	s := outs[0].Event.(*event.TrackerState)
	if s.HasPosition || s.Meta.Time != time.Date(2018, 10, 17, 12, 51, 55, 0, time.UTC).UnixMicro() {
		t.Errorf("%+v", s)
	}
	// Responses, errors and logout are the connector's business.
	for _, name := range []string{"response_subscribe.json", "error_wrong_hash.json", "logout.json"} {
		if outs, _ := navixy.Normalize(decodeFile(t, name), "gps", nil, time.UTC, now); len(outs) != 0 {
			t.Errorf("%s: %+v", name, outs)
		}
	}
}

func TestParseOptions(t *testing.T) {
	cfg, err := navixy.ParseOptions(json.RawMessage(`{"base_url":"https://api.itrack.live/v2","login":"a@b.c","password":"pw",
		"subscribe_form":"old","trackers":[15564],"time_zone":"America/Guatemala","heartbeat_interval":"25s","silence_timeout":"2m",
		"min_backoff":"1s","max_backoff":"30s","timeout":"5s","max_message":65536,"track_message_size":true,"auth_json":true,"dealer_id":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://api.itrack.live/v2" || cfg.SubscribeForm != "old" || cfg.Trackers[0] != 15564 || time.Duration(cfg.SilenceTimeout) != 2*time.Minute ||
		cfg.MaxMessage != 65536 || !cfg.TrackMessageSize || !cfg.AuthJSON || cfg.DealerID != 7 {
		t.Errorf("%+v", cfg)
	}
	for _, bad := range []string{`{"base_url":"x","pasword":"typo"}`, `{"silence_timeout":30}`, `{"silence_timeout":"soon"}`, `[]`} {
		if _, err := navixy.ParseOptions(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseOptions(%s) accepted", bad)
		}
	}
	if b, _ := json.Marshal(navixy.Duration(90 * time.Second)); string(b) != `"1m30s"` {
		t.Errorf("Duration JSON %s", b)
	}
}

func TestNewValidates(t *testing.T) {
	b := broker.NewMemory(broker.MemoryConfig{})
	defer b.Close()
	pub := &connector.Publisher{Broker: b, Tenant: "t"}
	ok := navixy.Config{Name: "gps", Publisher: pub, BaseURL: "https://api.itrack.live/v2", Login: "a", Password: "b"}
	if _, err := navixy.New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	key := ok
	key.Login, key.Password, key.APIKey = "", "", "22eac1c27af4be7b9d04da2ce1af111b"
	if _, err := navixy.New(key); err != nil {
		t.Fatalf("API key config: %v", err)
	}
	tests := []struct {
		change func(*navixy.Config)
		want   string
	}{
		{func(c *navixy.Config) { c.Name = "" }, "name is required"},
		{func(c *navixy.Config) { c.Publisher = nil }, "publisher is required"},
		{func(c *navixy.Config) { c.BaseURL = "" }, "base_url"},
		{func(c *navixy.Config) { c.BaseURL = "ftp://x/v2" }, "base_url"},
		{func(c *navixy.Config) { c.SocketURL = "tcp://x" }, "socket_url"},
		{func(c *navixy.Config) { c.Password = "" }, "login and password are required"},
		{func(c *navixy.Config) { c.Password = strings.Repeat("p", 41) }, "1 to 40 printable"},
		{func(c *navixy.Config) { c.SubscribeForm = "new" }, "subscribe_form"},
		{func(c *navixy.Config) { c.Event = "readings_batch" }, "event must be"},
		{func(c *navixy.Config) { c.Format = "tiny" }, "format must be"},
		{func(c *navixy.Config) { c.SubscribeForm, c.Format = "old", "compact" }, "need subscribe_form"},
		{func(c *navixy.Config) { c.RateLimit = "5s" }, "rate_limit applies"},
		{func(c *navixy.Config) { c.Trackers = []int64{0} }, "positive"},
		{func(c *navixy.Config) { c.TimeZone = "Mars/Olympus" }, "time_zone"},
		{func(c *navixy.Config) { c.SilenceTimeout = -1 }, "silence_timeout must not be negative"},
		{func(c *navixy.Config) {
			c.MinBackoff, c.MaxBackoff = navixy.Duration(time.Minute), navixy.Duration(time.Second)
		}, "below min_backoff"},
		{func(c *navixy.Config) { c.MaxMessage = -1 }, "max_message"},
	}
	for _, tt := range tests {
		c := ok
		tt.change(&c)
		_, err := navixy.New(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: err = %v, want it to mention %q", err, tt.want)
		}
	}
	// Secrets in a bad URL are not repeated.
	c := ok
	c.BaseURL = "ftp://u:topsecret@x/?hash=abcdef"
	if _, err := navixy.New(c); err == nil || strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "abcdef") {
		t.Errorf("error %v", err)
	}
}

func TestParseZone(t *testing.T) {
	ref := time.Date(2018, 10, 17, 12, 0, 0, 0, time.UTC)
	for in, off := range map[string]int{"": 0, "UTC": 0, "utc": 0, "-06:00": -6 * 3600, "+0530": 5*3600 + 1800, "UTC+2": 7200, "GMT-3": -3 * 3600, "+14": 14 * 3600} {
		loc, err := navixy.ParseZone(in)
		if err != nil {
			t.Errorf("ParseZone(%q): %v", in, err)
			continue
		}
		if _, got := ref.In(loc).Zone(); got != off {
			t.Errorf("ParseZone(%q) offset %d, want %d", in, got, off)
		}
	}
	for _, bad := range []string{"+15:00", "+02:75", "Mars/Olympus", "two hours"} {
		if _, err := navixy.ParseZone(bad); err == nil {
			t.Errorf("ParseZone(%q) accepted", bad)
		}
	}
}
