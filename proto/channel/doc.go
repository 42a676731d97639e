// Package channel defines channel names and MQTT-style patterns.
//
// A channel is a path of one or more non-empty levels separated by '/'
// ("lora/70b3d57ed000ac4a/8639323559379194/up"). Levels are printable
// ASCII other than '/', '+' and '#'; a channel is at most MaxLen bytes and
// MaxLevels levels. A pattern is a channel whose levels may also be '+'
// (exactly one level) or, as the last level only, '#' (zero or more
// levels). Channels never name a tenant: the tenant comes from the token.
//
// The naming scheme of fieldrelay's own channels is in docs/protocol.md.
package channel
