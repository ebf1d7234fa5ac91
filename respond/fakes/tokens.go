package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// tokenIssuer is an OAuth 2.0 client-credentials token endpoint and the
// bearer-token check of the API behind it: tokens it issued are valid until
// Expire makes them all stale, as a revoked or timed-out session is.
type tokenIssuer struct {
	clientID, secret string
	scope            string // required scope; empty: any
	expiresIn        int    // 0: omit expires_in (Salesforce)
	extra            func() map[string]any

	mu     sync.Mutex
	n      int
	valid  map[string]bool
	issued int
}

// issue answers a token request (RFC 6749 §4.4.2, §5.1, §5.2).
func (ti *tokenIssuer) issue(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeJSON(w, 400, map[string]any{"error": "invalid_request", "error_description": "POST a form"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	if r.PostForm.Get("client_id") != ti.clientID || r.PostForm.Get("client_secret") != ti.secret {
		writeJSON(w, 400, map[string]any{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	ti.mu.Lock()
	scope := ti.scope
	ti.mu.Unlock()
	if scope != "" && r.PostForm.Get("scope") != scope {
		writeJSON(w, 400, map[string]any{"error": "invalid_scope", "error_description": "scope must be " + scope})
		return
	}
	ti.mu.Lock()
	ti.n++
	ti.issued++
	tok := fmt.Sprintf("tok-%d", ti.n)
	if ti.valid == nil {
		ti.valid = map[string]bool{}
	}
	ti.valid[tok] = true
	ti.mu.Unlock()
	body := map[string]any{"access_token": tok, "token_type": "Bearer"}
	if ti.expiresIn > 0 {
		body["expires_in"] = ti.expiresIn
	}
	if ti.extra != nil {
		for k, v := range ti.extra() {
			body[k] = v
		}
	}
	writeJSON(w, 200, body)
}

func (ti *tokenIssuer) setScope(s string) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.scope = s
}

// check reports whether r carries a live bearer token.
func (ti *tokenIssuer) check(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ok && ti.valid[tok]
}

// Expire invalidates every token issued so far.
func (ti *tokenIssuer) Expire() {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.valid = map[string]bool{}
}

// TokensIssued is how many tokens the endpoint handed out.
func (ti *tokenIssuer) TokensIssued() int {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.issued
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
