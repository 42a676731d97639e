// Package event defines fieldrelay's normalised device events and command
// bodies: what every connector publishes, whatever its vendor's dialect.
//
// Each event type carries a [Meta]: where it came from (link name and
// protocol), the upstream's own id and time, when the relay received it, and
// the upstream message verbatim, so that nothing a vendor sent is lost by
// normalising. Events travel msgp-encoded in the Data of a proto.Event frame
// whose Kind names the type; [Decode] turns the pair back into a value.
//
// Times are Unix microseconds (int64), which JavaScript numbers hold exactly.
package event
