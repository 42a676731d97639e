package doshii_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto/doshii"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func decode(t testing.TB, b []byte) doshii.Frame {
	t.Helper()
	f, err := doshii.Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s): %v", b, err)
	}
	return f
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// Every golden message decodes to exactly the frame the sources describe,
// keeping the message verbatim.
func TestDecodeGolden(t *testing.T) {
	tests := []struct {
		file string
		want doshii.Frame
	}{
		{"location_subscription.json", &doshii.Event{
			Name: "location_subscription", Envelope: doshii.EnvelopeEvent,
			Data: raw(`{"id":"aH43yx2","locationId":"aH43yx2","mappedLocationId":"1354","status":"subscribed","uri":"https://sandbox.doshii.co/partner/v3/locations/aH43yx2"}`),
			Payload: doshii.Payload{
				ID: "aH43yx2", LocationID: "aH43yx2", MappedLocationID: "1354", Status: "subscribed",
				URI: "https://sandbox.doshii.co/partner/v3/locations/aH43yx2",
			},
		}},
		{"order_created_pos.json", &doshii.Event{
			Name: "order_created", Envelope: doshii.EnvelopeType,
			Data: raw(`{"id":"3","status":"pending","app":{"id":123,"name":"Ordering App"},"uri":"https://sandbox.doshii.co/pos/v3/unlinked_orders/3"}`),
			Payload: doshii.Payload{
				ID: "3", Status: "pending", URI: "https://sandbox.doshii.co/pos/v3/unlinked_orders/3",
				Other: map[string]json.RawMessage{"app": raw(`{"id":123,"name":"Ordering App"}`)},
			},
		}},
		{"emit_order_created.json", &doshii.Event{Name: "order_created", Envelope: doshii.EnvelopeEmit, Data: raw(`{}`)}},
		{"emit_order_updated_app.json", &doshii.Event{
			Name: "order_updated", Envelope: doshii.EnvelopeEmit,
			Data: raw(`{"id":"3","locationId":"aH43yx2","status":"accepted","uri":"https://sandbox.doshii.co/partner/v3/orders/3"}`),
			Payload: doshii.Payload{
				ID: "3", LocationID: "aH43yx2", Status: "accepted", URI: "https://sandbox.doshii.co/partner/v3/orders/3",
			},
		}},
		{"ping.json", &doshii.Ping{Time: 1539144663417, Version: "5.3.72", Envelope: doshii.EnvelopeBare}},
		{"ping_pos_status.json", &doshii.Ping{
			Time: 1539144663417, Version: "5.3.72", Envelope: doshii.EnvelopeBare,
			Status: map[string]string{"database": "online", "processor": "offline"},
		}},
		{"pong.json", &doshii.Pong{Time: 1539153237588, Version: "3.2.0", Envelope: doshii.EnvelopeType}},
		{"pong_bare.json", &doshii.Pong{Time: 1539144663417, Envelope: doshii.EnvelopeBare}},
		{"server_ping.json", &doshii.Ping{Time: 1539153237588, Version: "3.2.0", Envelope: doshii.EnvelopeType}},
		{"health_check.json", &doshii.Ping{Time: 1539153237588, HealthCheck: true, Envelope: doshii.EnvelopeEvent}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := load(t, tt.file)
			got := decode(t, b)
			switch w := tt.want.(type) {
			case *doshii.Event:
				w.Raw = b
			case *doshii.Ping:
				w.Raw = b
			case *doshii.Pong:
				w.Raw = b
			}
			equal(t, "frame", got, tt.want)
		})
	}
}

func TestDecodeCopiesRaw(t *testing.T) {
	b := load(t, "location_subscription.json")
	e := decode(t, b).(*doshii.Event)
	b[0] = 'X'
	if e.Raw[0] != '{' {
		t.Fatal("Event.Raw aliases the input")
	}
}

