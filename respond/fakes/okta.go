package fakes

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Okta stands in for an Okta org's Users and User Lifecycle APIs with SSWS
// API-token authentication, Okta's error body ({errorCode, errorSummary,
// errorCauses}) and its rate-limit headers on every response.
type Okta struct {
	server
	token string

	mu    sync.Mutex
	users map[string]*oktaUser // by id
}

type oktaUser struct {
	id, login, status    string
	suspends, unsuspends int
}

// NewOkta starts the stand-in; token is the API token it accepts.
func NewOkta(tb testing.TB, token string) *Okta {
	tb.Helper()
	f := &Okta{token: token, users: map[string]*oktaUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/users/{id}", f.get)
	mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/suspend", f.lifecycle("ACTIVE", "SUSPENDED", "Cannot suspend a user that is not active"))
	mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/unsuspend", f.lifecycle("SUSPENDED", "ACTIVE", "Cannot unsuspend a user that is not suspended"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		oktaError(w, 404, "E0000022", "The endpoint does not support the provided HTTP method")
	})
	f.start(tb, mux)
	return f
}

// AddUser creates a user with an Okta id, a login and a status (ACTIVE,
// SUSPENDED, STAGED, DEPROVISIONED, …).
func (f *Okta) AddUser(id, login, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = &oktaUser{id: id, login: login, status: status}
}

// Status is the user's status ("" if unknown).
func (f *Okta) Status(idOrLogin string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(idOrLogin); u != nil {
		return u.status
	}
	return ""
}

// Suspends is how many suspend calls succeeded for the user.
func (f *Okta) Suspends(idOrLogin string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(idOrLogin); u != nil {
		return u.suspends
	}
	return 0
}

// Unsuspends is how many unsuspend calls succeeded for the user.
func (f *Okta) Unsuspends(idOrLogin string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(idOrLogin); u != nil {
		return u.unsuspends
	}
	return 0
}

// find resolves an id, a login, or a login's short name, as Okta's {id}
// path parameter does.
func (f *Okta) find(key string) *oktaUser {
	if u := f.users[key]; u != nil {
		return u
	}
	for _, u := range f.users {
		short, _, _ := strings.Cut(u.login, "@")
		if strings.EqualFold(u.login, key) || strings.EqualFold(short, key) {
			return u
		}
	}
	return nil
}

func (f *Okta) authorize(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", "600")
	h.Set("X-Rate-Limit-Remaining", "599")
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	if r.Header.Get("Authorization") != "SSWS "+f.token {
		oktaError(w, 401, "E0000011", "Invalid token provided")
		return false
	}
	return true
}

func (f *Okta) get(w http.ResponseWriter, r *http.Request) {
	if !f.authorize(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.find(r.PathValue("id"))
	if u == nil {
		oktaError(w, 404, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (User)", r.PathValue("id")))
		return
	}
	writeJSON(w, 200, map[string]any{"id": u.id, "status": u.status, "profile": map[string]any{"login": u.login}})
}

func (f *Okta) lifecycle(from, to, refusal string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.authorize(w, r) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		u := f.find(r.PathValue("id"))
		if u == nil {
			oktaError(w, 404, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (User)", r.PathValue("id")))
			return
		}
		if u.status != from {
			writeJSON(w, 400, map[string]any{"errorCode": "E0000001", "errorSummary": "Api validation failed: status",
				"errorId": "oae-fake", "errorCauses": []map[string]string{{"errorSummary": refusal}}})
			return
		}
		u.status = to
		if to == "SUSPENDED" {
			u.suspends++
		} else {
			u.unsuspends++
		}
		writeJSON(w, 200, map[string]any{})
	}
}

// OktaRateLimited is Okta's 429: E0000047 with X-Rate-Limit-Reset at reset.
func OktaRateLimited(reset time.Time) Fault {
	return Fault{Status: 429, Header: http.Header{
		"Content-Type":           {"application/json"},
		"X-Rate-Limit-Limit":     {"600"},
		"X-Rate-Limit-Remaining": {"0"},
		"X-Rate-Limit-Reset":     {strconv.FormatInt(reset.Unix(), 10)},
	}, Body: `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae-fake","errorCauses":[]}`}
}

func oktaError(w http.ResponseWriter, status int, code, summary string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae-fake", "errorCauses": []any{}})
}
