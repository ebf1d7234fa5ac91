package compliance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// fakeSalesforce stands in for a Salesforce org as its REST API documents:
// the client-credentials token endpoint (answering instance_url), the
// sObject Rows resource (GET with ?fields= answers the record's fields,
// null when empty, with an attributes object; PATCH with a JSON object
// answers 204 No Content) and errors as [{"message","errorCode"}].
type fakeSalesforce struct {
	*httptest.Server
	mu      sync.Mutex
	records map[string]map[string]any // "Opportunity/006…" → fields
	patches int
}

const fakeToken = "00Dxx!fake-token"

func newFakeSalesforce(t *testing.T) *fakeSalesforce {
	f := &fakeSalesforce{records: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "key" || r.Form.Get("client_secret") != "secret" {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_client","error_description":"invalid client credentials"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"access_token": fakeToken, "instance_url": f.URL, "token_type": "Bearer", "id": f.URL + "/id/00D/005", "issued_at": "1700000000000", "signature": "c2ln"})
	})
	mux.HandleFunc("/services/data/{version}/sobjects/{sobject}/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			sfErr(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		key := r.PathValue("sobject") + "/" + r.PathValue("id")
		rec, ok := f.records[key]
		if !ok {
			sfErr(w, 404, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		switch r.Method {
		case http.MethodGet:
			out := map[string]any{"attributes": map[string]string{"type": r.PathValue("sobject"), "url": r.URL.Path}, "Id": r.PathValue("id")}
			for _, fl := range strings.Split(r.URL.Query().Get("fields"), ",") {
				out[fl] = rec[fl]
			}
			json.NewEncoder(w).Encode(out)
		case http.MethodPatch:
			if r.Header.Get("Content-Type") != "application/json" {
				sfErr(w, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
				return
			}
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				sfErr(w, 400, "JSON_PARSER_ERROR", "body is not a JSON object")
				return
			}
			for k, v := range body {
				rec[k] = v
			}
			f.patches++
			w.WriteHeader(http.StatusNoContent)
		default:
			sfErr(w, 405, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed")
		}
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func sfErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode([]map[string]string{{"message": msg, "errorCode": code}})
}

func (f *fakeSalesforce) set(sobject, id, field string, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.records[sobject+"/"+id] == nil {
		f.records[sobject+"/"+id] = map[string]any{}
	}
	f.records[sobject+"/"+id][field] = v
}

func (f *fakeSalesforce) get(sobject, id, field string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.records[sobject+"/"+id][field]
}

func (f *fakeSalesforce) client(t *testing.T) *salesforce.Client {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := salesforce.DefaultConfig()
	cfg.LoginURL, cfg.ClientID, cfg.ClientSecret = f.URL, "key", adapter.Secret{File: path}
	c, err := salesforce.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// actionLog is a Recorder keeping every record.
type actionLog struct {
	mu   sync.Mutex
	recs []alert.Action
}

func (l *actionLog) Record(_ context.Context, a alert.Action) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, a)
	return nil
}
