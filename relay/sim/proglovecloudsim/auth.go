package proglovecloudsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/proglovecloud"
)

// serveAuthInformation answers GET /auth-information?id=CUSTOMER with the
// customer's user pool, under the vendor's "customer_id:" key.
func (s *Simulator) serveAuthInformation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, []byte(`{"message":"Method Not Allowed"}`))
		return
	}
	switch id := r.URL.Query().Get("id"); {
	case id == "":
		writeJSON(w, http.StatusBadRequest, []byte(`{"message":"Missing required request parameters: [id]"}`))
		return
	case id != s.cfg.CustomerID:
		writeJSON(w, http.StatusNotFound, []byte(`{"message":"Customer not found"}`))
		return
	}
	b, err := proglovecloud.EncodeAuthInformation(proglovecloud.AuthInformation{
		Region: s.cfg.Region, CustomerID: s.cfg.CustomerID,
		UserPoolClientID: s.cfg.ClientID, UserPoolID: s.cfg.UserPoolID,
	})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, []byte(`{"message":"Internal server error"}`))
		return
	}
	s.count(func(st *Stats) { st.AuthInfo++ })
	writeJSON(w, http.StatusOK, b)
}

// cognitoError answers 400 with Cognito's error shape.
func (s *Simulator) cognitoError(w http.ResponseWriter, typ, msg string) {
	s.count(func(st *Stats) { st.AuthFailures++ })
	b, _ := proglovecloud.EncodeCognitoError(proglovecloud.CognitoError{Type: typ, Message: msg})
	w.Header().Set("Content-Type", proglovecloud.ContentTypeAmzJSON)
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// serveInitiateAuth answers Cognito's InitiateAuth for USER_PASSWORD_AUTH
// and REFRESH_TOKEN_AUTH, checking the request as Cognito does.
func (s *Simulator) serveInitiateAuth(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != proglovecloud.ContentTypeAmzJSON {
		s.cognitoError(w, proglovecloud.Serialization, "Content-Type must be "+proglovecloud.ContentTypeAmzJSON)
		return
	}
	if tgt := r.Header.Get("X-Amz-Target"); tgt != proglovecloud.TargetInitiateAuth {
		s.cognitoError(w, proglovecloud.UnknownOperation, "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAuthBody+1))
	if err != nil || len(body) > maxAuthBody {
		s.cognitoError(w, proglovecloud.Serialization, "request body unreadable or too large")
		return
	}
	req, err := proglovecloud.DecodeInitiateAuth(body)
	if err != nil {
		var fe *proglovecloud.FieldError
		switch {
		case errors.Is(err, proglovecloud.ErrBadRequest) && errors.As(err, &fe):
			s.cognitoError(w, proglovecloud.InvalidParameter, "Missing or invalid parameter "+fe.Field)
		default:
			s.cognitoError(w, proglovecloud.Serialization, "Start of structure or map found where not expected.")
		}
		return
	}
	if req.ClientID != s.cfg.ClientID {
		s.cognitoError(w, proglovecloud.ResourceNotFound, "User pool client "+req.ClientID+" does not exist.")
		return
	}
	s.mu.Lock()
	var ok bool
	if req.AuthFlow == proglovecloud.FlowUserPassword {
		ok = req.Username == s.cfg.Username && req.Password == s.password
	} else {
		ok = s.refresh[req.RefreshToken]
	}
	s.mu.Unlock()
	if !ok {
		msg := "Incorrect username or password."
		if req.AuthFlow == proglovecloud.FlowRefreshToken {
			msg = "Invalid Refresh Token"
		}
		s.cognitoError(w, proglovecloud.NotAuthorized, msg)
		return
	}
	tok := s.issue(req.AuthFlow == proglovecloud.FlowUserPassword)
	b, err := proglovecloud.EncodeAuthResult(tok)
	if err != nil {
		s.cognitoError(w, proglovecloud.InternalError, "")
		return
	}
	s.count(func(st *Stats) {
		if req.AuthFlow == proglovecloud.FlowUserPassword {
			st.Logins++
		} else {
			st.Refreshes++
		}
	})
	w.Header().Set("Content-Type", proglovecloud.ContentTypeAmzJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// issue mints an IdToken and an AccessToken, and a refresh token when
// withRefresh (a login; a refresh answer has none, as with Cognito).
func (s *Simulator) issue(withRefresh bool) proglovecloud.Tokens {
	now := s.cfg.Now()
	exp := now.Add(s.cfg.TokenLifetime)
	t := proglovecloud.Tokens{
		AccessToken: jwtLike(TokenAccess, s.cfg.ClientID, now, exp),
		IdToken:     jwtLike(TokenID, s.cfg.ClientID, now, exp),
		ExpiresIn:   int64(math.Ceil(s.cfg.TokenLifetime.Seconds())),
		TokenType:   "Bearer",
	}
	if withRefresh {
		t.RefreshToken = opaque(96)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.tokens {
		if !now.Before(v.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[t.AccessToken] = issued{use: TokenAccess, expires: exp}
	s.tokens[t.IdToken] = issued{use: TokenID, expires: exp}
	if withRefresh {
		s.refresh[t.RefreshToken] = true
	}
	return t
}

// jwtLike returns a token shaped like Cognito's (header.claims.signature,
// base64url), with a random signature that only this simulator checks.
func jwtLike(use, clientID string, iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"kid": "proglovecloudsim", "alg": "RS256"})
	claims, _ := json.Marshal(map[string]any{
		"token_use": use, "client_id": clientID, "iat": iat.Unix(), "exp": exp.Unix(),
		"jti": opaque(16),
	})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + opaque(32)
}

func opaque(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetPassword changes the user's password; logins with the old one fail
// with NotAuthorizedException from now on.
func (s *Simulator) SetPassword(pw string) {
	s.mu.Lock()
	s.password = pw
	s.mu.Unlock()
}

// RevokeTokens makes every IdToken and AccessToken issued so far invalid:
// upgrades with them are refused with 401 (refresh tokens still work).
// Open connections are not affected, as with API Gateway.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// RevokeRefreshTokens makes every refresh token invalid: REFRESH_TOKEN_AUTH
// fails with NotAuthorizedException until the client logs in again.
func (s *Simulator) RevokeRefreshTokens() {
	s.mu.Lock()
	clear(s.refresh)
	s.mu.Unlock()
}
