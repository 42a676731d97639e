package navixy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compacted(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func decode[T navixy.Frame](t testing.TB, b []byte) T {
	t.Helper()
	f, err := navixy.Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	v, ok := f.(T)
	if !ok {
		t.Fatalf("Decode returned %T", f)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// seedState is the state of the vendor's sample (PROTOCOLS.md §4).
func seedState() navixy.State {
	return navixy.State{
		SourceID: 10284,
		GPS: &navixy.GPS{
			Updated: "2018-10-17 12:51:43", SignalLevel: 100,
			Location: &navixy.Location{Lat: 14.330065796228606, Lng: -90.99037259141691},
			Heading:  248, Speed: 0, Alt: 431,
		},
		ConnectionStatus: "active", MovementStatus: "parked", MovementStatusUpdate: "2018-10-04 22:47:07",
		Ignition: ptr(false), IgnitionUpdate: "2018-10-04 22:47:07",
		LastUpdate: "2018-10-17 12:51:46",
		Inputs:     []bool{false, false}, InputsUpdate: "2018-10-17 12:51:43",
		Outputs: []bool{false, false}, OutputsUpdate: "2018-10-17 12:51:43",
		ActualTrackUpdate: "2018-10-04 22:47:07",
	}
}

func sameState(t *testing.T, what string, got, want navixy.State) {
	t.Helper()
	if !got.Equal(&want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("%s:\n got  %s\n want %s", what, gj, wj)
	}
}

func TestSeedState(t *testing.T) {
	raw := load(t, "state.json")
	e := decode[*navixy.StateEvent](t, raw)
	equal(t, "UserTime", e.UserTime, navixy.LocalTime("2018-10-17 12:51:55"))
	sameState(t, "State", e.State, seedState())
	equal(t, "Raw", string(e.Raw), string(raw))
	if !strings.HasPrefix(string(e.State.Raw), `{"source_id":10284,`) || !strings.HasSuffix(string(e.State.Raw), `"2018-10-04 22:47:07"}`) {
		t.Errorf("State.Raw = %s", e.State.Raw)
	}
	got, err := navixy.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Encode", string(got), compacted(t, raw))
}

func TestStateFullAndCompact(t *testing.T) {
	raw := load(t, "state_full.json")
	e := decode[*navixy.StateEvent](t, raw)
	want := seedState()
	want.GSM = &navixy.GSM{Updated: "2018-10-17 12:51:43", SignalLevel: ptr(61), NetworkName: "Tigo GT", Roaming: ptr(false)}
	want.BatteryLevel, want.BatteryUpdate = ptr(87), "2018-10-17 12:51:43"
	want.Inputs, want.Outputs = make([]bool, 8), make([]bool, 8)
	sameState(t, "State", e.State, want)
	got, err := navixy.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Encode", string(got), string(raw))

	// The compact format keeps source_id, gps, statuses, ignition, last_update.
	got, err = navixy.EncodeFormat(e, navixy.FormatCompact)
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"gsm", "battery", "inputs", "outputs", "actual_track_update"} {
		if strings.Contains(string(got), gone) {
			t.Errorf("compact encoding has %s: %s", gone, got)
		}
	}
	for _, kept := range []string{"source_id", "gps", "connection_status", "movement_status_update", "ignition_update", "last_update"} {
		if !strings.Contains(string(got), kept) {
			t.Errorf("compact encoding lacks %s: %s", kept, got)
		}
	}
}

func TestStateBatch(t *testing.T) {
	raw := load(t, "state_batch_compact.json")
	e := decode[*navixy.StateBatchEvent](t, raw)
	if len(e.States) != 2 {
		t.Fatalf("%d states", len(e.States))
	}
	equal(t, "SourceIDs", []int64{e.States[0].SourceID, e.States[1].SourceID}, []int64{10284, 10285})
	equal(t, "Speed", e.States[1].GPS.Speed, 42.5)
	equal(t, "Ignition", *e.States[1].Ignition, true)
	if e.States[0].GSM != nil || e.States[0].Inputs != nil {
		t.Errorf("compact state has full fields: %+v", e.States[0])
	}
	// Each element keeps its own bytes.
	for i, s := range e.States {
		if !bytes.Contains(raw, s.Raw) || s.Raw[0] != '{' || s.Raw[len(s.Raw)-1] != '}' {
			t.Errorf("States[%d].Raw = %s", i, s.Raw)
		}
	}
	got, err := navixy.EncodeFormat(e, navixy.FormatCompact)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "EncodeFormat compact", string(got), string(raw))
}

func TestSeedResponses(t *testing.T) {
	tests := []struct {
		file string
		want navixy.Response
	}{
		{"response_subscribe.json", navixy.Response{
			Action: navixy.ActionSubscribe, Events: []string{"state"},
			Subscriptions: []navixy.Subscription{{Event: "state", Wrapped: true, Success: true, Statuses: []navixy.TrackerStatus{
				{15564, navixy.TrackerNormal}, {15565, navixy.TrackerBlocked}, {15568, navixy.TrackerUnknown}}}},
		}},
		{"response_subscribe_old.json", navixy.Response{
			Action: navixy.ActionSubscribe, Events: []string{"state"},
			Subscriptions: []navixy.Subscription{{Event: "state", Success: true, Statuses: []navixy.TrackerStatus{
				{15564, navixy.TrackerNormal}, {15565, navixy.TrackerBlocked}, {15568, navixy.TrackerUnknown}}}},
		}},
		{"response_subscribe_requests.json", navixy.Response{
			Action: navixy.ActionSubscribe, Events: []string{"state", "state_batch"},
			Subscriptions: []navixy.Subscription{
				{Event: "state", Wrapped: true, Success: true, Statuses: []navixy.TrackerStatus{{1701976, "normal"}, {1701975, "disallowed"}}},
				{Event: "state_batch", Wrapped: true, Success: true, Statuses: []navixy.TrackerStatus{{1701976, "normal"}}},
			},
		}},
		{"response_unsubscribe.json", navixy.Response{Action: navixy.ActionUnsubscribe, Events: []string{"state"}, Unsubscribed: []int64{15568}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := load(t, tt.file)
			r := decode[*navixy.Response](t, raw)
			equal(t, "Raw", string(r.Raw), string(raw))
			if !json.Valid(r.Data) {
				t.Errorf("Data = %s", r.Data)
			}
			got := *r
			got.Raw, got.Data = nil, nil
			equal(t, "Response", got, tt.want)
			enc, err := navixy.Encode(r)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Encode", string(enc), string(raw))
		})
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct {
		file   string
		action string
		status navixy.Status
		relog  bool
	}{
		{"error_wrong_hash.json", navixy.ActionSubscribe, navixy.Status{Code: 3, Description: "Wrong hash"}, true},
		{"error_session_ended.json", navixy.ActionSubscribe, navixy.StatusFor(navixy.CodeSessionEnded), true},
		{"error_null_action.json", "null", navixy.StatusFor(navixy.CodeBadFormat), false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := load(t, tt.file)
			e := decode[*navixy.ErrorResponse](t, raw)
			equal(t, "Action", e.Action, tt.action)
			equal(t, "Status", e.Status, tt.status)
			equal(t, "NeedsLogin", navixy.NeedsLogin(e.Status.Code), tt.relog)
			err := e.Err()
			if !errors.Is(err, navixy.ErrAPI) || navixy.ErrorKind(err) != "api" {
				t.Errorf("Err() = %v", err)
			}
			enc, err2 := navixy.Encode(e)
			if err2 != nil {
				t.Fatal(err2)
			}
			equal(t, "Encode", string(enc), string(raw))
		})
	}
	e := decode[*navixy.ErrorResponse](t, load(t, "error_wrong_hash.json"))
	equal(t, "Data", string(e.Data), `{"events":["state"],"trackers":[15564]}`)
	equal(t, "Error", e.Err().Error(), "navixy: error 3: Wrong hash (subscription/subscribe)")
}

func TestSeedLifecycleAndLogout(t *testing.T) {
	raw := load(t, "lifecycle.json")
	l := decode[*navixy.LifecycleEvent](t, raw)
	equal(t, "SourceID", l.SourceID, int64(123456))
	equal(t, "Lifecycle", l.Lifecycle, navixy.LifecycleBlock)
	enc, _ := navixy.Encode(l)
	equal(t, "Encode lifecycle", string(enc), string(raw))

	raw = load(t, "logout.json")
	o := decode[*navixy.LogoutEvent](t, raw)
	equal(t, "Reason", o.Reason, "session closed")
	enc, _ = navixy.Encode(o)
	equal(t, "Encode logout", string(enc), string(raw))
}

func TestSeedActions(t *testing.T) {
	for _, file := range []string{"subscribe_old.json", "unsubscribe_old.json", "subscribe_requests.json"} {
		t.Run(file, func(t *testing.T) {
			raw := load(t, file)
			a, err := navixy.DecodeAction(raw)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Encode", string(a.Encode()), string(raw))
		})
	}
	a, _ := navixy.DecodeAction(load(t, "subscribe_requests.json"))
	want := navixy.Action{Action: "subscribe", Hash: "4ce2b45d12a6c634154017511575369a", Requests: []navixy.Request{
		{Type: "state", Trackers: []int64{1701976, 1701975}, Format: "compact"},
		{Type: "state_batch", Target: &navixy.Target{Type: "all"}, RateLimit: "5s", Format: "full"},
	}}
	equal(t, "current form", a, want)
	if !a.Current() {
		t.Error("Current() = false")
	}
	a, _ = navixy.DecodeAction(load(t, "subscribe_old.json"))
	equal(t, "old form", a, navixy.Action{Action: "subscribe", Hash: "f4bf1b75403d851653dad99c78c4b237",
		Events: []string{"state"}, Trackers: []int64{15564, 15565, 15568}})
	if a.Current() {
		t.Error("Current() = true")
	}
}

func TestActionForms(t *testing.T) {
	a := navixy.Action{Action: navixy.Subscribe, Hash: "h", Requests: []navixy.Request{
		{Type: "state", Target: &navixy.Target{Type: "selected", TrackerIDs: []int64{1, 2}}},
		{Type: "readings_batch", Target: &navixy.Target{Type: "all"}, Extra: map[string]json.RawMessage{
			"sensor_type": json.RawMessage(`"temperature"`), "include_components": json.RawMessage(`true`)}},
	}}
	want := `{"action":"subscribe","hash":"h","requests":[{"type":"state","target":{"type":"selected","tracker_ids":[1,2]}},` +
		`{"type":"readings_batch","target":{"type":"all"},"include_components":true,"sensor_type":"temperature"}]}`
	equal(t, "Encode", string(a.Encode()), want)
	back, err := navixy.DecodeAction([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", back, a)
	// Old form with nothing to name still writes both lists.
	equal(t, "empty old form", string((&navixy.Action{Action: "subscribe", Hash: "h"}).Encode()),
		`{"action":"subscribe","hash":"h","events":[],"trackers":[]}`)
	// Ids as strings are tolerated.
	a2, err := navixy.DecodeAction([]byte(`{"action":"subscribe","hash":"h","events":["state"],"trackers":["15564",15565]}`))
	if err != nil || !reflect.DeepEqual(a2.Trackers, []int64{15564, 15565}) {
		t.Errorf("string ids: %+v %v", a2, err)
	}
}

func TestAuth(t *testing.T) {
	for _, file := range []string{"auth_ok.json", "auth_ok_typed.json"} {
		raw := load(t, file)
		r, err := navixy.DecodeAuthResult(raw)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, file+" Hash", r.Hash, "22eac1c27af4be7b9d04da2ce1af111b")
		if !navixy.ValidHash(r.Hash) {
			t.Errorf("ValidHash(%q) = false", r.Hash)
		}
		equal(t, file+" encode", string(navixy.EncodeAuthResult(r)), string(raw))
	}
	raw := load(t, "auth_wrong_password.json")
	_, err := navixy.DecodeAuthResult(raw)
	var ae *navixy.APIError
	if !errors.As(err, &ae) || ae.Status.Code != navixy.CodeWrongLogin || ae.Status.Description != "Wrong login or password" {
		t.Fatalf("err = %v", err)
	}
	equal(t, "EncodeAPIError", string(navixy.EncodeAPIError(navixy.StatusFor(navixy.CodeWrongLogin))), string(raw))
	equal(t, "HTTPStatus", navixy.HTTPStatus(navixy.CodeWrongLogin), 400)
	equal(t, "HTTPStatus 15", navixy.HTTPStatus(navixy.CodeRateLimit), 429)

	for _, bad := range []string{`{"success":true}`, `{"success":true,"hash":" "}`} {
		if _, err := navixy.DecodeAuthResult([]byte(bad)); !errors.Is(err, navixy.ErrMissing) {
			t.Errorf("DecodeAuthResult(%s): %v, want ErrMissing", bad, err)
		}
	}
	if _, err := navixy.DecodeAuthResult([]byte(`<html>502</html>`)); navixy.ErrorKind(err) != "json" {
		t.Errorf("html answer: %v", err)
	}
	if err := navixy.DecodeAPIError([]byte(`{}`)); !errors.Is(err, navixy.ErrMissing) {
		t.Errorf("DecodeAPIError({}) = %v", err)
	}

	req := navixy.AuthRequest{Login: "demo@example.com", Password: "p&ss w=rd", DealerID: 42}
	back, err := navixy.ParseAuthForm(req.Form())
	if err != nil || back != req {
		t.Errorf("form round trip: %+v %v", back, err)
	}
	equal(t, "JSON", string(req.JSON()), `{"login":"demo@example.com","password":"p&ss w=rd","dealer_id":42}`)
	back, err = navixy.DecodeAuthJSON(req.JSON())
	if err != nil || back != req {
		t.Errorf("JSON round trip: %+v %v", back, err)
	}
	if _, ok := (navixy.AuthRequest{Login: "a", Password: "b"}).Form()["dealer_id"]; ok {
		t.Error("dealer_id sent when 0")
	}
	if _, err := navixy.ParseAuthForm(url.Values{"dealer_id": {"x"}}); !errors.Is(err, navixy.ErrBadNumber) {
		t.Errorf("bad dealer_id: %v", err)
	}
	for p, ok := range map[string]bool{"a": true, strings.Repeat("x", 40): true, "": false, strings.Repeat("x", 41): false, "a\nb": false, "ünï": true} {
		equal(t, "ValidPassword("+p+")", navixy.ValidPassword(p), ok)
	}
	for h, ok := range map[string]bool{"22eac1c27af4be7b9d04da2ce1af111b": true, "22EAC1C27AF4BE7B9D04DA2CE1AF111B": true, "22eac1": false, "zzeac1c27af4be7b9d04da2ce1af111b": false} {
		equal(t, "ValidHash("+h+")", navixy.ValidHash(h), ok)
	}
}

func TestTrackerList(t *testing.T) {
	list, err := navixy.DecodeTrackerList(load(t, "tracker_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []navixy.Tracker{
		{ID: 15564, Label: "Truck 1", Source: navixy.Source{ID: 10284, DeviceID: "356173068105960", Model: "telfmb120", Phone: "50212345678"}},
		{ID: 15565, Label: "Van 2", GroupID: 3, Source: navixy.Source{ID: 10285, DeviceID: "356173068105961", Model: "telfmb120", Blocked: true}},
	}
	equal(t, "list", list, want)
	back, err := navixy.DecodeTrackerList(navixy.EncodeTrackerList(list))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", back, want)

	_, err = navixy.DecodeTrackerList(load(t, "list_session_ended.json"))
	var ae *navixy.APIError
	if !errors.As(err, &ae) || !navixy.NeedsLogin(ae.Status.Code) {
		t.Fatalf("session ended: %v", err)
	}
	for _, bad := range []string{`{"success":true,"list":[{"label":"x","source":{"id":1}}]}`, `{"success":true,"list":[{"id":1}]}`} {
		if _, err := navixy.DecodeTrackerList([]byte(bad)); !errors.Is(err, navixy.ErrMissing) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestLocalTime(t *testing.T) {
	gt := time.FixedZone("GT", -6*3600)
	tests := []struct {
		in   navixy.LocalTime
		want time.Time
	}{
		{"2018-10-17 12:51:43", time.Date(2018, 10, 17, 12, 51, 43, 0, gt)},
		{"2018-10-17 12:51:43.250", time.Date(2018, 10, 17, 12, 51, 43, 250e6, gt)},
		{"2018-10-17T12:51:43", time.Date(2018, 10, 17, 12, 51, 43, 0, gt)},
		{"2018-10-17 12:51", time.Date(2018, 10, 17, 12, 51, 0, 0, gt)},
		{"2018-10-17", time.Date(2018, 10, 17, 0, 0, 0, 0, gt)},
		{"2018-10-17 12:51:43Z", time.Date(2018, 10, 17, 12, 51, 43, 0, time.UTC)},
		{"2018-10-17T12:51:43+02:00", time.Date(2018, 10, 17, 10, 51, 43, 0, time.UTC)},
		{"2018-10-17 12:51:43+0200", time.Date(2018, 10, 17, 10, 51, 43, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := tt.in.In(gt)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%q.In(-06:00) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got, err := navixy.LocalTime("2018-10-17 12:51:43").In(nil); err != nil || !got.Equal(time.Date(2018, 10, 17, 12, 51, 43, 0, time.UTC)) {
		t.Errorf("nil zone: %v %v", got, err)
	}
	if got, err := navixy.LocalTime("").In(gt); err != nil || !got.IsZero() {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []navixy.LocalTime{"17/10/2018 12:51:43", "2018-13-01 00:00:00", "yesterday", "1539780703"} {
		if _, err := bad.In(gt); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	equal(t, "MakeLocalTime", navixy.MakeLocalTime(time.Date(2018, 10, 17, 18, 51, 43, 0, time.UTC), gt), navixy.LocalTime("2018-10-17 12:51:43"))
}

func TestTolerance(t *testing.T) {
	t.Run("nulls, numeric strings, unknown keys", func(t *testing.T) {
		e := decode[*navixy.StateEvent](t, []byte(` {"type":"event","event":"state","future":[1],"data":{"source_id":"10284","gps":{"location":null,"speed":"12.5","heading":null},`+
			`"ignition":null,"battery_level":null,"gsm":{"signal_level":null,"network_name":null},"inputs":null,"last_update":null,"extra":{"x":1}}} `))
		s := e.State
		if s.SourceID != 10284 || s.GPS == nil || s.GPS.Location != nil || s.GPS.Speed != 12.5 || s.Ignition != nil || s.BatteryLevel != nil ||
			s.GSM == nil || s.GSM.SignalLevel != nil || s.Inputs != nil || s.LastUpdate != "" || e.UserTime != "" {
			t.Errorf("%+v", s)
		}
	})
	t.Run("integers written as floats", func(t *testing.T) {
		e := decode[*navixy.LifecycleEvent](t, []byte(`{"type":"event","event":"lifecycle","data":{"source_id":1.23456e5,"lifecycle_event":"unblock"}}`))
		equal(t, "SourceID", e.SourceID, int64(123456))
	})
	t.Run("no gps", func(t *testing.T) {
		e := decode[*navixy.StateEvent](t, []byte(`{"type":"event","event":"state","data":{"source_id":1}}`))
		if e.State.GPS != nil {
			t.Errorf("GPS = %+v", e.State.GPS)
		}
	})
	t.Run("other events pass through", func(t *testing.T) {
		for _, name := range []string{"readings_batch", "iot_monitor", "something_new"} {
			e := decode[*navixy.OtherEvent](t, []byte(`{"type":"event","event":"`+name+`","data":[{"a":1}]}`))
			equal(t, "Event", e.Event, name)
			equal(t, "Data", string(e.Data), `[{"a":1}]`)
		}
	})
	t.Run("logout with an object", func(t *testing.T) {
		e := decode[*navixy.LogoutEvent](t, []byte(`{"type":"event","event":"logout","data":{"reason": "expired"}}`))
		equal(t, "Reason", e.Reason, `{"reason":"expired"}`)
	})
	t.Run("wrapper without statuses", func(t *testing.T) {
		r := decode[*navixy.Response](t, []byte(`{"type":"response","action":"subscription/subscribe","events":["state_batch"],"data":{"state_batch":{"value":true,"success":true}}}`))
		equal(t, "Subscriptions", r.Subscriptions, []navixy.Subscription{{Event: "state_batch", Wrapped: true, Success: true}})
	})
	t.Run("failed wrapper", func(t *testing.T) {
		r := decode[*navixy.Response](t, []byte(`{"type":"response","action":"subscription/subscribe","data":{"iot_monitor":{"success":false,"status":{"code":7,"description":"Invalid parameters"}}}}`))
		st := navixy.StatusFor(7)
		equal(t, "Subscriptions", r.Subscriptions, []navixy.Subscription{{Event: "iot_monitor", Wrapped: true, Status: &st}})
	})
	t.Run("undocumented data shape kept", func(t *testing.T) {
		r := decode[*navixy.Response](t, []byte(`{"type":"response","action":"subscription/subscribe","data":[1]}`))
		if r.Subscriptions != nil || string(r.Data) != "[1]" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("error without status", func(t *testing.T) {
		e := decode[*navixy.ErrorResponse](t, []byte(`{"type":"error","action":null}`))
		equal(t, "Status", e.Status, navixy.Status{})
	})
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name, in, kind string
	}{
		{"empty", ``, "json"},
		{"heartbeat", `X`, "json"},
		{"truncated", `{"type":"event"`, "json"},
		{"array", `[{"type":"event"}]`, "json"},
		{"two objects", `{"type":"event"}{}`, "json"},
		{"no type", `{"event":"state"}`, "no_type"},
		{"type number", `{"type":1}`, "type"},
		{"unknown type", `{"type":"notice"}`, "unknown_type"},
		{"no event", `{"type":"event","data":{}}`, "no_event"},
		{"state without data", `{"type":"event","event":"state"}`, "type"},
		{"state data array", `{"type":"event","event":"state","data":[]}`, "type"},
		{"no source_id", `{"type":"event","event":"state","data":{"gps":null}}`, "missing"},
		{"source_id text", `{"type":"event","event":"state","data":{"source_id":"abc"}}`, "number"},
		{"source_id fraction", `{"type":"event","event":"state","data":{"source_id":1.5}}`, "number"},
		{"source_id huge", `{"type":"event","event":"state","data":{"source_id":1e30}}`, "number"},
		{"lat text", `{"type":"event","event":"state","data":{"source_id":1,"gps":{"location":{"lat":"north","lng":1}}}}`, "number"},
		{"lat bool", `{"type":"event","event":"state","data":{"source_id":1,"gps":{"location":{"lat":true}}}}`, "type"},
		{"gps string", `{"type":"event","event":"state","data":{"source_id":1,"gps":"none"}}`, "type"},
		{"bad time", `{"type":"event","event":"state","data":{"source_id":1,"last_update":"17.10.2018"}}`, "time"},
		{"bad user_time", `{"type":"event","event":"state","user_time":"now","data":{"source_id":1}}`, "time"},
		{"inputs with null", `{"type":"event","event":"state","data":{"source_id":1,"inputs":[true,null]}}`, "type"},
		{"ignition text", `{"type":"event","event":"state","data":{"source_id":1,"ignition":"on"}}`, "type"},
		{"battery huge", `{"type":"event","event":"state","data":{"source_id":1,"battery_level":99999999999}}`, "number"},
		{"batch element bad", `{"type":"event","event":"state_batch","data":[{"source_id":1},{"gps":{}}]}`, "missing"},
		{"batch not array", `{"type":"event","event":"state_batch","data":{"source_id":1}}`, "type"},
		{"lifecycle no data", `{"type":"event","event":"lifecycle"}`, "missing"},
		{"lifecycle no source", `{"type":"event","event":"lifecycle","data":{"lifecycle_event":"block"}}`, "missing"},
		{"statuses key", `{"type":"response","action":"subscription/subscribe","data":{"state":{"abc":"normal"}}}`, "number"},
		{"status value", `{"type":"response","action":"subscription/subscribe","data":{"state":{"value":{"1":5},"success":true}}}`, "type"},
		{"success text", `{"type":"response","action":"subscription/subscribe","data":{"state":{"value":{},"success":"yes"}}}`, "type"},
		{"unsubscribed text", `{"type":"response","action":"subscription/unsubscribe","data":["x"]}`, "number"},
		{"error code text", `{"type":"error","status":{"code":"three"}}`, "number"},
		{"error status string", `{"type":"error","status":"Wrong hash"}`, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := navixy.Decode([]byte(tt.in))
			if f != nil {
				t.Errorf("Decode returned %#v with an error", f)
			}
			equal(t, "ErrorKind("+errString(err)+")", navixy.ErrorKind(err), tt.kind)
		})
	}
	t.Run("field named", func(t *testing.T) {
		_, err := navixy.Decode([]byte(`{"type":"event","event":"state_batch","data":[{"source_id":1},{"source_id":2,"gps":{"updated":"soon"}}]}`))
		var fe *navixy.FieldError
		if !errors.As(err, &fe) || fe.Field != "data[1].gps.updated" {
			t.Fatalf("err = %v", err)
		}
	})
	equal(t, "nil", navixy.ErrorKind(nil), "")
	equal(t, "foreign", navixy.ErrorKind(errors.New("x")), "other")
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestEncodeRejectsNaN(t *testing.T) {
	s := seedState()
	s.GPS.Speed = math.NaN()
	if _, err := navixy.Encode(&navixy.StateEvent{State: s}); err == nil {
		t.Error("NaN encoded")
	}
	if _, err := navixy.Encode(nil); err == nil {
		t.Error("nil frame encoded")
	}
}

// sameFrame compares two decoded frames, ignoring Raw and Data bytes'
// white space; nil and empty slices are equal.
func sameFrame(a, b navixy.Frame) bool {
	norm := func(f navixy.Frame) string {
		j, _ := json.Marshal(f)
		var v any
		_ = json.Unmarshal(j, &v)
		if m, ok := v.(map[string]any); ok && (m["Subscriptions"] != nil || m["Unsubscribed"] != nil) {
			delete(m, "Data") // Encode writes data from the decoded values
		}
		stripRaw(v)
		out, _ := json.Marshal(v)
		return string(out)
	}
	return norm(a) == norm(b)
}

// stripRaw removes Raw fields and turns empty arrays into null.
func stripRaw(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "Raw")
		for k, e := range x {
			if arr, ok := e.([]any); ok && len(arr) == 0 {
				x[k] = nil
			}
			stripRaw(x[k])
		}
	case []any:
		for _, e := range x {
			stripRaw(e)
		}
	}
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

func FuzzDecode(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		frame, err := navixy.Decode(b)
		if err != nil {
			if frame != nil {
				t.Fatalf("Decode returned a frame with error %v", err)
			}
			if k := navixy.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		enc, err := navixy.Encode(frame)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", frame, err)
		}
		again, err := navixy.Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !sameFrame(frame, again) {
			a, _ := json.Marshal(frame)
			b2, _ := json.Marshal(again)
			t.Fatalf("round trip changed the frame:\n in  %s\n out %s\n via %s", a, b2, enc)
		}
	})
}

func FuzzDecodeAction(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := navixy.DecodeAction(b)
		if err != nil {
			if k := navixy.ErrorKind(err); k == "" || k == "other" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		enc := a.Encode()
		again, err := navixy.DecodeAction(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if again.Encode() == nil || string(again.Encode()) != string(enc) {
			t.Fatalf("round trip changed the action:\n %s\n %s", enc, again.Encode())
		}
	})
}

func FuzzDecodeREST(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, err := range []error{
			func() error { _, err := navixy.DecodeAuthResult(b); return err }(),
			func() error { _, err := navixy.DecodeTrackerList(b); return err }(),
			func() error { _, err := navixy.DecodeAuthJSON(b); return err }(),
			navixy.DecodeAPIError(b),
		} {
			if k := navixy.ErrorKind(err); err != nil && (k == "" || k == "other") {
				t.Fatalf("unclassified error %v", err)
			}
		}
		if list, err := navixy.DecodeTrackerList(b); err == nil {
			back, err := navixy.DecodeTrackerList(navixy.EncodeTrackerList(list))
			if err != nil || !reflect.DeepEqual(back, list) && !(len(back) == 0 && len(list) == 0) {
				t.Fatalf("tracker list round trip: %+v -> %+v (%v)", list, back, err)
			}
		}
	})
}
