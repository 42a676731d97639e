package navixysim

import (
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

// maxBody bounds a REST request body.
const maxBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeAPIError(w http.ResponseWriter, code int) {
	writeJSON(w, navixy.HTTPStatus(code), navixy.EncodeAPIError(navixy.StatusFor(code)))
}

// params reads a REST call's parameters the ways the vendor accepts them:
// a JSON body, a form body, or the query. ok is false for a body that is
// neither JSON nor a form.
func params(w http.ResponseWriter, r *http.Request) (form url.Values, jsonBody []byte, ok bool) {
	if r.Method != http.MethodPost {
		return r.URL.Query(), nil, true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, nil, false
		}
		return r.URL.Query(), b, true
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil, nil, false
	}
	return r.Form, nil, true
}

func (s *Simulator) serveAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeAPIError(w, navixy.CodeWrongMethod)
		return
	}
	form, body, ok := params(w, r)
	if !ok {
		s.authFailed(w, navixy.CodeBadFormat)
		return
	}
	var req navixy.AuthRequest
	var err error
	if body != nil {
		req, err = navixy.DecodeAuthJSON(body)
	} else {
		req, err = navixy.ParseAuthForm(form)
	}
	if err != nil {
		s.authFailed(w, navixy.CodeBadFormat)
		return
	}
	if req.Login == "" || !navixy.ValidPassword(req.Password) {
		s.authFailed(w, navixy.CodeInvalidParams)
		return
	}
	s.mu.Lock()
	var user *User
	for i := range s.cfg.users {
		if u := &s.cfg.users[i]; u.Login == req.Login && u.Password == req.Password {
			user = u
		}
	}
	switch {
	case user == nil:
		s.mu.Unlock()
		s.authFailed(w, navixy.CodeWrongLogin)
		return
	case user.NotActivated:
		s.mu.Unlock()
		s.authFailed(w, navixy.CodeNotActivated)
		return
	}
	hash := s.newHashLocked(user.Login)
	s.stats.Auths++
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, navixy.EncodeAuthResult(navixy.AuthResult{Hash: hash}))
}

func (s *Simulator) authFailed(w http.ResponseWriter, code int) {
	s.mu.Lock()
	s.stats.AuthFailures++
	s.notifyLocked()
	s.mu.Unlock()
	writeAPIError(w, code)
}

func (s *Simulator) serveTrackerList(w http.ResponseWriter, r *http.Request) {
	form, body, ok := params(w, r)
	if !ok {
		writeAPIError(w, navixy.CodeBadFormat)
		return
	}
	hash := form.Get("hash")
	if body != nil && hash == "" {
		a, err := navixy.DecodeAction(body) // {"hash":…} reads as an action without one
		if err != nil {
			writeAPIError(w, navixy.CodeBadFormat)
			return
		}
		hash = a.Hash
	}
	s.mu.Lock()
	if code := s.checkHashLocked(hash); code != 0 {
		s.mu.Unlock()
		writeAPIError(w, code)
		return
	}
	list := make([]navixy.Tracker, 0, len(s.order))
	for _, id := range s.order {
		t := s.trackers[id]
		list = append(list, navixy.Tracker{ID: t.ID, Label: t.Label, Source: navixy.Source{
			ID: t.SourceID, DeviceID: t.DeviceID, Model: t.Model, Blocked: t.Status == navixy.TrackerBlocked,
		}})
	}
	s.stats.TrackerLists++
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, navixy.EncodeTrackerList(list))
}
