package navixysim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/atmosphere"
	"github.com/fieldrelay/fieldrelay/proto/navixy"
	"github.com/fieldrelay/fieldrelay/relay/sim/navixysim"
)

// patience bounds every wait; tests proceed as soon as what they wait for
// arrives.
const patience = 10 * time.Second

// quiet is a config without periodic traffic.
func quiet(c navixysim.Config) *navixysim.Config {
	if c.ServerHeartbeat == 0 {
		c.ServerHeartbeat = -1
	}
	if c.ClientTimeout == 0 {
		c.ClientTimeout = -1
	}
	c.MoveEvery = -1
	return &c
}

func start(t *testing.T, cfg *navixysim.Config) (*navixysim.Simulator, string) {
	t.Helper()
	leaktest.Check(t)
	sim := navixysim.New(cfg)
	t.Cleanup(func() { _ = sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, base
}

func post(t *testing.T, u, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func login(t *testing.T, base string) string {
	t.Helper()
	code, body := post(t, base+"/user/auth", "application/x-www-form-urlencoded", "login=demo&password=demo")
	r, err := navixy.DecodeAuthResult([]byte(body))
	if code != 200 || err != nil {
		t.Fatalf("login: %d %s %v", code, body, err)
	}
	return r.Hash
}

type conn struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, base, extraQuery string) *conn {
	t.Helper()
	u, err := atmosphere.URL(base+"/event/subscription", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u+extraQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &conn{t, c}
}

func (c *conn) read() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	typ, b, err := c.c.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		c.t.Fatalf("frame type %v", typ)
	}
	return string(b)
}

// next reads frames until one that is not a heartbeat.
func (c *conn) next() string {
	c.t.Helper()
	for {
		if f := c.read(); !atmosphere.IsHeartbeat([]byte(f), "X") {
			return f
		}
	}
}

func (c *conn) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// handshake reads and checks the first frame.
func (c *conn) handshake(interval time.Duration) atmosphere.Handshake {
	c.t.Helper()
	f := c.read()
	if !regexp.MustCompile(`^[0-9a-f-]{36}\|\d+\|X\|$`).MatchString(f) {
		c.t.Fatalf("first frame %q", f)
	}
	h, err := atmosphere.ParseHandshake([]byte(f))
	if err != nil || h.HeartbeatInterval != interval {
		c.t.Fatalf("handshake %+v %v", h, err)
	}
	return h
}

func decode(t *testing.T, s string) navixy.Frame {
	t.Helper()
	f, err := navixy.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return f
}

func wait(t *testing.T, sim *navixysim.Simulator, what string, cond func(navixysim.Stats) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := sim.Wait(ctx, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestAuth(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{Users: []navixysim.User{
		{Login: "demo", Password: "demo"}, {Login: "new", Password: "pw", NotActivated: true},
	}}))
	hash := regexp.MustCompile(`^\{"success":true,"hash":"[0-9a-f]{32}"\}$`)
	for name, do := range map[string]func() (int, string){
		"form": func() (int, string) {
			return post(t, base+"/user/auth", "application/x-www-form-urlencoded", "login=demo&password=demo&dealer_id=5")
		},
		"json": func() (int, string) {
			return post(t, base+"/user/auth", "application/json", `{"login":"demo","password":"demo"}`)
		},
		"get": func() (int, string) {
			resp, err := http.Get(base + "/user/auth/?login=demo&password=demo")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		},
	} {
		if code, body := do(); code != 200 || !hash.MatchString(body) {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	for _, tt := range []struct{ ct, body, want string }{
		{"application/x-www-form-urlencoded", "login=demo&password=nope", `{"success":false,"status":{"code":102,"description":"Wrong login or password"}}`},
		{"application/json", `{"login":"ghost","password":"demo"}`, `{"success":false,"status":{"code":102,"description":"Wrong login or password"}}`},
		{"application/x-www-form-urlencoded", "login=new&password=pw", `{"success":false,"status":{"code":103,"description":"User not activated"}}`},
		{"application/x-www-form-urlencoded", "login=demo", `{"success":false,"status":{"code":7,"description":"Invalid parameters"}}`},
		{"application/json", `{"login":`, `{"success":false,"status":{"code":5,"description":"Wrong request format"}}`},
	} {
		code, body := post(t, base+"/user/auth", tt.ct, tt.body)
		if code != 400 || body != tt.want {
			t.Errorf("%s: %d %s, want 400 %s", tt.body, code, body, tt.want)
		}
	}
	if st := sim.Stats(); st.Auths != 3 || st.AuthFailures != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestTrackerList(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{}))
	h := login(t, base)
	want := `{"success":true,"list":[{"id":15564,"label":"Truck 1","group_id":0,"clone":false,"source":{"id":10284,"device_id":"356173068105960","model":"telfmb120","blocked":false,"phone":""}},` +
		`{"id":15565,"label":"Van 2","group_id":0,"clone":false,"source":{"id":10285,"device_id":"356173068105961","model":"telfmb120","blocked":true,"phone":""}}]}`
	for name, req := range map[string][2]string{
		"query": {"/tracker/list?hash=" + h, ""},
		"form":  {"/tracker/list", "hash=" + h},
		"json":  {"/tracker/list", `{"hash":"` + h + `"}`},
	} {
		ct := "application/x-www-form-urlencoded"
		if name == "json" {
			ct = "application/json"
		}
		if code, body := post(t, base+req[0], ct, req[1]); code != 200 || body != want {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	code, body := post(t, base+"/tracker/list?hash=22eac1c27af4be7b9d04da2ce1af111b", "", "")
	if code != 400 || body != `{"success":false,"status":{"code":3,"description":"Wrong hash"}}` {
		t.Errorf("unknown hash: %d %s", code, body)
	}
	// An API key survives a logout, not an expiry.
	key := sim.IssueHash()
	sim.Logout()
	if code, _ := post(t, base+"/tracker/list?hash="+key, "", ""); code != 200 {
		t.Errorf("API key after logout: %d", code)
	}
	sim.ExpireHashes()
	if code, _ := post(t, base+"/tracker/list?hash="+key, "", ""); code != 400 {
		t.Errorf("API key after expiry: %d", code)
	}
	code, body = post(t, base+"/tracker/list?hash="+h, "", "")
	if code != 400 || body != `{"success":false,"status":{"code":4,"description":"User or API key not found or session ended"}}` {
		t.Errorf("expired hash: %d %s", code, body)
	}
	if st := sim.Stats(); st.TrackerLists != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestHandshakeAndHeartbeats(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{HeartbeatInterval: 40 * time.Millisecond, ServerHeartbeat: 5 * time.Millisecond, ClientTimeout: patience}))
	c := dial(t, base, "&X-Unknown=1")
	c.handshake(40 * time.Millisecond)
	if q := sim.LastQuery(); q.Get("X-Atmosphere-Transport") != "websocket" || q.Get("X-Unknown") != "1" {
		t.Errorf("query %v", q)
	}
	// Server heartbeats; the client's are counted.
	for range 3 {
		if f := c.read(); f != "X" {
			t.Fatalf("frame %q, want X", f)
		}
		c.send("X")
	}
	wait(t, sim, "client beats", func(s navixysim.Stats) bool { return s.ClientBeats == 3 })
	if st := sim.Stats(); st.TimedOut != 0 || st.Clients != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHeartbeatsWithoutDeadline(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{}))
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	for range 3 {
		c.send("X")
	}
	wait(t, sim, "client beats", func(s navixysim.Stats) bool { return s.ClientBeats == 3 })
	sim.Emit([]byte("marker"))
	equalStr(t, "still served", c.next(), "marker")
}

func TestSilentClientDropped(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{ClientTimeout: 20 * time.Millisecond}))
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		_, _, err := c.c.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s != websocket.StatusPolicyViolation {
				t.Fatalf("close %v (%v), want policy violation", s, err)
			}
			break
		}
	}
	wait(t, sim, "timed out", func(s navixysim.Stats) bool { return s.TimedOut == 1 && s.Clients == 0 })
}

