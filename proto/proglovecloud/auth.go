package proglovecloud

import (
	"fmt"
	"strings"
)

// Cognito InitiateAuth, as the vendor's "Authentication" page describes it
// and as AWS's JSON 1.1 protocol carries it.
const (
	// ContentTypeAmzJSON is the Content-Type of InitiateAuth requests.
	ContentTypeAmzJSON = "application/x-amz-json-1.1"
	// TargetInitiateAuth is the X-Amz-Target of InitiateAuth requests.
	TargetInitiateAuth = "AWSCognitoIdentityProviderService.InitiateAuth"
	// FlowUserPassword logs in with USERNAME and PASSWORD.
	FlowUserPassword = "USER_PASSWORD_AUTH"
	// FlowRefreshToken gets new tokens for a REFRESH_TOKEN.
	FlowRefreshToken = "REFRESH_TOKEN_AUTH"
)

// Cognito error types (the "__type" of an error response) this package
// names. Others decode fine.
const (
	NotAuthorized         = "NotAuthorizedException"
	UserNotFound          = "UserNotFoundException"
	UserNotConfirmed      = "UserNotConfirmedException"
	PasswordResetRequired = "PasswordResetRequiredException"
	InvalidParameter      = "InvalidParameterException"
	ResourceNotFound      = "ResourceNotFoundException"
	TooManyRequests       = "TooManyRequestsException"
	InternalError         = "InternalErrorException"
	Serialization         = "SerializationException"
	UnknownOperation      = "UnknownOperationException"
)

// AuthInformation is the answer of GET $BASE_URL/auth-information?id=…:
// where the customer's Cognito user pool is.
type AuthInformation struct {
	Region string // "region", e.g. "eu-west-1"
	// CustomerID is written under the key "customer_id:" (with the colon,
	// as the vendor really sends it); Decode also accepts "customer_id".
	CustomerID       string
	UserPoolClientID string // "user_pool_client_id": InitiateAuth's ClientId
	UserPoolID       string // "user_pool_id"
}

// DecodeAuthInformation decodes the auth-information answer.
func DecodeAuthInformation(b []byte) (AuthInformation, error) {
	m, err := parseObject(b)
	if err != nil {
		return AuthInformation{}, err
	}
	var a AuthInformation
	idKey := "customer_id:"
	if absent(m[idKey]) {
		idKey = "customer_id"
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"region", &a.Region}, {idKey, &a.CustomerID}, {"user_pool_client_id", &a.UserPoolClientID}, {"user_pool_id", &a.UserPoolID}} {
		if *f.dst, err = decodeString(f.key, m[f.key]); err != nil {
			return AuthInformation{}, err
		}
	}
	return a, nil
}

// EncodeAuthInformation writes a in the vendor's key order and spelling.
func EncodeAuthInformation(a AuthInformation) ([]byte, error) {
	var o orderedObject
	o.add("region", a.Region)
	o.add("customer_id:", a.CustomerID)
	o.add("user_pool_client_id", a.UserPoolClientID)
	o.add("user_pool_id", a.UserPoolID)
	return o.MarshalJSON()
}

// InitiateAuth is the body of a Cognito InitiateAuth request. It holds a
// secret: its String method redacts it, so that %v in a log is safe.
type InitiateAuth struct {
	AuthFlow string // FlowUserPassword or FlowRefreshToken
	ClientID string // the user pool client id ("ClientId")
	// Username and Password are the AuthParameters of FlowUserPassword.
	Username, Password string
	// RefreshToken is the AuthParameter of FlowRefreshToken.
	RefreshToken string
}

// String names the flow and client, never the secrets.
func (r InitiateAuth) String() string {
	return fmt.Sprintf("InitiateAuth{%s client %s user %q}", r.AuthFlow, r.ClientID, r.Username)
}

// GoString is String, so that %#v redacts too.
func (r InitiateAuth) GoString() string { return r.String() }

