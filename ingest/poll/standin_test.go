package poll

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauthStandIn is the token endpoint both vendors document: a form POST
// with the refresh_token grant; a wrong credential is 400 invalid_grant.
// Tokens it issues stop working (401) after maxUses API requests, as a
// session that ends, or that HubSpot expired.
type oauthStandIn struct {
	mu        sync.Mutex
	clientID  string
	secret    string
	refresh   string
	expiresIn int // HubSpot says expires_in; Salesforce does not (0)
	maxUses   int
	uses      map[string]int
	issued    int
	instance  string
}

func (o *oauthStandIn) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost ||
		r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("client_id") != o.clientID ||
		r.PostForm.Get("client_secret") != o.secret || r.PostForm.Get("refresh_token") != o.refresh {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`)
		return
	}
	o.mu.Lock()
	o.issued++
	tok := fmt.Sprintf("00Dxx0000001gPL!token-%d", o.issued)
	o.uses[tok] = 0
	o.mu.Unlock()
	resp := map[string]any{"access_token": tok, "token_type": "Bearer", "issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10)}
	if o.instance != "" {
		resp["instance_url"] = o.instance
	}
	if o.expiresIn > 0 {
		resp["expires_in"] = o.expiresIn
		resp["refresh_token"] = o.refresh
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// use counts one API request with the request's token and reports whether
// it is still good.
func (o *oauthStandIn) use(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	o.mu.Lock()
	defer o.mu.Unlock()
	n, known := o.uses[tok]
	if !ok || !known || o.maxUses > 0 && n >= o.maxUses {
		return false
	}
	o.uses[tok] = n + 1
	return true
}

// sfFile is one EventLogFile of the Salesforce stand-in.
type sfFile struct {
	ID, EventType, Interval string
	Created                 time.Time
	CSV                     string
}

// salesforceStandIn behaves as Salesforce documents the REST API for event
// log files: SOQL queries on EventLogFile paged with nextRecordsUrl, the
// LogFile download as CSV, 401 INVALID_SESSION_ID for an ended session, 403
// REQUEST_LIMIT_EXCEEDED, and Sforce-Limit-Info on every answer.
type salesforceStandIn struct {
	oauth      *oauthStandIn
	srv        *httptest.Server
	mu         sync.Mutex
	files      []sfFile
	pageSize   int
	limitEvery int // every Nth API request is refused REQUEST_LIMIT_EXCEEDED
	requests   int
	usage      string
	locators   map[string][]sfFile
	downloads  map[string]int
}

var (
	soqlSince    = regexp.MustCompile(`CreatedDate >= (\S+)`)
	soqlTypes    = regexp.MustCompile(`EventType IN \(([^)]*)\)`)
	soqlInterval = regexp.MustCompile(`Interval = '(\w+)'`)
)

func newSalesforceStandIn(t *testing.T) *salesforceStandIn {
	s := &salesforceStandIn{
		oauth:    &oauthStandIn{clientID: "3MVG9-client", secret: "sf-client-secret", refresh: "5Aep861-refresh", uses: map[string]int{}},
		pageSize: 2, usage: "api-usage=10/15000", locators: map[string][]sfFile{}, downloads: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", s.oauth.token)
	mux.HandleFunc("GET /services/data/v60.0/query", s.api(s.query))
	mux.HandleFunc("GET /services/data/v60.0/query/{locator}", s.api(s.more))
	mux.HandleFunc("GET /services/data/v60.0/sobjects/EventLogFile/{id}/LogFile", s.api(s.logFile))
	s.srv = httptest.NewServer(mux)
	s.oauth.instance = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

func (s *salesforceStandIn) add(f sfFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = append(s.files, f)
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `[{"message":%q,"errorCode":%q}]`, msg, code)
}

func (s *salesforceStandIn) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		n, usage := s.requests, s.usage
		s.mu.Unlock()
		w.Header().Set("Sforce-Limit-Info", usage)
		if !s.oauth.use(r) {
			sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		if s.limitEvery > 0 && n%s.limitEvery == 0 {
			sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			return
		}
		h(w, r)
	}
}

func (s *salesforceStandIn) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	m, mt, mi := soqlSince.FindStringSubmatch(q), soqlTypes.FindStringSubmatch(q), soqlInterval.FindStringSubmatch(q)
	if m == nil || mt == nil || mi == nil || !strings.Contains(q, "ORDER BY CreatedDate ASC") {
		sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected query: "+q)
		return
	}
	since, err := time.Parse("2006-01-02T15:04:05Z", m[1])
	if err != nil {
		sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "bad date-time literal "+m[1])
		return
	}
	s.mu.Lock()
	var out []sfFile
	for _, f := range s.files {
		if !f.Created.Before(since) && strings.Contains(mt[1], "'"+f.EventType+"'") && f.Interval == mi[1] {
			out = append(out, f)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b sfFile) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	s.page(w, out, 0)
}

func (s *salesforceStandIn) more(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locator")
	base, off, _ := strings.Cut(loc, "-")
	n, _ := strconv.Atoi(off)
	s.mu.Lock()
	files, ok := s.locators[base]
	s.mu.Unlock()
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.page(w, files, n)
}

func (s *salesforceStandIn) page(w http.ResponseWriter, files []sfFile, from int) {
	end := min(from+s.pageSize, len(files))
	var recs []map[string]any
	for _, f := range files[from:end] {
		recs = append(recs, map[string]any{
			"attributes":  map[string]string{"type": "EventLogFile", "url": "/services/data/v60.0/sobjects/EventLogFile/" + f.ID},
			"Id":          f.ID,
			"EventType":   f.EventType,
			"LogDate":     f.Created.Truncate(time.Hour).Format("2006-01-02T15:04:05.000-0700"),
			"Interval":    f.Interval,
			"Sequence":    1,
			"CreatedDate": f.Created.Format("2006-01-02T15:04:05.000-0700"),
		})
	}
	resp := map[string]any{"totalSize": len(files), "done": end == len(files), "records": recs}
	if end < len(files) {
		s.mu.Lock()
		loc := fmt.Sprintf("01gSTANDIN%d", len(s.locators))
		s.locators[loc] = files
		s.mu.Unlock()
		resp["nextRecordsUrl"] = fmt.Sprintf("/services/data/v60.0/query/%s-%d", loc, end)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *salesforceStandIn) logFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.ID == id {
			s.downloads[id]++
			w.Header().Set("Content-Type", "text/csv")
			fmt.Fprint(w, f.CSV)
			return
		}
	}
	sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// hsEvent is one audit-log record of the HubSpot stand-in.
type hsEvent struct {
	ID string
	At time.Time
}

func (e hsEvent) json() map[string]any {
	return map[string]any{
		"id": e.ID, "occurredAt": e.At.UTC().Format("2006-01-02T15:04:05.000Z"),
		"actingUser": map[string]any{"userId": 2931299, "userEmail": "pgibbons@initech.com"},
		"category":   "CRM_OBJECT", "subCategory": "CONTACT", "action": "UPDATED", "targetObjectId": "987654321",
	}
}

// hubSpotStandIn behaves as HubSpot documents the account activity API:
// audit logs oldest first, filtered by occurredAfter and occurredBefore
// (here both exclusive), paged with opaque after cursors; 429 with the
// X-HubSpot-RateLimit-* headers; 401 EXPIRED_AUTHENTICATION for an expired
// token.
type hubSpotStandIn struct {
	oauth      *oauthStandIn
	srv        *httptest.Server
	mu         sync.Mutex
	events     []hsEvent
	limitEvery int
	requests   int
	windowMs   int
}

func newHubSpotStandIn(t *testing.T) *hubSpotStandIn {
	h := &hubSpotStandIn{
		oauth:    &oauthStandIn{clientID: "hs-client", secret: "hs-client-secret", refresh: "hs-refresh-token", expiresIn: 1800, uses: map[string]int{}},
		windowMs: 10,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/v1/token", h.oauth.token)
	mux.HandleFunc("GET /account-info/v3/activity/audit-logs", h.auditLogs)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hubSpotStandIn) add(evs ...hsEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, evs...)
}

func (h *hubSpotStandIn) auditLogs(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests++
	n := h.requests
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-HubSpot-RateLimit-Max", "100")
	w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(h.windowMs))
	if !h.oauth.use(r) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"status":"error","message":"The OAuth token used to make this call expired 1 second(s) ago.","correlationId":"c033cdaa","category":"EXPIRED_AUTHENTICATION"}`)
		return
	}
	if h.limitEvery > 0 && n%h.limitEvery == 0 {
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa","policyName":"TEN_SECONDLY_ROLLING"}`)
		return
	}
	w.Header().Set("X-HubSpot-RateLimit-Remaining", "99")
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	after, err1 := time.Parse(time.RFC3339Nano, q.Get("occurredAfter"))
	before, err2 := time.Parse(time.RFC3339Nano, q.Get("occurredBefore"))
	if err != nil || err1 != nil || err2 != nil || limit < 1 || limit > 100 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","message":"invalid query","category":"VALIDATION_ERROR"}`)
		return
	}
	h.mu.Lock()
	var match []hsEvent
	for _, e := range h.events {
		if e.At.After(after) && e.At.Before(before) {
			match = append(match, e)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(match, func(a, b hsEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	off := 0
	if a := q.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		var c struct{ Offset int }
		if err != nil || json.Unmarshal(b, &c) != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","message":"invalid after","category":"VALIDATION_ERROR"}`)
			return
		}
		off = c.Offset
	}
	end := min(off+limit, len(match))
	results := []map[string]any{}
	for _, e := range match[min(off, end):end] {
		results = append(results, e.json())
	}
	resp := map[string]any{"results": results}
	if end < len(match) {
		cursor := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"Offset":%d}`, end)))
		resp["paging"] = map[string]any{"next": map[string]string{"after": cursor, "link": "?after=" + cursor}}
	}
	_ = json.NewEncoder(w).Encode(resp)
}
