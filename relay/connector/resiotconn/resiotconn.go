package resiotconn

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/hub"
	"github.com/google/uuid"
)

// Protocol is the value of Meta.Protocol on this connector's events.
const Protocol = "resiot"

// Config configures a Link. Zero fields take the defaults.
type Config struct {
	Name      string // link name, required
	URL       string // the account's WebSocket address, required
	Publisher *connector.Publisher
	Logger    *slog.Logger
	// MinBackoff and MaxBackoff bound reconnect delays (full jitter).
	// Defaults 500 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval between WebSocket pings. Default 30 s.
	PingInterval time.Duration
	// PongTimeout before the link is declared dead. Default 10 s.
	PongTimeout time.Duration
	// MaxMessage is the largest upstream message accepted. Default 64 KiB.
	MaxMessage int64
	// ReplyTimeout for a TX's Result. Default 15 s.
	ReplyTimeout time.Duration
	// DialTimeout per attempt. Default 10 s.
	DialTimeout time.Duration
}

// Link is a ResIOT connection. It implements connector.Link.
type Link struct {
	cfg    Config
	log    *slog.Logger
	status *connector.Status
	Bad    connector.BadInput

	mu      sync.Mutex
	conn    *websocket.Conn
	pending map[string]chan resiot.Reply // Reference → reply; closed when the link drops
}

var _ connector.Link = (*Link)(nil)

// New returns a Link; Run connects it.
func New(cfg Config) *Link {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.PongTimeout <= 0 {
		cfg.PongTimeout = 10 * time.Second
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 64 << 10
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = 15 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Link{cfg: cfg, log: cfg.Logger, pending: make(map[string]chan resiot.Reply)}
	l.status = &connector.Status{Pub: cfg.Publisher, Link: cfg.Name, Protocol: Protocol, Logger: cfg.Logger}
	l.Bad = connector.BadInput{Link: cfg.Name, Logger: cfg.Logger}
	return l
}

// Name implements connector.Link.
func (l *Link) Name() string { return l.cfg.Name }

// BadInputCounts returns the malformed upstream messages dropped, by kind.
func (l *Link) BadInputCounts() map[string]uint64 { return l.Bad.Counts() }

// Status returns the link's last published state.
func (l *Link) Status() event.LinkStatus { return l.status.Current() }

// Run implements connector.Link.
func (l *Link) Run(ctx context.Context) error {
	bo := connector.Backoff{Min: l.cfg.MinBackoff, Max: l.cfg.MaxBackoff}
	for {
		l.status.Set(ctx, event.LinkConnecting, "", bo.Attempt(), 0)
		err := l.session(ctx, &bo)
		if ctx.Err() != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
		d := bo.Next()
		l.status.Set(ctx, event.LinkBackoff, connector.RedactError(err, l.cfg.URL), bo.Attempt(), d)
		if connector.Sleep(ctx, d) != nil {
			l.status.Set(context.WithoutCancel(ctx), event.LinkStopped, "", 0, 0)
			return ctx.Err()
		}
	}
}

// session dials once and serves the connection until it fails.
func (l *Link) session(ctx context.Context, bo *connector.Backoff) error {
	dctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	c, _, err := websocket.Dial(dctx, l.cfg.URL, nil)
	cancel()
	if err != nil {
		return err
	}
	c.SetReadLimit(l.cfg.MaxMessage)
	l.mu.Lock()
	l.conn = c
	l.mu.Unlock()
	defer l.drop(c)
	l.status.Set(ctx, event.LinkConnected, "", 0, 0)
	l.log.Info("resiot link up", "link", l.cfg.Name, "url", connector.RedactURL(l.cfg.URL))

	cctx, stop := context.WithCancel(ctx)
	defer stop()
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		l.pingLoop(cctx, c)
	}()
	defer func() { <-pingDone }()
	defer stop()

	good := false
	for {
		typ, msg, err := c.Read(cctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				l.Bad.Note("oversize", err)
			}
			return err
		}
		if typ != websocket.MessageText {
			l.Bad.Note("binary", errors.New("binary frame"))
			continue
		}
		if l.handle(ctx, msg) && !good {
			good = true
			bo.Reset() // the link works: start the next outage's backoff afresh
		}
	}
}

