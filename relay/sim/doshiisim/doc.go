// Package doshiisim simulates Doshii's App (partner) WebSocket, v3
// (PROTOCOLS.md section 5; help pages "Connection", seed 004, and
// "Heartbeats"), so that the relay's Doshii connector can be tested against
// a real WebSocket server without a partner account.
//
// # Connecting
//
// Start serves doshii.PathV3 (/app/socket/v3) and the older
// doshii.PathLegacy (/app/socket); ServeHTTP serves wherever it is mounted.
// The upgrade request must carry auth=base64(clientId) naming one of
// Config.Clients (else 401, with a body that says why and never repeats the
// value) and, optionally, deviceId naming one of that client's registered
// devices (else 403). 503 while SetUnavailable is on or after Close.
//
// deviceId filters events, as the page says registration's criteria do.
// Here a device's criteria are a list of locations: a connection with a
// deviceId receives an event only if the payload's locationId is one of
// its device's locations; one without a deviceId receives every event.
// Heartbeats, and messages injected with Emit, go to every connection.
//
// # Heartbeats
//
// Every client ping {"doshii":{"ping":ms,…}} is answered with a pong echoing
// ms, in the documented {"type":"message","data":{"doshii":{"pong":ms,
// "version":"3.2.0"}}} or, with Config.PongEnvelope = doshii.EnvelopeBare,
// the SDK mock's {"doshii":{"pong":ms,…}}. A client that sends no ping for
// Config.IdleTimeout (90 s) is closed with 1008. SendPing and
// SendHealthCheck (or Config.ServerPingEvery, Config.HealthCheckEvery) send
// the server's own pings, {"type":"message","data":{"doshii":{"ping":ms,…}}}
// and {"event":"health_check","data":{"ping":ms}}; the clients' pongs are
// recorded (Answers).
//
// # Events
//
// Events are pushed in the SDK's {"emit":["<name>",{payload}]} envelope, or
// per Config.Envelope and Config.EnvelopeFor in {"event":…,"data":…} or
// {"type":…,"data":…}, with thin payloads (id, locationId,
// mappedLocationId, status, uri). Every Config.EventEvery (10 s) the
// generator plays one step of an order's life: order_created (pending),
// order_updated (accepted), transaction_created, transaction_updated,
// order_updated (complete), round-robin over Config.Locations.
//
// # Test hooks
//
// EmitEvent and EmitEventIn push any named event; Emit injects any bytes
// verbatim; SetSilent stops answering pings (a hung server); SetUnavailable
// refuses upgrades with 503; DropClients cuts connections abruptly and
// CloseClients with a close frame; Pings, Answers, Connections and Stats
// observe; WaitClients, WaitPings, WaitAnswers and WaitAttempts wait.
//
// # Goroutines
//
// New starts nothing. Each accepted connection has its reader (the
// ServeHTTP call) and one writer draining a bounded queue, which also
// enforces the idle timeout; a client whose queue overflows is cut rather
// than allowed to stall the others. The generator starts with the first
// client. Start adds the HTTP server. Close stops all of them, closes
// clients with StatusGoingAway, and waits.
package doshiisim
