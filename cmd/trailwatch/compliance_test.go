package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestComplianceCommands runs history, revert and audit through the
// command line on the embedded ClickHouse: a user's bulk change of 50
// records, three of them changed again by someone else.
func TestComplianceCommands(t *testing.T) {
	ch := testenv.ClickHouse(t)
	conf := writeFile(t, t.TempDir(), "trailwatch.yaml", "log:\n  level: warn\nmetrics:\n  listen: \"\"\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n")
	st := history.MigratedIn(t, ch)
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	upd := func(id string, at time.Time, user, obj, old, new string) *event.Event {
		return &event.Event{ID: id, Timestamp: at, Tenant: "acme", Source: event.Source{System: "salesforce"},
			Event: event.Activity{Category: "data_change", Action: "update", Outcome: "success"}, User: event.User{ID: user},
			Object: event.Object{Type: "opportunity", ID: obj}, Changes: []event.Change{{Field: "StageName", Old: old, New: new}}}
	}
	var evs []*event.Event
	for i := range 50 {
		obj := fmt.Sprintf("006%012d", i)
		evs = append(evs, upd(fmt.Sprint("c", i), t0, "005owner", obj, "", "Prospecting"),
			upd(fmt.Sprint("b", i), t0.Add(time.Hour), "005bulk", obj, "Prospecting", "Closed Lost"))
		if i%10 == 3 {
			evs = append(evs, upd(fmt.Sprint("f", i), t0.Add(2*time.Hour), "005fix", obj, "Closed Lost", "Negotiation"))
		}
	}
	history.Store(t, st, evs, 0, nil)

	out, err := trailwatch(t, "--config", conf, "history", "--tenant", "acme", "--object", "opportunity", "--id", "006000000000003",
		"--as-of", "2026-11-03T10:30:00Z", "--format", "json")
	if err != nil {
		t.Fatalf("history: %v\n%s", err, out)
	}
	var h struct {
		Versions []json.RawMessage
		State    []struct{ Field, Value string }
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Versions) != 2 || len(h.State) != 1 || h.State[0].Value != "Closed Lost" {
		t.Errorf("history: %v\n%s", err, out)
	}

	out, err = trailwatch(t, "--config", conf, "revert", "--tenant", "acme", "--by-user", "005bulk",
		"--between", "2026-11-03T09:30:00Z", "2026-11-03T10:30:00Z", "--object", "opportunity", "--field", "StageName", "--format", "csv")
	if err != nil {
		t.Fatalf("revert: %v\n%s", err, out)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	for _, r := range recs[1:] {
		if r[3] != "Prospecting" {
			t.Errorf("write %v does not restore Prospecting", r)
		}
		if r[5] == "true" {
			conflicts++
		}
	}
	if len(recs) != 51 || conflicts != 5 {
		t.Errorf("%d writes, %d conflicts; want 50, 5", len(recs)-1, conflicts)
	}

	for _, args := range [][]string{
		{"revert", "--tenant", "acme", "--by-user", "005bulk", "--between", "2026-11-03T09:30:00Z"},
		{"revert", "--tenant", "acme", "--id", "x", "--by-user", "y"},
		{"history", "--tenant", "acme", "--object", "x", "--id", "y", "--as-of", "yesterday"},
	} {
		if _, err := trailwatch(t, append([]string{"--config", conf}, args...)...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}

	dir := t.TempDir()
	out, err = trailwatch(t, "--config", conf, "report", "run", "config-changes", "--tenant", "acme", "--format", "html", "--out", dir)
	if err != nil || !strings.Contains(out, dir+"/acme/") || !strings.HasSuffix(strings.TrimSpace(out), "config-changes.html") {
		t.Errorf("report: %v\n%s", err, out)
	}
	if _, err := trailwatch(t, "--config", conf, "report", "run", "gdpr-person-access", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "object_id is required") {
		t.Errorf("report without its parameter: %v", err)
	}

	out, err = trailwatch(t, "--config", conf, "audit", "--tenant", "acme", "--as-of", "2026-11-03T12:00:00Z", "--format", "json")
	if err != nil || !strings.Contains(out, `"findings": []`) {
		t.Errorf("audit: %v\n%s", err, out)
	}
}

// TestRevertApplyThroughSalesforce applies a rollback through a configured
// Salesforce adapter (a stand-in answering the token endpoint and the
// sObject Rows resource as Salesforce documents) and checks the records
// and the actions recorded on the actions topic.
func TestRevertApplyThroughSalesforce(t *testing.T) {
	kenv := testenv.Kafka(t, testenv.KafkaPartitions(1))
	ch := testenv.ClickHouse(t)
	var mu sync.Mutex
	stage := map[string]any{"006000000000001": "Closed Lost", "006000000000002": "Closed Lost"}
	patches := 0
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("POST /services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"access_token": "tok", "instance_url": srv.URL, "token_type": "Bearer"})
	})
	mux.HandleFunc("/services/data/{v}/sobjects/Opportunity/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		id := r.PathValue("id")
		if _, ok := stage[id]; !ok || r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`))
			return
		}
		if r.Method == http.MethodPatch {
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			stage[id] = body["StageName"]
			patches++
			w.WriteHeader(http.StatusNoContent)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"attributes": map[string]string{"type": "Opportunity"}, "Id": id, "StageName": stage[id]})
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	secret := writeFile(t, dir, "secret", "s3cret\n")
	conf := kafkaConfigFile(t, kenv, "log:\n  level: warn\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n"+
		"respond:\n  adapters:\n    sf:\n      kind: salesforce\n      salesforce:\n        login_url: "+srv.URL+"\n        client_id: key\n        client_secret: {file: "+secret+"}\n")

	st := history.MigratedIn(t, ch)
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for i, before := range []string{"Prospecting", "Qualification"} {
		evs = append(evs, &event.Event{ID: fmt.Sprint("b", i), Timestamp: t0, Tenant: "acme", Source: event.Source{System: "salesforce"},
			Event: event.Activity{Category: "data_change", Action: "update", Outcome: "success"}, User: event.User{ID: "005bulk"},
			Object: event.Object{Type: "opportunity", ID: fmt.Sprintf("00600000000000%d", i+1)}, Changes: []event.Change{{Field: "StageName", Old: before, New: "Closed Lost"}}})
	}
	history.Store(t, st, evs, 0, nil)

	count := func() int { mu.Lock(); defer mu.Unlock(); return patches }
	args := []string{"--config", conf, "revert", "--tenant", "acme", "--by-user", "005bulk", "--between", "2026-11-03T08:00:00Z", "2026-11-03T10:00:00Z", "--apply", "sf", "--actor", "jane"}
	if out, err := trailwatch(t, args...); err != nil || count() != 0 || !strings.Contains(out, "dry run: would set field StageName") {
		t.Fatalf("dry run: %v, %d patches\n%s", err, count(), out)
	}
	if out, err := trailwatch(t, append(args, "--enforce")...); err != nil || count() != 2 {
		t.Fatalf("enforce: %v, %d patches\n%s", err, count(), out)
	}
	mu.Lock()
	defer mu.Unlock()
	if stage["006000000000001"] != "Prospecting" || stage["006000000000002"] != "Qualification" {
		t.Errorf("records after the rollback: %v", stage)
	}
	statuses := revertStatuses(t, kenv)
	if want := map[string]int{"dry_run/skipped": 2, "enforce/executing": 2, "enforce/done": 2}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("action records %v, want %v", statuses, want)
	}
}

// revertStatuses counts the rollback's action records on the actions
// topic by mode and status, checking each is a revert_field of tenant
// acme recorded for jane.
func revertStatuses(t *testing.T, kenv testenv.KafkaEnv) map[string]int {
	t.Helper()
	statuses := map[string]int{}
	for _, m := range kenv.ReadTopic(t, kenv.Config.Topics.Actions.Name) {
		var a alert.Action
		if err := json.Unmarshal(m.Value, &a); err != nil || a.Type != "revert_field" || a.Actor != "jane" || string(m.Key) != "acme" {
			t.Errorf("action record %s: %v", m.Value, err)
		}
		statuses[a.Mode+"/"+a.Status]++
	}
	return statuses
}