// The same payload in the three event envelopes decodes to the same event.
func TestEventEnvelopesAgree(t *testing.T) {
	payload := `{"id":7,"locationId":"aH43yx2","status":"complete","uri":"u","tableName":"12","amount":1500}`
	msgs := map[doshii.Envelope]string{
		doshii.EnvelopeEmit:  `{"emit":["transaction_created",` + payload + `]}`,
		doshii.EnvelopeEvent: `{"event":"transaction_created","data":` + payload + `}`,
		doshii.EnvelopeType:  `{"type":"transaction_created","data":` + payload + `}`,
	}
	want := doshii.Payload{ID: "7", LocationID: "aH43yx2", Status: "complete", URI: "u",
		Other: map[string]json.RawMessage{"tableName": raw(`"12"`), "amount": raw(`1500`)}}
	for env, m := range msgs {
		e := decode(t, []byte(m)).(*doshii.Event)
		equal(t, env.String()+" envelope", e.Envelope, env)
		equal(t, env.String()+" name", e.Name, "transaction_created")
		equal(t, env.String()+" payload", e.Payload, want)
		equal(t, env.String()+" data", string(e.Data), payload)
	}
}

// Every heartbeat shape in circulation is recognised.
func TestHeartbeatShapes(t *testing.T) {
	tests := map[string]doshii.Frame{
		`{"doshii":{"pong":5}}`:                                      &doshii.Pong{Time: 5, Envelope: doshii.EnvelopeBare},
		`{"type":"message","data":{"doshii":{"pong":5}}}`:            &doshii.Pong{Time: 5, Envelope: doshii.EnvelopeType},
		`{"event":"message","data":{"doshii":{"pong":5}}}`:           &doshii.Pong{Time: 5, Envelope: doshii.EnvelopeEvent},
		`{"emit":["message",{"doshii":{"pong":5,"version":"3"}}]}`:   &doshii.Pong{Time: 5, Version: "3", Envelope: doshii.EnvelopeEmit},
		`{"type":"message","data":{"doshii":{"ping":"5"}}}`:          &doshii.Ping{Time: 5, Envelope: doshii.EnvelopeType},
		`{"doshii":{"ping":5,"pong":6}}`:                             &doshii.Pong{Time: 6, Envelope: doshii.EnvelopeBare},
		`{"doshii":{"ping":5,"version":3.2}}`:                        &doshii.Ping{Time: 5, Version: "3.2", Envelope: doshii.EnvelopeBare},
		`{"emit":["health_check",{"ping":9,"version":"1"}]}`:         &doshii.Ping{Time: 9, Version: "1", HealthCheck: true, Envelope: doshii.EnvelopeEmit},
		`{"type":"health_check","data":{"ping":9}}`:                  &doshii.Ping{Time: 9, HealthCheck: true, Envelope: doshii.EnvelopeType},
		`{"doshii":{"ping":5,"status":{"database":"online","n":1}}}`: &doshii.Ping{Time: 5, Envelope: doshii.EnvelopeBare, Status: map[string]string{"database": "online", "n": "1"}},
	}
	for in, want := range tests {
		got := decode(t, []byte(in))
		switch w := want.(type) {
		case *doshii.Ping:
			w.Raw = []byte(in)
		case *doshii.Pong:
			w.Raw = []byte(in)
		}
		equal(t, in, got, want)
	}
}