// EncodeInitiateAuth writes r as Cognito expects it, in the order of the
// vendor's page: USERNAME and PASSWORD for FlowUserPassword, REFRESH_TOKEN
// for FlowRefreshToken.
func EncodeInitiateAuth(r InitiateAuth) ([]byte, error) {
	var params orderedObject
	switch r.AuthFlow {
	case FlowUserPassword:
		params.add("USERNAME", r.Username)
		params.add("PASSWORD", r.Password)
	case FlowRefreshToken:
		params.add("REFRESH_TOKEN", r.RefreshToken)
	default:
		return nil, fmt.Errorf("%w: unsupported AuthFlow %q", ErrBadRequest, r.AuthFlow)
	}
	var o orderedObject
	o.add("AuthFlow", r.AuthFlow)
	o.add("ClientId", r.ClientID)
	o.add("AuthParameters", params)
	return o.MarshalJSON()
}

// DecodeInitiateAuth reads a request the way Cognito checks it (used by
// the simulator): a JSON object with a supported AuthFlow, a ClientId, and
// the flow's AuthParameters. Problems with the request's shape wrap
// ErrMalformedJSON or ErrWrongType; missing or unsupported values wrap
// ErrBadRequest.
func DecodeInitiateAuth(b []byte) (InitiateAuth, error) {
	m, err := parseObject(b)
	if err != nil {
		return InitiateAuth{}, err
	}
	var r InitiateAuth
	if r.AuthFlow, err = decodeString("AuthFlow", m["AuthFlow"]); err != nil {
		return InitiateAuth{}, err
	}
	if r.ClientID, err = decodeString("ClientId", m["ClientId"]); err != nil {
		return InitiateAuth{}, err
	}
	params := map[string]string{}
	if raw := m["AuthParameters"]; !absent(raw) {
		if raw[0] != '{' {
			return InitiateAuth{}, wrongType("AuthParameters", raw, "object")
		}
		pm, err := parseObject(raw)
		if err != nil {
			return InitiateAuth{}, err
		}
		for k, v := range pm {
			if params[k], err = decodeString("AuthParameters."+k, v); err != nil {
				return InitiateAuth{}, err
			}
		}
	}
	need := func(field string) (string, error) {
		if params[field] == "" {
			return "", &FieldError{Field: "AuthParameters." + field, Err: ErrBadRequest, Detail: "missing"}
		}
		return params[field], nil
	}
	switch {
	case r.AuthFlow == "":
		return InitiateAuth{}, &FieldError{Field: "AuthFlow", Err: ErrBadRequest, Detail: "missing"}
	case r.ClientID == "":
		return InitiateAuth{}, &FieldError{Field: "ClientId", Err: ErrBadRequest, Detail: "missing"}
	case r.AuthFlow == FlowUserPassword:
		if r.Username, err = need("USERNAME"); err != nil {
			return InitiateAuth{}, err
		}
		if r.Password, err = need("PASSWORD"); err != nil {
			return InitiateAuth{}, err
		}
	case r.AuthFlow == FlowRefreshToken:
		if r.RefreshToken, err = need("REFRESH_TOKEN"); err != nil {
			return InitiateAuth{}, err
		}
	default:
		return InitiateAuth{}, &FieldError{Field: "AuthFlow", Err: ErrBadRequest, Detail: "unsupported flow " + fmt.Sprintf("%q", r.AuthFlow)}
	}
	return r, nil
}

// Tokens is the AuthenticationResult of a successful InitiateAuth. Its
// String method redacts the tokens.
type Tokens struct {
	AccessToken string // "AccessToken": the newer live-data URL's token
	// ExpiresIn is the tokens' lifetime in seconds (3600).
	ExpiresIn int64
	IdToken   string // "IdToken": the older live-data URL's token
	// RefreshToken is absent from a FlowRefreshToken answer: keep the one
	// the login returned.
	RefreshToken string
	TokenType    string // "Bearer"
}

// String gives the type and lifetime, never the tokens.
func (t Tokens) String() string {
	return fmt.Sprintf("Tokens{%s, expires in %ds, refresh token %t}", t.TokenType, t.ExpiresIn, t.RefreshToken != "")
}

// GoString is String, so that %#v redacts too.
func (t Tokens) GoString() string { return t.String() }

// EncodeAuthResult writes {"AuthenticationResult":{…},"ChallengeParameters":{}}
// with the keys in Cognito's (alphabetical) order; RefreshToken is left out
// when empty, as Cognito does on a refresh.
func EncodeAuthResult(t Tokens) ([]byte, error) {
	var res orderedObject
	res.add("AccessToken", t.AccessToken)
	res.add("ExpiresIn", t.ExpiresIn)
	res.add("IdToken", t.IdToken)
	if t.RefreshToken != "" {
		res.add("RefreshToken", t.RefreshToken)
	}
	res.add("TokenType", t.TokenType)
	var o orderedObject
	o.add("AuthenticationResult", res)
	o.add("ChallengeParameters", orderedObject{})
	return o.MarshalJSON()
}

