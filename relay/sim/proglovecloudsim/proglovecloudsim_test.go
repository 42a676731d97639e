package proglovecloudsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
	"github.com/fieldrelay/fieldrelay/proto/proglovecloud"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovecloudsim"
)

// patience bounds every wait. It is a deadline for failure, never a delay.
const patience = 10 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, cfg *proglovecloudsim.Config) (*proglovecloudsim.Simulator, string) {
	t.Helper()
	leaktest.Check(t)
	if cfg == nil {
		cfg = &proglovecloudsim.Config{}
	}
	if cfg.ScanEvery == 0 {
		cfg.ScanEvery = -1
	}
	sim := proglovecloudsim.New(cfg)
	t.Cleanup(func() { _ = sim.Close() })
	base, err := sim.Start(ctxT(t), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, base
}

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// initiateAuth posts body to the Cognito endpoint with the headers the
// vendor's page gives, and returns the status and body.
func initiateAuth(t *testing.T, url string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", proglovecloud.ContentTypeAmzJSON)
	req.Header.Set("X-Amz-Target", proglovecloud.TargetInitiateAuth)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func login(t *testing.T, base string) proglovecloud.Tokens {
	t.Helper()
	body, _ := proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{
		AuthFlow: proglovecloud.FlowUserPassword, ClientID: proglovecloudsim.DefaultClientID,
		Username: proglovecloudsim.DefaultUsername, Password: proglovecloudsim.DefaultPassword,
	})
	status, b := initiateAuth(t, base+"/", body, nil)
	if status != 200 {
		t.Fatalf("login: %d %s", status, b)
	}
	tok, err := proglovecloud.DecodeAuthResult(b)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func liveURL(t *testing.T, base, stage, customer, token string) string {
	t.Helper()
	u, err := proglovecloud.LiveURL(proglovecloudsim.SocketURL(base), stage, customer, token)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// dialStatus dials url and returns the connection, or the HTTP status of
// the refused upgrade.
func dialStatus(t *testing.T, url string) (*websocket.Conn, int) {
	t.Helper()
	c, resp, err := websocket.Dial(ctxT(t), url, nil)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, 101
}

func read(t *testing.T, c *websocket.Conn) []byte {
	t.Helper()
	typ, b, err := c.Read(ctxT(t))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("frame type %v, want text", typ)
	}
	return b
}

// readClose reads until the connection closes and returns the close code.
func readClose(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		_, _, err := c.Read(ctxT(t))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("connection did not close")
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestAuthInformation(t *testing.T) {
	_, base := start(t, nil)
	get := func(path string) (int, []byte) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, b := get("/auth-information?id=" + proglovecloudsim.DefaultCustomerID)
	want := `{"region":"eu-west-1","customer_id:":"` + proglovecloudsim.DefaultCustomerID + `","user_pool_client_id":"` + proglovecloudsim.DefaultClientID + `","user_pool_id":"` + proglovecloudsim.DefaultUserPoolID + `"}`
	if status != 200 || string(b) != want {
		t.Errorf("auth-information: %d %s\nwant %s", status, b, want)
	}
	if status, _ := get("/auth-information?id=someone-else"); status != 404 {
		t.Errorf("unknown customer: %d", status)
	}
	if status, _ := get("/auth-information"); status != 400 {
		t.Errorf("no id: %d", status)
	}
}

func TestInitiateAuth(t *testing.T) {
	sim, base := start(t, nil)
	for _, path := range []string{"/", "/login"} {
		body, _ := proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{
			AuthFlow: proglovecloud.FlowUserPassword, ClientID: proglovecloudsim.DefaultClientID,
			Username: proglovecloudsim.DefaultUsername, Password: proglovecloudsim.DefaultPassword,
		})
		status, b := initiateAuth(t, base+path, body, nil)
		if status != 200 {
			t.Fatalf("login at %s: %d %s", path, status, b)
		}
		var shape struct {
			AuthenticationResult map[string]any
			ChallengeParameters  map[string]any
		}
		if err := json.Unmarshal(b, &shape); err != nil || shape.ChallengeParameters == nil || len(shape.ChallengeParameters) != 0 {
			t.Fatalf("login answer %s", b)
		}
		for _, k := range []string{"AccessToken", "ExpiresIn", "IdToken", "RefreshToken", "TokenType"} {
			if _, ok := shape.AuthenticationResult[k]; !ok {
				t.Errorf("AuthenticationResult lacks %s: %s", k, b)
			}
		}
		tok, _ := proglovecloud.DecodeAuthResult(b)
		if tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" || strings.Count(tok.IdToken, ".") != 2 || tok.IdToken == tok.AccessToken {
			t.Errorf("tokens %v", tok)
		}

		// Refresh: new tokens, no RefreshToken in the answer.
		body, _ = proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{AuthFlow: proglovecloud.FlowRefreshToken, ClientID: proglovecloudsim.DefaultClientID, RefreshToken: tok.RefreshToken})
		status, b = initiateAuth(t, base+path, body, nil)
		again, err := proglovecloud.DecodeAuthResult(b)
		if status != 200 || err != nil || again.RefreshToken != "" || again.IdToken == "" || again.IdToken == tok.IdToken {
			t.Errorf("refresh: %d %s", status, b)
		}
	}
	if st := sim.Stats(); st.Logins != 2 || st.Refreshes != 2 {
		t.Errorf("stats %+v", st)
	}

	refusals := []struct {
		name, body string
		hdr        map[string]string
		typ        string
	}{
		{"wrong password", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"` + proglovecloudsim.DefaultClientID + `","AuthParameters":{"USERNAME":"` + proglovecloudsim.DefaultUsername + `","PASSWORD":"nope"}}`, nil, proglovecloud.NotAuthorized},
		{"unknown user", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"` + proglovecloudsim.DefaultClientID + `","AuthParameters":{"USERNAME":"x","PASSWORD":"` + proglovecloudsim.DefaultPassword + `"}}`, nil, proglovecloud.NotAuthorized},
		{"unknown refresh token", `{"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"` + proglovecloudsim.DefaultClientID + `","AuthParameters":{"REFRESH_TOKEN":"forged"}}`, nil, proglovecloud.NotAuthorized},
		{"malformed JSON", `{"AuthFlow":`, nil, proglovecloud.Serialization},
		{"not an object", `["USER_PASSWORD_AUTH"]`, nil, proglovecloud.Serialization},
		{"missing password", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"` + proglovecloudsim.DefaultClientID + `","AuthParameters":{"USERNAME":"u"}}`, nil, proglovecloud.InvalidParameter},
		{"unsupported flow", `{"AuthFlow":"USER_SRP_AUTH","ClientId":"` + proglovecloudsim.DefaultClientID + `","AuthParameters":{"USERNAME":"u"}}`, nil, proglovecloud.InvalidParameter},
		{"unknown client", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"other","AuthParameters":{"USERNAME":"u","PASSWORD":"p"}}`, nil, proglovecloud.ResourceNotFound},
		{"wrong content type", `{}`, map[string]string{"Content-Type": "application/json"}, proglovecloud.Serialization},
		{"wrong target", `{}`, map[string]string{"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}, proglovecloud.UnknownOperation},
	}
	for _, r := range refusals {
		status, b := initiateAuth(t, base+"/", []byte(r.body), r.hdr)
		ce, err := proglovecloud.DecodeCognitoError(b)
		if status != 400 || err != nil || ce.Type != r.typ {
			t.Errorf("%s: %d %s, want 400 %s", r.name, status, b, r.typ)
		}
		if strings.Contains(string(b), proglovecloudsim.DefaultPassword) || strings.Contains(string(b), "nope") {
			t.Errorf("%s: the answer repeats the password: %s", r.name, b)
		}
	}
	if st := sim.Stats(); st.AuthFailures != len(refusals) {
		t.Errorf("AuthFailures = %d, want %d", st.AuthFailures, len(refusals))
	}

	// A changed password refuses the old one.
	sim.SetPassword("new-one")
	body, _ := proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{AuthFlow: proglovecloud.FlowUserPassword, ClientID: proglovecloudsim.DefaultClientID, Username: proglovecloudsim.DefaultUsername, Password: proglovecloudsim.DefaultPassword})
	if status, _ := initiateAuth(t, base+"/", body, nil); status != 400 {
		t.Errorf("old password after SetPassword: %d", status)
	}
}