// Every event name of the notes' list is known and filed; the SDK's typo
// is the same event as checkin_updated; unknown names pass through.
func TestEventNames(t *testing.T) {
	want := map[string]string{
		"order_created": "order", "order_updated": "order", "order_preprocess": "order",
		"transaction_created": "transaction", "transaction_updated": "transaction",
		"booking_created": "booking", "booking_updated": "booking",
		"checkin_created": "checkin", "checkin_updated": "checkin", "checkin_deleted": "checkin",
		"menu_updated": "menu", "app_menu_updated": "menu", "app_menu_item_updated": "menu",
		"table_created": "table", "table_updated": "table", "table_removed": "table", "table_bulk_updated": "table",
		"points_redemption": "loyalty", "reward_redemption": "loyalty",
		"card_activate": "card", "card_enquiry": "card",
		"location_subscription": "location", "location_hours_updated": "location", "app_store_status_updated": "location",
		"loyalty_checkin_created": "loyalty", "loyalty_checkin_updated": "loyalty", "loyalty_checkin_deleted": "loyalty",
	}
	names := doshii.Names()
	slices.Sort(names)
	equal(t, "Names", names, slices.Sorted(maps.Keys(want)))
	for name, cat := range want {
		e := decode(t, []byte(`{"emit":["`+name+`",{"locationId":"L"}]}`)).(*doshii.Event)
		if e.Name != name || !doshii.Known(name) || doshii.Category(e.Name) != cat || doshii.Canonical(name) != name {
			t.Errorf("%s: name %q known %v category %q", name, e.Name, doshii.Known(name), doshii.Category(e.Name))
		}
	}
	typo := decode(t, []byte(`{"emit":["ckeckin_updated",{"id":"c1"}]}`)).(*doshii.Event)
	equal(t, "typo as sent", typo.Name, "ckeckin_updated")
	equal(t, "typo canonical", doshii.Canonical(typo.Name), "checkin_updated")
	equal(t, "typo category", doshii.Category(typo.Name), "checkin")
	equal(t, "typo known", doshii.Known(typo.Name), true)

	other := decode(t, []byte(`{"event":"kitchen_exploded","data":{"id":"k"}}`)).(*doshii.Event)
	equal(t, "unknown name", other.Name, "kitchen_exploded")
	equal(t, "unknown category", doshii.Category(other.Name), doshii.CategoryOther)
	equal(t, "unknown known", doshii.Known(other.Name), false)
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		kind     string
	}{
		{"empty", ``, doshii.ErrMalformedJSON, "json"},
		{"blank", " \n\t", doshii.ErrMalformedJSON, "json"},
		{"truncated", `{"emit":["order_created",{}]`, doshii.ErrMalformedJSON, "json"},
		{"trailing garbage", `{"emit":["order_created",{}]} x`, doshii.ErrMalformedJSON, "json"},
		{"two objects", `{"doshii":{"pong":1}}{"doshii":{"pong":1}}`, doshii.ErrMalformedJSON, "json"},
		{"array", `["order_created",{}]`, doshii.ErrMalformedJSON, "json"},
		{"string", `"order_created"`, doshii.ErrMalformedJSON, "json"},
		{"null", `null`, doshii.ErrMalformedJSON, "json"},
		{"not json", `order_created`, doshii.ErrMalformedJSON, "json"},
		{"empty object", `{}`, doshii.ErrNoEnvelope, "envelope"},
		{"only data", `{"data":{"id":"1"}}`, doshii.ErrNoEnvelope, "envelope"},
		{"null envelopes", `{"emit":null,"event":null,"type":null,"doshii":null}`, doshii.ErrNoEnvelope, "envelope"},
		{"emit object", `{"emit":{"name":"order_created"}}`, doshii.ErrWrongType, "type"},
		{"emit string", `{"emit":"order_created"}`, doshii.ErrWrongType, "type"},
		{"emit empty", `{"emit":[]}`, doshii.ErrNoName, "name"},
		{"emit null name", `{"emit":[null,{}]}`, doshii.ErrNoName, "name"},
		{"emit empty name", `{"emit":["",{}]}`, doshii.ErrNoName, "name"},
		{"emit number name", `{"emit":[1,{}]}`, doshii.ErrWrongType, "type"},
		{"emit payload string", `{"emit":["order_created","3"]}`, doshii.ErrWrongType, "type"},
		{"emit payload array", `{"emit":["order_created",[1]]}`, doshii.ErrWrongType, "type"},
		{"event empty name", `{"event":"","data":{}}`, doshii.ErrNoName, "name"},
		{"event number", `{"event":5,"data":{}}`, doshii.ErrWrongType, "type"},
		{"type object", `{"type":{},"data":{}}`, doshii.ErrWrongType, "type"},
		{"data string", `{"event":"order_created","data":"3"}`, doshii.ErrWrongType, "type"},
		{"id object", `{"event":"order_created","data":{"id":{}}}`, doshii.ErrWrongType, "type"},
		{"id bool", `{"event":"order_created","data":{"id":true}}`, doshii.ErrWrongType, "type"},
		{"status number", `{"event":"order_created","data":{"status":1}}`, doshii.ErrWrongType, "type"},
		{"uri array", `{"event":"order_created","data":{"uri":[]}}`, doshii.ErrWrongType, "type"},
		{"locationId object", `{"emit":["order_created",{"locationId":{}}]}`, doshii.ErrWrongType, "type"},
		{"message without doshii", `{"type":"message","data":{}}`, doshii.ErrBadHeartbeat, "heartbeat"},
		{"message without data", `{"type":"message"}`, doshii.ErrBadHeartbeat, "heartbeat"},
		{"doshii without ping or pong", `{"doshii":{"version":"1"}}`, doshii.ErrBadHeartbeat, "heartbeat"},
		{"doshii null pong", `{"doshii":{"pong":null}}`, doshii.ErrBadHeartbeat, "heartbeat"},
		{"health_check without ping", `{"event":"health_check","data":{}}`, doshii.ErrBadHeartbeat, "heartbeat"},
		{"doshii string", `{"doshii":"ping"}`, doshii.ErrWrongType, "type"},
		{"ping object", `{"doshii":{"ping":{}}}`, doshii.ErrWrongType, "type"},
		{"ping bool", `{"doshii":{"ping":true}}`, doshii.ErrWrongType, "type"},
		{"pong fraction", `{"doshii":{"pong":1.5}}`, doshii.ErrBadValue, "value"},
		{"pong exponent", `{"doshii":{"pong":1e12}}`, doshii.ErrBadValue, "value"},
		{"pong too big", `{"doshii":{"pong":99999999999999999999}}`, doshii.ErrBadValue, "value"},
		{"ping text", `{"doshii":{"ping":"now"}}`, doshii.ErrBadValue, "value"},
		{"version object", `{"doshii":{"pong":1,"version":{}}}`, doshii.ErrWrongType, "type"},
		{"status string", `{"doshii":{"ping":1,"status":"online"}}`, doshii.ErrWrongType, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := doshii.Decode([]byte(tt.in))
			if f != nil {
				t.Errorf("Decode returned %#v with an error", f)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			equal(t, "ErrorKind", doshii.ErrorKind(err), tt.kind)
		})
	}
	t.Run("field named", func(t *testing.T) {
		_, err := doshii.Decode([]byte(`{"emit":["order_created",{"id":{}}]}`))
		var fe *doshii.FieldError
		if !errors.As(err, &fe) || fe.Field != "emit[1].id" {
			t.Fatalf("err = %v, want a FieldError for emit[1].id", err)
		}
		equal(t, "Error", err.Error(), "doshii: field emit[1].id: wrong JSON type: got object, want string or number")
		_, err = doshii.Decode([]byte(`{"type":"message","data":{"doshii":{"pong":"x"}}}`))
		if !errors.As(err, &fe) || fe.Field != "data.doshii.pong" {
			t.Fatalf("err = %v, want a FieldError for data.doshii.pong", err)
		}
	})
	t.Run("labels", func(t *testing.T) {
		equal(t, "nil", doshii.ErrorKind(nil), "")
		equal(t, "foreign", doshii.ErrorKind(errors.New("x")), "other")
	})
}

