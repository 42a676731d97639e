package proglovecloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	insight "github.com/fieldrelay/fieldrelay/proto/proglovecloud"
)

// maxAuthResponse bounds what is read of an authentication answer.
const maxAuthResponse = 64 << 10

// RefusedError is an authentication or upgrade refusal that retrying soon
// cannot fix: wrong credentials, an unknown customer or client, a
// challenge, or a socket that keeps refusing fresh tokens. The link
// reports it as failed and waits Config.FailedRetry. Reason never holds a
// secret.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// authState is the link's Cognito session. Only one goroutine at a time
// uses it (Run's, or the one preparing a handover); mu guards it for the
// scrubbing of logs, which may read it from anywhere.
type authState struct {
	clientID   string
	cognitoURL string
	tokens     insight.Tokens
	obtained   time.Time
}

// lifetime is how long the tokens last (ExpiresIn; 1 h if not given).
func (a *authState) lifetime() time.Duration {
	if a.tokens.ExpiresIn <= 0 {
		return time.Hour
	}
	return time.Duration(a.tokens.ExpiresIn) * time.Second
}

// refreshAt is when to get new tokens: RefreshBefore ahead of expiry, but
// not before half the lifetime has passed.
func (l *Link) refreshAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	life := l.auth.lifetime()
	ahead := min(time.Duration(l.cfg.RefreshBefore), life/2)
	return l.auth.obtained.Add(life - ahead)
}

// socketToken returns the token the socket URL takes.
func (l *Link) socketToken() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.TokenKind == TokenAccess {
		return l.auth.tokens.AccessToken
	}
	return l.auth.tokens.IdToken
}

// ensureToken makes sure there is a token that is not yet due for refresh:
// it logs in when there is none, refreshes when it is due (or force), and
// logs in again when the refresh token is refused.
func (l *Link) ensureToken(ctx context.Context, force bool) error {
	l.mu.Lock()
	have, refresh := l.auth.tokens.IdToken != "" || l.auth.tokens.AccessToken != "", l.auth.tokens.RefreshToken
	l.mu.Unlock()
	if have && !force && time.Now().Before(l.refreshAt()) {
		return nil
	}
	if err := l.resolvePool(ctx); err != nil {
		return err
	}
	if have && refresh != "" {
		err := l.initiateAuth(ctx, insight.InitiateAuth{AuthFlow: insight.FlowRefreshToken, RefreshToken: refresh})
		var ce *insight.CognitoError
		if err == nil || !errors.As(err, &ce) || !ce.Refused() {
			if err == nil {
				l.refreshes.Add(1)
			}
			return err
		}
		l.log.Info("proglovecloud: refresh token refused, logging in again", "link", l.cfg.Name, "err", l.scrub(err.Error()))
	}
	if err := l.initiateAuth(ctx, insight.InitiateAuth{AuthFlow: insight.FlowUserPassword, Username: l.cfg.Username, Password: l.cfg.Password}); err != nil {
		var ce *insight.CognitoError
		if errors.As(err, &ce) {
			return &RefusedError{Reason: "login refused: " + l.scrub(ce.Error())}
		}
		return err
	}
	l.logins.Add(1)
	return nil
}

// resolvePool finds the user pool client id and the Cognito endpoint,
// asking /auth-information once when the configuration does not say.
func (l *Link) resolvePool(ctx context.Context) error {
	l.mu.Lock()
	done := l.auth.clientID != "" && l.auth.cognitoURL != ""
	l.mu.Unlock()
	if done {
		return nil
	}
	clientID, region := l.cfg.ClientID, l.cfg.Region
	if clientID == "" || (region == "" && l.cfg.CognitoURL == "") {
		info, err := l.authInformation(ctx)
		if err != nil {
			return err
		}
		if clientID == "" {
			clientID = info.UserPoolClientID
		}
		if region == "" {
			region = info.Region
		}
		if clientID == "" || (region == "" && l.cfg.CognitoURL == "") {
			return &RefusedError{Reason: "auth-information names no user pool client or region"}
		}
	}
	cognito := l.cfg.CognitoURL
	if cognito == "" {
		cognito = "https://cognito-idp." + region + ".amazonaws.com/"
	}
	l.mu.Lock()
	l.auth.clientID, l.auth.cognitoURL = clientID, cognito
	l.mu.Unlock()
	return nil
}