// ChallengeError is an InitiateAuth answer that names a challenge instead
// of giving tokens. It wraps ErrChallenge.
type ChallengeError struct{ Name string }

func (e *ChallengeError) Error() string {
	return "proglovecloud: authentication challenge " + e.Name + " (a headless link cannot answer it)"
}

// Unwrap returns ErrChallenge.
func (e *ChallengeError) Unwrap() error { return ErrChallenge }

// DecodeAuthResult reads a successful InitiateAuth answer. An answer with
// a ChallengeName is a *ChallengeError; one without AuthenticationResult
// wraps ErrNoResult.
func DecodeAuthResult(b []byte) (Tokens, error) {
	m, err := parseObject(b)
	if err != nil {
		return Tokens{}, err
	}
	if name, err := decodeString("ChallengeName", m["ChallengeName"]); err != nil {
		return Tokens{}, err
	} else if name != "" {
		return Tokens{}, &ChallengeError{Name: name}
	}
	raw := m["AuthenticationResult"]
	if absent(raw) {
		return Tokens{}, ErrNoResult
	}
	if raw[0] != '{' {
		return Tokens{}, wrongType("AuthenticationResult", raw, "object")
	}
	r, err := parseObject(raw)
	if err != nil {
		return Tokens{}, err
	}
	var t Tokens
	for _, f := range []struct {
		key string
		dst *string
	}{{"AccessToken", &t.AccessToken}, {"IdToken", &t.IdToken}, {"RefreshToken", &t.RefreshToken}, {"TokenType", &t.TokenType}} {
		if *f.dst, err = decodeString("AuthenticationResult."+f.key, r[f.key]); err != nil {
			return Tokens{}, err
		}
	}
	if t.ExpiresIn, err = decodeInt("AuthenticationResult.ExpiresIn", r["ExpiresIn"]); err != nil {
		return Tokens{}, err
	}
	return t, nil
}

// CognitoError is Cognito's error answer, {"__type":…,"message":…}, sent
// with HTTP 400 for a refused or malformed request.
type CognitoError struct {
	// Type is the exception name without its namespace
	// ("NotAuthorizedException"; a "…#NotAuthorizedException" is cut).
	Type    string
	Message string
}

func (e *CognitoError) Error() string {
	if e.Message == "" {
		return "cognito: " + e.Type
	}
	return "cognito: " + e.Type + ": " + e.Message
}

// Refused reports whether the error is about the credentials or the
// account (wrong password, unknown user, reset required), which retrying
// cannot fix.
func (e *CognitoError) Refused() bool {
	switch e.Type {
	case NotAuthorized, UserNotFound, UserNotConfirmed, PasswordResetRequired:
		return true
	}
	return false
}

// Temporary reports whether retrying later may succeed.
func (e *CognitoError) Temporary() bool {
	switch e.Type {
	case TooManyRequests, InternalError, "LimitExceededException", "ServiceUnavailableException":
		return true
	}
	return false
}

// EncodeCognitoError writes {"__type":…,"message":…}.
func EncodeCognitoError(e CognitoError) ([]byte, error) {
	var o orderedObject
	o.add("__type", e.Type)
	o.add("message", e.Message)
	return o.MarshalJSON()
}

// DecodeCognitoError reads an error answer. The message key is "message"
// or "Message" (AWS uses both).
func DecodeCognitoError(b []byte) (*CognitoError, error) {
	m, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	var e CognitoError
	if e.Type, err = decodeString("__type", m["__type"]); err != nil {
		return nil, err
	}
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	msgKey := "message"
	if absent(m[msgKey]) {
		msgKey = "Message"
	}
	if e.Message, err = decodeString(msgKey, m[msgKey]); err != nil {
		return nil, err
	}
	if e.Type == "" {
		return nil, &FieldError{Field: "__type", Err: ErrNoType, Detail: "not a Cognito error"}
	}
	return &e, nil
}