func TestNoProtocolNoHandshake(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{}))
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/event/subscription/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	c := &conn{t, ws}
	wait(t, sim, "client", func(s navixysim.Stats) bool { return s.Clients == 1 })
	sim.Emit([]byte("marker"))
	if f := c.read(); f != "marker" {
		t.Fatalf("first frame %q, want none before the marker", f)
	}
}

func TestSubscribeOldForm(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{Location: time.FixedZone("GT", -6*3600),
		Now: func() time.Time { return time.Date(2018, 10, 17, 18, 51, 55, 0, time.UTC) }}))
	h := login(t, base)
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	c.send(`{"action":"subscribe","hash":"` + h + `","events":["state"],"trackers":[15564,15565,15568]}`)
	equalStr(t, "response", c.next(), `{"type":"response","action":"subscription/subscribe","events":["state"],"data":{"state":{"15564":"normal","15565":"blocked","15568":"unknown"}}}`)
	// The initial state of the normal tracker only, in the sample's shape
	// and the user's zone.
	equalStr(t, "initial state", c.next(), `{"type":"event","event":"state","user_time":"2018-10-17 12:51:55","data":{"source_id":10284,`+
		`"gps":{"updated":"2018-10-17 12:51:55","signal_level":100,"location":{"lat":14.330065796228606,"lng":-90.99037259141691},"heading":248,"speed":0,"alt":431},`+
		`"connection_status":"active","movement_status":"parked","movement_status_update":"2018-10-17 12:51:55","ignition":false,"ignition_update":"2018-10-17 12:51:55",`+
		`"gsm":null,"last_update":"2018-10-17 12:51:55","battery_level":null,"battery_update":null,"inputs":[false,false],"inputs_update":"2018-10-17 12:51:55",`+
		`"outputs":[false,false],"outputs_update":"2018-10-17 12:51:55","actual_track_update":"2018-10-17 12:51:55"}}`)
	if st := sim.Stats(); st.Subscribes != 1 || st.LastAction.Current() {
		t.Errorf("stats %+v", st)
	}
	// A move is pushed; blocked trackers are not.
	if err := sim.Move(navixysim.Move{TrackerID: 15564, Lat: 14.5, Lng: -90.6, Speed: 30, Heading: 10}, navixysim.Move{TrackerID: 15565, Lat: 1, Lng: 1}); err != nil {
		t.Fatal(err)
	}
	s := decode(t, c.next()).(*navixy.StateEvent).State
	if s.SourceID != 10284 || s.GPS.Location.Lat != 14.5 || s.GPS.Speed != 30 || s.MovementStatus != "moving" || !*s.Ignition {
		t.Errorf("moved state %+v", s)
	}
	c.send(`{"action":"unsubscribe","hash":"` + h + `","events":["state"],"trackers":[15564]}`)
	equalStr(t, "unsubscribe", c.next(), `{"type":"response","action":"subscription/unsubscribe","events":["state"],"data":[15564]}`)
	_ = sim.Move(navixysim.Move{TrackerID: 15564, Lat: 15, Lng: -91})
	sim.Emit([]byte("marker"))
	equalStr(t, "after unsubscribe", c.next(), "marker")
	if err := sim.Move(navixysim.Move{TrackerID: 1}); !errors.Is(err, navixysim.ErrUnknownTracker) {
		t.Errorf("Move(unknown) = %v", err)
	}
}

