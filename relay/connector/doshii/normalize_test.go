package doshii

import (
	"encoding/json"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	wire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/connector"
)

func decodeEvent(t *testing.T, b []byte) *wire.Event {
	t.Helper()
	f, err := wire.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := f.(*wire.Event)
	if !ok {
		t.Fatalf("%s decodes to %T", b, f)
	}
	return e
}

func normalizeOne(t *testing.T, msg string) (string, *event.POSEvent) {
	t.Helper()
	outs, dropped := Normalize(decodeEvent(t, []byte(msg)), "pos", time.Unix(1800000000, 0))
	if dropped != nil || len(outs) != 1 {
		t.Fatalf("Normalize(%s) = %+v, %v", msg, outs, dropped)
	}
	return outs[0].Channel, outs[0].Event.(*event.POSEvent)
}

// The golden events normalise to pos/<locationId>/<category>, keeping the
// documented fields typed, the others as values, and the message verbatim.
func TestNormalizeSeedEvents(t *testing.T) {
	now := time.Unix(1800000000, 0)
	for _, c := range []struct {
		file, channel string
		want          event.POSEvent
	}{
		{"location_subscription.json", "pos/ah43yx2/location", event.POSEvent{
			Name: "location_subscription", Category: "location", ID: "aH43yx2", Status: "subscribed",
			URI: "https://sandbox.doshii.co/partner/v3/locations/aH43yx2", LocationID: "aH43yx2", MappedLocationID: "1354",
		}},
		{"order_created_pos.json", "pos/_/order", event.POSEvent{
			Name: "order_created", Category: "order", ID: "3", Status: "pending",
			URI:    "https://sandbox.doshii.co/pos/v3/unlinked_orders/3",
			Fields: map[string]interface{}{"app": map[string]interface{}{"id": int64(123), "name": "Ordering App"}},
		}},
		{"emit_order_updated_app.json", "pos/ah43yx2/order", event.POSEvent{
			Name: "order_updated", Category: "order", ID: "3", Status: "accepted",
			URI: "https://sandbox.doshii.co/partner/v3/orders/3", LocationID: "aH43yx2",
		}},
		{"emit_order_created.json", "pos/_/order", event.POSEvent{Name: "order_created", Category: "order"}},
	} {
		raw, err := os.ReadFile("../../../proto/doshii/testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		outs, dropped := Normalize(decodeEvent(t, raw), "pos", now)
		if dropped != nil || len(outs) != 1 || outs[0].Channel != c.channel {
			t.Fatalf("%s: %+v %v", c.file, outs, dropped)
		}
		got := outs[0].Event.(*event.POSEvent)
		c.want.Meta = event.Meta{Link: "pos", Protocol: Protocol, Received: now.UnixMicro(), Raw: raw}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.file, *got, c.want)
		}
		// The event survives msgp both ways.
		b, err := got.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := event.Decode(event.KindPOS, b)
		if err != nil || !reflect.DeepEqual(back, event.Event(got)) {
			t.Errorf("%s: msgp round trip %+v %v", c.file, back, err)
		}
	}
}

func TestNormalizeNames(t *testing.T) {
	ch, e := normalizeOne(t, `{"emit":["ckeckin_updated",{"id":"c1","locationId":"L1"}]}`)
	if ch != "pos/l1/checkin" || e.Name != "checkin_updated" || e.Category != "checkin" || e.LocationID != "L1" {
		t.Errorf("typo: %s %+v", ch, e)
	}
	ch, e = normalizeOne(t, `{"type":"kitchen_exploded","data":{"id":"k","locationId":"L1","mappedLocationId":7}}`)
	if ch != "pos/l1/other" || e.Name != "kitchen_exploded" || e.Category != "other" || e.MappedLocationID != "7" {
		t.Errorf("unknown: %s %+v", ch, e)
	}
	ch, _ = normalizeOne(t, `{"event":"loyalty_checkin_created","data":{"locationId":"a/b+c#"}}`)
	if ch != "pos/a_b_c_/loyalty" {
		t.Errorf("sanitised channel %s", ch)
	}
	for _, name := range wire.Names() {
		ch, e := normalizeOne(t, `{"emit":["`+name+`",{"locationId":"x"}]}`)
		if e.Category == wire.CategoryOther || ch != "pos/x/"+e.Category {
			t.Errorf("%s: %s %+v", name, ch, e)
		}
	}
}

