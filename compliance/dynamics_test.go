package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// dvOpportunities is a Dataverse stand-in with the opportunity table: a
// choice, a memo, a money and a lookup column, and a read-only one.
func dvOpportunities(t *testing.T) (*fakes.Dataverse, *DynamicsRecords) {
	t.Helper()
	f := fakes.NewDataverse(t, "acme-tenant", "app-id", "s3cret")
	f.AddTable("opportunity", "opportunities",
		fakes.DataverseColumn{Name: "salesstage", Type: "Picklist"},
		fakes.DataverseColumn{Name: "description", Type: "Memo"},
		fakes.DataverseColumn{Name: "estimatedvalue", Type: "Money"},
		fakes.DataverseColumn{Name: "isrevenuesystemcalculated", Type: "Boolean"},
		fakes.DataverseColumn{Name: "parentaccountid", Type: "Lookup"},
		fakes.DataverseColumn{Name: "createdon", Type: "DateTime", ReadOnly: true},
		fakes.DataverseColumn{Name: "msdyn_forecastcategory", Type: "Virtual"})
	t.Setenv("TW_TEST_DV_SECRET", "s3cret")
	cfg := dynamics.DefaultConfig()
	cfg.EnvironmentURL, cfg.TenantID, cfg.ClientID = f.URL(), "acme-tenant", "app-id"
	cfg.ClientSecret, cfg.TokenURL = adapter.Secret{Env: "TW_TEST_DV_SECRET"}, f.TokenURL()
	c, err := dynamics.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return f, NewDynamicsRecords(c)
}

func dvID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

// dvUpdate is an update of an opportunity as the Dynamics normaliser
// stores it: object type the table's logical name, fields the columns'.
func dvUpdate(id string, at time.Time, user string, obj int, changes ...event.Change) *event.Event {
	return &event.Event{
		ID: id, Timestamp: at, Tenant: "acme",
		Source:  event.Source{System: "dynamics365"},
		Event:   event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User:    event.User{ID: user},
		Object:  event.Object{Type: "opportunity", ID: dvID(obj)},
		Changes: changes,
	}
}