func equalStr(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

func TestSubscribeRequests(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{Trackers: []navixysim.Tracker{
		{ID: 1, SourceID: 101, Lat: 1, Lng: 1}, {ID: 2, SourceID: 102, Lat: 2, Lng: 2}, {ID: 3, SourceID: 103, Status: navixy.TrackerDisallowed},
	}}))
	h := login(t, base)
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	c.send(`{"action":"subscribe","hash":"` + h + `","requests":[{"type":"state","trackers":[1,3,9],"format":"compact"},{"type":"state_batch","target":{"type":"all"},"rate_limit":"5s","format":"full"}]}`)
	equalStr(t, "response", c.next(), `{"type":"response","action":"subscription/subscribe","events":["state","state_batch"],"data":{"state":{"value":{"1":"normal","3":"disallowed","9":"unknown"},"success":true},"state_batch":{"value":{"1":"normal","2":"normal","3":"disallowed"},"success":true}}}`)
	st := decode(t, c.next()).(*navixy.StateEvent)
	if st.State.SourceID != 101 || st.State.GSM != nil || strings.Contains(string(st.Raw), "inputs") {
		t.Errorf("compact state %s", st.Raw)
	}
	b := decode(t, c.next()).(*navixy.StateBatchEvent)
	if len(b.States) != 2 || b.States[0].SourceID != 101 || b.States[1].SourceID != 102 || !strings.Contains(string(b.Raw), "inputs") {
		t.Errorf("batch %s", b.Raw)
	}
	// One move of two trackers: a state for the one subscribed singly,
	// one batch with both.
	_ = sim.Move(navixysim.Move{TrackerID: 1, Lat: 1.5, Lng: 1.5, Speed: 5}, navixysim.Move{TrackerID: 2, Lat: 2.5, Lng: 2.5})
	frames := map[string]navixy.Frame{}
	for range 2 {
		f := decode(t, c.next())
		switch f := f.(type) {
		case *navixy.StateEvent:
			frames["state"] = f
		case *navixy.StateBatchEvent:
			frames["batch"] = f
		}
	}
	if s, ok := frames["state"].(*navixy.StateEvent); !ok || s.State.SourceID != 101 || s.State.GPS.Location.Lat != 1.5 {
		t.Errorf("state after move: %#v", frames["state"])
	}
	if b, ok := frames["batch"].(*navixy.StateBatchEvent); !ok || len(b.States) != 2 || b.States[1].GPS.Location.Lat != 2.5 {
		t.Errorf("batch after move: %#v", frames["batch"])
	}
	c.send(`{"action":"unsubscribe","hash":"` + h + `","requests":[{"type":"state_batch","target":{"type":"all"}}]}`)
	equalStr(t, "unsubscribe", c.next(), `{"type":"response","action":"subscription/unsubscribe","events":["state_batch"],"data":[1,2,3]}`)
}

