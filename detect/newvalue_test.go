package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestNewValue(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication" && event.action == "login" && event.outcome == "success"
group_by: [user.id]
new_value:
  field: client.geo.country
  history: 30d
  min_history: 7d
summary: 'first login from {{ client.geo.country }}'
`, nil)
	login := func(id string, d time.Duration, c string) *event.Event {
		return ev(id, at(d), "authentication", "login", country(c))
	}
	cases := []struct {
		name string
		evs  []*event.Event
		want string
	}{
		{"a new account learns first", []*event.Event{login("1", 0, "US"), login("2", time.Hour, "FR")}, ""},
		{"after min_history a new country fires", []*event.Event{login("1", 0, "US"), login("2", 8*Day, "FR")}, "2"},
		{"a known country does not", []*event.Event{login("1", 0, "US"), login("2", 8*Day, "US"), login("3", 9*Day, "US")}, ""},
		{"each new country once", []*event.Event{login("1", 0, "US"), login("2", 8*Day, "FR"), login("3", 9*Day, "FR"), login("4", 10*Day, "DE")}, "2,4"},
		{"forgotten after the history", []*event.Event{login("1", 0, "US"), login("2", 8*Day, "FR"), login("3", 20*Day, "US"), login("4", 39*Day, "FR")}, "2,4"},
		{"seen within the history is known", []*event.Event{login("1", 0, "US"), login("2", 8*Day, "FR"), login("3", 20*Day, "US"), login("4", 37*Day, "FR")}, "2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := run(e, tc.evs...)
			if got := triggers(out); got != tc.want {
				t.Errorf("alerts at %q, want %q:\n%s", got, tc.want, describe(out))
			}
		})
	}
	out := run(e, login("1", 0, "US"), login("2", Day, "CA"), login("3", 8*Day, "FR"))
	a := alertsOf(out)
	if len(a) != 1 || a[0].Values["new_value"] != "FR" || fmt.Sprint(a[0].Values["known_values"]) != "[CA US]" || a[0].Summary != "first login from FR" {
		t.Errorf("alert: %s", describe(out))
	}
}