// TestRevertBulkChangeDynamics is the done-when test for Dataverse: one
// user bulk-updates 50 opportunities (a choice, a memo blanked, a money
// column, and on five a lookup); the plan restores them through the Web
// API stand-in, leaving conflicts, a row edited in the CRM and a row edited
// between the read and the write untouched, refusing the lookups, and
// recording every write; applying again writes only what failed.
func TestRevertBulkChangeDynamics(t *testing.T) {
	st := openStore(t)
	f, crm := dvOpportunities(t)
	const (
		owner = "11111111-0000-0000-0000-000000000001"
		bulk  = "11111111-0000-0000-0000-00000000b01c"
		fixer = "11111111-0000-0000-0000-0000000000f1"
	)
	conflicted := map[int]bool{3: true, 7: true, 11: true}
	lookups := func(i int) bool { return i >= 45 }
	var evs []*event.Event
	for i := range 50 {
		stage, note := fmt.Sprint(i%3), fmt.Sprint("note ", i)
		c := dvUpdate(fmt.Sprint("create-", i), t0, owner, i, chg("salesstage", "", stage), chg("description", "", note), chg("estimatedvalue", "", "1500"))
		c.Event.Action = "create"
		b := dvUpdate(fmt.Sprint("bulk-", i), t0.Add(time.Hour+time.Duration(i)*time.Second), bulk, i,
			chg("salesstage", stage, "3"), chg("description", note, ""), chg("estimatedvalue", "1500", "0"))
		row := map[string]any{"salesstage": 3, "description": nil, "estimatedvalue": json.Number("0.0000"), "createdon": "2026-11-01T08:00:00Z"}
		if lookups(i) {
			b.Changes = append(b.Changes, chg("parentaccountid", "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"))
			row["_parentaccountid_value"] = "aaaaaaaa-0000-0000-0000-000000000002"
		}
		evs = append(evs, c, b)
		if conflicted[i] {
			evs = append(evs, dvUpdate(fmt.Sprint("fix-", i), t0.Add(2*time.Hour), fixer, i, chg("salesstage", "3", "2")))
			row["salesstage"] = 2
		}
		f.SetRow("opportunity", dvID(i), row)
	}
	history.Store(t, st, evs, 0, nil)

	scope := Scope{Tenant: "acme", UserID: bulk, From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}
	changes, err := UserChanges(t.Context(), st, scope)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanUser(scope, changes)
	if w, c, n := plan.Counts(); w != 152 || c != 3 || n != 0 {
		t.Fatalf("plan: %d writes, %d conflicts, %d no-ops; want 152, 3, 0", w, c, n)
	}
	clock := func() time.Time { return t0.Add(24 * time.Hour) }
	count := func(st []alert.Action) map[string]int {
		m := map[string]int{}
		for _, a := range st {
			m[a.Status]++
		}
		return m
	}

	// A dry run reads every row, writes nothing, and already says which
	// writes cannot be made.
	var dry actionLog
	_, err = Apply(t.Context(), plan, crm, &dry, ApplyOptions{Actor: "auditor", Now: clock})
	if err == nil || !strings.Contains(err.Error(), "parentaccountid is a Lookup column") || !errors.Is(err, ErrNotWritable) {
		t.Errorf("dry run error: %v", err)
	}
	if got := count(dry.recs); f.Count(http.MethodPatch, "/api/data/") != 0 || got[alert.StatusSkipped] != 150 || got[alert.StatusFailed] != 5 {
		t.Fatalf("dry run: %d patches, %v", f.Count(http.MethodPatch, "/api/data/"), got)
	}

	// Someone edits row 20 in the CRM after the trail's last change, and
	// row 30 between apply's read and its write.
	f.SetRow("opportunity", dvID(20), map[string]any{"salesstage": 1})
	f.AfterApply(1, func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, dvID(30))
	}, func(*http.Request) {
		f.SetRow("opportunity", dvID(30), map[string]any{"description": "edited meanwhile"})
	})
	var log actionLog
	outs, err := Apply(t.Context(), plan, crm, &log, ApplyOptions{Enforce: true, Actor: "auditor", Now: clock})
	if err == nil || !strings.Contains(err.Error(), "@odata.bind") || !strings.Contains(err.Error(), "412") {
		t.Errorf("apply error: %v", err)
	}
	status := map[string]int{}
	for _, o := range outs {
		status[o.Status]++
	}
	// 155 writes: 3 conflicts and row 20's stage skipped, 5 lookups and
	// row 30's three writes failed, the rest done.
	if want := map[string]int{alert.StatusDone: 143, alert.StatusSkipped: 4, alert.StatusFailed: 8}; fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("apply outcomes %v, want %v", status, want)
	}
	if n := f.Count(http.MethodPatch, "/api/data/v9.2/opportunities("); n != 50 {
		t.Errorf("%d PATCH requests, want one per row (50)", n)
	}
	for _, r := range f.Requests() {
		if r.Method == http.MethodPatch && (r.Header.Get("If-Match") == "" || r.Header.Get("If-Match") == "*") {
			t.Errorf("PATCH %s not conditional on the ETag read: If-Match %q", r.Path, r.Header.Get("If-Match"))
		}
	}
	for i := range 50 {
		id := dvID(i)
		stage, note, value := fmt.Sprint(i%3), fmt.Sprintf("%q", fmt.Sprint("note ", i)), "1500"
		switch {
		case conflicted[i]:
			stage = "2"
		case i == 20:
			stage = "1"
		}
		if i == 30 {
			stage, note, value = "3", `"edited meanwhile"`, "0.0000"
		}
		if got := f.RowValue("opportunity", id, "salesstage"); got != stage {
			t.Errorf("row %d: salesstage %s, want %s", i, got, stage)
		}
		if got := f.RowValue("opportunity", id, "description"); got != note {
			t.Errorf("row %d: description %s, want %s", i, got, note)
		}
		if got := f.RowValue("opportunity", id, "estimatedvalue"); got != value {
			t.Errorf("row %d: estimatedvalue %s, want %s", i, got, value)
		}
		if lookups(i) && f.RowValue("opportunity", id, "_parentaccountid_value") != `"aaaaaaaa-0000-0000-0000-000000000002"` {
			t.Errorf("row %d: the lookup was written", i)
		}
	}
	executing := 0
	for _, a := range log.recs {
		if a.Status == alert.StatusExecuting {
			executing++
		}
		if a.Mode != alert.ModeEnforce || a.Type != ActionType || a.AlertID != plan.ID || a.Tenant != "acme" {
			t.Fatalf("record %+v", a)
		}
		if a.Status == alert.StatusFailed && a.Target == "opportunity/"+dvID(45) && !strings.Contains(a.Detail, "restore it by hand") {
			t.Errorf("lookup failure detail: %s", a.Detail)
		}
	}
	if executing != 146 || len(log.recs) != 155+146 {
		t.Errorf("%d executing of %d records", executing, len(log.recs))
	}

	// Applying again: the restored rows are left alone; row 30's writes
	// that still apply are retried (its description, edited meanwhile, is
	// now a conflict); the lookups fail again.
	var again actionLog
	outs, _ = Apply(t.Context(), plan, crm, &again, ApplyOptions{Enforce: true, Now: clock})
	status = map[string]int{}
	for _, o := range outs {
		status[o.Status]++
	}
	if want := map[string]int{alert.StatusDone: 2, alert.StatusSkipped: 148, alert.StatusFailed: 5}; fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("re-apply outcomes %v, want %v", status, want)
	}
	if n := f.Count(http.MethodPatch, "/api/data/v9.2/opportunities("); n != 51 {
		t.Errorf("re-apply: %d PATCH requests in all, want 51", n)
	}
	if f.RowValue("opportunity", dvID(30), "salesstage") != "0" || f.RowValue("opportunity", dvID(30), "estimatedvalue") != "1500" ||
		f.RowValue("opportunity", dvID(30), "description") != `"edited meanwhile"` {
		t.Errorf("row 30 after re-apply: %s %s %s", f.RowValue("opportunity", dvID(30), "salesstage"),
			f.RowValue("opportunity", dvID(30), "estimatedvalue"), f.RowValue("opportunity", dvID(30), "description"))
	}
}

