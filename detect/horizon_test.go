package detect

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestSpan(t *testing.T) {
	e := engineOf(t, map[string]string{
		"w.yaml": `id: w
version: 1
title: window
severity: low
params:
  win: 10m
filter: event.category == "data_change"
group_by: [user.id]
window: params.win
condition: count() >= 3
suppress: 1h
`,
		"s.yaml": `id: s
version: 1
title: single
severity: low
filter: event.category == "permission"
group_by: [user.id]
`,
		"n.yaml": `id: n
version: 1
title: new value
severity: low
filter: event.category == "authentication"
group_by: [user.id]
new_value:
  field: client.geo.country
  history: 30d
`,
	}, &Config{
		Lateness: time.Minute, MaxKeysPerRule: 10, MaxWindowEvents: 10, MaxValues: 10, Calendar: DefaultCalendar(),
		Tenants: map[string]TenantConfig{"big": {Rules: map[string]RuleOverride{"w": {Params: map[string]string{"win": "2h"}}}}},
	})
	for _, tc := range []struct {
		rule string
		want time.Duration
	}{
		{"w", 2 * time.Hour}, // the tenant variant's window beats the suppression
		{"s", 0},
		{"n", 30 * 24 * time.Hour},
		{"nope", 0},
	} {
		if got := e.Span(tc.rule); got != tc.want {
			t.Errorf("Span(%s) = %s, want %s", tc.rule, got, tc.want)
		}
	}
}

func TestWants(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "data_change" && event.action in ["update", "merge"]
group_by: [object.id]
window: 10m
condition: count() >= 3
`, nil)
	if !e.Wants(ev("1", at(0), "data_change", "update")) {
		t.Error("an update is routed to the rule")
	}
	if e.Wants(ev("2", at(0), "data_change", "delete")) {
		t.Error("a delete cannot match the rule")
	}
	if e.Wants(ev("3", at(0), "authentication", "login")) {
		t.Error("a login cannot match the rule")
	}
}

func TestMatches(t *testing.T) {
	e := engineOf(t, map[string]string{
		"w.yaml": `id: w
version: 1
title: window
severity: low
params:
  kind: update
filter: event.category == "data_change" && event.action == params.kind && event.outcome == "success"
group_by: [object.id]
window: 10m
condition: count() >= 3
`,
		"q.yaml": `id: q
version: 1
title: sequence
severity: low
filter: event.outcome == "success"
group_by: [object.id]
sequence:
  within: 10m
  steps:
    - name: a
      filter: event.category == "export" && event.action == "export"
    - name: b
      filter: event.category == "export" && event.action == "bulk_export"
`,
		"x.yaml": `id: x
version: 1
title: failing filter
severity: low
filter: event.category == "permission" && int(user.name) > 0
group_by: [object.id]
window: 10m
condition: count() >= 3
`,
	}, &Config{
		Lateness: time.Minute, MaxKeysPerRule: 10, MaxWindowEvents: 10, MaxValues: 10, Calendar: DefaultCalendar(),
		Tenants: map[string]TenantConfig{
			"merges": {Rules: map[string]RuleOverride{"w": {Params: map[string]string{"kind": "merge"}}}},
			"off":    {Rules: map[string]RuleOverride{"w": {Disabled: true}}},
		},
	})
	named := func(n string) func(*event.Event) { return func(e *event.Event) { e.User.Name = n } }
	sh := e.NewShard()
	for _, tc := range []struct {
		name string
		ev   *event.Event
		want bool
	}{
		{"routed, filter holds", ev("1", at(0), "data_change", "update"), true},
		{"routed, filter fails", ev("2", at(0), "data_change", "update", failed), false},
		{"not routed", ev("3", at(0), "authentication", "login"), false},
		{"the tenant's variant holds", ev("4", at(0), "data_change", "merge", tenant("merges")), true},
		{"the tenant's variant fails", ev("5", at(0), "data_change", "update", tenant("merges")), false},
		{"disabled for the tenant", ev("6", at(0), "data_change", "update", tenant("off")), false},
		{"a sequence step holds", ev("7", at(0), "export", "bulk_export"), true},
		{"a sequence's filter fails", ev("8", at(0), "export", "export", failed), false},
		{"no sequence step holds", ev("9", at(0), "export", "report_run"), false},
		{"a filter that fails to evaluate counts as a match", ev("10", at(0), "permission", "grant", named("jdoe")), true},
		{"a filter that evaluates to false", ev("11", at(0), "permission", "grant", named("0")), false},
	} {
		if got := sh.Matches(tc.ev); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Matches keeps nothing and counts nothing.
	st := sh.Stats()
	if st.Events != 0 || st.Keys != 0 {
		t.Errorf("after Matches: %d events, %d keys; want none", st.Events, st.Keys)
	}
	for _, r := range st.Rules {
		if r.Evaluated != 0 || r.Matched != 0 || r.EvalErrors != 0 || r.Fallbacks != 0 {
			t.Errorf("%s: counters moved: %+v", r.Rule, r)
		}
	}
	// The failing filter does fail in Process, where it is counted.
	sh.Process(ev("12", at(0), "permission", "grant", named("jdoe")), nil)
	for _, r := range sh.Stats().Rules {
		if r.Rule == "x" && r.EvalErrors != 1 {
			t.Errorf("x: %d evaluation errors after one failing event, want 1", r.EvalErrors)
		}
	}
}