func TestSocketRefusesBadTokens(t *testing.T) {
	clk := &clock{t: time.Unix(1700000000, 0)}
	sim, base := start(t, &proglovecloudsim.Config{Now: clk.Now, TokenLifetime: time.Hour})
	tok := login(t, base)
	cust := proglovecloudsim.DefaultCustomerID
	cases := []struct {
		name, stage, customer, token string
		want                         int
	}{
		{"garbage token", "prod", cust, "eyJ.garbage.x", 401},
		{"AccessToken where the IdToken is expected", "prod", cust, tok.AccessToken, 401},
		{"refresh token", "prod", cust, tok.RefreshToken, 401},
		{"no customer", "prod", "", tok.IdToken, 403},
		{"another customer", "prod", "someone-else", tok.IdToken, 403},
		{"other stage", "latest", cust, tok.IdToken, 404},
		{"ok", "prod", cust, tok.IdToken, 101},
	}
	for _, c := range cases {
		if _, status := dialStatus(t, liveURL(t, base, c.stage, c.customer, c.token)); status != c.want {
			t.Errorf("%s: status %d, want %d", c.name, status, c.want)
		}
	}
	// No token at all.
	if _, status := dialStatus(t, proglovecloudsim.SocketURL(base)+"/prod/?customer="+cust); status != 401 {
		t.Errorf("no token: %d", status)
	}
	// Expired.
	clk.Add(time.Hour)
	if _, status := dialStatus(t, liveURL(t, base, "prod", cust, tok.IdToken)); status != 401 {
		t.Errorf("expired token: %d", status)
	}
	if err := sim.Wait(ctxT(t), func(st proglovecloudsim.Stats, _ int) bool {
		return st.Unauthorized == 5 && st.Forbidden == 2 && st.Accepted == 1
	}); err != nil {
		t.Error(err)
	}
}

