package chserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticate finds the request's user the ways a ClickHouse server does:
// HTTP basic auth, the X-ClickHouse-User/X-ClickHouse-Key headers, or the
// user/password URL parameters; none of them means the user default.
// Passwords are compared as SHA-256 digests in constant time, and an
// unknown user costs the same comparison as a wrong password.
func (s *Server) authenticate(r *http.Request) (*principal, *exception) {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "Bearer ") {
		ex := s.codes.raise("AUTHENTICATION_FAILED", "Authentication failed: bearer tokens (JWT) are a ClickHouse Cloud feature; the embedded server takes a user name and password")
		ex.unauthorized = true
		return nil, ex
	}
	name, pass, basic := r.BasicAuth()
	if !basic {
		name = r.Header.Get("X-ClickHouse-User")
		pass = r.Header.Get("X-ClickHouse-Key")
		if name == "" && pass == "" {
			q := r.URL.Query()
			name, pass = q.Get("user"), q.Get("password")
		}
	}
	if name == "" {
		name = "default"
	}
	sum := sha256.Sum256([]byte(pass))
	u, ok := s.users[name]
	want := s.dummyHash[:]
	if ok && u.hash != nil {
		want = u.hash
	}
	match := subtle.ConstantTimeCompare(sum[:], want) == 1
	if ok && u.hash == nil {
		match = pass == ""
	}
	if !ok || !match {
		return nil, s.codes.raise("AUTHENTICATION_FAILED", "%s: Authentication failed: password is incorrect, or there is no user with such name", name)
	}
	return u, nil
}
