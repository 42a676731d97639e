//go:build js && wasm

package main

import (
	"syscall/js"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/wire"
	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch"
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
		msg := benchMessage(per)
		s := &sub{onBatch: onBatch, report: reporter(js.Undefined()), ended: make(chan struct{})}
		evs := make([]client.Event, 0, per)
		events := 0
		start := time.Now()
		for events < count.Int() {
			evs = evs[:0]
			// As the client's read loop does (wasm/client, route.go).
			for rest := msg; len(rest) > 0; {
				var f wire.Frame
				var err error
				if f, rest, err = wire.DecodeFrame(rest); err != nil {
					return nil, err
				}
				if e, ok := f.(*wire.Event); ok {
					evs = append(evs, client.Event{Channel: e.Channel, Position: client.Position{Epoch: "bench", Offset: e.Offset},
						Prev: e.Prev, Kind: e.Kind, Data: e.Data})
				}
			}
			s.deliver(evs)
			events += len(evs)
		}
		return map[string]any{"events": events, "ms": float64(time.Since(start).Microseconds()) / 1000}, nil
	})
}

// benchMessage is perMessage uplink event frames shaped like the ResIOT
// simulator's (batch.SampleUplink).
func benchMessage(perMessage int) []byte {
	var msg, data []byte
	for i := range perMessage {
		data = batch.SampleUplink(data[:0], i)
		msg = wire.AppendFrame(msg, &wire.Event{Channel: "lora/70b3d57ed000ac4a/0004a30b001c0530/up",
			Offset: uint64(i + 1), Prev: uint64(i), Kind: batch.KindUplink, Data: data})
	}
	return msg
}