// The newer form: /latest/?token=ACCESS_TOKEN, no customer.
func TestSocketNewerForm(t *testing.T) {
	sim, base := start(t, &proglovecloudsim.Config{Stage: "latest", TokenKind: proglovecloudsim.TokenAccess, NoCustomer: true})
	tok := login(t, base)
	if _, status := dialStatus(t, liveURL(t, base, "latest", "", tok.IdToken)); status != 401 {
		t.Errorf("IdToken: %d, want 401", status)
	}
	c, status := dialStatus(t, liveURL(t, base, "latest", "", tok.AccessToken))
	if status != 101 {
		t.Fatalf("AccessToken: %d", status)
	}
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	sent, err := sim.EmitScan(sim.NewScan(proglovecloudsim.Device{Serial: "M2SR1", Model: "Mark", Manufacturer: "W", Firmware: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, c); !bytes.Equal(got, sent) {
		t.Errorf("got %s, want %s", got, sent)
	}
}

func TestRevokedTokensAreRefused(t *testing.T) {
	sim, base := start(t, nil)
	tok := login(t, base)
	url := liveURL(t, base, "prod", proglovecloudsim.DefaultCustomerID, tok.IdToken)
	open, status := dialStatus(t, url)
	if status != 101 {
		t.Fatal(status)
	}
	sim.RevokeTokens()
	if _, status := dialStatus(t, url); status != 401 {
		t.Errorf("revoked: %d", status)
	}
	// The open connection is not affected.
	if err := sim.WaitClients(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	sim.Emit([]byte(`{"event_type":"scan"}`))
	read(t, open)
	// Refresh still works; RevokeRefreshTokens ends that too.
	body, _ := proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{AuthFlow: proglovecloud.FlowRefreshToken, ClientID: proglovecloudsim.DefaultClientID, RefreshToken: tok.RefreshToken})
	if status, b := initiateAuth(t, base+"/", body, nil); status != 200 {
		t.Errorf("refresh after RevokeTokens: %d %s", status, b)
	}
	sim.RevokeRefreshTokens()
	if status, _ := initiateAuth(t, base+"/", body, nil); status != 400 {
		t.Errorf("refresh after RevokeRefreshTokens: %d", status)
	}
}

// connect logs in and opens the socket in the seed's form.
func connect(t *testing.T, sim *proglovecloudsim.Simulator, base string) *websocket.Conn {
	t.Helper()
	want := sim.Clients() + 1
	c, status := dialStatus(t, liveURL(t, base, "prod", proglovecloudsim.DefaultCustomerID, login(t, base).IdToken))
	if status != 101 {
		t.Fatalf("upgrade: %d", status)
	}
	if err := sim.WaitClients(ctxT(t), want); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGeneratedScansHaveTheSeedsShape(t *testing.T) {
	devs := []proglovecloudsim.Device{{Serial: "A1"}, {Serial: "B2"}}
	sim, base := start(t, &proglovecloudsim.Config{ScanEvery: 5 * time.Millisecond, Devices: devs})
	c := connect(t, sim, base)
	seen := map[string]bool{}
	var serials []string
	for range 4 {
		b := read(t, c)
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(b, &keys); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 27 {
			t.Errorf("scan has %d keys, the seed 27: %s", len(keys), b)
		}
		for k, kind := range map[string]byte{"scan_duration": '0', "device_battery": '0', "time_created": '1', "metrics": '[', "configuration_profile_revision": '0', "metrics_worker_steps": '0'} {
			if v := keys[k]; len(v) == 0 || (kind == '[' && v[0] != '[') || (kind != '[' && (v[0] < '0' || v[0] > '9')) {
				t.Errorf("%s = %s, want the seed's JSON type", k, v)
			}
		}
		e, err := proglovecloud.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !e.IsScan() || e.EventID == "" || seen[e.EventID] || len(e.Metrics) != 1 || len(e.Metrics[0].Values) != 1 || e.Metrics[0].Values[0] != e.ScanDuration*1000 || e.DeviceModel != "Mark" {
			t.Errorf("scan %+v", e)
		}
		seen[e.EventID] = true
		serials = append(serials, e.DeviceSerial)
	}
	if serials[0] == serials[1] || serials[0] != serials[2] {
		t.Errorf("devices not round-robin: %v", serials)
	}
	if sent := sim.Sent(); len(sent) < 4 || sent[0].Clients != 1 {
		t.Errorf("Sent() = %d frames", len(sent))
	}
}

func TestIdleTimeout(t *testing.T) {
	idle := 300 * time.Millisecond
	sim, base := start(t, &proglovecloudsim.Config{IdleTimeout: idle})

	// A client that pings keeps its connection while a silent one is
	// closed with 1001.
	pinger := connect(t, sim, base)
	go func() { _, _, _ = pinger.Read(context.Background()) }() // answers pongs; ends at cleanup
	stop := make(chan struct{})
	pinged := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				pinged <- nil
				return
			default:
			}
			if err := pinger.Ping(context.Background()); err != nil {
				pinged <- err
				return
			}
		}
	}()
	silent := connect(t, sim, base)
	if code := readClose(t, silent); code != websocket.StatusGoingAway {
		t.Errorf("close code %v, want 1001", code)
	}
	close(stop)
	if err := <-pinged; err != nil {
		t.Fatalf("the pinging client was closed: %v (stats %+v)", err, sim.Stats())
	}
	if err := sim.Wait(ctxT(t), func(st proglovecloudsim.Stats, n int) bool { return st.IdleClosed == 1 && st.Pings > 0 && n == 1 }); err != nil {
		t.Error(err)
	}
}

