package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func testResolver(t testing.TB, emailFallback bool) (*Resolver, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.EmailFallback = emailFallback
	r, err := NewResolver(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	r.Swap(NewIndex(parseTestdata(t, "people.csv", "")))
	return r, reg
}

func ev(system, userID, userName string) *event.Event {
	return &event.Event{ID: "e", Tenant: "acme", Timestamp: time.Date(2026, 11, 3, 7, 0, 0, 0, time.UTC),
		Source: event.Source{System: system}, User: event.User{ID: userID, Name: userName}}
}

func TestResolve(t *testing.T) {
	r, reg := testResolver(t, true)
	for _, tc := range []struct {
		name             string
		e                *event.Event
		person, tz, dept string
		typ, role        string
	}{
		{"salesforce account", ev("salesforce", "005K0000001", ""), "p-kim", "America/New_York", "sales", "human", "sales_rep"},
		{"hubspot account", ev("hubspot", "77", "whoever"), "p-kim", "America/New_York", "sales", "human", "sales_rep"},
		{"dynamics account", ev("dynamics365", "6f1c2a8e-0000-4000-8000-000000000001", ""), "p-kim", "America/New_York", "sales", "human", "sales_rep"},
		{"account of another system does not match", ev("hubspot", "005K0000001", ""), "", "", "", "", ""},
		{"e-mail fallback, any case", ev("generic", "u-19", "Sam@ACME.example"), "p-lee", "Europe/Berlin", "sales", "human", "sales_manager"},
		{"integration", ev("salesforce", "005SYNC", ""), "svc-sync", "", "", "integration", "integration"},
		{"a leaver still resolves", ev("dynamics365", "6f1c2a8e-0000-4000-8000-000000000003", ""), "p-ode", "Asia/Tokyo", "service", "human", "agent"},
		{"unknown", ev("salesforce", "005X", "x@acme.example"), "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.Resolve(tc.e)
			u := tc.e.User
			if u.PersonID != tc.person || u.Timezone != tc.tz || u.Department != tc.dept || u.Type != tc.typ || u.Role != tc.role {
				t.Errorf("user = %+v, want person %q tz %q dept %q type %q role %q", u, tc.person, tc.tz, tc.dept, tc.typ, tc.role)
			}
		})
	}
	// What the event says wins over the directory.
	e := ev("salesforce", "005K0000001", "")
	e.User.Timezone, e.User.Role = "Europe/London", "admin"
	r.Resolve(e)
	if e.User.PersonID != "p-kim" || e.User.Timezone != "Europe/London" || e.User.Role != "admin" || e.User.Department != "sales" {
		t.Errorf("event's own attributes overwritten: %+v", e.User)
	}
	if got := metricValue(t, reg, "trailwatch_identity_unresolved_total", "salesforce"); got != 1 {
		t.Errorf("unresolved{salesforce} = %v, want 1", got)
	}
	if got := metricValue(t, reg, "trailwatch_identity_unresolved_total", "hubspot"); got != 1 {
		t.Errorf("unresolved{hubspot} = %v, want 1", got)
	}
	if got := metricValue(t, reg, "trailwatch_identity_resolved_total", "email"); got != 1 {
		t.Errorf("resolved{email} = %v, want 1", got)
	}
	if got := metricValue(t, reg, "trailwatch_identity_resolved_total", "account"); got != 6 {
		t.Errorf("resolved{account} = %v, want 6", got)
	}
	un, forgotten := r.Unresolved()
	if len(un) != 2 || forgotten != 0 {
		t.Fatalf("unresolved = %+v, %d", un, forgotten)
	}
}

func TestResolveWithoutEmailFallback(t *testing.T) {
	r, _ := testResolver(t, false)
	e := ev("generic", "u-19", "sam@acme.example")
	r.Resolve(e)
	if e.User.PersonID != "" {
		t.Errorf("resolved by e-mail with the fallback off: %+v", e.User)
	}
}

func TestResolveSharedEmailNeverMerges(t *testing.T) {
	s, err := Parse([]byte("person_id,emails\np-1,team@acme.example\np-2,team@acme.example\n"), "x", FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewResolver(DefaultConfig(), nil)
	r.Swap(NewIndex(s))
	e := ev("generic", "u", "team@acme.example")
	r.Resolve(e)
	if e.User.PersonID != "" {
		t.Errorf("shared address resolved to %q", e.User.PersonID)
	}
}

func TestResolveTargetUser(t *testing.T) {
	r, _ := testResolver(t, true)
	e := ev("salesforce", "005L0000001", "")
	e.TargetUser = event.TargetUser{ID: "005K0000001", Name: "dana.kim@acme.example"}
	r.Resolve(e)
	if e.User.PersonID != "p-lee" || e.Labels[TargetPersonLabel] != "p-kim" {
		t.Errorf("user %q, target %q", e.User.PersonID, e.Labels[TargetPersonLabel])
	}
	e = ev("salesforce", "005L0000001", "")
	e.TargetUser = event.TargetUser{ID: "005Q"}
	r.Resolve(e)
	if _, ok := e.Labels[TargetPersonLabel]; ok {
		t.Error("unknown target resolved")
	}
	if un, _ := r.Unresolved(); len(un) != 1 || un[0].ID != "005Q" {
		t.Errorf("unresolved = %+v", un)
	}
}

func TestResolveLeavesDirectoryEventsAlone(t *testing.T) {
	r, _ := testResolver(t, true)
	e := ev(SourceSystem, "p-new", "")
	r.Resolve(e)
	if un, _ := r.Unresolved(); len(un) != 0 || e.User.PersonID != "" {
		t.Errorf("directory event touched: %+v, unresolved %v", e.User, un)
	}
}

func TestUnresolvedMemoryIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UnresolvedMemory = 3
	r, _ := NewResolver(cfg, nil)
	for i := range 10 {
		r.Resolve(ev("salesforce", strings.Repeat("x", i+1), ""))
	}
	r.Resolve(ev("salesforce", "x", ""))
	un, forgotten := r.Unresolved()
	if len(un) != 3 || forgotten != 7 || un[0].ID != "x" || un[0].Events != 2 {
		t.Errorf("unresolved = %+v, forgotten %d", un, forgotten)
	}
}

func TestSwapChangesLaterResolution(t *testing.T) {
	r, _ := testResolver(t, true)
	next, err := Parse([]byte("person_id,accounts\np-new,salesforce:005K0000001\n"), "x", FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	before := ev("salesforce", "005K0000001", "")
	r.Resolve(before)
	old := r.Swap(NewIndex(next))
	after := ev("salesforce", "005K0000001", "")
	r.Resolve(after)
	if before.User.PersonID != "p-kim" || after.User.PersonID != "p-new" || old == nil || old.People() != 4 {
		t.Errorf("before %q, after %q", before.User.PersonID, after.User.PersonID)
	}
}

// metricValue is the value of the counter name whose one label is label.
func metricValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
