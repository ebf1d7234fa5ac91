package detect

import (
	"testing"
	"time"
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
