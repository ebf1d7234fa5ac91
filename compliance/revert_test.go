package compliance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestRevertBulkChange is the done-when: one user bulk-updates 50
// records; the rollback plan is exactly the 50 restoring writes, the ones
// changed again later by someone else are conflicts, and applying it
// through a Salesforce stand-in leaves the records as they were before.
func TestRevertBulkChange(t *testing.T) {
	st := openStore(t)
	sf := newFakeSalesforce(t)
	const bulk, owner, fixer = "005bulk", "005owner", "005fix"
	conflicted := map[int]bool{3: true, 7: true, 11: true}
	var evs []*event.Event
	for i := range 50 {
		id := recordID(i)
		before := fmt.Sprint("Stage", i%4)
		c := update(fmt.Sprint("create-", i), t0, owner, "opportunity", id, chg("StageName", "", before), chg("Amount", "", "100"))
		c.Event.Action = "create"
		evs = append(evs, c,
			update(fmt.Sprint("bulk-", i), t0.Add(time.Hour+time.Duration(i)*time.Second), bulk, "opportunity", id, chg("StageName", before, "Closed Lost")))
		now := "Closed Lost"
		if conflicted[i] {
			now = "Negotiation"
			evs = append(evs, update(fmt.Sprint("fix-", i), t0.Add(2*time.Hour), fixer, "opportunity", id, chg("StageName", "Closed Lost", now)))
		}
		sf.set("Opportunity", id, "StageName", now)
		sf.set("Opportunity", id, "Amount", 100)
	}
	// Not part of the bulk change: another field changed by someone else,
	// the same user's changes outside the window, another tenant.
	evs = append(evs,
		update("amount-5", t0.Add(3*time.Hour), fixer, "opportunity", recordID(5), chg("Amount", "100", "250")),
		update("later-60", t0.Add(5*time.Hour), bulk, "opportunity", recordID(60), chg("StageName", "A", "B")))
	other := update("globex-1", t0.Add(time.Hour), bulk, "opportunity", recordID(61), chg("StageName", "A", "B"))
	other.Tenant = "globex"
	evs = append(evs, other)
	history.Store(t, st, evs, 0, nil)

	scope := Scope{Tenant: "acme", UserID: bulk, From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute), ObjectType: "opportunity", Field: "StageName"}
	changes, err := UserChanges(t.Context(), st, scope)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanUser(scope, changes)
	if len(plan.Writes) != 50 {
		t.Fatalf("%d writes, want 50", len(plan.Writes))
	}
	for i, w := range plan.Writes {
		want := Write{ObjectType: "opportunity", ObjectID: recordID(i), Field: "StageName", Value: fmt.Sprint("Stage", i%4),
			Expected: "Closed Lost", Undoes: []string{fmt.Sprint("bulk-", i)}, UndoneAt: t0.Add(time.Hour + time.Duration(i)*time.Second)}
		if conflicted[i] {
			want.Expected, want.Conflict, want.ConflictBy, want.ConflictAt, want.ConflictID = "Negotiation", true, fixer, t0.Add(2*time.Hour), fmt.Sprint("fix-", i)
		}
		want.ActionID = w.ActionID
		if fmt.Sprint(w) != fmt.Sprint(want) {
			t.Errorf("write %d:\n got %+v\nwant %+v", i, w, want)
		}
	}
	if w, c, n := plan.Counts(); w != 47 || c != 3 || n != 0 {
		t.Errorf("counts: %d writes, %d conflicts, %d no-ops", w, c, n)
	}
	// Without the field filter the plan is the same: the user changed nothing else.
	unfiltered, err := UserChanges(t.Context(), st, Scope{Tenant: "acme", UserID: bulk, From: scope.From, To: scope.To})
	if err != nil || len(PlanUser(Scope{Tenant: "acme", UserID: bulk, From: scope.From, To: scope.To}, unfiltered).Writes) != 50 {
		t.Errorf("unfiltered plan: %v", err)
	}

	crm := SalesforceRecords{Client: sf.client(t)}
	clock := func() time.Time { return t0.Add(24 * time.Hour) }

	// A dry run reads, writes nothing and records what it would do.
	var dry actionLog
	outs, err := Apply(t.Context(), plan, crm, &dry, ApplyOptions{Actor: "auditor", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if sf.patches != 0 || len(outs) != 50 || len(dry.recs) != 50 {
		t.Fatalf("dry run: %d patches, %d outcomes, %d records", sf.patches, len(outs), len(dry.recs))
	}
	for _, a := range dry.recs {
		if a.Mode != alert.ModeDryRun || a.Status != alert.StatusSkipped || a.Type != ActionType || a.AlertID != plan.ID {
			t.Fatalf("dry run record %+v", a)
		}
	}

	// Someone edits record 20 in the CRM after the trail's last change:
	// apply must not overwrite that either.
	sf.set("Opportunity", recordID(20), "StageName", "Closed Won")
	var log actionLog
	outs, err = Apply(t.Context(), plan, crm, &log, ApplyOptions{Enforce: true, Actor: "auditor", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, o := range outs {
		status[o.Status]++
	}
	if status[alert.StatusDone] != 46 || status[alert.StatusSkipped] != 4 || sf.patches != 46 {
		t.Errorf("apply: %v, %d patches", status, sf.patches)
	}
	for i := range 50 {
		want := fmt.Sprint("Stage", i%4)
		switch {
		case conflicted[i]:
			want = "Negotiation"
		case i == 20:
			want = "Closed Won"
		}
		if got := sf.get("Opportunity", recordID(i), "StageName"); got != want {
			t.Errorf("record %d: StageName %v, want %v", i, got, want)
		}
		if got := sf.get("Opportunity", recordID(i), "Amount"); fmt.Sprint(got) != "100" {
			t.Errorf("record %d: Amount %v, touched", i, got)
		}
	}
	// Every write done was announced (executing) first, under the plan's ids.
	executing := 0
	for _, a := range log.recs {
		if a.Status == alert.StatusExecuting {
			executing++
		}
		if a.Mode != alert.ModeEnforce || a.Actor != "auditor" || a.Tenant != "acme" {
			t.Fatalf("record %+v", a)
		}
	}
	if executing != 46 || len(log.recs) != 96 {
		t.Errorf("%d executing of %d records", executing, len(log.recs))
	}

	// Applying again writes nothing: the fields already hold their values.
	var again actionLog
	if _, err := Apply(t.Context(), plan, crm, &again, ApplyOptions{Enforce: true, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if sf.patches != 46 {
		t.Errorf("re-apply patched: %d", sf.patches)
	}
	if plan2 := PlanUser(scope, changes); plan2.ID != plan.ID || plan2.Writes[0].ActionID != plan.Writes[0].ActionID {
		t.Error("plan ids are not deterministic")
	}
}

func TestPlanRecord(t *testing.T) {
	mk := func(id string, min int, user string, cs ...Change) Version {
		return Version{At: t0.Add(time.Duration(min) * time.Minute), EventID: id, Offset: int64(min), ObjectType: "contact", UserID: user, Changes: cs}
	}
	vs := []Version{
		mk("e1", 0, "a", Change{"Email", "", "a@x"}, Change{"Phone", "", "1"}),
		mk("e2", 10, "b", Change{"Email", "a@x", "b@x"}),
		mk("e3", 20, "c", Change{"Email", "b@x", "c@x"}, Change{"Title", "", "CEO"}),
		mk("e4", 30, "c", Change{"Phone", "1", "2"}, Change{"Phone", "2", "1"}),
	}
	s := Scope{Tenant: "acme", ObjectType: "contact", ObjectID: "003X", To: t0.Add(5 * time.Minute)}
	p := PlanRecord(s, vs)
	var got []string
	for _, w := range p.Writes {
		got = append(got, fmt.Sprintf("%s=%q (now %q) undoes %v noop=%v", w.Field, w.Value, w.Expected, w.Undoes, w.Noop))
	}
	want := []string{
		`Email="a@x" (now "c@x") undoes [e2 e3] noop=false`,
		`Phone="1" (now "1") undoes [e4 e4] noop=true`,
		`Title="" (now "CEO") undoes [e3] noop=false`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if len(PlanRecord(Scope{Tenant: "acme", ObjectID: "003X", To: t0.Add(time.Hour)}, vs).Writes) != 0 {
		t.Error("a rollback to after the last change should write nothing")
	}
}

func TestPlanOutputAndBadNames(t *testing.T) {
	p := PlanRecord(Scope{Tenant: "acme", ObjectType: "contact", ObjectID: "003X", To: t0},
		[]Version{{At: t0.Add(time.Minute), EventID: "e1", ObjectType: "contact", UserID: "a", Changes: []Change{{"Email", "a@x", "b,c@x"}}}})
	var b strings.Builder
	if err := p.Write(&b, "csv"); err != nil {
		t.Fatal(err)
	}
	want := "object_type,object_id,field,value,expected_current,conflict,conflict_by,conflict_at,noop,undoes,action_id\n" +
		"contact,003X,Email,a@x,\"b,c@x\",false,,,false,e1," + p.Writes[0].ActionID + "\n"
	if b.String() != want {
		t.Errorf("csv:\n%s\nwant\n%s", b.String(), want)
	}
	sf := newFakeSalesforce(t)
	crm := SalesforceRecords{Client: sf.client(t)}
	for _, tc := range []struct{ typ, id, field, want string }{
		{"contact", "003/../../x", "Email", "not a Salesforce record id"},
		{"con tact", "003000000000001", "Email", "not an sObject API name"},
		{"contact", "003000000000001", "Email,Phone", "not a field API name"},
		{"contact", "003000000000001", "Email", "does not exist"}, // the org has no such record
	} {
		_, err := crm.Fields(t.Context(), tc.typ, tc.id, []string{tc.field})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s %s: %v, want %q", tc.typ, tc.id, tc.field, err, tc.want)
		}
	}
}