// TestDynamicsValues checks how trail text becomes typed JSON and back, and
// which columns are refused.
func TestDynamicsValues(t *testing.T) {
	f, crm := dvOpportunities(t)
	id := dvID(1)
	f.SetRow("opportunity", id, map[string]any{"salesstage": 0, "description": "x", "estimatedvalue": json.Number("12.5000"), "isrevenuesystemcalculated": true,
		"_parentaccountid_value": "aaaaaaaa-0000-0000-0000-000000000001"})
	got, err := crm.Fields(t.Context(), "opportunity", id, []string{"salesstage", "description", "estimatedvalue", "isrevenuesystemcalculated", "parentaccountid", "createdon"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range []string{"salesstage", "description", "estimatedvalue", "isrevenuesystemcalculated", "parentaccountid", "createdon"} {
		fmt.Fprintf(&b, "%s=%v ", k, deref(got[k]))
	}
	if want := "salesstage=0 description=x estimatedvalue=12.5 isrevenuesystemcalculated=true parentaccountid=aaaaaaaa-0000-0000-0000-000000000001 createdon= "; b.String() != want {
		t.Errorf("fields: %s, want %s", b.String(), want)
	}
	for _, tc := range []struct{ field, value, want, err string }{
		{"salesstage", "007", "7", ""},
		{"salesstage", "1.5", "", "not a whole number"},
		{"salesstage", "99999999999999999999", "", "out of range"},
		{"estimatedvalue", "1.2500", "1.25", ""},
		{"estimatedvalue", "1e3", "1000", ""},
		{"estimatedvalue", "1e999999999", "", "not a number"},
		{"estimatedvalue", "12 EUR", "", "not a number"},
		{"isrevenuesystemcalculated", "yes", "", "not true or false"},
		{"description", "", "", ""},
		{"description", "007", "007", ""},
		{"description", "\x9f", "", "not valid UTF-8"},
		{"parentaccountid", "aaaaaaaa-0000-0000-0000-000000000001", "", "is a Lookup column"},
		{"_parentaccountid_value", "aaaaaaaa-0000-0000-0000-000000000001", "", "is a Lookup column"},
		{"createdon", "2026-11-03T09:00:00Z", "", "not valid for update"},
		{"msdyn_forecastcategory", "1", "", "Virtual columns are not supported"},
		{"nosuch", "1", "", "table opportunity has no column nosuch"},
	} {
		v, err := crm.CheckWrite(t.Context(), "opportunity", tc.field, tc.value)
		if tc.err == "" && (err != nil || v != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s=%q: %q, %v; want %q, %q", tc.field, tc.value, v, err, tc.want, tc.err)
		}
	}
	// A clear and a typed write in one PATCH, If-Match: * without a read.
	v := "2"
	if err := crm.Update(t.Context(), "opportunity", id, map[string]*string{"description": nil, "salesstage": &v}); err != nil {
		t.Fatal(err)
	}
	if f.RowValue("opportunity", id, "description") != "null" || f.RowValue("opportunity", id, "salesstage") != "2" {
		t.Errorf("after update: %s %s", f.RowValue("opportunity", id, "description"), f.RowValue("opportunity", id, "salesstage"))
	}
	if err := crm.Update(t.Context(), "opportunity", id, map[string]*string{"parentaccountid": &v}); err == nil || f.Count(http.MethodPatch, "/api/data/") != 1 {
		t.Errorf("a lookup update was sent or accepted: %v", err)
	}
	// A row that does not exist is not created; a table that does not exist is named.
	if err := crm.Update(t.Context(), "opportunity", dvID(99), map[string]*string{"salesstage": &v}); !errors.Is(err, adapter.ErrNotFound) || f.HasRow("opportunity", dvID(99)) {
		t.Errorf("update of a missing row: %v", err)
	}
	if _, err := crm.Fields(t.Context(), "new_project", id, []string{"new_name"}); err == nil || !strings.Contains(err.Error(), "new_project") {
		t.Errorf("unknown table: %v", err)
	}
}

// TestApplyRetries: Dataverse's service protection limit (429 with
// Retry-After) on a read and on an update is waited out and retried, as
// often as the options allow; a wait longer than MaxWait is not.
func TestApplyRetries(t *testing.T) {
	plan := Plan{ID: "p1", Scope: Scope{Tenant: "acme"}, Writes: []Write{
		{ActionID: "a1", ObjectType: "opportunity", ObjectID: dvID(1), Field: "description", Value: "before", Expected: "after"},
	}}
	isMethod := func(m string) func(*http.Request) bool {
		return func(r *http.Request) bool { return r.Method == m && strings.Contains(r.URL.Path, "opportunities(") }
	}
	for _, tc := range []struct {
		name     string
		faults   func(*fakes.Dataverse)
		retries  int
		maxWait  time.Duration
		slept    string
		status   string
		contains string
	}{
		{name: "read and update throttled", retries: 3, slept: "[20s 5s]", status: alert.StatusDone,
			faults: func(f *fakes.Dataverse) {
				f.Fail(1, withMatch(fakes.DataverseThrottled(20), isMethod(http.MethodGet)))
				f.Fail(1, withMatch(fakes.DataverseThrottled(5), isMethod(http.MethodPatch)))
			}},
		{name: "outage without Retry-After backs off", retries: 3, slept: "[1s 2s]", status: alert.StatusDone,
			faults: func(f *fakes.Dataverse) {
				f.Fail(2, fakes.Fault{Status: 503, Match: isMethod(http.MethodPatch), Body: `{"error":{"code":"0x80040216","message":"Service Unavailable"}}`})
			}},
		{name: "retries spent", retries: 1, slept: "[20s]", status: alert.StatusFailed, contains: "Number of requests exceeded",
			faults: func(f *fakes.Dataverse) {
				f.Fail(2, withMatch(fakes.DataverseThrottled(20), isMethod(http.MethodPatch)))
			}},
		{name: "wait beyond MaxWait", retries: 3, maxWait: 10 * time.Second, slept: "[]", status: alert.StatusFailed, contains: "retry after 20s",
			faults: func(f *fakes.Dataverse) {
				f.Fail(1, withMatch(fakes.DataverseThrottled(20), isMethod(http.MethodPatch)))
			}},
		{name: "no retries", slept: "[]", status: alert.StatusFailed, contains: "429",
			faults: func(f *fakes.Dataverse) { f.Fail(1, withMatch(fakes.DataverseThrottled(1), isMethod(http.MethodGet))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, crm := dvOpportunities(t)
			f.SetRow("opportunity", dvID(1), map[string]any{"description": "after"})
			tc.faults(f)
			var slept []time.Duration
			var log actionLog
			outs, err := Apply(t.Context(), plan, crm, &log, ApplyOptions{Enforce: true, Retries: tc.retries, MaxWait: tc.maxWait,
				Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
			if fmt.Sprint(slept) != tc.slept || len(outs) != 1 || outs[0].Status != tc.status || !strings.Contains(outs[0].Detail, tc.contains) {
				t.Fatalf("slept %v, outcomes %+v, err %v", slept, outs, err)
			}
			want := `"after"`
			if tc.status == alert.StatusDone {
				want = `"before"`
			}
			if got := f.RowValue("opportunity", dvID(1), "description"); got != want {
				t.Errorf("description %s, want %s", got, want)
			}
		})
	}
}

func withMatch(f fakes.Fault, m func(*http.Request) bool) fakes.Fault {
	f.Match = m
	return f
}

// FuzzDynamicsValue: turning trail text into a column's JSON never panics,
// gives valid JSON of the column's kind, and reads back (text) as what
// CheckWrite compares with, so a restored value is recognised as restored.
func FuzzDynamicsValue(f *testing.F) {
	for _, s := range []string{"", "0", "007", "-1.2500", "1e3", "1e999999999", ".5", "+3", "true", "x", "12 EUR", "9223372036854775808"} {
		f.Add(s)
	}
	types := []string{"String", "Memo", "Integer", "BigInt", "Picklist", "Decimal", "Double", "Money", "Boolean", "DateTime", "Lookup", "Virtual"}
	f.Fuzz(func(t *testing.T, v string) {
		for _, typ := range types {
			raw, err := typed(dynamics.Column{LogicalName: "c", Type: typ, Updatable: true}, v)
			if err != nil {
				continue
			}
			if !json.Valid(raw) {
				t.Fatalf("%s %q: invalid JSON %s", typ, v, raw)
			}
			back := text(raw)
			if v == "" {
				if back != nil {
					t.Fatalf("%s: empty is not null", typ)
				}
				continue
			}
			if back == nil {
				t.Fatalf("%s %q: %s reads back as null", typ, v, raw)
			}
			again, err := typed(dynamics.Column{LogicalName: "c", Type: typ, Updatable: true}, *back)
			if err != nil || string(again) != string(raw) {
				t.Fatalf("%s %q: %s reads back as %q, which types as %s, %v", typ, v, raw, *back, again, err)
			}
		}
	})
}