func (l *Link) pingLoop(ctx context.Context, c *websocket.Conn) {
	t := time.NewTicker(l.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, l.cfg.PongTimeout)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("resiot link: no pong, dropping", "link", l.cfg.Name)
				c.CloseNow()
			}
			return
		}
	}
}

// drop forgets the connection and fails every command waiting on it.
func (l *Link) drop(c *websocket.Conn) {
	c.CloseNow()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == c {
		l.conn = nil
	}
	for ref, ch := range l.pending {
		close(ch)
		delete(l.pending, ref)
	}
}

// handle processes one upstream message; it reports whether it was good.
func (l *Link) handle(ctx context.Context, msg []byte) bool {
	received := time.Now()
	f, err := resiot.Decode(msg)
	if err != nil {
		l.Bad.Note(resiot.ErrorKind(err), err)
		return false
	}
	switch f := f.(type) {
	case *resiot.Reply:
		l.mu.Lock()
		ch := l.pending[f.Reference]
		delete(l.pending, f.Reference)
		l.mu.Unlock()
		if ch == nil {
			l.Bad.Note("unsolicited_reply", fmt.Errorf("reply for unknown reference %q", f.Reference))
			return false
		}
		ch <- *f // buffered
		return true
	case *resiot.Message:
		outs, err := Normalize(f, l.cfg.Name, received)
		if err != nil {
			l.Bad.Note(resiot.ErrorKind(err), err)
			return false
		}
		for _, o := range outs {
			if err := l.cfg.Publisher.Publish(ctx, o.Channel, o.Event); err != nil {
				l.log.Error("publish", "link", l.cfg.Name, "err", err)
				return false
			}
		}
		return true
	}
	return false
}

// Out is one normalised event and the channel it is published on.
type Out struct {
	Channel string
	Event   event.Event
}

// Normalize turns a ResIOT communication into fieldrelay events.
func Normalize(m *resiot.Message, link string, received time.Time) ([]Out, error) {
	meta := event.Meta{Link: link, Protocol: Protocol, Received: received.UnixMicro(), Raw: m.Raw}
	if !m.DT.IsZero() {
		meta.Time = m.DT.UnixMicro()
	}
	switch m.Type {
	case resiot.TypeRx:
		port, err := m.PortNumber()
		if err != nil {
			return nil, err
		}
		payload, err := m.PayloadBytes()
		if err != nil {
			return nil, err
		}
		r, err := m.Radio()
		if err != nil {
			return nil, err
		}
		up := &event.Uplink{
			Meta: meta, AppEUI: lower(m.AppEUI), DevEUI: lower(m.DevEUI), Port: port, Payload: payload,
			FCnt: r.FCnt, RSSI: r.RSSI, SNR: r.SNR, SF: r.SF, Frequency: r.FrequencyMHz, Bandwidth: r.BandwidthKHz,
			Channel: int32(r.Channel), Gateways: lowerAll(m.GatewayEUIs), ADR: r.ADR, Duplicate: r.Duplicate,
			Connector: m.Connector, Extra: unmapped(m.Extra),
		}
		return []Out{{event.LoRaChannel(m.AppEUI, m.DevEUI, "up"), up}}, nil
	case resiot.TypeJoin:
		j := &event.Join{Meta: meta, AppEUI: lower(m.AppEUI), DevEUI: lower(m.DevEUI), Gateways: lowerAll(m.GatewayEUIs), Connector: m.Connector}
		return []Out{{event.LoRaChannel(m.AppEUI, m.DevEUI, "join"), j}}, nil
	case resiot.TypeGatewayAlive:
		var outs []Out
		for _, gw := range m.GatewayEUIs {
			outs = append(outs, Out{event.GatewayChannel(gw), &event.GatewayAlive{Meta: meta, Gateway: lower(gw), Connector: m.Connector}})
		}
		return outs, nil
	case resiot.TypeTx:
		var port uint8
		if m.Port != "" {
			p, err := m.PortNumber()
			if err != nil {
				return nil, err
			}
			port = p
		}
		payload, err := m.PayloadBytes()
		if err != nil {
			return nil, err
		}
		d := &event.Downlink{Meta: meta, AppEUI: lower(m.AppEUI), DevEUI: lower(m.DevEUI), Port: port, Payload: payload,
			Reference: m.Reference, Command: m.Command, Confirmed: m.Confirmation, Connector: m.Connector}
		return []Out{{event.LoRaChannel(m.AppEUI, m.DevEUI, "down"), d}}, nil
	}
	o := &event.LoRaOther{Meta: meta, Type: m.Type, AppEUI: lower(m.AppEUI), DevEUI: lower(m.DevEUI)}
	return []Out{{event.LoRaChannel(m.AppEUI, m.DevEUI, "other"), o}}, nil
}

