package batch

import "github.com/fieldrelay/fieldrelay/proto/wire"

// sampleRaw is the upstream message of SampleUplink: a ResIOT simulator's
// comm_rx.
const sampleRaw = `{"type":"comm_rx","appEUI":"70b3d57ed000ac4a","devEUI":"0004a30b001c0530","port":2,` +
	`"payload":"0102030405","fcnt":1,"rssi":-71,"snr":7.5,"sf":7,"freq":868.1,"bw":125,` +
	`"gateways":["b827ebfffe6c3b7a","b827ebfffe6c3b7b"],"adr":true,"connector":"sim-resiot"}`

// SampleUplink appends the msgpack of the LoRa uplink (KindUplink) that
// the bridge's in-page benchmark delivers as the i-th event of a message,
// shaped like the ResIOT simulator's (the upstream message kept as
// Meta.Raw). It is what msgp writes of
//
//	event.Uplink{
//		Meta:   event.Meta{Link: "bench", Protocol: "resiot", Time: 1_763_800_000_000_000, Received: 1_763_800_000_000_100, Raw: raw},
//		AppEUI: "70b3d57ed000ac4a", DevEUI: "0004a30b001c0530", Port: 2, Payload: []byte{1, 2, 3, 4, byte(i)},
//		FCnt: uint32(i), RSSI: -71, SNR: 7.5, SF: 7, Frequency: 868.1, Bandwidth: 125,
//		Gateways: []string{"b827ebfffe6c3b7a", "b827ebfffe6c3b7b"}, ADR: true, Connector: "sim-resiot",
//	}
//
// written with package wire, so that the benchmark does not link package
// event (TestSampleUplink compares the two).
func SampleUplink(b []byte, i int) []byte {
	b = wire.AppendMapHeader(b, 16)
	b = wire.AppendString(b, "m")
	b = wire.AppendMapHeader(b, 5)
	b = wire.AppendString(wire.AppendString(b, "src"), "bench")
	b = wire.AppendString(wire.AppendString(b, "pr"), "resiot")
	b = wire.AppendInt(wire.AppendString(b, "t"), 1_763_800_000_000_000)
	b = wire.AppendInt(wire.AppendString(b, "rt"), 1_763_800_000_000_100)
	b = wire.AppendBytes(wire.AppendString(b, "raw"), []byte(sampleRaw))
	b = wire.AppendString(wire.AppendString(b, "app"), "70b3d57ed000ac4a")
	b = wire.AppendString(wire.AppendString(b, "dev"), "0004a30b001c0530")
	b = wire.AppendUint(wire.AppendString(b, "port"), 2)
	b = wire.AppendBytes(wire.AppendString(b, "pl"), []byte{1, 2, 3, 4, byte(i)})
	b = wire.AppendUint(wire.AppendString(b, "fcnt"), uint64(uint32(i)))
	b = wire.AppendFloat64(wire.AppendString(b, "rssi"), -71)
	b = wire.AppendFloat64(wire.AppendString(b, "snr"), 7.5)
	b = wire.AppendUint(wire.AppendString(b, "sf"), 7)
	b = wire.AppendFloat64(wire.AppendString(b, "freq"), 868.1)
	b = wire.AppendFloat64(wire.AppendString(b, "bw"), 125)
	b = wire.AppendInt(wire.AppendString(b, "ch"), 0)
	b = wire.AppendArrayHeader(wire.AppendString(b, "gws"), 2)
	b = wire.AppendString(b, "b827ebfffe6c3b7a")
	b = wire.AppendString(b, "b827ebfffe6c3b7b")
	b = wire.AppendBool(wire.AppendString(b, "adr"), true)
	b = wire.AppendBool(wire.AppendString(b, "dup"), false)
	b = wire.AppendString(wire.AppendString(b, "conn"), "sim-resiot")
	return b
}
