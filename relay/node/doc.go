// Package node assembles one relay process: the broker, the hub, the
// browser WebSocket endpoint, health and metrics, and every tenant's
// upstream links, from one Config (which `fieldrelay serve` reads from
// flags, environment and a JSON file).
//
// Tests start whole relays with it, on 127.0.0.1 and an ephemeral port.
package node
