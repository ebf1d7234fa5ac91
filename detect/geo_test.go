package detect

import (
	"math"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestHaversine(t *testing.T) {
	cases := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		km                     float64
	}{
		{"same place", 48.8566, 2.3522, 48.8566, 2.3522, 0},
		{"New York to London", 40.7128, -74.0060, 51.5074, -0.1278, 5570},
		{"Paris to Berlin", 48.8566, 2.3522, 52.5200, 13.4050, 878},
		{"across the antimeridian", 0, 179.5, 0, -179.5, 111.2},
		{"pole to pole", 90, 0, -90, 0, 20015},
	}
	for _, tc := range cases {
		got := haversineKm(tc.lat1, tc.lon1, tc.lat2, tc.lon2)
		if math.Abs(got-tc.km) > math.Max(1, tc.km*0.005) {
			t.Errorf("%s: %.1f km, want %.1f", tc.name, got, tc.km)
		}
	}
	if got := speedKmh(1000, 0, int64(2*time.Hour)); got != 500 {
		t.Errorf("1000 km in 2h = %v km/h", got)
	}
	if got := speedKmh(100, 0, 0); got != 6000 {
		t.Errorf("100 km at once = %v km/h, want 6000 (one minute floor)", got)
	}
}

const travelRule = ruleHead + `params:
  max_speed_kmh: 900
  min_distance_km: 500
filter: event.category == "authentication" && event.action == "login" && event.outcome == "success" && client.geo.has_coords
group_by: [person]
previous: 24h
condition: >
  prev != nil && distance_km(prev, self) >= params.min_distance_km &&
  speed_kmh(prev, self) > params.max_speed_kmh
values:
  km: distance_km(prev, self)
  speed: speed_kmh(prev, self)
  from: prev.client.geo.city
summary: '{{ person }} logged in from {{ client.geo.city }} {{ self.timestamp - prev.timestamp }} after {{ prev.client.geo.city }}, {{ km }} km away'
`

func TestImpossibleTravel(t *testing.T) {
	e := engine(t, travelRule, nil)
	city := func(name string) func(*event.Event) { return func(e *event.Event) { e.Client.Geo.City = name } }
	nyc := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "authentication", "login", geo(40.7128, -74.0060), city("New York"))
	}
	lon := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "authentication", "login", geo(51.5074, -0.1278), city("London"))
	}
	bos := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "authentication", "login", geo(42.3601, -71.0589), city("Boston"))
	}
	cases := []struct {
		name string
		evs  []*event.Event
		want string
	}{
		{"New York then London an hour later", []*event.Event{nyc("a", 0), lon("b", time.Hour)}, "b"},
		{"a plausible flight", []*event.Event{nyc("a", 0), lon("b", 8*time.Hour)}, ""},
		{"a short hop is below the distance", []*event.Event{nyc("a", 0), bos("b", 5*time.Minute)}, ""},
		{"the previous login is older than the span", []*event.Event{nyc("a", 0), lon("b", 25*time.Hour)}, ""},
		{"compared with the latest login", []*event.Event{nyc("a", 0), lon("b", 8*time.Hour), nyc("c", 9*time.Hour)}, "c"},
		{"an out-of-order login lands between", []*event.Event{nyc("a", 0), nyc("c", 2*time.Hour), lon("b", 2*time.Hour-30*time.Second)}, "b,c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := run(e, tc.evs...)
			if got := triggers(out); got != tc.want {
				t.Errorf("alerts at %q, want %q:\n%s", got, tc.want, describe(out))
			}
		})
	}
	out := run(e, nyc("a", 0), lon("b", time.Hour))
	a := alertsOf(out)[0]
	if km := toFloat(a.Values["km"]); math.Abs(km-5570) > 30 || a.Values["from"] != "New York" || toFloat(a.Values["speed"]) < 5000 {
		t.Errorf("values %v", a.Values)
	}
	if want := "u1 logged in from London 1h after New York, 5570 km away"; a.Summary[:len(want)-8] != want[:len(want)-8] {
		t.Errorf("summary %q", a.Summary)
	}
}

func TestDormantAccount(t *testing.T) {
	e := engine(t, ruleHead+`params:
  dormant_after: 30d
filter: user.type != "integration"
group_by: [user.id]
previous: 180d
condition: prev != nil && timestamp - prev.timestamp >= params.dormant_after
summary: 'active again after {{ timestamp - prev.timestamp }}'
`, nil)
	out := run(e,
		ev("1", at(0), "authentication", "login"),
		ev("2", at(10*Day), "data_access", "view"),
		ev("3", at(45*Day), "authentication", "login"),
		ev("4", at(45*Day+time.Hour), "export", "export"),
	)
	if got := triggers(out); got != "3" {
		t.Errorf("alerts at %q, want 3:\n%s", got, describe(out))
	}
	if a := alertsOf(out); len(a) == 1 && a[0].Summary != "active again after 5w" {
		t.Errorf("summary %q", a[0].Summary)
	}
}
