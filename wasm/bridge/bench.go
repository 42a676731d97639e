//go:build js && wasm

package main

import (
	"syscall/js"
	"time"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// benchmarkCall implements __fieldrelay.benchmark(count, perMessage,
// onBatch): it measures what the page pays per event between the socket
// and an onEvents callback, without the relay or the network. It builds
// one message of perMessage LoRa uplink frames, like the relay's batches,
// then count/perMessage times decodes its frames, transcodes their events
// and calls onBatch as a subscription does (jsbindings assembles the
// objects there). It resolves with {events, ms}, the time measured in Go
// around the whole loop. The client's routing, a map lookup and a pattern
// match per event, is left out.
func benchmarkCall(count, perMessage, onBatch js.Value) js.Value {
	return promise(func() (any, error) {
		if count.Type() != js.TypeNumber || perMessage.Type() != js.TypeNumber || onBatch.Type() != js.TypeFunction {
			return nil, badRequest("benchmark(count, perMessage, onBatch)")
		}
		per := max(perMessage.Int(), 1)
		msg, err := benchMessage(per)
		if err != nil {
			return nil, err
		}
		s := &sub{onBatch: onBatch, report: reporter(js.Undefined()), ended: make(chan struct{})}
		evs := make([]client.Event, 0, per)
		events := 0
		start := time.Now()
		for events < count.Int() {
			evs = evs[:0]
			err := proto.DecodeAll(msg, func(f proto.Frame) error {
				if e, ok := f.(*proto.Event); ok {
					evs = append(evs, client.Event{Channel: e.Channel, Position: client.Position{Epoch: "bench", Offset: e.Offset},
						Prev: e.Prev, Kind: e.Kind, Data: e.Data})
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			s.deliver(evs)
			events += len(evs)
		}
		return map[string]any{"events": events, "ms": float64(time.Since(start).Microseconds()) / 1000}, nil
	})
}

// benchMessage is perMessage uplink event frames shaped like the ResIOT
// simulator's (the upstream message kept as Meta.Raw).
func benchMessage(perMessage int) ([]byte, error) {
	raw := []byte(`{"type":"comm_rx","appEUI":"70b3d57ed000ac4a","devEUI":"0004a30b001c0530","port":2,` +
		`"payload":"0102030405","fcnt":1,"rssi":-71,"snr":7.5,"sf":7,"freq":868.1,"bw":125,` +
		`"gateways":["b827ebfffe6c3b7a","b827ebfffe6c3b7b"],"adr":true,"connector":"sim-resiot"}`)
	var msg []byte
	for i := range perMessage {
		up := event.Uplink{
			Meta:   event.Meta{Link: "bench", Protocol: "resiot", Time: 1_763_800_000_000_000, Received: 1_763_800_000_000_100, Raw: raw},
			AppEUI: "70b3d57ed000ac4a", DevEUI: "0004a30b001c0530", Port: 2, Payload: []byte{1, 2, 3, 4, byte(i)},
			FCnt: uint32(i), RSSI: -71, SNR: 7.5, SF: 7, Frequency: 868.1, Bandwidth: 125,
			Gateways: []string{"b827ebfffe6c3b7a", "b827ebfffe6c3b7b"}, ADR: true, Connector: "sim-resiot",
		}
		data, err := up.MarshalMsg(nil)
		if err != nil {
			return nil, err
		}
		msg, err = proto.AppendFrame(msg, &proto.Event{Channel: "lora/70b3d57ed000ac4a/0004a30b001c0530/up",
			Offset: uint64(i + 1), Prev: uint64(i), Kind: event.KindUplink, Data: data})
		if err != nil {
			return nil, err
		}
	}
	return msg, nil
}