// Tolerated forms: duplicate keys keep the last, unknown keys are kept or
// ignored, a missing payload is {}, keys are case-sensitive.
func TestDecodeTolerance(t *testing.T) {
	e := decode(t, []byte(`{"emit":["order_created",{"id":"1","id":"2"},"extra"],"ts":1}`)).(*doshii.Event)
	equal(t, "last duplicate", e.Payload.ID, "2")
	e = decode(t, []byte(`{"event":"order_created"}`)).(*doshii.Event)
	equal(t, "missing data", string(e.Data), "{}")
	e = decode(t, []byte(`{"event":"order_created","data":null}`)).(*doshii.Event)
	equal(t, "null data", string(e.Data), "{}")
	e = decode(t, []byte(`{"emit":["order_created"]}`)).(*doshii.Event)
	equal(t, "emit without payload", string(e.Data), "{}")
	e = decode(t, []byte(`{"event":"order_created","data":{"LocationId":"x","locationId":null}}`)).(*doshii.Event)
	equal(t, "case-sensitive keys", e.Payload.LocationID, "")
	equal(t, "other keys", e.Payload.Other, map[string]json.RawMessage{"LocationId": raw(`"x"`)})
	// "emit" wins over "event"; a null "emit" does not count.
	e = decode(t, []byte(`{"emit":["a",{}],"event":"b"}`)).(*doshii.Event)
	equal(t, "emit first", e.Name, "a")
	e = decode(t, []byte(`{"emit":null,"event":"b"}`)).(*doshii.Event)
	equal(t, "null emit", e.Name, "b")
	p := decode(t, []byte(" \n{\"doshii\":{\"pong\":1}}\r\n")).(*doshii.Pong)
	equal(t, "white space", p.Time, int64(1))
}