func (l *Link) authInformation(ctx context.Context) (insight.AuthInformation, error) {
	u := strings.TrimSuffix(l.cfg.AuthURL, "/") + "/auth-information?id=" + url.QueryEscape(l.cfg.CustomerID)
	status, body, err := l.do(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return insight.AuthInformation{}, fmt.Errorf("auth-information: %w", err)
	}
	switch {
	case status == http.StatusNotFound || status == http.StatusBadRequest || status == http.StatusForbidden:
		return insight.AuthInformation{}, &RefusedError{Reason: fmt.Sprintf("auth-information refused the customer id (HTTP %d)", status)}
	case status != http.StatusOK:
		return insight.AuthInformation{}, fmt.Errorf("auth-information: HTTP %d", status)
	}
	info, err := insight.DecodeAuthInformation(body)
	if err != nil {
		return insight.AuthInformation{}, fmt.Errorf("auth-information answer: %w", err)
	}
	return info, nil
}

// initiateAuth runs one InitiateAuth and keeps the tokens it returns. A
// refusal is a *insight.CognitoError.
func (l *Link) initiateAuth(ctx context.Context, req insight.InitiateAuth) error {
	l.mu.Lock()
	req.ClientID = l.auth.clientID
	endpoint := l.auth.cognitoURL
	l.mu.Unlock()
	body, err := insight.EncodeInitiateAuth(req)
	if err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {insight.ContentTypeAmzJSON}, "X-Amz-Target": {insight.TargetInitiateAuth}}
	status, answer, err := l.do(ctx, http.MethodPost, endpoint, hdr, body)
	if err != nil {
		return fmt.Errorf("%s: %w", req.AuthFlow, err)
	}
	if status != http.StatusOK {
		if ce, derr := insight.DecodeCognitoError(answer); derr == nil {
			if status >= 500 || ce.Temporary() {
				return fmt.Errorf("%s: HTTP %d: %s", req.AuthFlow, status, ce.Error())
			}
			return ce
		}
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
			return &RefusedError{Reason: fmt.Sprintf("%s refused with HTTP %d", req.AuthFlow, status)}
		}
		return fmt.Errorf("%s: HTTP %d", req.AuthFlow, status)
	}
	tok, err := insight.DecodeAuthResult(answer)
	if err != nil {
		if errors.Is(err, insight.ErrChallenge) {
			return &RefusedError{Reason: "login needs an interactive step: " + err.Error()}
		}
		return fmt.Errorf("%s answer: %w", req.AuthFlow, err)
	}
	if tok.IdToken == "" && tok.AccessToken == "" {
		return fmt.Errorf("%s answer holds no token", req.AuthFlow)
	}
	l.mu.Lock()
	if tok.RefreshToken == "" { // a refresh answer: keep the login's
		tok.RefreshToken = l.auth.tokens.RefreshToken
	}
	l.rememberSecretsLocked(tok)
	l.auth.tokens = tok
	l.auth.obtained = time.Now()
	l.mu.Unlock()
	return nil
}

// do makes one HTTP request bounded by DialTimeout and returns the status
// and (bounded) body.
func (l *Link) do(ctx context.Context, method, u string, hdr http.Header, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(l.cfg.DialTimeout))
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := l.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAuthResponse))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// rememberSecretsLocked keeps the tokens (this and the previous set) that
// scrub must remove from any text.
func (l *Link) rememberSecretsLocked(t insight.Tokens) {
	l.secrets = append(l.secrets[:0:0], l.cfg.Password)
	for _, s := range []string{t.IdToken, t.AccessToken, t.RefreshToken, l.auth.tokens.IdToken, l.auth.tokens.AccessToken, l.auth.tokens.RefreshToken} {
		if s != "" {
			l.secrets = append(l.secrets, s)
		}
	}
}

// scrub removes every secret the link knows from s: the password and the
// tokens, raw or URL-escaped.
func (l *Link) scrub(s string) string {
	l.mu.Lock()
	secrets := append([]string(nil), l.secrets...)
	l.mu.Unlock()
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, "REDACTED")
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, "REDACTED")
		}
	}
	return s
}
