package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Graph stands in for Microsoft Entra ID: the Microsoft identity platform's
// client-credentials token endpoint (/{tenant}/oauth2/v2.0/token, scope
// https://graph.microsoft.com/.default) and the Microsoft Graph v1.0 user
// calls the responder makes (update accountEnabled, revokeSignInSessions,
// read accountEnabled), with Graph's error body ({"error":{code,message}}).
type Graph struct {
	server
	tokenIssuer
	tenant string

	mu    sync.Mutex
	users map[string]*graphUser // by object id
}

type graphUser struct {
	id, upn                    string
	enabled                    bool
	disables, enables, revokes int
}

// GraphScope is the scope a Graph client-credentials token is requested for.
const GraphScope = "https://graph.microsoft.com/.default"

// NewGraph starts the stand-in for directory tenant, accepting clientID and
// secret at its token endpoint.
func NewGraph(tb testing.TB, tenant, clientID, secret string) *Graph {
	tb.Helper()
	f := &Graph{tenant: tenant, users: map[string]*graphUser{}}
	f.tokenIssuer = tokenIssuer{clientID: clientID, secret: secret, scope: GraphScope, expiresIn: 3599}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+tenant+"/oauth2/v2.0/token", f.issue)
	mux.HandleFunc("GET /v1.0/users/{id}", f.get)
	mux.HandleFunc("PATCH /v1.0/users/{id}", f.patch)
	mux.HandleFunc("POST /v1.0/users/{id}/revokeSignInSessions", f.revoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		graphError(w, 400, "BadRequest", "Resource not found for the segment '"+r.URL.Path+"'.")
	})
	f.start(tb, mux)
	return f
}

// TokenURL is the stand-in's token endpoint.
func (f *Graph) TokenURL() string { return f.URL() + "/" + f.tenant + "/oauth2/v2.0/token" }

// GraphURL is the stand-in's Graph v1.0 base URL.
func (f *Graph) GraphURL() string { return f.URL() + "/v1.0" }

// AddUser creates a user with an object id and userPrincipalName.
func (f *Graph) AddUser(id, upn string, enabled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = &graphUser{id: id, upn: upn, enabled: enabled}
}

// Enabled is the user's accountEnabled.
func (f *Graph) Enabled(idOrUPN string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.find(idOrUPN)
	return u != nil && u.enabled
}

// Counts is how many disables (accountEnabled=false), enables and session
// revocations succeeded for the user.
func (f *Graph) Counts(idOrUPN string) (disables, enables, revokes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(idOrUPN); u != nil {
		return u.disables, u.enables, u.revokes
	}
	return 0, 0, 0
}

func (f *Graph) find(key string) *graphUser {
	if u := f.users[key]; u != nil {
		return u
	}
	for _, u := range f.users {
		if strings.EqualFold(u.upn, key) {
			return u
		}
	}
	return nil
}

func (f *Graph) user(w http.ResponseWriter, r *http.Request) *graphUser {
	if !f.check(r) {
		graphError(w, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return nil
	}
	u := f.find(r.PathValue("id"))
	if u == nil {
		graphError(w, 404, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", r.PathValue("id")))
	}
	return u
}

func (f *Graph) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.user(w, r); u != nil {
		writeJSON(w, 200, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled)/$entity",
			"id": u.id, "accountEnabled": u.enabled})
	}
}

func (f *Graph) patch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(w, r)
	if u == nil {
		return
	}
	var body struct {
		AccountEnabled *bool `json:"accountEnabled"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccountEnabled == nil {
		graphError(w, 400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.")
		return
	}
	u.enabled = *body.AccountEnabled
	if u.enabled {
		u.enables++
	} else {
		u.disables++
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Graph) revoke(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.user(w, r); u != nil {
		u.revokes++
		writeJSON(w, 200, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true})
	}
}

// GraphThrottled is Graph's throttling answer: 429 with Retry-After seconds.
func GraphThrottled(seconds int) Fault {
	return Fault{Status: 429, Header: http.Header{"Retry-After": {fmt.Sprint(seconds)}, "Content-Type": {"application/json"}},
		Body: `{"error":{"code":"TooManyRequests","message":"Too many requests. Please retry after some time."}}`}
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": "2026-11-03T07:00:00", "request-id": "fake", "client-request-id": "fake"}}})
}