// The encoders write the documented messages byte for byte.
func TestEncodeGolden(t *testing.T) {
	trim := func(b []byte) string { return string(bytes.TrimSpace(b)) }
	b, err := doshii.EncodePing(doshii.EnvelopeBare, doshii.Ping{Time: 1539144663417, Version: "5.3.72"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "client ping", string(b), trim(load(t, "ping.json")))
	b, _ = doshii.EncodePing(doshii.EnvelopeBare, doshii.Ping{Time: 1539144663417, Version: "5.3.72", Status: map[string]string{"processor": "offline", "database": "online"}})
	equal(t, "POS ping", string(b), trim(load(t, "ping_pos_status.json")))
	b, _ = doshii.EncodePong(doshii.EnvelopeType, doshii.Pong{Time: 1539153237588, Version: "3.2.0"})
	equal(t, "server pong", string(b), trim(load(t, "pong.json")))
	b, _ = doshii.EncodePong(doshii.EnvelopeBare, doshii.Pong{Time: 1539144663417})
	equal(t, "bare pong", string(b), trim(load(t, "pong_bare.json")))
	b, _ = doshii.EncodePing(doshii.EnvelopeType, doshii.Ping{Time: 1539153237588, Version: "3.2.0"})
	equal(t, "server ping", string(b), trim(load(t, "server_ping.json")))
	b, _ = doshii.EncodePing(doshii.EnvelopeEvent, doshii.Ping{Time: 1539153237588, HealthCheck: true})
	equal(t, "health check", string(b), trim(load(t, "health_check.json")))
	b, _ = doshii.EncodeEvent(doshii.EnvelopeEmit, "order_created", nil)
	equal(t, "emit", string(b), trim(load(t, "emit_order_created.json")))
	for _, file := range []string{"location_subscription.json", "order_created_pos.json", "emit_order_updated_app.json"} {
		e := decode(t, load(t, file)).(*doshii.Event)
		b, err := doshii.EncodeEvent(e.Envelope, e.Name, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, file, string(b), trim(load(t, file)))
	}
}

func TestEncodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no name", second(doshii.EncodeEvent(doshii.EnvelopeEmit, "", nil)), doshii.ErrNoName},
		{"bare event", second(doshii.EncodeEvent(doshii.EnvelopeBare, "order_created", nil)), doshii.ErrBadValue},
		{"zero envelope", second(doshii.EncodeEvent(0, "order_created", nil)), doshii.ErrBadValue},
		{"heartbeat name", second(doshii.EncodeEvent(doshii.EnvelopeEmit, "message", nil)), doshii.ErrBadValue},
		{"array payload", second(doshii.EncodeEvent(doshii.EnvelopeEmit, "order_created", []byte(`[1]`))), doshii.ErrWrongType},
		{"broken payload", second(doshii.EncodeEvent(doshii.EnvelopeEmit, "order_created", []byte(`{"a":`))), doshii.ErrWrongType},
		{"bare health check", second(doshii.EncodePing(doshii.EnvelopeBare, doshii.Ping{HealthCheck: true})), doshii.ErrBadValue},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestEnvelopeText(t *testing.T) {
	for _, env := range []doshii.Envelope{0, doshii.EnvelopeEmit, doshii.EnvelopeEvent, doshii.EnvelopeType, doshii.EnvelopeBare} {
		got, err := doshii.ParseEnvelope(env.String())
		if err != nil || got != env {
			t.Errorf("ParseEnvelope(%q) = %v, %v", env, got, err)
		}
	}
	var cfg struct{ Envelope doshii.Envelope }
	if err := json.Unmarshal([]byte(`{"Envelope":"type"}`), &cfg); err != nil || cfg.Envelope != doshii.EnvelopeType {
		t.Errorf("unmarshal: %v %v", cfg.Envelope, err)
	}
	if _, err := doshii.ParseEnvelope("socketio"); doshii.ErrorKind(err) != "value" {
		t.Errorf("unknown envelope: %v", err)
	}
}

func TestAuth(t *testing.T) {
	const id = "Zm9vYmFy-client-7"
	equal(t, "AuthToken", doshii.AuthToken("doshii"), "ZG9zaGlp")
	equal(t, "AuthToken padded", doshii.AuthToken("abcd"), "YWJjZA==")
	for _, tok := range []string{
		doshii.AuthToken(id),
		strings.TrimRight(doshii.AuthToken(id), "="),
		"YWJjZA==", "YWJjZA", // abcd, padded or not
	} {
		got, err := doshii.ClientIDFromAuth(tok)
		if err != nil || (got != id && got != "abcd") {
			t.Errorf("ClientIDFromAuth(%q) = %q, %v", tok, got, err)
		}
	}
	// btoa output with '+' and '/' appended to a URL unescaped: the '+'
	// arrives as a space.
	if !strings.ContainsAny(doshii.AuthToken("~~~?"), "+/") {
		t.Fatal("test token lacks + or /")
	}
	tok := doshii.AuthToken("~~~?")
	got, err := doshii.ClientIDFromAuth(strings.ReplaceAll(tok, "+", " "))
	if err != nil || got != "~~~?" {
		t.Errorf("space for plus: %q %v", got, err)
	}
	got, err = doshii.ClientIDFromAuth(strings.NewReplacer("+", "-", "/", "_").Replace(tok))
	if err != nil || got != "~~~?" {
		t.Errorf("URL alphabet: %q %v", got, err)
	}
	for _, bad := range []string{"", "   ", "!!!", "a", doshii.AuthToken("\xff\xfe")} {
		_, err := doshii.ClientIDFromAuth(bad)
		if !errors.Is(err, doshii.ErrBadAuth) || doshii.ErrorKind(err) != "auth" {
			t.Errorf("ClientIDFromAuth(%q) err = %v", bad, err)
		}
		if len(bad) > 3 && strings.Contains(err.Error(), bad) {
			t.Errorf("error %q contains the token", err)
		}
	}
}

func TestSocketURL(t *testing.T) {
	const id = "secret-client-id"
	tok := url.QueryEscape(doshii.AuthToken(id))
	tests := []struct {
		base, device, want string
	}{
		{doshii.SandboxURL, "dev1", "wss://socket.sandbox.doshii.co/app/socket/v3?auth=" + tok + "&deviceId=dev1"},
		{doshii.SandboxURL, "", "wss://socket.sandbox.doshii.co/app/socket/v3?auth=" + tok},
		{"wss://live-socket.doshii.co/app/socket", "", "wss://live-socket.doshii.co/app/socket?auth=" + tok},
		{"ws://127.0.0.1:9/app/socket/v3?auth=old&deviceId=old&x=1", "d", "ws://127.0.0.1:9/app/socket/v3?auth=" + tok + "&deviceId=d&x=1"},
	}
	for _, tt := range tests {
		got, err := doshii.SocketURL(tt.base, id, tt.device)
		if err != nil || got != tt.want {
			t.Errorf("SocketURL(%q, %q) = %q, %v; want %q", tt.base, tt.device, got, err, tt.want)
		}
	}
	// '+', '/' and '=' of the token are escaped and come back intact.
	u, err := doshii.SocketURL("ws://h/app/socket/v3", "~~~?abcd", "")
	if err != nil || strings.ContainsAny(u[strings.Index(u, "?"):], "+/") {
		t.Errorf("unescaped token in %q (%v)", u, err)
	}
	for _, bad := range []struct{ base, id string }{
		{"https://socket.sandbox.doshii.co/app/socket/v3", id},
		{"socket.sandbox.doshii.co/app/socket/v3", id},
		{"wss:///app/socket", id},
		{"wss://h/%zz", id},
		{doshii.SandboxURL, ""},
	} {
		_, err := doshii.SocketURL(bad.base, bad.id, "")
		if doshii.ErrorKind(err) != "url" {
			t.Errorf("SocketURL(%q) err = %v, want kind url", bad.base, err)
		}
		if err != nil && strings.Contains(err.Error(), id) {
			t.Errorf("error %q contains the client id", err)
		}
	}
}

// sameFrame compares two frames ignoring Raw and Envelope-independent
// formatting of Data (compared compacted).
func sameFrame(a, b doshii.Frame) bool {
	switch a := a.(type) {
	case *doshii.Event:
		b, ok := b.(*doshii.Event)
		return ok && a.Name == b.Name && a.Envelope == b.Envelope && compact(a.Data) == compact(b.Data) &&
			reflect.DeepEqual(normPayload(a.Payload), normPayload(b.Payload))
	case *doshii.Ping:
		b, ok := b.(*doshii.Ping)
		return ok && a.Time == b.Time && a.Version == b.Version && a.HealthCheck == b.HealthCheck &&
			a.Envelope == b.Envelope && maps.Equal(a.Status, b.Status)
	case *doshii.Pong:
		b, ok := b.(*doshii.Pong)
		return ok && a.Time == b.Time && a.Version == b.Version && a.Envelope == b.Envelope
	}
	return false
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "!" + string(b)
	}
	return buf.String()
}

