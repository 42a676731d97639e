package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// TestTenantIsolationProperty: random tenants, clients, patterns (with
// wildcards, '#' included) and events on channel names that every tenant
// shares. Every client must receive exactly the events of its own tenant
// that match one of its patterns, once each, in log order, and nothing
// else. Each round is seeded; a failure names its seed.
func TestTenantIsolationProperty(t *testing.T) {
	for round := range 6 {
		seed := uint64(round)*7919 + 17
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { isolationRound(t, seed) })
	}
}

func isolationRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := startRelay(t, hub.Config{}, broker.MemoryConfig{})
	tenants := []string{"acme", "globex", "initech", "umbrella"}[:2+rng.IntN(3)]
	level := func() string { return []string{"a", "b", "c"}[rng.IntN(3)] }
	randChannel := func() string {
		parts := []string{[]string{"lora", "scanner", "gps"}[rng.IntN(3)]}
		for range 1 + rng.IntN(3) {
			parts = append(parts, level())
		}
		return strings.Join(parts, "/")
	}
	randPattern := func() string {
		if rng.IntN(6) == 0 {
			return "#"
		}
		parts := strings.Split(randChannel(), "/")
		for i := range parts {
			switch rng.IntN(5) {
			case 0:
				parts[i] = "+"
			case 1:
				if i > 0 {
					return strings.Join(append(parts[:i], "#"), "/")
				}
			}
		}
		return strings.Join(parts, "/")
	}

	type client struct {
		tenant   string
		patterns []string
		rc       *rawClient
	}
	var clients []*client
	for range 6 + rng.IntN(5) {
		c := &client{tenant: tenants[rng.IntN(len(tenants))]}
		c.rc = connectRaw(t, r.url, r.token(t, c.tenant, "#"))
		for i := range 1 + rng.IntN(3) {
			p := randPattern()
			c.patterns = append(c.patterns, p)
			c.rc.subscribe(&proto.Subscribe{Sub: uint32(i + 1), Pattern: p})
		}
		// The end marker, so that "nothing else arrived" is checked by
		// reading up to it rather than by waiting.
		c.rc.subscribe(&proto.Subscribe{Sub: 99, Pattern: "end"})
		clients = append(clients, c)
	}

	// Events carry (tenant index, sequence) in their data.
	type pub struct {
		tenant, channel string
		id              uint32
	}
	var pubs []pub
	data := func(id uint32) []byte { return binary.BigEndian.AppendUint32([]byte{0xce}, id) }
	for seq := range 150 + rng.IntN(100) {
		ti := rng.IntN(len(tenants))
		p := pub{tenant: tenants[ti], channel: randChannel(), id: uint32(ti)<<24 | uint32(seq)}
		if _, err := r.broker.Publish(context.Background(), p.tenant, broker.Message{Channel: p.channel, Kind: "test", Data: data(p.id)}); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	for ti, tn := range tenants {
		if _, err := r.broker.Publish(context.Background(), tn, broker.Message{Channel: "end", Kind: "test", Data: data(uint32(ti)<<24 | 0xffffff)}); err != nil {
			t.Fatal(err)
		}
	}

	for ci, c := range clients {
		var want []uint32
		for _, p := range pubs {
			if p.tenant != c.tenant {
				continue
			}
			for _, pat := range c.patterns {
				if channel.Match(pat, p.channel) {
					want = append(want, p.id)
					break
				}
			}
		}
		var got []uint32
		for {
			e, ok := c.rc.next().(*proto.Event)
			if !ok || len(e.Data) != 5 || e.Data[0] != 0xce {
				t.Fatalf("client %d (%s %v): unexpected frame %#v", ci, c.tenant, c.patterns, e)
			}
			id := binary.BigEndian.Uint32(e.Data[1:])
			if id&0xffffff == 0xffffff {
				if tenants[id>>24] != c.tenant {
					t.Fatalf("client %d of %s got %s's end marker", ci, c.tenant, tenants[id>>24])
				}
				break
			}
			got = append(got, id)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("client %d of %s with %v:\n got %v\nwant %v", ci, c.tenant, c.patterns, got, want)
		}
	}
}
