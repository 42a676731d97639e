package doshiisim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/doshii"
)

// Payload is the thin payload of a generated event, with the keys in the
// order of the help pages' example.
type Payload struct {
	ID               string `json:"id"`
	LocationID       string `json:"locationId,omitempty"`
	MappedLocationID string `json:"mappedLocationId,omitempty"`
	OrderID          string `json:"orderId,omitempty"` // on transactions
	Status           string `json:"status,omitempty"`
	URI              string `json:"uri,omitempty"`
}

// Emit sends b verbatim as a text message to every connected client,
// whatever its device filter. Tests use it to inject malformed or unusual
// messages.
func (s *Simulator) Emit(b []byte) {
	b = append([]byte(nil), b...)
	s.each(func(c *client) { c.enqueue(b) })
}

// EmitEvent pushes the event name with payload in the envelope configured
// for name (Config.EnvelopeFor, else Config.Envelope) and returns the
// message sent. payload is marshalled to a JSON object (a struct such as
// Payload, a map, or a json.RawMessage). Clients connected with a deviceId
// get it only if the payload's locationId is one of the device's.
func (s *Simulator) EmitEvent(name string, payload any) ([]byte, error) {
	env, ok := s.cfg.envelopeFor[name]
	if !ok || env == 0 {
		env = s.cfg.envelope
	}
	return s.EmitEventIn(env, name, payload)
}

// EmitEventIn is EmitEvent in an explicit envelope.
func (s *Simulator) EmitEventIn(env doshii.Envelope, name string, payload any) ([]byte, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("doshiisim: payload: %w", err)
	}
	if string(data) == "null" {
		data = nil
	}
	b, err := doshii.EncodeEvent(env, name, data)
	if err != nil {
		return nil, err
	}
	f, err := doshii.Decode(b)
	if err != nil {
		return nil, err
	}
	loc := f.(*doshii.Event).Payload.LocationID
	s.each(func(c *client) {
		if c.admits(loc) {
			c.enqueue(b)
		}
	})
	return b, nil
}

// SendPing sends every client a server ping in Config.PongEnvelope's shape
// ({"type":"message","data":{"doshii":{"ping":ms,"version":v}}} by
// default) and returns its time. Clients answer with a pong (see Answers).
// A silent simulator sends nothing.
func (s *Simulator) SendPing() int64 {
	t := s.cfg.now().UnixMilli()
	// Cannot fail: only a bare health check is refused.
	b, _ := doshii.EncodePing(s.cfg.pongEnvelope, doshii.Ping{Time: t, Version: s.cfg.version})
	s.heartbeat(b)
	return t
}

// SendHealthCheck sends every client {"event":"health_check","data":
// {"ping":ms}} and returns its time. A silent simulator sends nothing.
func (s *Simulator) SendHealthCheck() int64 {
	t := s.cfg.now().UnixMilli()
	b, _ := doshii.EncodePing(doshii.EnvelopeEvent, doshii.Ping{Time: t, HealthCheck: true})
	s.heartbeat(b)
	return t
}

func (s *Simulator) heartbeat(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.silent {
		return
	}
	for c := range s.clients {
		c.enqueue(b)
	}
}

// script is the order life cycle the generator plays, one step per tick.
var script = []struct {
	name, status string
	transaction  bool
}{
	{doshii.OrderCreated, "pending", false},
	{doshii.OrderUpdated, "accepted", false},
	{doshii.TransactionCreated, "pending", true},
	{doshii.TransactionUpdated, "complete", true},
	{doshii.OrderUpdated, "complete", false},
}

// emitNext pushes the next step of the script, for the next location.
func (s *Simulator) emitNext() {
	s.genMu.Lock()
	n := s.seq
	s.seq++
	s.genMu.Unlock()
	order := n / len(script)
	step := script[n%len(script)]
	loc := s.cfg.locations[order%len(s.cfg.locations)]
	orderID := strconv.Itoa(order + 1)
	p := Payload{ID: orderID, LocationID: loc.ID, MappedLocationID: loc.MappedID, Status: step.status,
		URI: s.cfg.baseURI + "/partner/v3/orders/" + orderID}
	if step.transaction {
		p.ID, p.OrderID = "t"+orderID, orderID
		p.URI = s.cfg.baseURI + "/partner/v3/transactions/" + p.ID
	}
	_, _ = s.EmitEvent(step.name, p) // a Payload always marshals
}

// generate runs from the first client's connection until Close: generated
// events, server pings and health checks on their tickers.
func (s *Simulator) generate() {
	defer s.wg.Done()
	tick := func(d time.Duration) (<-chan time.Time, func()) {
		if d <= 0 {
			return nil, func() {}
		}
		t := time.NewTicker(d)
		return t.C, t.Stop
	}
	eventC, stopEvents := tick(s.cfg.eventEvery)
	defer stopEvents()
	pingC, stopPings := tick(s.cfg.pingEvery)
	defer stopPings()
	healthC, stopHealth := tick(s.cfg.healthEvery)
	defer stopHealth()
	for {
		select {
		case <-s.life.Done():
			return
		case <-eventC:
			s.emitNext()
		case <-pingC:
			s.SendPing()
		case <-healthC:
			s.SendHealthCheck()
		}
	}
}
