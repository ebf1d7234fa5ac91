package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// A fast decoder may hand out strings that point into a buffer it reuses.
// Process must copy whatever it keeps: here every string of every event
// points into one buffer that is overwritten after each call.
func TestProcessKeepsNoEventMemory(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication" && event.outcome == "failure"
group_by: [person]
window: 10m
condition: count_distinct(client.geo.country) >= 3
values:
  who: user.name
summary: '{{ user.name }}: {{ join(distinct(client.geo.country), " ") }}'
actions:
  - type: notify
`, nil)
	buf := make([]byte, 256)
	view := func(s string, at int) string {
		copy(buf[at:], s)
		return unsafe.String(&buf[at], len(s))
	}
	sh := e.NewShard()
	var out []Output
	for i, c := range []string{"RU", "BR", "NG"} {
		clear(buf)
		x := &event.Event{
			ID: view(fmt.Sprint("ev", i), 0), Timestamp: at(time.Duration(i) * time.Minute), Tenant: view("acme", 16),
			Source: event.Source{System: view("salesforce", 32)},
			Event:  event.Activity{Category: view("authentication", 48), Action: view("login", 64), Outcome: view("failure", 80)},
			User:   event.User{ID: view("u1", 96), Name: view("jdoe@acme.example", 112)},
			Client: event.Client{Geo: event.Geo{Country: view(c, 144)}},
		}
		out = sh.Process(x, out)
		for j := range buf {
			buf[j] = 'X'
		}
	}
	as := alertsOf(out)
	if len(as) != 1 {
		t.Fatalf("alerts: %s", describe(out))
	}
	a := as[0]
	got := fmt.Sprintf("%s %s %v %v %s %v", a.Tenant, a.Group["person"], a.EventIDs, a.Values["who"], a.Summary, a.Values["distinct(client.geo.country)"])
	if strings.Contains(got, "X") || got != "acme u1 [ev0 ev1 ev2] jdoe@acme.example jdoe@acme.example: BR NG RU [BR NG RU]" {
		t.Errorf("alert kept event memory: %s", got)
	}
	for _, o := range out {
		if o.Kind == OutputAction && (o.Action.Target != "u1" || o.Action.Tenant != "acme") {
			t.Errorf("action kept event memory: %+v", o.Action)
		}
	}
}
