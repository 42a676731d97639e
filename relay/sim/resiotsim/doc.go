// Package resiotsim simulates the ResIOT LoRaWAN "Websocket Server" data
// connector (vendor page "Websocket Server", docs.resiot.io/Connector_WebsocketServer/,
// kept as seed 002) so that the relay's ResIOT connector can be tested
// against a real WebSocket server without an account.
//
// A Simulator pushes to every connected client, as text frames of one JSON
// object each, exactly the shapes and JSON types of the vendor's examples:
//
//   - comm_gwalive per gateway every Config.GatewayAliveEvery;
//   - comm_join per device when the first client connects, if
//     Config.JoinOnStart;
//   - comm_rx every Config.UplinkEvery, round-robin over the devices, with
//     Port as a string, a hex Payload (frame counter, temperature,
//     humidity), and an Extra object of strings (adr, channel, duplicate,
//     frequency, modBW, rssi, seqno, sf, snr) whose seqno counts per device;
//   - comm_tx after each accepted downlink, unless Config.DisableCommTx.
//
// DT is written in a fixed +02:00 zone with seven fractional digits, like
// "2017-06-15T09:17:11.2072656+02:00"; Config.Now and Config.Location
// make it deterministic.
//
// Clients send downlinks as {"function":"TX",...} (see resiot.TX). The
// simulator checks them as the vendor describes, function "TX", AppEui and
// DevEUI (or DevEui) naming a configured device, Port in 1..223, Payload hex
// unless Raw, and answers {"Result":"Success"|"Fail","Details":…,
// "Reference":…} echoing Reference. The Fail texts are the Detail*
// constants; the vendor does not document its own.
//
// Like the vendor, the simulator sends no WebSocket pings; it answers the
// client's pings while reading.
//
// # Test hooks
//
// Emit injects any bytes verbatim; EmitRx, EmitJoin and EmitGatewayAlive
// send exact frames; Received lists accepted commands; Clients and
// WaitClients observe connections; DropClients cuts them abruptly, as a
// network failure would, to exercise reconnects.
//
// # Goroutines
//
// New starts nothing. Each accepted connection has its reader (the
// ServeHTTP call) and one writer draining a bounded queue; a client whose
// queue overflows is cut rather than allowed to stall the others. The
// generator starts with the first client. Start adds the HTTP server.
// Close stops all of them, closes clients with StatusGoingAway, and waits.
package resiotsim
