package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
)

// Dataverse stands in for a Dynamics 365 (Dataverse) environment: the
// Microsoft identity platform token endpoint (scope <environment>/.default),
// the Web API's systemusers entity set (read and update isdisabled), and
// tables added with AddTable (their definitions under EntityDefinitions,
// their rows read with $select and updated with PATCH; see
// dataverse_records.go), with Dataverse's error body
// ({"error":{code,message}}) and its update-not-upsert rule (If-Match: *
// on a missing row is 404).
type Dataverse struct {
	server
	tokenIssuer
	tenant string

	mu     sync.Mutex
	users  map[string]*dvUser
	tables map[string]*dvTable // by logical name
}

type dvUser struct {
	disabled          bool
	disables, enables int
}

// NewDataverse starts the stand-in for directory tenant, accepting clientID
// and secret at its token endpoint.
func NewDataverse(tb testing.TB, tenant, clientID, secret string) *Dataverse {
	tb.Helper()
	f := &Dataverse{tenant: tenant, users: map[string]*dvUser{}}
	f.tokenIssuer = tokenIssuer{clientID: clientID, secret: secret, expiresIn: 3599}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+tenant+"/oauth2/v2.0/token", f.issue)
	mux.HandleFunc("GET /api/data/v9.2/{entity}", f.get)
	mux.HandleFunc("PATCH /api/data/v9.2/{entity}", f.patch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		dvError(w, 404, "0x8006088a", "Resource not found for the segment '"+r.URL.Path+"'.")
	})
	f.start(tb, mux)
	// The scope names the environment, which is this server.
	f.setScope(f.URL() + "/.default")
	return f
}

// TokenURL is the stand-in's token endpoint.
func (f *Dataverse) TokenURL() string { return f.URL() + "/" + f.tenant + "/oauth2/v2.0/token" }

// AddUser creates a systemuser row.
func (f *Dataverse) AddUser(id string, disabled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = &dvUser{disabled: disabled}
}

// Disabled is the user's isdisabled.
func (f *Dataverse) Disabled(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[id]
	return u != nil && u.disabled
}

// Counts is how many updates disabled and enabled the user.
func (f *Dataverse) Counts(id string) (disables, enables int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[id]; u != nil {
		return u.disables, u.enables
	}
	return 0, 0
}

var dvSystemUser = regexp.MustCompile(`^systemusers\(([0-9a-fA-F-]{36})\)$`)

func (f *Dataverse) row(w http.ResponseWriter, r *http.Request) (string, *dvUser) {
	if !f.check(r) {
		dvError(w, 401, "0x80072182", "Bearer token is expired or invalid.")
		return "", nil
	}
	m := dvSystemUser.FindStringSubmatch(r.PathValue("entity"))
	if m == nil {
		dvError(w, 400, "0x80060888", "Bad Request - Error in query syntax.")
		return "", nil
	}
	u := f.users[m[1]]
	if u == nil {
		dvError(w, 404, "0x80040217", fmt.Sprintf("systemuser With Ids = %s Do Not Exist", m[1]))
	}
	return m[1], u
}

func (f *Dataverse) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.records(w, r) {
		return
	}
	if id, u := f.row(w, r); u != nil {
		writeJSON(w, 200, map[string]any{"@odata.etag": `W/"1"`, "systemuserid": id, "isdisabled": u.disabled})
	}
}

func (f *Dataverse) patch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.records(w, r) {
		return
	}
	_, u := f.row(w, r)
	if u == nil {
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		dvError(w, 400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'systemusers'")
		return
	}
	raw, ok := body["isdisabled"]
	var disabled bool
	if !ok || len(body) != 1 || json.Unmarshal(raw, &disabled) != nil {
		dvError(w, 400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'systemusers'")
		return
	}
	u.disabled = disabled
	if disabled {
		u.disables++
	} else {
		u.enables++
	}
	w.WriteHeader(http.StatusNoContent)
}

// DataverseThrottled is a service-protection limit answer: 429 with
// Retry-After seconds.
func DataverseThrottled(seconds int) Fault {
	return Fault{Status: 429, Header: http.Header{"Retry-After": {fmt.Sprint(seconds)}, "Content-Type": {"application/json"}},
		Body: `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}`}
}

func dvError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