func TestActionErrors(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{}))
	h := login(t, base)
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	tests := []struct{ send, want string }{
		{`{"action":"subscribe","hash":"f4bf1b75403d851653dad99c78c4b237","events":["state"],"trackers":[15564]}`,
			`{"type":"error","action":"subscription/subscribe","status":{"code":3,"description":"Wrong hash"},"data":{"events":["state"],"trackers":[15564]}}`},
		{`{"action":"subscribe","hash":"nothex","requests":[{"type":"state","trackers":[15564]}]}`,
			`{"type":"error","action":"subscription/subscribe","status":{"code":3,"description":"Wrong hash"},"data":{"requests":[{"type":"state","trackers":[15564]}]}}`},
		{`{"action":"subscribe","hash":"` + h + `","events":["readings_batch"],"trackers":[15564]}`,
			`{"type":"error","action":"subscription/subscribe","status":{"code":7,"description":"Invalid parameters"},"data":{"events":["readings_batch"],"trackers":[15564]}}`},
		{`{"action":"subscribe","hash":"` + h + `","requests":[{"type":"state","format":"tiny","trackers":[1]}]}`,
			`{"type":"error","action":"subscription/subscribe","status":{"code":7,"description":"Invalid parameters"},"data":{"requests":[{"type":"state","format":"tiny","trackers":[1]}]}}`},
		{`{"action":"subscribe",`, `{"type":"error","action":"null","status":{"code":5,"description":"Wrong request format"}}`},
		{`{"action":"poke","hash":"` + h + `"}`, `{"type":"error","action":"null","status":{"code":5,"description":"Wrong request format"}}`},
	}
	for _, tt := range tests {
		c.send(tt.send)
		equalStr(t, tt.send, c.next(), tt.want)
	}
	sim.ExpireHashes()
	c.send(`{"action":"subscribe","hash":"` + h + `","events":["state"],"trackers":[15564]}`)
	equalStr(t, "expired", c.next(), `{"type":"error","action":"subscription/subscribe","status":{"code":4,"description":"User or API key not found or session ended"},"data":{"events":["state"],"trackers":[15564]}}`)
	if st := sim.Stats(); st.SubscribeErrors != 5 || st.Subscribes != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLogoutAndLifecycle(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{}))
	h := login(t, base)
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	subscribe := `{"action":"subscribe","hash":"` + h + `","events":["state"],"trackers":[15564,15565]}`
	c.send(subscribe)
	decode(t, c.next())                                     // response
	decode(t, c.next())                                     // initial state of 15564
	if err := sim.Lifecycle(15565, "unblock"); err != nil { // the blocked tracker comes back
		t.Fatal(err)
	}
	equalStr(t, "lifecycle", c.next(), `{"type":"event","event":"lifecycle","data":{"source_id":10285,"lifecycle_event":"unblock"}}`)
	if s := decode(t, c.next()).(*navixy.StateEvent); s.State.SourceID != 10285 {
		t.Errorf("state after unblock %s", s.Raw)
	}
	_ = sim.Lifecycle(15564, "block")
	equalStr(t, "lifecycle", c.next(), `{"type":"event","event":"lifecycle","data":{"source_id":10284,"lifecycle_event":"block"}}`)
	_ = sim.Move(navixysim.Move{TrackerID: 15564, Lat: 1, Lng: 1})
	sim.Emit([]byte("marker"))
	equalStr(t, "blocked tracker moved", c.next(), "marker")

	if n := sim.Logout(); n != 1 {
		t.Fatalf("Logout told %d", n)
	}
	equalStr(t, "logout", c.next(), `{"type":"event","event":"logout","data":"session closed"}`)
	_ = sim.Move(navixysim.Move{TrackerID: 15565, Lat: 1, Lng: 1})
	sim.Emit([]byte("marker"))
	equalStr(t, "after logout", c.next(), "marker")
	c.send(subscribe)
	if e := decode(t, c.next()).(*navixy.ErrorResponse); e.Status.Code != navixy.CodeSessionEnded {
		t.Errorf("subscribe after logout %s", e.Raw)
	}
	// A new login works again.
	c.send(strings.Replace(subscribe, h, login(t, base), 1))
	if _, ok := decode(t, c.next()).(*navixy.Response); !ok {
		t.Error("no response after a new login")
	}
}

