package event_test

// Codec micro-benchmarks: every event kind, command body and reply body of
// package event, msgp against encoding/json on the same Go value.
//
//	go test ./proto/event -run '^$' -bench Kinds -benchmem -count 3 | go run ./internal/benchratio
//
// Each value is what the relay publishes for a vendor's seed message: the
// seed (proto/<vendor>/testdata) decoded by the vendor codec and normalised
// by the connector's own Normalize (relay/connector/…, proto/proglove), so
// that Meta.Raw holds the upstream message verbatim, as on the wire. The few
// values no Normalize builds (link.status, gps.subscription, command and
// reply bodies) are built here the way the relay builds them, from the same
// seeds. This is an external test package because those connectors import
// package event.
//
// Fairness: both encoders write into a buffer reused across iterations
// (msgp MarshalMsg onto buf[:0]; json.Encoder onto a reset bytes.Buffer,
// which adds one '\n'), and both decoders decode into one reused value of
// the event's own type. SetBytes is each codec's own encoded size, and the
// "B/msg" metric repeats it so that sizes show in the benchmark output.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	doshiiwire "github.com/fieldrelay/fieldrelay/proto/doshii"
	"github.com/fieldrelay/fieldrelay/proto/event"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
	insight "github.com/fieldrelay/fieldrelay/proto/proglovecloud"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
	doshiiconn "github.com/fieldrelay/fieldrelay/relay/connector/doshii"
	navixyconn "github.com/fieldrelay/fieldrelay/relay/connector/navixy"
	cloudconn "github.com/fieldrelay/fieldrelay/relay/connector/proglovecloud"
	"github.com/fieldrelay/fieldrelay/relay/connector/resiotconn"
)

// msgValue is what every event, command body and reply body implements.
type msgValue interface {
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
}

// kindCase is one benchmarked value. name is the event kind, "cmd:" and
// the command kind for a command body (lora.downlink is both an event and
// a command kind), or "reply:" and the command for a reply's Data.
type kindCase struct {
	name string
	v    msgValue
}

const (
	cmdPrefix   = "cmd:"
	replyPrefix = "reply:"
)

// Link names, as a deployment's configuration would give them.
const (
	linkResiot   = "lora-main"
	linkProglove = "scanners-dock"
	linkCloud    = "insight-cloud"
	linkNavixy   = "fleet-navixy"
	linkDoshii   = "pos-doshii"
)

