package detect

import (
	"fmt"
	"testing"
	"time"
)

const clockRule = ruleHead + `filter: event.category == "export"
values:
  hour: local_hour()
  day: local_weekday()
  working: business_hours()
  off: off_hours()
  weekend: is_weekend()
  holiday: is_holiday()
`

// clock runs one export at the given RFC 3339 time with the given user time
// zone and returns the rule's values.
func clock(t *testing.T, e *Engine, ts, zone string, opts ...string) map[string]any {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		t.Fatal(err)
	}
	x := ev("e", tm, "export", "export", tz(zone))
	if len(opts) > 0 {
		x.Tenant = opts[0]
	}
	as := alertsOf(run(e, x))
	if len(as) != 1 {
		t.Fatalf("want one alert")
	}
	return as[0].Values
}

func TestBusinessHours(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tenants = map[string]TenantConfig{
		"tokyo":  {Calendar: &Calendar{Zone: "Asia/Tokyo", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: "09:00-17:30", Holidays: []string{"2026-01-06"}}},
		"nights": {Calendar: &Calendar{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: "22:00-06:00"}},
		"split":  {Calendar: &Calendar{Zone: "Europe/Paris", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat"}, Hours: "08:00-12:00,14:00-18:00"}},
	}
	e := engine(t, clockRule, &cfg)
	cases := []struct {
		name, ts, zone, tenant string
		hour                   int
		day                    string
		working                bool
	}{
		{"New York, winter: 13:30Z is 08:30 EST", "2026-03-02T13:30:00Z", "America/New_York", "", 8, "mon", true},
		{"New York, before DST: 12:30Z is 07:30 EST", "2026-03-02T12:30:00Z", "America/New_York", "", 7, "mon", false},
		{"New York, after DST starts (Mar 8): 12:30Z is 08:30 EDT", "2026-03-09T12:30:00Z", "America/New_York", "", 8, "mon", true},
		{"New York, spring-forward night: 07:30Z is 03:30 EDT", "2026-03-08T07:30:00Z", "America/New_York", "", 3, "sun", false},
		{"New York, before DST ends: 22:30Z is 18:30 EDT", "2026-10-26T22:30:00Z", "America/New_York", "", 18, "mon", false},
		{"New York, after DST ends (Nov 1): 22:30Z is 17:30 EST", "2026-11-02T22:30:00Z", "America/New_York", "", 17, "mon", true},
		{"New York, repeated hour, first 01:30 (EDT)", "2026-11-01T05:30:00Z", "America/New_York", "", 1, "sun", false},
		{"New York, repeated hour, second 01:30 (EST)", "2026-11-01T06:30:00Z", "America/New_York", "", 1, "sun", false},
		{"Berlin, before DST (Mar 29): 06:30Z is 07:30 CET", "2026-03-23T06:30:00Z", "Europe/Berlin", "", 7, "mon", false},
		{"Berlin, after DST: 06:30Z is 08:30 CEST", "2026-03-30T06:30:00Z", "Europe/Berlin", "", 8, "mon", true},
		{"no zone: the timestamp's own offset", "2026-03-02T17:30:00-05:00", "", "", 17, "mon", true},
		{"no zone, the same instant in UTC", "2026-03-02T22:30:00Z", "", "", 22, "mon", false},
		{"an unknown zone falls back to the offset", "2026-03-02T17:30:00-05:00", "Mars/Olympus", "", 17, "mon", true},
		{"the user's zone beats the offset", "2026-03-02T17:30:00-05:00", "Europe/London", "", 22, "mon", false},
		{"Saturday is a weekend day", "2026-03-07T10:00:00Z", "", "", 10, "sat", false},
		{"tenant calendar zone for UTC timestamps", "2026-01-05T00:30:00Z", "", "tokyo", 9, "mon", true},
		{"tenant calendar hours end at 17:30", "2026-01-05T08:45:00Z", "", "tokyo", 17, "mon", false},
		{"tenant holiday", "2026-01-06T01:00:00Z", "", "tokyo", 10, "tue", false},
		{"the offset beats the tenant zone", "2026-01-05T09:30:00+01:00", "", "tokyo", 9, "mon", true},
		{"overnight shift, Monday 23:00", "2026-03-02T23:00:00Z", "", "nights", 23, "mon", true},
		{"overnight shift, Saturday 03:00 is Friday's", "2026-03-07T03:00:00Z", "", "nights", 3, "sat", true},
		{"overnight shift, Monday 03:00 is Sunday's", "2026-03-02T03:00:00Z", "", "nights", 3, "mon", false},
		{"split day, lunch break", "2026-03-02T12:30:00Z", "", "split", 13, "mon", false},
		{"split day, afternoon", "2026-03-07T13:30:00Z", "", "split", 14, "sat", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := clock(t, e, tc.ts, tc.zone, append([]string(nil), tenantOr(tc.tenant))...)
			if toFloat(v["hour"]) != float64(tc.hour) || v["day"] != tc.day || v["working"] != tc.working || v["off"] != !tc.working {
				t.Errorf("got hour=%v day=%v working=%v off=%v; want hour=%d day=%s working=%v", v["hour"], v["day"], v["working"], v["off"], tc.hour, tc.day, tc.working)
			}
		})
	}
	if v := clock(t, e, "2026-01-06T01:00:00Z", "", "tokyo"); v["holiday"] != true || v["weekend"] != false {
		t.Errorf("holiday: %v", v)
	}
	if v := clock(t, e, "2026-03-08T12:00:00Z", "", "acme"); v["weekend"] != true {
		t.Errorf("weekend: %v", v)
	}
}

func tenantOr(t string) string {
	if t == "" {
		return "acme"
	}
	return t
}

func TestCalendarErrors(t *testing.T) {
	for _, c := range []Calendar{
		{Zone: "Nowhere/City", Hours: "08:00-18:00"},
		{Days: []string{"funday"}, Hours: "08:00-18:00"},
		{Hours: "8-18"},
		{Hours: "08:00-25:00"},
		{Hours: "08:00-18:00", Holidays: []string{"25/12/2026"}},
	} {
		if _, err := compileCalendar(c); err == nil {
			t.Errorf("calendar %+v: no error", c)
		}
	}
	cfg := DefaultConfig()
	cfg.Tenants = map[string]TenantConfig{"x": {Calendar: &Calendar{Zone: "Bad/Zone"}}}
	if err := cfg.Validate(); err == nil {
		t.Error("Validate accepted a bad tenant calendar")
	} else if got := err.Error(); got != `tenants.x.calendar: zone "Bad/Zone": not a known IANA time zone` {
		t.Errorf("error = %s", got)
	}
	_ = fmt.Sprint
}
