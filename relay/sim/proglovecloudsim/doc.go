// Package proglovecloudsim simulates the ProGlove Insight API's live-data
// connection (vendor page "Live data connection", kept as seed 001; notes in
// PROTOCOLS.md section 2) so that the relay's connector can be tested
// against a real WebSocket server without an account. It serves, on one
// HTTP server:
//
//   - GET /auth-information?id=CUSTOMER: the customer's user pool,
//     {"region","customer_id:","user_pool_client_id","user_pool_id"} (the
//     vendor's key really has the colon); 404 for another customer.
//   - POST / (and POST /login, as the vendor's page writes it): Cognito's
//     InitiateAuth. It requires Content-Type application/x-amz-json-1.1 and
//     X-Amz-Target AWSCognitoIdentityProviderService.InitiateAuth, the
//     configured ClientId, and either USER_PASSWORD_AUTH with the user's
//     USERNAME and PASSWORD or REFRESH_TOKEN_AUTH with a REFRESH_TOKEN it
//     issued. Success is {"AuthenticationResult":{AccessToken, ExpiresIn,
//     IdToken, RefreshToken, TokenType},"ChallengeParameters":{}} (no
//     RefreshToken on a refresh, as with Cognito); anything else is HTTP 400
//     with {"__type":…,"message":…}: SerializationException (bad
//     Content-Type or JSON), UnknownOperationException (target),
//     InvalidParameterException (missing parameter, unsupported flow),
//     ResourceNotFoundException (client id), NotAuthorizedException (wrong
//     password, unknown refresh token).
//   - GET /{stage}/?customer=…&token=… (the older form: IdToken, customer
//     required) or /{stage}/?token=… (the newer: Config.NoCustomer, and
//     usually Config.TokenKind = TokenAccess, Stage "latest"): the live-data
//     WebSocket. A missing, unknown, expired or wrong-kind token is refused
//     at the upgrade with 401, a missing or foreign customer with 403, both
//     with API Gateway's {"message":…} body (the status codes are inferred:
//     the vendor documents none).
//
// On the socket it pushes, as text frames of one JSON object each, scans
// in the seed's shape (every key, with its JSON type: scan_duration a
// number, metrics items with values), one device per Config.ScanEvery.
// Like API Gateway it enforces an idle timeout (Config.IdleTimeout, 10 min:
// no frame and no ping from the client for that long closes with 1001), a
// maximum connection age (Config.MaxAge, 2 h, 1001) and a frame limit
// (Config.MaxFrame, 32 KiB; a larger client frame closes with 1009). The
// service is receive-only: a client's data frame is answered with
// {"message": "Forbidden", "connectionId":…, "requestId":…}, as API Gateway
// does when no route matches (inferred). Tokens are checked only at the
// upgrade: an open connection outlives its token, as it does on AWS.
//
// A client is registered before its 101 is written, as API Gateway runs
// $connect before answering: whatever is broadcast after a client has its
// 101 reaches it, so a client that opens its next connection before
// closing the previous one misses nothing.
//
// # Test hooks
//
// Emit injects any bytes verbatim; NewScan and EmitScan build and send
// scans; Sent records every broadcast frame. Stats counts connections,
// refusals, logins, refreshes, pings and closes, and Wait blocks until a
// condition on them holds. DropClients cuts connections abruptly,
// CloseClients closes them cleanly with a code, Silence stops answering
// pings as a half-open link would. SetPassword,
// RevokeTokens and RevokeRefreshTokens change what authentication accepts.
//
// # Goroutines
//
// New starts nothing. Each accepted connection has its reader (the
// ServeHTTP call) and one writer, which also enforces the idle timeout and
// the maximum age. The generator starts with the first client. Start adds
// the HTTP server. Close stops all of them, closes clients with 1001, and
// waits.
package proglovecloudsim
