// Package resiotconn is the connector for a ResIOT LoRaWAN network's
// WebSocket Server data connector.
//
// It dials the account's socket URL (opaque configuration: it may carry a
// token, so it is redacted in logs and statuses), normalises every
// communication into fieldrelay events and publishes them:
//
//	comm_rx      → event.Uplink       on lora/<appEUI>/<devEUI>/up
//	comm_join    → event.Join         on lora/<appEUI>/<devEUI>/join
//	comm_gwalive → event.GatewayAlive on lora/gateway/<gwEUI> (one per gateway; retained)
//	comm_tx      → event.Downlink     on lora/<appEUI>/<devEUI>/down
//	other types  → event.LoRaOther    on lora/<appEUI>/<devEUI>/other
//
// Browser commands of kind event.CmdLoRaDownlink targeting
// lora/<appEUI>/<devEUI>/down become {"function":"TX",…} with a unique
// Reference; the vendor's {"Result","Details","Reference"} reply is
// correlated by that Reference (Success → ok with the Reference, Fail →
// codes.DeviceRejected with the vendor's Details).
//
// The vendor documents no keepalive: the connector sends WebSocket pings
// and treats a late pong as a dead link. Malformed messages are counted per
// kind, logged once per kind, and dropped; the link stays up.
package resiotconn
