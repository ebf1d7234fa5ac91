package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestComplianceCommands runs history, revert and audit through the
// command line on the embedded ClickHouse: a user's bulk change of 50
// records, three of them changed again by someone else.
func TestComplianceCommands(t *testing.T) {
	ch := testenv.ClickHouse(t)
	conf := writeFile(t, t.TempDir(), "trailwatch.yaml", "log:\n  level: warn\nmetrics:\n  listen: \"\"\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n")
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = ch.URL, ch.Database, ch.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := chstore.LoadMigrations(chschema.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context(), ms); err != nil {
		t.Fatal(err)
	}
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
