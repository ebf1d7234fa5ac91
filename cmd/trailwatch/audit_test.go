package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestAuditActions runs `trailwatch audit --permissions … --actions …`
// twice on the embedded Kafka and ClickHouse and reads the actions topic
// back: one dry-run request per chosen finding, the same ids on both runs,
// each a record the responder accepts and, delivered again, folds into the
// action it already has.
func TestAuditActions(t *testing.T) {
	kenv := testenv.Kafka(t, testenv.KafkaPartitions(1))
	ch := testenv.ClickHouse(t)
	st := history.Migrated(t)
	conf := kafkaConfigFile(t, kenv, "log:\n  level: warn\nclickhouse:\n  url: "+st.URL()+"\n  database: "+st.Database()+"\n  user: \""+ch.User+"\"\n")
	asOf := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for d := 0; d <= 150; d += 5 {
		for _, u := range []string{"005DORM", "005BUSY"} {
			if u == "005DORM" && d < 100 {
				continue
			}
			evs = append(evs, &event.Event{ID: fmt.Sprint(u, "-", d), Timestamp: asOf.Add(-time.Duration(d) * 24 * time.Hour), Tenant: "acme",
				Source: event.Source{System: "salesforce"}, Event: event.Activity{Category: "authentication", Action: "login", Outcome: "success"},
				User: event.User{ID: u, Name: strings.ToLower(u) + "@acme.example"}, Client: event.Client{DeviceID: "d-" + u, Geo: event.Geo{Country: "US"}}})
		}
	}
	history.Store(t, st, evs, 0, nil)
	perms := writeFile(t, t.TempDir(), "perms.ndjson",
		`{"type":"account","system":"salesforce","user_id":"005BUSY","active":true,"mfa_enabled":false}`+"\n"+
			`{"type":"app","system":"salesforce","app_id":"0H4OLD","name":"Old sync","scopes":["api"],"last_used":"2026-06-01T00:00:00Z"}`+"\n"+
			`{"type":"app","system":"salesforce","app_id":"0H4FULL","scopes":["full"],"last_used":"2026-11-09T00:00:00Z"}`+"\n")

	run := func() {
		out, err := trailwatch(t, "--config", conf, "audit", "--tenant", "acme", "--as-of", asOf.Format(time.RFC3339),
			"--permissions", perms, "--actions", "dormant_account,app_unused,app_broad_scopes", "--actor", "jane", "--format", "json")
		if err != nil {
			t.Fatalf("audit: %v\n%s", err, out)
		}
		if !strings.Contains(out, "3 dry-run actions published") {
			t.Errorf("audit output:\n%s", out)
		}
	}
	run()
	first := kenv.ReadTopic(t, kenv.Config.Topics.Actions.Name)
	run()
	all := kenv.ReadTopic(t, kenv.Config.Topics.Actions.Name)
	if len(first) != 3 || len(all) != 6 {
		t.Fatalf("%d actions after one run, %d after two; want 3 and 6", len(first), len(all))
	}
	var got []string
	byID := map[string][]alert.Action{}
	for i, m := range all {
		var a alert.Action
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if err := respond.CheckRecord(a); err != nil {
			t.Errorf("the responder refuses %s: %v", m.Value, err)
		}
		if string(m.Key) != "acme" || a.Mode != alert.ModeDryRun || a.Status != alert.StatusRequested || a.Actor != "jane" || a.AlertID == "" {
			t.Errorf("action %s", m.Value)
		}
		if a.ID != alert.ActionID(a.AlertID, a.Type) {
			t.Errorf("action id %s is not derived from its finding %s", a.ID, a.AlertID)
		}
		if i < 3 {
			got = append(got, a.Type+" "+a.Target)
		}
		byID[a.ID] = append(byID[a.ID], a)
	}
	sort.Strings(got)
	if want := "disable_account 005DORM\nrevoke_app 0H4FULL\nrevoke_app 0H4OLD"; strings.Join(got, "\n") != want {
		t.Errorf("actions:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if len(byID) != 3 {
		t.Errorf("a re-run published new ids: %d distinct for 6 records", len(byID))
	}
	// The responder's policy today: no adapter routes these types.
	rcfg := respond.DefaultConfig()
	rcfg.Tenants = map[string]respond.Tenant{"acme": {}}
	policy := respond.NewPolicy(rcfg)
	for id, recs := range byID {
		if d := policy.Decide(recs[0], time.Now()); d.Verdict != respond.Skip || !strings.Contains(d.Reason, "no adapter handles") {
			t.Errorf("%s: the responder's policy decides %v (%s)", id, d.Verdict, d.Reason)
		}
		// What the responder does with the second request once the first
		// was decided (dry run: skipped, "would …").
		decided := recs[0]
		decided.Status = alert.StatusSkipped
		now := time.Now()
		decided.RecordedAt = &now
		if plan := respond.PlanFor([]alert.Action{recs[0], decided, recs[1]}, 2); plan.Step != respond.StepNone {
			t.Errorf("%s: a re-published request is planned as %v", id, plan)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--actions", "over_privileged_account"}, "\"over_privileged_account\" has no action"},
		{[]string{"--permissions", writeFile(t, t.TempDir(), "bad.ndjson", `{"type":"app","system":"salesforce","app_id":"x","scopes":"api"}`)}, "bad.ndjson:1: scopes: want a list of strings"},
		{[]string{"--permissions", filepath.Join(t.TempDir(), "missing.ndjson")}, "--permissions"},
		{[]string{"--app-unused-days", "0"}, "--app-unused-days"},
	} {
		_, err := trailwatch(t, append([]string{"--config", conf, "audit", "--tenant", "acme"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
