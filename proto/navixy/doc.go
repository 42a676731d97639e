// Package navixy is the wire codec of the Navixy (and iTrack, its white
// label) tracking API that a real-time connector needs: the REST calls
// user/auth and tracker/list, and the JSON messages of the WebSocket at
// {base}/event/subscription. The Atmosphere framing around those messages
// (handshake, X heartbeats, length prefixes) is package atmosphere's.
//
// Sources: the iTrack "WebSocket API" page (seed 003) and Navixy's
// user/auth, error-code, WebSocket and subscription pages as summarised in
// PROTOCOLS.md §4, whose samples are the golden files in testdata/.
//
// The package does no I/O and uses only the standard library, so it builds
// for GOOS=js GOARCH=wasm.
//
//   - REST: AuthRequest (Form, JSON; ParseAuthForm and DecodeAuthJSON on
//     the server side), DecodeAuthResult / EncodeAuthResult,
//     DecodeTrackerList / EncodeTrackerList, and the error answer
//     {"success":false,"status":{…}} as an *APIError (EncodeAPIError).
//   - Client → server: Action, a subscribe or unsubscribe in the old form
//     (events, trackers) or the current one (requests[] with type,
//     trackers or target, rate_limit, format). DecodeAction reads one.
//   - Server → client: Decode returns a *StateEvent, *StateBatchEvent,
//     *LifecycleEvent, *LogoutEvent, *OtherEvent, *Response or
//     *ErrorResponse; Encode and EncodeFormat write them back in the
//     vendor's key order (the simulator uses them).
//
// # Errors
//
// Every error wraps one sentinel; ErrorKind maps it to a short stable label
// for metrics. Errors about one field are *FieldError values naming its
// JSON path ("data.gps.updated"). A vendor error answer is an *APIError
// (matching ErrAPI) carrying the code; NeedsLogin tells the codes that
// call for a new login (3, 4). Decoding never panics and imposes no size
// limit: the connector bounds frames first.
//
// # Tolerance
//
// What the sources leave open, and the reading chosen:
//
//   - Times are "YYYY-MM-DD HH:MM:SS" in the user's time zone, which the
//     message does not carry: LocalTime keeps the text and In converts it
//     with a zone the caller knows (the connector's configuration). A
//     fraction of a second, a 'T' separator, a missing seconds field or a
//     bare date are accepted; an explicit offset, if a server ever sends
//     one, wins over the configured zone.
//   - Absent keys and JSON null mean the same (the vendor omits null
//     fields "to reduce response size"): nil pointers, "" times, 0.
//     Unknown keys are ignored, unknown events are *OtherEvent.
//   - Ids (source_id, tracker ids, codes) are integers; a number with a
//     zero fraction or exponent (5.0, 1e3) or a string holding an integer
//     is accepted. Coordinates, speed, heading and altitude are numbers;
//     numeric strings are accepted too.
//   - A subscribe response's data per event type is the current form's
//     wrapper when it has a "value" or "success" key, and the old form's
//     bare statuses otherwise. A wrapper whose value is not an object
//     (as a target of "all" might give) has no Statuses. Statuses keep
//     the wire order. A response whose data has another shape than
//     documented keeps it in Data only.
//   - An unsubscribe response's data is the list of tracker ids.
//   - logout's data is a string ("session closed"); anything else is kept
//     as its JSON text.
//   - state_batch elements keep their own bytes in State.Raw.
//   - The current form's "state" request names trackers with "trackers"
//     (the vendor's sample) and "state_batch" with "target"; both
//     spellings are accepted and written for either type.
//   - The descriptions of codes 104 and 105 are not documented verbatim;
//     StatusFor gives inferred texts.
//   - A hash is normally 32 hex characters (ValidHash); DecodeAuthResult
//     accepts any non-blank one.
package navixy
