package gdpr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func store(t *testing.T) *chstore.Store {
	t.Helper()
	return history.Migrated(t)
}

func TestExport(t *testing.T) {
	st := store(t)
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	n := 0
	mk := func(id, tenant, actor, person string, fn func(*event.Event)) event.Event {
		n++
		e := event.Event{ID: id, Timestamp: at.Add(time.Duration(n) * time.Minute), Tenant: tenant, Source: event.Source{System: "salesforce"},
			Event: event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
			User:  event.User{ID: actor, PersonID: person, Name: strings.ToLower(actor) + "@x"}}
		if fn != nil {
			fn(&e)
		}
		return e
	}
	es := []event.Event{
		mk("by-u1", "acme", "U1", "P-9", nil),
		mk("by-u2", "acme", "U2", "P-9", nil),
		mk("grant-to-u1", "acme", "A", "", func(e *event.Event) { e.TargetUser = event.TargetUser{ID: "U1", Name: "u1@x"} }),
		mk("owner-change", "acme", "A", "", func(e *event.Event) {
			e.Changes = []event.Change{{Field: "OwnerId", Old: "U1", New: "A"}}
		}),
		mk("owned-by-u2", "acme", "A", "", func(e *event.Event) { e.Object = event.Object{Type: "contact", ID: "C1", OwnerID: "U2"} }),
		mk("user-record", "acme", "A", "", func(e *event.Event) { e.Object = event.Object{Type: "user", ID: "U1"} }),
		mk("email-change", "acme", "A", "", func(e *event.Event) {
			e.Changes = []event.Change{{Field: "Email", Old: "u1@x", New: "new@x"}}
		}),
		mk("unrelated", "acme", "A", "", nil),
		mk("other-tenant", "globex", "U1", "P-9", nil),
		mk("free-text", "acme", "A", "", func(e *event.Event) { e.Comment = "asked by u1@x" }),
	}
	var cols auditrow.Columns
	var r auditrow.Row
	for i := range append(es, es[0]) { // by-u1 twice, at two offsets
		e := es[i%len(es)]
		auditrow.FromEvent(&r, &e, 0, int64(i), at)
		if e.ID == "by-u1" {
			r.DirRole = "sales_rep"
		}
		cols.Append(&r)
	}
	b, err := st.PrepareBatch(t.Context(), auditrow.Insert)
	if err != nil {
		t.Fatal(err)
	}
	if err := cols.Send(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if err := st.Exec(t.Context(), "INSERT INTO alert_event_hits (tenant, event_id, rule_id, triggered_at) VALUES ('acme', 'by-u1', 'rule.r', now64(3))"); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{
		"by-u1": "actor", "by-u2": "actor", "grant-to-u1": "target_user", "owner-change": "changes",
		"owned-by-u2": "object_owner", "user-record": "user_record", "email-change": "changes",
	}
	for _, subject := range []string{"P-9", "U1", "U2"} {
		var out bytes.Buffer
		id, count, err := Export(t.Context(), st, "acme", subject, &out)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(id.Accounts, ",") != "P-9,U1,U2" && strings.Join(id.Accounts, ",") != "U1,U2" {
			t.Errorf("%s: accounts %v", subject, id.Accounts)
		}
		got := map[string]string{}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var rec Record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			e, err := event.Decode(rec.Event, event.Options{MaxAge: 0, Now: at})
			if err != nil {
				t.Fatalf("exported event is not canonical: %v\n%s", err, rec.Event)
			}
			if _, dup := got[e.ID]; dup {
				t.Errorf("%s: %s exported twice", subject, e.ID)
			}
			got[e.ID] = strings.Join(rec.Matched, ",")
			if e.ID == "by-u1" && (len(rec.AlertRules) != 1 || rec.AlertRules[0] != "rule.r" || rec.Stored.Directory == nil || rec.Stored.Directory.Role != "sales_rep") {
				t.Errorf("by-u1 lacks its alert rule or directory enrichment: %+v", rec)
			}
		}
		if count != len(want) || len(got) != len(want) {
			t.Errorf("%s: exported %d (%v), want %v", subject, count, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s matched %q, want %q", subject, k, got[k], v)
			}
		}
	}
}
