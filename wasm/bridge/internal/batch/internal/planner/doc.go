// Package planner builds package batch's plans from Go types with reflect
// and renders them as Go source (plans_gen.go). The generator
// (batch/gen) and batch's tests use it; the browser build never does: it
// links package event, reflect and fmt, which is what the generated plans
// spare the wasm.
//
// The rules, which make the transcoded JSON what encoding/json writes of
// the value msgp's generated decoder reads, and the msgpack of a command
// body what msgp's generated encoder writes:
//
//   - A struct is a msgpack map. Its exported fields are properties: the
//     msg tag's name is the key on the wire (the field's name if none; "-"
//     for none), the json tag's name the JSON property (the field's name if
//     none; "-" for none). The json tag's omitempty leaves an empty value
//     out of the JSON, the msg tag's omitempty a zero value out of the
//     msgpack (nil for slices, maps and pointers, as msgp's IfZeroExpr
//     has it), and the msg tag's limit=N bounds the field's bin, array or
//     map (and those nested in it) as msgp's field limits do.
//   - []byte is bin; other slices and arrays are arrays; maps need string
//     keys; pointers may be nil; interfaces hold any msgpack value.
//   - Arrays are bounded by 1024 elements, maps (structs included) by 256
//     pairs: the //msgp:limit of every file of package event, which Build
//     checks.
//
// A type outside these rules (a channel, a function, a complex number, a
// map with other keys, an embedded field, a tag option that would change
// what either encoder writes) is an error rather than a plan that would
// silently disagree with msgp or encoding/json.
package planner
