package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// storeDynamicsBulkChange stores a user's change of two opportunities'
// sales stage and description, as the Dynamics normaliser stores them.
func storeDynamicsBulkChange(t *testing.T, ch testenv.ClickHouseEnv) {
	t.Helper()
	st := history.MigratedIn(t, ch)
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for i := range 2 {
		evs = append(evs, &event.Event{ID: fmt.Sprint("d", i), Timestamp: t0, Tenant: "acme", Source: event.Source{System: "dynamics365"},
			Event: event.Activity{Category: "data_change", Action: "update", Outcome: "success"}, User: event.User{ID: dvBulkUser},
			Object:  event.Object{Type: "opportunity", ID: dvRow(i)},
			Changes: []event.Change{{Field: "description", Old: fmt.Sprint("note ", i), New: ""}, {Field: "salesstage", Old: fmt.Sprint(i), New: "3"}}})
	}
	history.Store(t, st, evs, 0, nil)
}

const dvBulkUser = "11111111-0000-0000-0000-00000000b01c"

func dvRow(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

// TestRevertApplyThroughDynamics applies a rollback through a configured
// dynamics365 adapter (the Dataverse stand-in: Entra token endpoint, table
// definitions, rows read with $select and updated with a conditional
// PATCH) and checks the rows and the actions on the actions topic.
func TestRevertApplyThroughDynamics(t *testing.T) {
	kenv := testenv.Kafka(t, testenv.KafkaPartitions(1))
	ch := testenv.ClickHouse(t)
	f := fakes.NewDataverse(t, "acme-tenant", "app-id", "s3cret")
	f.AddTable("opportunity", "opportunities",
		fakes.DataverseColumn{Name: "salesstage", Type: "Picklist"}, fakes.DataverseColumn{Name: "description", Type: "Memo"})
	for i := range 2 {
		f.SetRow("opportunity", dvRow(i), map[string]any{"salesstage": 3, "description": nil})
	}
	dir := t.TempDir()
	secret := writeFile(t, dir, "secret", "s3cret\n")
	conf := kafkaConfigFile(t, kenv, "log:\n  level: warn\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n"+
		"respond:\n  adapters:\n    d365:\n      kind: dynamics365\n      dynamics365:\n        environment_url: "+f.URL()+"\n        tenant_id: acme-tenant\n"+
		"        client_id: app-id\n        client_secret: {file: "+secret+"}\n        token_url: "+f.TokenURL()+"\n")
	storeDynamicsBulkChange(t, ch)

	patches := func() int { return f.Count(http.MethodPatch, "/api/data/v9.2/opportunities(") }
	args := []string{"--config", conf, "revert", "--tenant", "acme", "--by-user", dvBulkUser, "--between", "2026-11-03T08:00:00Z", "2026-11-03T10:00:00Z", "--apply", "d365", "--actor", "jane"}
	if out, err := trailwatch(t, args...); err != nil || patches() != 0 || !strings.Contains(out, "dry run: would set field salesstage") {
		t.Fatalf("dry run: %v, %d patches\n%s", err, patches(), out)
	}
	if out, err := trailwatch(t, append(args, "--enforce")...); err != nil || patches() != 2 {
		t.Fatalf("enforce: %v, %d patches\n%s", err, patches(), out)
	}
	for i := range 2 {
		if s, d := f.RowValue("opportunity", dvRow(i), "salesstage"), f.RowValue("opportunity", dvRow(i), "description"); s != fmt.Sprint(i) || d != fmt.Sprintf(`"note %d"`, i) {
			t.Errorf("row %d after the rollback: salesstage %s, description %s", i, s, d)
		}
	}
	// Again: nothing left to write.
	if out, err := trailwatch(t, append(args, "--enforce")...); err != nil || patches() != 2 || !strings.Contains(out, "already holds") {
		t.Fatalf("re-run: %v, %d patches\n%s", err, patches(), out)
	}
	statuses := revertStatuses(t, kenv)
	if want := map[string]int{"dry_run/skipped": 4, "enforce/executing": 4, "enforce/done": 4, "enforce/skipped": 4}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("action records %v, want %v", statuses, want)
	}
}

// TestRevertApplyWithoutRecordUpdates: an adapter kind with no record
// updates is refused by name before anything is read or written.
func TestRevertApplyWithoutRecordUpdates(t *testing.T) {
	ch := testenv.ClickHouse(t)
	storeDynamicsBulkChange(t, ch)
	secret := writeFile(t, t.TempDir(), "token", "t\n")
	conf := writeFile(t, t.TempDir(), "trailwatch.yaml", "log:\n  level: warn\nmetrics:\n  listen: \"\"\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n"+
		"respond:\n  adapters:\n    ok:\n      kind: okta\n      okta:\n        org_url: https://acme.okta.com\n        api_token: {file: "+secret+"}\n")
	for _, tc := range []struct{ adapter, want string }{
		{"ok", `adapter "ok" is a okta adapter, which has no record updates; use a salesforce or dynamics365 adapter`},
		{"nosuch", `no adapter "nosuch" in respond.adapters`},
	} {
		out, err := trailwatch(t, "--config", conf, "revert", "--tenant", "acme", "--by-user", dvBulkUser, "--between", "2026-11-03T08:00:00Z", "2026-11-03T10:00:00Z", "--apply", tc.adapter)
		if err == nil || !strings.Contains(err.Error()+out, tc.want) {
			t.Errorf("--apply %s: %v\n%s", tc.adapter, err, out)
		}
	}
}
