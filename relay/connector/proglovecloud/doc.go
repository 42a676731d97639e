// Package proglovecloud is the connector for the ProGlove Insight API's
// live-data connection: the cloud WebSocket on which Insight pushes every
// scan of a customer's scanners (vendor page "Live data connection", seed
// 001; PROTOCOLS.md section 2; codec proto/proglovecloud).
//
// # Session
//
// The link logs in with Cognito's InitiateAuth (USER_PASSWORD_AUTH), after
// asking GET {auth_url}/auth-information?id={customer_id} where the user
// pool is (unless client_id and region are configured), and opens
//
//	{url}/{stage}/?customer={customer_id}&token={IdToken}   (the older page; default)
//	{url}/{stage}/?token={AccessToken}                      (the newer: token_kind "access", omit_customer)
//
// The token rides in the URL, so a new token means a new connection:
// RefreshBefore ahead of the token's expiry (Cognito's IdToken lasts 1 h)
// the link gets new tokens with REFRESH_TOKEN_AUTH (logging in again if
// the refresh token is refused) and replaces the connection, make before
// break. It also replaces a connection at MaxAge, ahead of API Gateway's
// 2 h limit, and pings every PingInterval, inside API Gateway's 10 min
// idle timeout. A 401 or 403 at the upgrade refreshes the token, then logs
// in, before trying again.
//
// # No loss, no duplicate
//
// During a handover both connections are open. The server pushes every
// scan to every open connection in the same order, so the new connection's
// stream is a suffix of the old one's: the link publishes what the old one
// delivers and holds back what the new one delivers, until the old one
// delivers a scan the new one holds (the streams have converged), ends,
// or Overlap passes. Then it closes the old one (1000), drops what the new
// one holds up to the last scan the old one delivered, and publishes the
// rest. Order is kept. On top of that, every published event_id is
// remembered (the last DedupeWindow of them) and a scan seen again is
// dropped, whatever the path it came by.
//
// Scans lost while no connection is open (after the server closed one or
// the network failed) cannot be recovered: the feed has no replay.
//
// # Events
//
//	event_type "scan" → event.CloudScan  on scanner/<device_serial>/scan
//	other event_types → event.CloudEvent on scanner/<device_serial>/other
//
// Malformed messages are counted per kind (the codec's ErrorKind labels,
// plus "binary", "oversize" for messages over MaxMessage, and "limit" for
// scans with more metrics or keys than an event may carry), logged once per
// kind, and dropped; the connection stays up.
//
// # Status and secrets
//
// Every state change is published on link/<name>/status. Refused
// credentials (NotAuthorizedException and kin), an unknown customer, a
// challenge, or a socket that refuses even a fresh login's token make the
// link failed, with a reason, for FailedRetry; anything else backs off
// and retries. The password and the tokens never appear in a status
// reason or a log line: URLs are redacted and every text the link emits
// is scrubbed of the secrets it knows.
package proglovecloud