func TestTrackMessageSize(t *testing.T) {
	for name, cfg := range map[string]navixysim.Config{"asked": {}, "forced": {TrackMessageSize: true}} {
		t.Run(name, func(t *testing.T) {
			cfg.ServerHeartbeat = 5 * time.Millisecond
			_, base := start(t, quiet(cfg))
			h := login(t, base)
			q := ""
			if name == "asked" {
				q = "&" + atmosphere.TrackMessageSize
			}
			c := dial(t, base, q)
			f := c.read()
			if !regexp.MustCompile(`^45\|[0-9a-f-]{36}\|30000\|X\|$`).MatchString(f) {
				t.Fatalf("handshake %q", f)
			}
			if f := c.read(); f != "1|X" {
				t.Fatalf("heartbeat %q", f)
			}
			c.send(`{"action":"subscribe","hash":"` + h + `","events":["state"],"trackers":[15564]}`)
			for {
				f := c.read()
				msgs, err := atmosphere.Split([]byte(f))
				if err != nil || f[0] < '0' || f[0] > '9' {
					t.Fatalf("frame %q: %v", f, err)
				}
				if !atmosphere.IsHeartbeat(msgs[0], "X") {
					if _, ok := decode(t, string(msgs[0])).(*navixy.Response); !ok {
						t.Fatalf("frame %q", f)
					}
					break
				}
			}
		})
	}
}

func TestCloseIsIdempotentAndStopsSockets(t *testing.T) {
	sim, base := start(t, quiet(navixysim.Config{MoveEvery: time.Millisecond}))
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	readErr := make(chan error, 1)
	go func() { // reading answers the close handshake
		for {
			if _, _, err := c.c.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	_ = sim.Close()
	_ = sim.Close()
	if err := <-readErr; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("close %v", err)
	}
	if _, err := sim.Start(ctx, "127.0.0.1:0"); !errors.Is(err, navixysim.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	resp, err := http.Get(base + "/user/auth")
	if err == nil {
		resp.Body.Close()
		t.Errorf("served after Close: %d", resp.StatusCode)
	}
}

func TestGeneratorMovesNormalTrackers(t *testing.T) {
	_, base := start(t, &navixysim.Config{MoveEvery: time.Millisecond, ServerHeartbeat: -1, ClientTimeout: -1})
	h := login(t, base)
	c := dial(t, base, "")
	c.handshake(navixysim.DefaultHeartbeatInterval)
	c.send(`{"action":"subscribe","hash":"` + h + `","events":["state"],"trackers":[15564,15565]}`)
	decode(t, c.next())
	first := decode(t, c.next()).(*navixy.StateEvent).State
	for range 3 {
		s := decode(t, c.next()).(*navixy.StateEvent).State
		if s.SourceID != 10284 {
			t.Fatalf("generator moved source %d", s.SourceID)
		}
		if s.Equal(&first) {
			t.Fatal("generated state did not change")
		}
	}
}