// radioKeys are the Extra keys Uplink maps to fields.
var radioKeys = map[string]bool{"adr": true, "channel": true, "duplicate": true, "frequency": true, "modBW": true, "rssi": true, "seqno": true, "sf": true, "snr": true}

func unmapped(x resiot.Extra) map[string]string {
	var out map[string]string
	for k, v := range x {
		if !radioKeys[k] {
			if out == nil {
				out = make(map[string]string)
			}
			out[k] = v
		}
	}
	return out
}

func lower(s string) string { return strings.ToLower(s) }

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// Serves implements connector.Link: LoRa downlinks to lora/<app>/<dev>/down.
func (l *Link) Serves(target, kind string) bool {
	return kind == event.CmdLoRaDownlink && channel.Match("lora/+/+/down", target)
}

// Command implements connector.Link.
func (l *Link) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	levels := channel.Split(req.Target)
	if len(levels) != 4 || levels[1] == "gateway" {
		return hub.CommandResult{Code: codes.BadRequest, Message: "target must be lora/<appEUI>/<devEUI>/down"}
	}
	var body event.LoRaDownlink
	if _, err := body.UnmarshalMsg(req.Body); err != nil {
		return hub.CommandResult{Code: codes.BadRequest, Message: "body is not a lora.downlink: " + err.Error()}
	}
	if body.Port == 0 {
		return hub.CommandResult{Code: codes.BadRequest, Message: "port is required (1..223)"}
	}
	ref := uuid.NewString()
	tx := resiot.TX{
		Payload: hex.EncodeToString(body.Payload), AppEUI: levels[1], DevEUI: levels[2], Connector: body.Connector,
		Port: body.Port, Reference: ref, Confirm: body.Confirm,
	}
	msg, err := resiot.EncodeTX(tx)
	if err != nil {
		return hub.CommandResult{Code: codes.BadRequest, Message: err.Error()}
	}
	ch := make(chan resiot.Reply, 1)
	l.mu.Lock()
	c := l.conn
	if c != nil {
		l.pending[ref] = ch
	}
	l.mu.Unlock()
	if c == nil {
		return hub.CommandResult{Code: codes.Unavailable, Message: "link " + l.cfg.Name + " is not connected; nothing was sent"}
	}
	forget := func() {
		l.mu.Lock()
		delete(l.pending, ref)
		l.mu.Unlock()
	}
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		forget()
		return hub.CommandResult{Code: codes.UnknownOutcome, Message: "link dropped while sending"}
	}
	timer := time.NewTimer(l.cfg.ReplyTimeout)
	defer timer.Stop()
	select {
	case rep, ok := <-ch:
		if !ok {
			return hub.CommandResult{Code: codes.UnknownOutcome, Message: "link dropped before the network answered"}
		}
		if !rep.OK() {
			return hub.CommandResult{Code: codes.DeviceRejected, Message: rep.Details}
		}
		data, _ := (&event.DownlinkResult{Reference: ref}).MarshalMsg(nil)
		return hub.CommandResult{Code: codes.OK, Data: data}
	case <-timer.C:
		forget()
		return hub.CommandResult{Code: codes.Timeout, Message: "no Result from the network in time; the downlink may or may not be queued"}
	case <-ctx.Done():
		forget()
		return hub.CommandResult{Code: codes.Timeout, Message: "command deadline passed; the downlink may or may not be queued"}
	}
}
