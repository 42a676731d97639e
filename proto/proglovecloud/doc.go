// Package proglovecloud is the wire codec for the ProGlove Insight API's
// live-data connection: the cloud WebSocket on which Insight pushes a
// customer's scans as JSON, and the Cognito authentication that opens it.
//
// Sources: the vendor page "Live data connection" (kept as seed 001) and
// the notes of PROTOCOLS.md section 2, which quote the vendor's
// "Authentication" page and AWS's API Gateway quotas.
//
// The package does no I/O and uses only the standard library, so it builds
// for GOOS=js GOARCH=wasm as well. Its parts:
//
//   - Decode turns one socket frame into an *Event (every key of the
//     vendor's example has a field; unknown keys land in Extra); Encode
//     writes the vendor's shape back (the simulator sends it).
//   - LiveURL builds the socket address, {base}/{stage}/?customer=…&token=…,
//     in the older form (stage "prod", customer, IdToken) or the newer one
//     (stage "latest", no customer, AccessToken).
//   - DecodeAuthInformation / EncodeAuthInformation: the answer of
//     GET /auth-information?id=CUSTOMER_ID.
//   - EncodeInitiateAuth / DecodeInitiateAuth: Cognito's InitiateAuth body
//     for USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH (sent with
//     ContentTypeAmzJSON and TargetInitiateAuth); EncodeAuthResult /
//     DecodeAuthResult its answer; EncodeCognitoError / DecodeCognitoError
//     the HTTP 400 error body. InitiateAuth and Tokens redact their
//     secrets when printed.
//
// # Errors
//
// Every error wraps one sentinel (ErrMalformedJSON, ErrWrongType,
// ErrNoType, ErrBadNumber, ErrNoResult, ErrChallenge, ErrBadRequest,
// ErrBadURL); errors about one field are *FieldError values naming it.
// ErrorKind maps an error to a short stable label for metrics. Decoding
// never panics and limits no size: the connector bounds frames first.
//
// # Tolerance
//
// The vendor documents one example per message and leaves the rest open.
// Where the notes leave a question, the decoder accepts every plausible
// form and the encoders write the example's:
//
//   - Numbers (device_battery, scan_duration, the times, the revision,
//     metrics_worker_steps, metric values) are JSON numbers in the example;
//     a string holding a number is accepted too, as the Streams API writes
//     scan_duration as "0.27". Integers may be written with a zero fraction
//     or an exponent (1598259269761.0). NaN, infinities, hex and numbers
//     out of range are ErrBadNumber; times must fit in int64 microseconds.
//   - metrics items: the example on the vendor page has
//     {metric_name, metric_type, metric_unit, values:[270]}; the notes'
//     copy has no values. Both decode. When "values" is not an array of
//     numbers, the item is kept with Values nil and the JSON text in
//     Extra["values"], rather than costing the scan (the item's shape is
//     the notes' open question). A metrics that is not an array, or an item
//     that is not an object, is ErrWrongType.
//   - event_type: only "scan" is documented; any other non-empty value
//     decodes the same way and is passed through. An object without
//     event_type (such as API Gateway's own {"message":"Forbidden",…}) is
//     ErrNoType.
//   - Absent keys and null mean "no value" (zero). Unknown keys are kept in
//     Extra: strings as they are, other values as compact JSON. Keys are
//     matched exactly (snake_case, as in the example); when a key repeats,
//     the last one wins.
//   - auth-information's customer id key really is "customer_id:" (with
//     the colon); "customer_id" is accepted too, and the encoder writes the
//     vendor's spelling.
//   - Cognito's error "__type" may carry a namespace ("…#NotAuthorizedException"),
//     which is cut; its message key is "message" or "Message".
//   - An InitiateAuth answer with a ChallengeName (NEW_PASSWORD_REQUIRED…)
//     is a *ChallengeError: a headless link cannot answer it.
package proglovecloud
