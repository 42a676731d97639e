// Benchmarks of the browser path per LoRa uplink: the typed decoding the
// bridge no longer does, the frame decoding it still does, and the
// transcoding that replaced the first. Run them in wasm too:
//
//	GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^$' -bench . ./wasm/bridge/internal/batch

package batch

import (
	"testing"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

func benchUplink() *event.Uplink {
	raw := []byte(`{"type":"comm_rx","appEUI":"70b3d57ed000ac4a","devEUI":"0004a30b001c0530","port":2,"payload":"0102030405","fcnt":1,"rssi":-71,"snr":7.5,"sf":7,"freq":868.1,"bw":125,"gateways":["b827ebfffe6c3b7a","b827ebfffe6c3b7b"],"adr":true,"connector":"sim-resiot"}`)
	return &event.Uplink{Meta: event.Meta{Link: "burst", Protocol: "resiot", Time: 1, Received: 2, Raw: raw},
		AppEUI: "70b3d57ed000ac4a", DevEUI: "0004a30b001c0530", Port: 2, Payload: []byte{1, 2, 3, 4, 5}, FCnt: 7,
		RSSI: -71, SNR: 7.5, SF: 7, Frequency: 868.1, Bandwidth: 125, Gateways: []string{"b827ebfffe6c3b7a", "b827ebfffe6c3b7b"}, ADR: true, Connector: "sim-resiot"}
}

func BenchmarkDecodeUplink(b *testing.B) {
	data, _ := benchUplink().MarshalMsg(nil)
	for b.Loop() {
		event.Decode(event.KindUplink, data)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	data, _ := benchUplink().MarshalMsg(nil)
	msg, _ := proto.AppendFrame(nil, &proto.Event{Channel: "lora/70b3d57ed000ac4a/0004a30b001c0530/up", Offset: 1, Prev: 1, Kind: event.KindUplink, Data: data})
	for b.Loop() {
		proto.DecodeFrame(msg)
	}
}

func BenchmarkAdd(b *testing.B) {
	data, _ := benchUplink().MarshalMsg(nil)
	ev := client.Event{Channel: "lora/70b3d57ed000ac4a/0004a30b001c0530/up", Kind: event.KindUplink, Data: data}
	var w Writer
	for i := 0; b.Loop(); i++ {
		if i%100 == 0 {
			w.Reset()
		}
		w.Add(&ev)
	}
}