func normPayload(p doshii.Payload) doshii.Payload {
	if len(p.Other) == 0 {
		p.Other = nil
	}
	for k, v := range p.Other {
		p.Other[k] = json.RawMessage(compact(v))
	}
	return p
}

func addFiles(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecode: Decode never panics, classifies every error, keeps the
// message verbatim, and what it decodes re-encodes to the same frame.
func FuzzDecode(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		frame, err := doshii.Decode(b)
		if err != nil {
			if frame != nil {
				t.Fatalf("Decode returned a frame with error %v", err)
			}
			if k := doshii.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v (kind %q)", err, k)
			}
			return
		}
		var enc []byte
		switch fr := frame.(type) {
		case *doshii.Event:
			if !bytes.Equal(fr.Raw, b) {
				t.Fatalf("Raw = %q, want the input", fr.Raw)
			}
			_ = doshii.Category(fr.Name)
			enc, err = doshii.EncodeEvent(fr.Envelope, fr.Name, fr.Data)
		case *doshii.Ping:
			if !bytes.Equal(fr.Raw, b) {
				t.Fatalf("Raw = %q, want the input", fr.Raw)
			}
			enc, err = doshii.EncodePing(fr.Envelope, *fr)
		case *doshii.Pong:
			if !bytes.Equal(fr.Raw, b) {
				t.Fatalf("Raw = %q, want the input", fr.Raw)
			}
			enc, err = doshii.EncodePong(fr.Envelope, *fr)
		default:
			t.Fatalf("Decode returned %T", frame)
		}
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", frame, err)
		}
		again, err := doshii.Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !sameFrame(frame, again) {
			t.Fatalf("round trip changed the frame:\n in  %+v\n out %+v\n via %s", frame, again, enc)
		}
	})
}

// FuzzClientIDFromAuth: never panics, errors are classified and never
// contain the token, and every client id survives AuthToken.
func FuzzClientIDFromAuth(f *testing.F) {
	for _, s := range []string{"ZG9zaGlp", "YWJjZA", "fn5+Pw==", "fn5 Pw==", "fn5-Pw", "", "!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := doshii.ClientIDFromAuth(s)
		if err != nil {
			if doshii.ErrorKind(err) != "auth" {
				t.Fatalf("unclassified error %v", err)
			}
			if len(strings.TrimSpace(s)) > 3 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
				t.Fatalf("error %q contains the token", err)
			}
		} else if id == "" {
			t.Fatal("empty client id without an error")
		}
		if s != "" && !strings.ContainsRune(s, 0xfffd) && utf8Valid(s) {
			back, err := doshii.ClientIDFromAuth(doshii.AuthToken(s))
			if err != nil || back != s {
				t.Fatalf("ClientIDFromAuth(AuthToken(%q)) = %q, %v", s, back, err)
			}
		}
	})
}
