package resiotconn

import (
	"os"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

func decodeFile(t *testing.T, name string) *resiot.Message {
	t.Helper()
	b, err := os.ReadFile("../../../proto/resiot/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := resiot.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return f.(*resiot.Message)
}

// Every seed communication normalises to the documented kind and channel,
// keeping the upstream time and the verbatim message.
func TestNormalizeSeedMessages(t *testing.T) {
	now := time.Unix(1800000000, 0)
	cases := []struct {
		file, kind, channel string
		check               func(t *testing.T, e event.Event)
	}{
		{"rx.json", event.KindUplink, "lora/006c3b194374ac7f/0732227a557d8679/up", func(t *testing.T, e event.Event) {
			up := e.(*event.Uplink)
			if up.Port != 128 || up.FCnt != 1953 || up.Connector != "636f6e313332" || len(up.Extra) != 0 {
				t.Errorf("uplink %+v", up)
			}
		}},
		{"join.json", event.KindJoin, "lora/006c3b194374ac7f/0732227a557d8679/join", func(t *testing.T, e event.Event) {
			if j := e.(*event.Join); len(j.Gateways) != 0 || j.Connector != "636f6e313332" {
				t.Errorf("join %+v", j)
			}
		}},
		{"gwalive.json", event.KindGateway, "lora/gateway/218000ac0000a05f", func(t *testing.T, e event.Event) {
			if g := e.(*event.GatewayAlive); g.Gateway != "218000ac0000a05f" || g.Connector != "69643d3139" {
				t.Errorf("gateway %+v", g)
			}
		}},
		{"tx_log.json", event.KindDownlink, "lora/006c3b194374ac7f/0732227a557d8679/down", func(t *testing.T, e event.Event) {
			if d := e.(*event.Downlink); d.Port != 1 || string(d.Payload) != "\x25\x25" || d.Confirmed {
				t.Errorf("downlink %+v", d)
			}
		}},
	}
	for _, c := range cases {
		m := decodeFile(t, c.file)
		outs, err := Normalize(m, "lora", now)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(outs) != 1 || outs[0].Channel != c.channel || outs[0].Event.Kind() != c.kind {
			t.Fatalf("%s: %+v", c.file, outs)
		}
		meta := outs[0].Event.Header()
		if meta.Time != m.DT.UnixMicro() || meta.Received != now.UnixMicro() || string(meta.Raw) != string(m.Raw) || meta.Link != "lora" || meta.Protocol != Protocol {
			t.Errorf("%s: meta %+v", c.file, meta)
		}
		c.check(t, outs[0].Event)
	}
}

func TestNormalizeUnknownTypePassesThrough(t *testing.T) {
	f, err := resiot.Decode([]byte(`{"CommType":"comm_txconfirm","AppEui":"AA","DevEui":"BB","DT":"2017-06-15T09:41:09.6691796+02:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := Normalize(f.(*resiot.Message), "lora", time.Now())
	if err != nil || len(outs) != 1 || outs[0].Channel != "lora/aa/bb/other" {
		t.Fatalf("%+v %v", outs, err)
	}
	if o := outs[0].Event.(*event.LoRaOther); o.Type != "comm_txconfirm" {
		t.Fatalf("%+v", o)
	}
}