// Other payload fields become msgpack values within the frame limits.
func TestNormalizeFields(t *testing.T) {
	deep := strings.Repeat(`{"d":`, 20) + `1` + strings.Repeat(`}`, 20)
	_, e := normalizeOne(t, `{"emit":["order_created",{"n":1,"f":1.5,"big":18446744073709551616,"huge":1e999,"s":"x","b":true,"z":null,"a":[1,"two"],"deep":`+deep+`}]}`)
	want := map[string]interface{}{
		"n": int64(1), "f": 1.5, "big": 18446744073709551616.0, "huge": "1e999", "s": "x", "b": true, "z": nil,
		"a": []interface{}{int64(1), "two"},
	}
	deepVal := e.Fields["deep"]
	delete(e.Fields, "deep")
	if !reflect.DeepEqual(e.Fields, want) {
		t.Errorf("fields %#v", e.Fields)
	}
	// Beyond maxFieldDepth the value is kept as JSON text.
	v := deepVal
	for range maxFieldDepth {
		m, ok := v.(map[string]interface{})
		if !ok {
			t.Fatalf("depth: %#v", v)
		}
		v = m["d"]
	}
	if s, ok := v.(string); !ok || !strings.HasPrefix(s, `{"d":{"d":`) {
		t.Errorf("deep value %#v", v)
	}
	if _, err := e.MarshalMsg(nil); err != nil {
		t.Fatal(err)
	}

	var many strings.Builder
	many.WriteString(`{"emit":["order_created",{"id":"1"`)
	for i := range maxFields + 1 {
		many.WriteString(`,"k` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + `` + itoa(i) + `":1`)
	}
	many.WriteString(`}]}`)
	outs, dropped := Normalize(decodeEvent(t, []byte(many.String())), "pos", time.Now())
	if dropped == nil || len(outs) != 1 || outs[0].Event.(*event.POSEvent).Fields != nil || outs[0].Event.(*event.POSEvent).ID != "1" {
		t.Errorf("too many fields: %v %+v", dropped, outs)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestConfigValidation(t *testing.T) {
	pub := &connector.Publisher{Broker: broker.NewMemory(broker.MemoryConfig{}), Tenant: "t"}
	const secret = "very-secret-client-id"
	_, err := New(Config{})
	for _, want := range []string{"name is required", "publisher is required", "client_id is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(zero) = %v, want %q", err, want)
		}
	}
	for _, c := range []Config{
		{Name: "p", Publisher: pub, ClientID: secret, URL: "https://socket.sandbox.doshii.co/app/socket/v3?auth=" + wire.AuthToken(secret)},
		{Name: "p", Publisher: pub, ClientID: secret, PingInterval: -1},
		{Name: "p", Publisher: pub, ClientID: secret, MissedPongs: -1},
		{Name: "p", Publisher: pub, ClientID: secret, MaxMessage: -1},
	} {
		_, err := New(c)
		if err == nil {
			t.Errorf("New(%+v) succeeded", c)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), wire.AuthToken(secret)) {
			t.Errorf("error %q reveals the client id", err)
		}
	}
	l, err := New(Config{Name: "p", Publisher: pub, ClientID: secret})
	if err != nil {
		t.Fatal(err)
	}
	c := l.cfg
	if c.URL != DefaultURL || c.PingInterval != DefaultPingInterval || c.MissedPongs != 2 || c.RetryBudget != 10 ||
		c.RetryWindow != 5*time.Minute || c.MaxMessage != 64<<10 || c.AppVersion != DefaultAppVersion {
		t.Errorf("defaults %+v", c)
	}
	if l.url != DefaultURL+"?auth="+"dmVyeS1zZWNyZXQtY2xpZW50LWlk" {
		t.Errorf("url %s", l.url)
	}
}

func TestConfigJSON(t *testing.T) {
	var c Config
	err := json.Unmarshal([]byte(`{"url":"ws://127.0.0.1:1/app/socket","client_id":"id","device_id":"d",
		"app_version":"2.0","ping_interval":"5s","missed_pongs":3,"min_backoff":"10ms","max_backoff":"1s",
		"retry_budget":4,"retry_window":"1m","max_message":1024,"dial_timeout":"2s"}`), &c)
	want := Config{URL: "ws://127.0.0.1:1/app/socket", ClientID: "id", DeviceID: "d", AppVersion: "2.0",
		PingInterval: 5 * time.Second, MissedPongs: 3, MinBackoff: 10 * time.Millisecond, MaxBackoff: time.Second,
		RetryBudget: 4, RetryWindow: time.Minute, MaxMessage: 1024, DialTimeout: 2 * time.Second}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{`{"clientId":"x"}`, `{"ping_interval":30}`, `{"ping_interval":"soon"}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestBudget(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := budget{max: 3, window: time.Second}
	for i := range 3 {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		if w := b.wait(at); w != 0 {
			t.Fatalf("attempt %d: wait %v", i, w)
		}
		b.record(at)
	}
	if w := b.wait(t0.Add(300 * time.Millisecond)); w != 700*time.Millisecond {
		t.Fatalf("exhausted: wait %v, want 700ms (until the first attempt leaves the window)", w)
	}
	if w := b.wait(t0.Add(time.Second)); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	b.record(t0.Add(time.Second))
	if w := b.wait(t0.Add(time.Second)); w != 100*time.Millisecond {
		t.Fatalf("again exhausted: wait %v", w)
	}
	unlimited := budget{max: -1, window: time.Second}
	for range 100 {
		unlimited.record(t0)
	}
	if w := unlimited.wait(t0); w != 0 || len(unlimited.times) != 0 {
		t.Fatalf("unlimited: %v %d", w, len(unlimited.times))
	}
}

func TestRedact(t *testing.T) {
	pub := &connector.Publisher{Broker: broker.NewMemory(broker.MemoryConfig{}), Tenant: "t"}
	const id = "~~~?client" // base64 has '+' and '/'
	l, err := New(Config{Name: "p", Publisher: pub, ClientID: id, URL: "ws://127.0.0.1:1/app/socket/v3"})
	if err != nil {
		t.Fatal(err)
	}
	tok := wire.AuthToken(id)
	forms := []string{id, tok, strings.TrimRight(tok, "="), strings.ReplaceAll(tok, "+", "%2B"), url.QueryEscape(tok),
		strings.ReplaceAll(tok, "+", " "), strings.NewReplacer("+", "-", "/", "_").Replace(tok)}
	in := "dial " + l.url + " failed; forms: " + strings.Join(forms, " | ")
	out := l.redact(in)
	for _, s := range forms {
		if strings.Contains(out, s) {
			t.Errorf("redact left %q in %q", s, out)
		}
	}
	if !strings.Contains(out, "failed") {
		t.Errorf("redact lost the text: %q", out)
	}
}