// kindCases builds one value per kind, in the order of the benchmark table.
func kindCases(tb testing.TB) []kindCase {
	tb.Helper()
	var cs []kindCase
	add := func(name string, v msgValue) { cs = append(cs, kindCase{name, v}) }

	// ResIOT (LoRaWAN), through resiot.Decode and resiotconn.Normalize.
	add(event.KindUplink, resiotEvent(tb, seed(tb, "resiot", "rx.json")))
	add(event.KindJoin, resiotEvent(tb, seed(tb, "resiot", "join.json")))
	add(event.KindGateway, resiotEvent(tb, seed(tb, "resiot", "gwalive.json")))
	add(event.KindDownlink, resiotEvent(tb, seed(tb, "resiot", "tx_log.json")))
	// No seed has a type the connector passes through: the comm_tx example
	// as a comm_txconfirm (the type resiot's own tests use for this).
	add(event.KindLoRaOther, resiotEvent(tb, replaceOnce(tb, seed(tb, "resiot", "tx_log.json"),
		`"CommType":"comm_tx"`, `"CommType":"comm_txconfirm"`)))

	// link.status as connector.Status.Set publishes it (no Raw: there is
	// no upstream message), for a link backing off after its socket dropped.
	now := time.Date(2018, 10, 17, 18, 52, 3, 417_000_000, time.UTC).UnixMicro()
	add(event.KindLinkStatus, &event.LinkStatus{
		Meta:  event.Meta{Link: linkNavixy, Protocol: navixyconn.Protocol, Time: now, Received: now},
		State: event.LinkBackoff, Reason: "failed to get reader: failed to read frame header: EOF", Attempt: 3, RetryMS: 4000,
	})

	// ProGlove Insight Mobile (Streams API), through proglove.NormalizeFrame
	// (Split, Decode, Normalize: the connector's receive path).
	add(event.KindScan, progloveEvent(tb, seed(tb, "proglove", "scan.json")))
	add(event.KindScannerState, progloveEvent(tb, seed(tb, "proglove", "scanner_state.json")))
	add(event.KindScannerButton, progloveEvent(tb, seed(tb, "proglove", "button_pressed.json")))
	add(event.KindScannerError, progloveEvent(tb, seed(tb, "proglove", "errors.json")))
	add(event.KindScannerGateway, progloveEvent(tb, seed(tb, "proglove", "gateway_state.json")))
	add(event.KindScannerOther, progloveEvent(tb, corpusEntry(tb, "proglove", "FuzzDecode", "ok_unknown_type")))

	// ProGlove Insight live data (cloud), through proglovecloud.Decode and
	// the connector's Normalize.
	add(event.KindCloudScan, cloudEvent(tb, seed(tb, "proglovecloud", "scan.json")))
	add(event.KindCloudEvent, cloudEvent(tb, seed(tb, "proglovecloud", "other_event.json")))

	// Navixy (GPS), through navixy.Decode and the connector's Normalize,
	// with the seed tracker list and the account zone of the seed's
	// trackers (Guatemala, -06:00).
	nv := newNavixy(tb)
	add(event.KindTrackerState, nv.event(tb, seed(tb, "navixy", "state_full.json")))
	add(event.KindTrackerSubscription, nv.subscription(tb, seed(tb, "navixy", "response_subscribe.json")))
	add(event.KindTrackerLifecycle, nv.event(tb, seed(tb, "navixy", "lifecycle.json")))
	add(event.KindGPSOther, nv.event(tb, corpusEntry(tb, "navixy", "FuzzDecode", "ok_other_event")))

	// Doshii (POS), through doshii.Decode and the connector's Normalize.
	add(event.KindPOS, doshiiEvent(tb, seed(tb, "doshii", "order_created_pos.json")))

	// Command bodies, from the vendor's command examples (see commandBodies).
	for _, c := range commandBodies(tb) {
		add(cmdPrefix+c.name, c.v)
	}

	// Reply bodies (a successful command reply's Data).
	add(replyPrefix+event.CmdLoRaDownlink, &event.DownlinkResult{Reference: "0b6f3c1e-5d2a-4f8b-9e7c-1a2b3c4d5e6f"})
	gsr := decodeCommand[*proglove.GatewayStateRequest](tb, "gateway_state_request.json")
	add(replyPrefix+"scanner", &event.ScannerCommandResult{EventID: gsr.ID, Answered: true})
	return cs
}

