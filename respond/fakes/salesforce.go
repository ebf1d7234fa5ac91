package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
)

// Salesforce stands in for a Salesforce org: the OAuth 2.0 client-credentials
// token endpoint (/services/oauth2/token, which returns instance_url and no
// expires_in) and the REST API's SOQL query and sObject update for UserLogin,
// with Salesforce's error bodies ([{"message","errorCode"}]).
type Salesforce struct {
	server
	tokenIssuer

	mu     sync.Mutex
	logins map[string]*sfLogin // by UserLogin Id
	byUser map[string]string   // UserId → UserLogin Id
	calls  int
}

type sfLogin struct {
	id, userID string
	frozen     bool
	freezes    int
	unfreezes  int
}

// NewSalesforce starts the stand-in; clientID and secret are the credentials
// its token endpoint accepts.
func NewSalesforce(tb testing.TB, clientID, secret string) *Salesforce {
	tb.Helper()
	f := &Salesforce{logins: map[string]*sfLogin{}, byUser: map[string]string{}}
	f.tokenIssuer = tokenIssuer{clientID: clientID, secret: secret,
		extra: func() map[string]any {
			return map[string]any{"instance_url": f.URL(), "issued_at": "1700000000000", "signature": "c2ln", "token_format": "opaque"}
		}}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/oauth2/token", f.issue)
	mux.HandleFunc("GET /services/data/{version}/query", f.query)
	mux.HandleFunc("PATCH /services/data/{version}/sobjects/UserLogin/{id}", f.patch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
	})
	f.start(tb, mux)
	return f
}

// AddUser creates a user (and its UserLogin row) and returns the UserLogin Id.
func (f *Salesforce) AddUser(userID string, frozen bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("060%012d", len(f.logins)+1)
	f.logins[id] = &sfLogin{id: id, userID: userID, frozen: frozen}
	f.byUser[userID] = id
	return id
}

// IsFrozen is the user's current IsFrozen.
func (f *Salesforce) IsFrozen(userID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.logins[f.byUser[userID]]; l != nil {
		return l.frozen
	}
	return false
}

// Freezes is how many successful updates set IsFrozen=true for the user.
func (f *Salesforce) Freezes(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.logins[f.byUser[userID]]; l != nil {
		return l.freezes
	}
	return 0
}

// Unfreezes is how many successful updates set IsFrozen=false for the user.
func (f *Salesforce) Unfreezes(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.logins[f.byUser[userID]]; l != nil {
		return l.unfreezes
	}
	return 0
}

var (
	sfVersion = regexp.MustCompile(`^v\d+\.\d$`)
	// The one query the adapter sends; anything else is MALFORMED_QUERY here.
	sfUserLoginQuery = regexp.MustCompile(`(?i)^SELECT\s+Id\s*,\s*IsFrozen\s+FROM\s+UserLogin\s+WHERE\s+UserId\s*=\s*'([^'\\]*)'$`)
)

func (f *Salesforce) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !sfVersion.MatchString(r.PathValue("version")) {
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
		return false
	}
	if !f.check(r) {
		sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
		return false
	}
	f.mu.Lock()
	f.calls++
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", f.calls))
	f.mu.Unlock()
	return true
}

func (f *Salesforce) query(w http.ResponseWriter, r *http.Request) {
	if !f.authorize(w, r) {
		return
	}
	m := sfUserLoginQuery.FindStringSubmatch(r.URL.Query().Get("q"))
	if m == nil {
		sfError(w, 400, "MALFORMED_QUERY", "unexpected token in query")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	records := []any{}
	if l := f.logins[f.byUser[m[1]]]; l != nil {
		records = append(records, map[string]any{
			"attributes": map[string]any{"type": "UserLogin", "url": "/services/data/" + r.PathValue("version") + "/sobjects/UserLogin/" + l.id},
			"Id":         l.id, "IsFrozen": l.frozen,
		})
	}
	writeJSON(w, 200, map[string]any{"totalSize": len(records), "done": true, "records": records})
}

func (f *Salesforce) patch(w http.ResponseWriter, r *http.Request) {
	if !f.authorize(w, r) {
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		sfError(w, 400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON object")
		return
	}
	var frozen bool
	for k, v := range body {
		if k != "IsFrozen" {
			sfError(w, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+k)
			return
		}
		if err := json.Unmarshal(v, &frozen); err != nil {
			sfError(w, 400, "JSON_PARSER_ERROR", "Cannot deserialize instance of boolean")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.logins[r.PathValue("id")]
	if l == nil {
		sfError(w, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+r.PathValue("id"))
		return
	}
	l.frozen = frozen
	if frozen {
		l.freezes++
	} else {
		l.unfreezes++
	}
	w.WriteHeader(http.StatusNoContent)
}

// SalesforceRateLimited is the fault Salesforce answers when the org's API
// request limit is spent: 403 REQUEST_LIMIT_EXCEEDED.
func SalesforceRateLimited() Fault {
	return Fault{Status: 403, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]string{{"message": msg, "errorCode": code}})
}
