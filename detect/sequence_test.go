package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

const mfaExportRule = ruleHead + `params:
  min_records: 200
group_by: [person]
sequence:
  within: 30m
  steps:
    - name: mfa_off
      filter: event.action == "mfa_disable"
    - name: export
      filter: event.category == "export" && records >= params.min_records
summary: '{{ person }} disabled MFA in {{ steps.mfa_off.source.system }} then exported {{ records }} records'
`

func TestSequence(t *testing.T) {
	e := engine(t, mfaExportRule, nil)
	mfa := func(id string, d time.Duration, opts ...func(*event.Event)) *event.Event {
		return ev(id, at(d), "authentication", "mfa_disable", opts...)
	}
	exp := func(id string, d time.Duration, n int64, opts ...func(*event.Event)) *event.Event {
		return ev(id, at(d), "export", "export", append(opts, records(n))...)
	}
	hubspot := func(e *event.Event) { e.Source.System = "hubspot" }
	cases := []struct {
		name string
		evs  []*event.Event
		want string
	}{
		{"in order within the span", []*event.Event{mfa("m", 0), exp("x", 10*time.Minute, 500)}, "x"},
		{"export too small", []*event.Event{mfa("m", 0), exp("x", 10*time.Minute, 100)}, ""},
		{"beyond the span", []*event.Event{mfa("m", 0), exp("x", 31*time.Minute, 500)}, ""},
		{"export before mfa_disable", []*event.Event{exp("x", 0, 500), mfa("m", time.Minute)}, ""},
		{"arrival out of order within the lateness", []*event.Event{exp("x", 30*time.Second, 500), mfa("m", 0)}, "x"},
		{"arrival out of order beyond the lateness", []*event.Event{exp("x", 10*time.Minute, 500), mfa("m", 0)}, ""},
		{"one sequence consumes its events", []*event.Event{mfa("m", 0), exp("x1", time.Minute, 500), exp("x2", 2*time.Minute, 500)}, "x1"},
		{"across accounts of one person", []*event.Event{mfa("m", 0, user("hs-1"), person("p"), hubspot), exp("x", 5*time.Minute, 500, user("sf-9"), person("p"))}, "x"},
		{"two different people", []*event.Event{mfa("m", 0, user("a")), exp("x", 5*time.Minute, 500, user("b"))}, ""},
		{"the latest mfa_disable starts the chain", []*event.Event{mfa("m1", 0), mfa("m2", 20*time.Minute), exp("x", 45*time.Minute, 500)}, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := run(e, tc.evs...)
			if got := triggers(out); got != tc.want {
				t.Errorf("alerts at %q, want %q:\n%s", got, tc.want, describe(out))
			}
		})
	}
	out := run(e, mfa("m", 0, user("hs-1"), person("p"), hubspot), exp("x", 5*time.Minute, 500, user("sf-9"), person("p")))
	a := alertsOf(out)[0]
	if want := "p disabled MFA in hubspot then exported 500 records"; a.Summary != want {
		t.Errorf("summary %q, want %q", a.Summary, want)
	}
	if fmt.Sprint(a.EventIDs) != "[m x]" || a.Group["person"] != "p" {
		t.Errorf("evidence %v group %v", a.EventIDs, a.Group)
	}
}

func TestSequenceWhereAndThreeSteps(t *testing.T) {
	e := engine(t, ruleHead+`group_by: [user.id]
sequence:
  within: 1h
  steps:
    - name: login
      filter: event.category == "authentication" && event.action == "login"
    - name: grant
      filter: event.category == "permission" && event.action == "grant"
      where: target_user.id == user.id
    - name: export
      filter: event.category == "export"
      where: client.ip != steps.login.client.ip
`, nil)
	login := ev("l", at(0), "authentication", "login", ip("1.1.1.1"))
	selfGrant := ev("g", at(time.Minute), "permission", "grant", func(e *event.Event) { e.TargetUser.ID = "u1" })
	otherGrant := ev("g2", at(time.Minute), "permission", "grant", func(e *event.Event) { e.TargetUser.ID = "u2" })
	expOther := ev("x", at(2*time.Minute), "export", "export", ip("2.2.2.2"))
	expSame := ev("x", at(2*time.Minute), "export", "export", ip("1.1.1.1"))
	if got := triggers(run(e, login, selfGrant, expOther)); got != "x" {
		t.Errorf("self grant then export from elsewhere: %q", got)
	}
	if got := triggers(run(e, login, otherGrant, expOther)); got != "" {
		t.Errorf("grant to someone else: %q", got)
	}
	if got := triggers(run(e, login, selfGrant, expSame)); got != "" {
		t.Errorf("export from the login's address: %q", got)
	}
	// The middle step arrives last; the chain is found through it.
	if got := triggers(run(e, login, expOther, selfGrant)); got != "x" {
		t.Errorf("middle step out of order: %q", got)
	}
	// where picks among candidates: the first login was from the export's
	// address, the second not.
	login2 := ev("l2", at(30*time.Second), "authentication", "login", ip("3.3.3.3"))
	out := run(e, login, login2, selfGrant, expSame)
	if got := triggers(out); got != "x" || fmt.Sprint(alertsOf(out)[0].EventIDs) != "[l2 g x]" {
		t.Errorf("backtracking over logins: %s", describe(out))
	}
}