func TestMaxAge(t *testing.T) {
	sim, base := start(t, &proglovecloudsim.Config{MaxAge: 100 * time.Millisecond, IdleTimeout: -1})
	c := connect(t, sim, base)
	if code := readClose(t, c); code != websocket.StatusGoingAway {
		t.Errorf("close code %v, want 1001", code)
	}
	if err := sim.Wait(ctxT(t), func(st proglovecloudsim.Stats, n int) bool { return st.AgeClosed == 1 && n == 0 }); err != nil {
		t.Error(err)
	}
}

func TestClientFrames(t *testing.T) {
	sim, base := start(t, nil)
	c := connect(t, sim, base)
	if err := c.Write(ctxT(t), websocket.MessageText, []byte(`{"action":"subscribe"}`)); err != nil {
		t.Fatal(err)
	}
	b := read(t, c)
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m["message"] != "Forbidden" || m["connectionId"] == "" || m["requestId"] == "" {
		t.Errorf("answer %s", b)
	}
	// A frame over 32 KiB closes with 1009.
	if err := c.Write(ctxT(t), websocket.MessageText, bytes.Repeat([]byte("x"), proglovecloudsim.DefaultMaxFrame+1)); err != nil {
		t.Fatal(err)
	}
	if code := readClose(t, c); code != websocket.StatusMessageTooBig {
		t.Errorf("close code %v, want 1009", code)
	}
	if st := sim.Stats(); st.TooBigClosed != 1 || st.ClientFrames != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDropAndCloseClients(t *testing.T) {
	sim, base := start(t, nil)
	a := connect(t, sim, base)
	if n := sim.CloseClients(websocket.StatusGoingAway, "bye"); n != 1 {
		t.Fatalf("CloseClients = %d", n)
	}
	if code := readClose(t, a); code != websocket.StatusGoingAway {
		t.Errorf("close code %v", code)
	}
	b := connect(t, sim, base)
	if n := sim.DropClients(); n != 1 || sim.Clients() != 0 {
		t.Fatalf("DropClients = %d", n)
	}
	if code := readClose(t, b); code != -1 {
		t.Errorf("an abrupt drop has no close code; got %v", code)
	}
}

// Close closes clients with 1001, is idempotent, and later calls fail.
func TestClose(t *testing.T) {
	sim, base := start(t, nil)
	c := connect(t, sim, base)
	done := make(chan websocket.StatusCode, 1)
	go func() { done <- readClose(t, c) }()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	_ = sim.Close()
	if code := <-done; code != websocket.StatusGoingAway {
		t.Errorf("close code %v", code)
	}
	if _, err := sim.Start(ctxT(t), "127.0.0.1:0"); !errors.Is(err, proglovecloudsim.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}
