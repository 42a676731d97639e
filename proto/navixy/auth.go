package navixy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// AuthRequest is the user/auth call's parameters.
type AuthRequest struct {
	Login    string
	Password string
	// DealerID is optional (0 = not sent): it picks the dealer whose
	// platform the login belongs to on shared servers.
	DealerID int64
}

// Form returns the request as form values (POST
// application/x-www-form-urlencoded, or a GET query).
func (r AuthRequest) Form() url.Values {
	v := url.Values{"login": {r.Login}, "password": {r.Password}}
	if r.DealerID != 0 {
		v.Set("dealer_id", strconv.FormatInt(r.DealerID, 10))
	}
	return v
}

// JSON returns the request as a JSON body: {"login":…,"password":…[,"dealer_id":…]}.
func (r AuthRequest) JSON() []byte {
	w := &writer{}
	w.open('{')
	w.str("login", r.Login)
	w.str("password", r.Password)
	if r.DealerID != 0 {
		w.integer("dealer_id", r.DealerID)
	}
	w.close('}')
	return w.b
}

// ParseAuthForm reads an AuthRequest from form values (as a server
// receives a form POST or a GET). A dealer_id that is not an integer is an
// ErrBadNumber.
func ParseAuthForm(v url.Values) (AuthRequest, error) {
	r := AuthRequest{Login: v.Get("login"), Password: v.Get("password")}
	if d := strings.TrimSpace(v.Get("dealer_id")); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return r, &FieldError{Field: "dealer_id", Err: ErrBadNumber, Cause: err}
		}
		r.DealerID = n
	}
	return r, nil
}

// DecodeAuthJSON reads an AuthRequest from a JSON body. dealer_id may be a
// number or a numeric string.
func DecodeAuthJSON(b []byte) (AuthRequest, error) {
	var r AuthRequest
	var w struct {
		Login    json.RawMessage `json:"login"`
		Password json.RawMessage `json:"password"`
		DealerID json.RawMessage `json:"dealer_id"`
	}
	if err := parseObject("", b, &w); err != nil {
		return r, err
	}
	var err error
	if r.Login, err = decodeString("login", w.Login); err != nil {
		return r, err
	}
	if r.Password, err = decodeString("password", w.Password); err != nil {
		return r, err
	}
	if r.DealerID, err = decodeInt("dealer_id", w.DealerID); err != nil {
		return r, err
	}
	return r, nil
}

// ValidPassword reports whether p meets the vendor's rule: 1 to 40
// printable characters.
func ValidPassword(p string) bool {
	n := 0
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
		n++
	}
	return n >= 1 && n <= 40
}

// ValidHash reports whether h looks like a session or API key hash: 32
// hexadecimal characters.
func ValidHash(h string) bool {
	if len(h) != 32 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// AuthResult is a successful user/auth answer.
type AuthResult struct {
	Hash string
	// Type is "authenticated" on newer servers, "" on older ones.
	Type string
}

// EncodeAuthResult writes {"success":true,"hash":…} (with "type" after
// the hash when set).
func EncodeAuthResult(r AuthResult) []byte {
	w := &writer{}
	w.open('{')
	w.boolean("success", true)
	w.str("hash", r.Hash)
	if r.Type != "" {
		w.str("type", r.Type)
	}
	w.close('}')
	return w.b
}

// EncodeAPIError writes a REST error answer exactly as the vendor does:
// {"success":false,"status":{"code":102,"description":"Wrong login or password"}}.
func EncodeAPIError(st Status) []byte {
	w := &writer{}
	w.open('{')
	w.boolean("success", false)
	writeStatus(w, st)
	w.close('}')
	return w.b
}

// wireAnswer is the envelope of every REST answer.
type wireAnswer struct {
	Success json.RawMessage `json:"success"`
	Status  json.RawMessage `json:"status"`
	Hash    json.RawMessage `json:"hash"`
	Type    json.RawMessage `json:"type"`
	List    json.RawMessage `json:"list"`
}

// decodeAnswer reads a REST answer's envelope and turns "success":false
// into an *APIError.
func decodeAnswer(b []byte) (*wireAnswer, error) {
	var w wireAnswer
	if err := parseObject("", b, &w); err != nil {
		return nil, err
	}
	ok, err := decodeBool("success", w.Success)
	if err != nil {
		return nil, err
	}
	if !ok {
		var st Status
		if !absent(w.Status) {
			if st, err = decodeStatus("status", w.Status); err != nil {
				return nil, err
			}
		}
		if absent(w.Success) && absent(w.Status) {
			return nil, &FieldError{Field: "success", Err: ErrMissing}
		}
		return nil, &APIError{Status: st}
	}
	return &w, nil
}

// DecodeAuthResult reads the user/auth answer. "success":false gives an
// *APIError with the vendor's status (102 wrong login or password, 103 not
// activated, …); a success without a hash is an ErrMissing.
func DecodeAuthResult(b []byte) (AuthResult, error) {
	var r AuthResult
	w, err := decodeAnswer(b)
	if err != nil {
		return r, err
	}
	if r.Hash, err = decodeString("hash", w.Hash); err != nil {
		return r, err
	}
	if strings.TrimSpace(r.Hash) == "" {
		return r, &FieldError{Field: "hash", Err: ErrMissing}
	}
	if r.Type, err = decodeString("type", w.Type); err != nil {
		return r, err
	}
	return r, nil
}

// DecodeAPIError reads b as a REST error answer; it returns nil if b is a
// success, and a decoding error if b is not an answer at all.
func DecodeAPIError(b []byte) error {
	_, err := decodeAnswer(b)
	return err
}

// String describes the status for logs and link statuses.
func (st Status) String() string {
	return fmt.Sprintf("%d %s", st.Code, st.Description)
}