// seed reads proto/<vendor>/testdata/<name>.
func seed(tb testing.TB, vendor, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", vendor, "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// corpusEntry reads the one []byte value of a committed fuzz corpus file
// (`go test fuzz v1`) of proto/<vendor>.
func corpusEntry(tb testing.TB, vendor, target, name string) []byte {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(string(seed(tb, vendor, filepath.Join("fuzz", target, name)))), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		tb.Fatalf("%s/%s: not a one-value fuzz corpus file", vendor, name)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	s, err := strconv.Unquote(lit)
	if !ok || !ok2 || err != nil {
		tb.Fatalf("%s/%s: not a []byte value: %v", vendor, name, err)
	}
	return []byte(s)
}

func replaceOnce(tb testing.TB, b []byte, old, new string) []byte {
	tb.Helper()
	if bytes.Count(b, []byte(old)) != 1 {
		tb.Fatalf("%q is not in the seed exactly once", old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// one returns the event of a normalisation that must give exactly one.
func one[O any](tb testing.TB, outs []O, err error, ev func(O) event.Event) event.Event {
	tb.Helper()
	if err != nil || len(outs) != 1 {
		tb.Fatalf("normalise: %d events, %v", len(outs), err)
	}
	return ev(outs[0])
}

func resiotEvent(tb testing.TB, msg []byte) event.Event {
	tb.Helper()
	f, err := resiot.Decode(msg)
	if err != nil {
		tb.Fatal(err)
	}
	m, ok := f.(*resiot.Message)
	if !ok {
		tb.Fatalf("resiot: %T is not a message", f)
	}
	outs, err := resiotconn.Normalize(m, linkResiot, m.DT.Add(38*time.Millisecond))
	return one(tb, outs, err, func(o resiotconn.Out) event.Event { return o.Event })
}

func progloveEvent(tb testing.TB, frame []byte) event.Event {
	tb.Helper()
	m, err := proglove.Decode(frame)
	if err != nil {
		tb.Fatal(err)
	}
	received := time.UnixMilli(m.Header().Created).Add(61 * time.Millisecond)
	outs, err := proglove.NormalizeFrame(frame, linkProglove, received)
	return one(tb, outs, err, func(o proglove.Out) event.Event { return o.Event })
}

func cloudEvent(tb testing.TB, msg []byte) event.Event {
	tb.Helper()
	e, err := insight.Decode(msg)
	if err != nil {
		tb.Fatal(err)
	}
	outs, err := cloudconn.Normalize(e, linkCloud, time.UnixMilli(e.TimeCreated).Add(420*time.Millisecond))
	return one(tb, outs, err, func(o cloudconn.Out) event.Event { return o.Event })
}

func doshiiEvent(tb testing.TB, msg []byte) event.Event {
	tb.Helper()
	f, err := doshiiwire.Decode(msg)
	if err != nil {
		tb.Fatal(err)
	}
	e, ok := f.(*doshiiwire.Event)
	if !ok {
		tb.Fatalf("doshii: %T is not an event", f)
	}
	received := time.Date(2024, 5, 14, 1, 12, 9, 250_000_000, time.UTC)
	outs, dropped := doshiiconn.Normalize(e, linkDoshii, received)
	return one(tb, outs, dropped, func(o doshiiconn.Out) event.Event { return o.Event })
}

// navixy holds what a Navixy link knows when events arrive.
type navixy struct {
	trackers map[int64]nx.Tracker // by source id
	labels   map[int64]string     // by tracker id
	zone     *time.Location
	received time.Time
}

func newNavixy(tb testing.TB) *navixy {
	tb.Helper()
	list, err := nx.DecodeTrackerList(seed(tb, "navixy", "tracker_list.json"))
	if err != nil {
		tb.Fatal(err)
	}
	zone, err := navixyconn.ParseZone("-06:00")
	if err != nil {
		tb.Fatal(err)
	}
	n := &navixy{trackers: map[int64]nx.Tracker{}, labels: map[int64]string{}, zone: zone,
		received: time.Date(2018, 10, 17, 18, 51, 55, 730_000_000, time.UTC)}
	for _, t := range list {
		n.trackers[t.Source.ID], n.labels[t.ID] = t, t.Label
	}
	return n
}

func (n *navixy) event(tb testing.TB, msg []byte) event.Event {
	tb.Helper()
	f, err := nx.Decode(msg)
	if err != nil {
		tb.Fatal(err)
	}
	outs, _ := navixyconn.Normalize(f, linkNavixy, n.trackers, n.zone, n.received)
	return one(tb, outs, nil, func(o navixyconn.Out) event.Event { return o.Event })
}

// subscription is the TrackerSubscription the link publishes for the first
// tracker status of a subscribe response (the link's setSubscription,
// which is not exported).
func (n *navixy) subscription(tb testing.TB, msg []byte) event.Event {
	tb.Helper()
	f, err := nx.Decode(msg)
	if err != nil {
		tb.Fatal(err)
	}
	r, ok := f.(*nx.Response)
	if !ok || len(r.Subscriptions) == 0 || len(r.Subscriptions[0].Statuses) == 0 {
		tb.Fatalf("navixy: %T is not a subscribe response with statuses", f)
	}
	s := r.Subscriptions[0]
	ts := s.Statuses[0]
	return &event.TrackerSubscription{
		Meta:      event.Meta{Link: linkNavixy, Protocol: navixyconn.Protocol, Received: n.received.UnixMicro(), Raw: r.Raw},
		TrackerID: ts.TrackerID, Label: n.labels[ts.TrackerID], Event: s.Event, Status: ts.Status,
	}
}

func decodeCommand[C proglove.Command](tb testing.TB, name string) C {
	tb.Helper()
	c, err := proglove.DecodeCommand(seed(tb, "proglove", name))
	if err != nil {
		tb.Fatal(err)
	}
	v, ok := c.(C)
	if !ok {
		tb.Fatalf("%s: %T", name, c)
	}
	return v
}

// commandBodies are the command bodies a browser sends for the vendors'
// command examples: each vendor command decoded and mapped back to its
// body, then checked to give that command again on the relay's send path
// (proglove.CommandFrame; resiotconn's TX), so the mapping cannot drift.
func commandBodies(tb testing.TB) []kindCase {
	tb.Helper()
	tx, err := resiot.DecodeTX(seed(tb, "resiot", "tx_command_hex.json"))
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := hex.DecodeString(tx.Payload)
	if err != nil {
		tb.Fatal(err)
	}
	down := &event.LoRaDownlink{Port: tx.Port, Payload: payload, Confirm: tx.Confirm, Connector: tx.Connector}
	// What resiotconn's Command sends for the body (its Reference is a
	// fresh UUID there; the example's here).
	again, err := resiot.EncodeTX(resiot.TX{Payload: hex.EncodeToString(down.Payload), AppEUI: tx.AppEUI, DevEUI: tx.DevEUI,
		Connector: down.Connector, Port: down.Port, Reference: tx.Reference, Confirm: down.Confirm})
	if err != nil {
		tb.Fatal(err)
	}
	if got, err := resiot.DecodeTX(again); err != nil || !reflect.DeepEqual(got, tx) {
		tb.Fatalf("lora.downlink body does not give the example's TX again:\n got %+v (%v)\nwant %+v", got, err, tx)
	}

	fb := decodeCommand[*proglove.Feedback](tb, "feedback.json")
	disp := decodeCommand[*proglove.Display](tb, "display.json")
	tbk := decodeCommand[*proglove.TriggerBlock](tb, "trigger_block.json")
	gsr := decodeCommand[*proglove.GatewayStateRequest](tb, "gateway_state_request.json")
	fields := make([]event.ScannerDisplayField, len(disp.Fields))
	for i, f := range disp.Fields {
		fields[i] = event.ScannerDisplayField{ID: int32(f.ID), Header: f.Header, Text: f.Text}
	}
	scanner := []struct {
		cmd  proglove.Command
		body event.Command
	}{
		{fb, &event.ScannerFeedback{Action: fb.Action, TimeToLiveMS: fb.TimeToLive}},
		{disp, &event.ScannerDisplay{Template: disp.TemplateID, Refresh: disp.RefreshType, DurationMS: disp.ValidityDuration, Fields: fields}},
		{tbk, &event.ScannerTriggerBlock{Block: tbk.BlockState, BlockGestures: tbk.BlockGestures,
			UnblockGestures: tbk.UnblockGestures, DurationMS: tbk.ValidityDuration}},
		{gsr, &event.ScannerGatewayState{}},
	}
	cs := []kindCase{{event.CmdLoRaDownlink, down}}
	for _, s := range scanner {
		env := s.cmd.Header()
		frame, _, err := proglove.CommandFrame(s.cmd.Serial(), s.body, env.ID, time.UnixMilli(env.Created))
		if err != nil {
			tb.Fatal(err)
		}
		got, err := proglove.DecodeCommand(frame)
		if err != nil || !reflect.DeepEqual(got, s.cmd) {
			tb.Fatalf("%s body does not give the example command again:\n got %#v (%v)\nwant %#v", s.body.CommandKind(), got, err, s.cmd)
		}
		cs = append(cs, kindCase{s.body.CommandKind(), s.body})
	}
	return cs
}

// commandKinds lists the registered command kinds. The package exports no
// list of them, but its Reference renders every one in its Commands table.
func commandKinds(tb testing.TB) []string {
	tb.Helper()
	_, rest, ok := strings.Cut(string(event.Reference()), "\n## Commands\n")
	if !ok {
		tb.Fatal("Reference has no Commands section")
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	var out []string
	for _, line := range strings.Split(rest, "\n") {
		if k, ok := strings.CutPrefix(line, "| `"); ok {
			k, _, _ = strings.Cut(k, "`")
			if event.NewCommand(k) == nil {
				tb.Fatalf("Reference lists command %q, which NewCommand does not know", k)
			}
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		tb.Fatal("no commands found in Reference")
	}
	return out
}

func newLike(v msgValue) msgValue {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface().(msgValue)
}

// TestKindsCovered: every registered event kind and command kind has a
// benchmark value of its type (a new kind fails here until it gets one),
// and every benchmark value names a registered kind.
func TestKindsCovered(t *testing.T) {
	have := map[string]msgValue{}
	for _, c := range kindCases(t) {
		if _, dup := have[c.name]; dup {
			t.Errorf("%s: two benchmark values", c.name)
		}
		have[c.name] = c.v
	}
	want := map[string]reflect.Type{
		replyPrefix + event.CmdLoRaDownlink: reflect.TypeOf(&event.DownlinkResult{}),
		replyPrefix + "scanner":             reflect.TypeOf(&event.ScannerCommandResult{}),
	}
	for _, k := range event.Kinds() {
		want[k] = reflect.TypeOf(event.New(k))
	}
	for _, k := range commandKinds(t) {
		want[cmdPrefix+k] = reflect.TypeOf(event.NewCommand(k))
	}
	for name, typ := range want {
		v, ok := have[name]
		switch {
		case !ok:
			t.Errorf("%s (%s) has no benchmark value: add one to kindCases", name, typ)
		case reflect.TypeOf(v) != typ:
			t.Errorf("%s: benchmark value is a %T, want %s", name, v, typ)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("benchmark value %s is not a registered kind or command", name)
		}
	}
}

// TestKindsRoundTrip: each benchmark value is what the relay publishes
// (Meta filled, Raw verbatim), survives msgp (through event.Decode for
// events, and into a reused value as the benchmark decodes) and
// encoding/json, and Msgsize bounds its msgp size.
//
// Equality is field by field, with two rules, both about what a wire form
// cannot carry: a nil and an empty slice or map are the same (msgp writes
// both as a 0-length array, map or bin, and omitempty drops both); and,
// for json only, an integer held in an interface{} (POSEvent.Fields) may
// come back as the float64 of the same value, since that is all
// encoding/json gives an interface{}. The test logs where that rule
// applied; msgp keeps such integers as int64.
func TestKindsRoundTrip(t *testing.T) {
	for _, c := range kindCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if e, ok := c.v.(event.Event); ok {
				m := e.Header()
				if m.Link == "" || m.Protocol == "" || m.Received == 0 {
					t.Errorf("meta not filled as the relay fills it: %+v", m)
				}
				if c.name != event.KindLinkStatus && len(m.Raw) == 0 {
					t.Error("Meta.Raw is empty; the relay keeps the upstream message verbatim")
				}
				if e.Kind() != c.name {
					t.Errorf("Kind() = %q", e.Kind())
				}
			}
			enc, err := c.v.MarshalMsg(nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := c.v.Msgsize(); len(enc) > n {
				t.Errorf("msgp: %d bytes, over Msgsize %d", len(enc), n)
			}
			got := newLike(c.v)
			if rest, err := got.UnmarshalMsg(enc); err != nil || len(rest) != 0 {
				t.Fatalf("msgp decode: %v, %d bytes left", err, len(rest))
			}
			if d := diff("", reflect.ValueOf(c.v), reflect.ValueOf(got), false, nil); d != "" {
				t.Errorf("msgp round trip: %s", d)
			}
			if _, err := got.UnmarshalMsg(enc); err != nil { // again, into the used value
				t.Fatal(err)
			}
			if d := diff("", reflect.ValueOf(c.v), reflect.ValueOf(got), false, nil); d != "" {
				t.Errorf("msgp decode into a reused value: %s", d)
			}
			if _, ok := c.v.(event.Event); ok {
				e, err := event.Decode(c.name, enc)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff("", reflect.ValueOf(c.v), reflect.ValueOf(e), false, nil); d != "" {
					t.Errorf("event.Decode: %s", d)
				}
			}

			jenc, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			jgot := newLike(c.v)
			if err := json.Unmarshal(jenc, jgot); err != nil {
				t.Fatalf("json decode: %v", err)
			}
			var lossy []string
			if d := diff("", reflect.ValueOf(c.v), reflect.ValueOf(jgot), true, &lossy); d != "" {
				t.Errorf("json round trip: %s", d)
			}
			if len(lossy) > 0 {
				t.Logf("json gave float64 for the integers at %s", strings.Join(lossy, ", "))
			}
		})
	}
}

// diff returns the first difference between want and got ("" if none),
// under the rules of TestKindsRoundTrip; lossy collects the paths where the
// json integer rule applied.
func diff(path string, want, got reflect.Value, jsonNumbers bool, lossy *[]string) string {
	if want.Kind() != got.Kind() {
		return fmt.Sprintf("%s: %s, got %s", path, want.Type(), got.Type())
	}
	switch want.Kind() {
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return fmt.Sprintf("%s: nil %v, got nil %v", path, want.IsNil(), got.IsNil())
			}
			return ""
		}
		return diff(path, want.Elem(), got.Elem(), jsonNumbers, lossy)
	case reflect.Interface:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return fmt.Sprintf("%s: %v, got %v", path, want, got)
			}
			return ""
		}
		w, g := want.Elem(), got.Elem()
		if jsonNumbers && g.Kind() == reflect.Float64 && w.CanInt() {
			if f := g.Float(); f == float64(w.Int()) && int64(f) == w.Int() {
				*lossy = append(*lossy, path)
				return ""
			}
			return fmt.Sprintf("%s: %v, got %v", path, w, g)
		}
		if w.Type() != g.Type() {
			return fmt.Sprintf("%s: %s %v, got %s %v", path, w.Type(), w, g.Type(), g)
		}
		return diff(path, w, g, jsonNumbers, lossy)
	case reflect.Struct:
		for i := 0; i < want.NumField(); i++ {
			if f := want.Type().Field(i); f.IsExported() {
				if d := diff(path+"."+f.Name, want.Field(i), got.Field(i), jsonNumbers, lossy); d != "" {
					return d
				}
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if want.Len() != got.Len() {
			return fmt.Sprintf("%s: length %d, got %d", path, want.Len(), got.Len())
		}
		for i := 0; i < want.Len(); i++ {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i), jsonNumbers, lossy); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if want.Len() != got.Len() {
			return fmt.Sprintf("%s: %d entries, got %d", path, want.Len(), got.Len())
		}
		for _, k := range want.MapKeys() {
			g := got.MapIndex(k)
			if !g.IsValid() {
				return fmt.Sprintf("%s[%v]: missing", path, k)
			}
			if d := diff(fmt.Sprintf("%s[%v]", path, k), want.MapIndex(k), g, jsonNumbers, lossy); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return fmt.Sprintf("%s: %v, got %v", path, want, got)
	}
	return ""
}

// TestKindsSizes checks that msgpack is the smaller encoding of every
// value and logs both sizes (go test -v
// -run KindsSizes); the benchmarks report the same as B/msg.
func TestKindsSizes(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| kind | msgp B | json B | json ÷ msgp | of which Meta.Raw B |\n|---|---:|---:|---:|---:|\n")
	for _, c := range kindCases(t) {
		enc, err := c.v.MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		jenc, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		raw := "—"
		if e, ok := c.v.(event.Event); ok {
			raw = strconv.Itoa(len(e.Header().Raw))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f× | %s |\n", c.name, len(enc), len(jenc), float64(len(jenc))/float64(len(enc)), raw)
		if len(enc) >= len(jenc) {
			t.Errorf("%s: msgpack %d B, not smaller than JSON's %d B", c.name, len(enc), len(jenc))
		}
	}
	t.Log(b.String())
}

// BenchmarkKinds: every kind, msgp against encoding/json, encode and
// decode. Names are Kinds/<kind>/<encode|decode>/<msgp|json>, msgp first,
// which is how internal/benchratio pairs them ("ours" is the first seen).
func BenchmarkKinds(b *testing.B) {
	for _, c := range kindCases(b) {
		enc, err := c.v.MarshalMsg(nil)
		if err != nil {
			b.Fatal(err)
		}
		jenc, err := json.Marshal(c.v)
		if err != nil {
			b.Fatal(err)
		}
		sizes := func(b *testing.B, n int) {
			b.SetBytes(int64(n))
			b.ReportMetric(float64(n), "B/msg")
		}
		b.Run(c.name, func(b *testing.B) {
			b.Run("encode", func(b *testing.B) {
				b.Run("msgp", func(b *testing.B) {
					buf := make([]byte, 0, c.v.Msgsize())
					b.ReportAllocs()
					for b.Loop() {
						var err error
						if buf, err = c.v.MarshalMsg(buf[:0]); err != nil {
							b.Fatal(err)
						}
					}
					sizes(b, len(enc))
				})
				b.Run("json", func(b *testing.B) {
					var buf bytes.Buffer
					buf.Grow(len(jenc) + 1)
					je := json.NewEncoder(&buf)
					b.ReportAllocs()
					for b.Loop() {
						buf.Reset()
						if err := je.Encode(c.v); err != nil {
							b.Fatal(err)
						}
					}
					sizes(b, len(jenc))
				})
			})
			b.Run("decode", func(b *testing.B) {
				b.Run("msgp", func(b *testing.B) {
					v := newLike(c.v)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := v.UnmarshalMsg(enc); err != nil {
							b.Fatal(err)
						}
					}
					sizes(b, len(enc))
				})
				b.Run("json", func(b *testing.B) {
					v := newLike(c.v)
					b.ReportAllocs()
					for b.Loop() {
						if err := json.Unmarshal(jenc, v); err != nil {
							b.Fatal(err)
						}
					}
					sizes(b, len(jenc))
				})
			})
		})
	}
}
