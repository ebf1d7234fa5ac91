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

func TestNewValueAlsoNew(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication" && event.action == "login" && event.outcome == "success"
group_by: [user.id]
new_value:
  field: client.geo.country
  also_new: client.device_id
  history: 30d
  min_history: 7d
summary: 'first login from {{ client.geo.country }}'
`, nil)
	login := func(id string, d time.Duration, c, dev string) *event.Event {
		return ev(id, at(d), "authentication", "login", country(c), func(e *event.Event) { e.Client.DeviceID = dev })
	}
	cases := []struct {
		name string
		evs  []*event.Event
		want string
	}{
		{"new country on a new device fires", []*event.Event{login("1", 0, "US", "laptop"), login("2", 8*Day, "RO", "x")}, "2"},
		{"new country on a known device does not (a traveller)", []*event.Event{login("1", 0, "US", "laptop"), login("2", 8*Day, "GB", "laptop")}, ""},
		{"new device in a known country does not", []*event.Event{login("1", 0, "US", "laptop"), login("2", 8*Day, "US", "phone")}, ""},
		{"no device counts as new", []*event.Event{login("1", 0, "US", ""), login("2", 8*Day, "RO", "")}, "2"},
		{"a country seen with a known device is known later", []*event.Event{login("1", 0, "US", "laptop"), login("2", 8*Day, "GB", "laptop"), login("3", 9*Day, "GB", "x")}, ""},
		{"a device is forgotten after the history", []*event.Event{login("1", 0, "US", "old"), login("2", 20*Day, "US", "laptop"), login("3", 40*Day, "RO", "old")}, "3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := run(e, tc.evs...)
			if got := triggers(out); got != tc.want {
				t.Errorf("alerts at %q, want %q:\n%s", got, tc.want, describe(out))
			}
		})
	}
	// Devices never show among the known values.
	out := run(e, login("1", 0, "US", "laptop"), login("2", Day, "CA", "laptop"), login("3", 8*Day, "FR", "x"))
	a := alertsOf(out)
	if len(a) != 1 || fmt.Sprint(a[0].Values["known_values"]) != "[CA US]" {
		t.Errorf("alert: %s", describe(out))
	}
}
