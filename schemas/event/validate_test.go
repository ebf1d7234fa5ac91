package event

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goEvent is a valid event as a collector builds it in Go.
func goEvent() Event {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return Event{
		ID:        "sf-0ATxx0000000001",
		Timestamp: time.Date(2026, 11, 3, 2, 14, 7, 412e6, ny),
		Tenant:    "acme",
		Source:    Source{System: "salesforce", ID: "0ATxx0000000001"},
		Event:     Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User:      User{ID: "005xx000001Sv6d", Name: "jdoe@acme.example", Type: "human", Timezone: "America/New_York"},
		Client: Client{IP: "198.51.100.23", AccessMethod: "web",
			Geo: Geo{Country: "US", City: "Boston", Lat: 42.36, Lon: -71.06, HasCoords: true}},
		Object:     Object{Type: "opportunity", ID: "006xx", Name: "Big deal"},
		Changes:    []Change{{Field: "stage", Old: "Prospecting", New: "Closed Won"}},
		Records:    1,
		HasRecords: true,
		Comment:    "customer asked",
		Related:    []Related{{Type: "account", ID: "001xx"}},
		TargetUser: TargetUser{ID: "005yy"},
		Permission: Permission{Name: "Modify All Data"},
		Labels:     map[string]string{"sf_event_type": "Update"},
	}
}

func TestValidate(t *testing.T) {
	labels := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m["k"+strconv.Itoa(i)] = "v"
		}
		return m
	}
	cases := []struct {
		name   string
		mutate func(*Event)
		opts   func(*Options)
		want   string
	}{
		{name: "valid", mutate: func(*Event) {}},
		{name: "minimal", mutate: func(e *Event) {
			*e = Event{ID: "e", Timestamp: testNow, Tenant: "t", Source: Source{System: "s"},
				Event: Activity{Category: "session", Action: "logout", Outcome: "unknown"}, User: User{ID: "u"}}
		}},
		{name: "no id", mutate: func(e *Event) { e.ID = "" }, want: "id: required"},
		{name: "id too long", mutate: func(e *Event) { e.ID = strings.Repeat("x", 129) }, want: "id: 129 characters, limit 128"},
		{name: "no timestamp", mutate: func(e *Event) { e.Timestamp = time.Time{} }, want: "timestamp: required"},
		{name: "microseconds", mutate: func(e *Event) { e.Timestamp = e.Timestamp.Add(time.Microsecond) }, want: "timestamp: finer than a millisecond (truncate it)"},
		{name: "offset in seconds", mutate: func(e *Event) { e.Timestamp = e.Timestamp.In(time.FixedZone("LMT", -17762)) }, want: "timestamp: UTC offset of -17762s is not ±hh:mm"},
		{name: "offset of a day", mutate: func(e *Event) { e.Timestamp = e.Timestamp.In(time.FixedZone("", 24*3600)) }, want: "timestamp: UTC offset of 86400s is not ±hh:mm"},
		{name: "year 10000", mutate: func(e *Event) { e.Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, opts: replay, want: "timestamp: year 10000 is outside 0000-9999"},
		{name: "year -1", mutate: func(e *Event) { e.Timestamp = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, opts: replay, want: "timestamp: year -1 is outside 0000-9999"},
		{name: "too old", mutate: func(e *Event) { e.Timestamp = testNow.Add(-8 * 24 * time.Hour) }, want: "timestamp: 2026-10-26T07:54:07.412Z is 192h0m0s old, limit 168h0m0s"},
		{name: "too old, replay", mutate: func(e *Event) { e.Timestamp = testNow.Add(-8 * 24 * time.Hour) }, opts: replay},
		{name: "ahead", mutate: func(e *Event) { e.Timestamp = testNow.Add(time.Hour) }, want: "timestamp: 2026-11-03T08:54:07.412Z is 1h0m0s ahead of the clock, limit 10m0s"},
		{name: "no tenant", mutate: func(e *Event) { e.Tenant = "" }, want: "tenant: required"},
		{name: "no source.system", mutate: func(e *Event) { e.Source.System = "" }, want: "source.system: required"},
		{name: "no category", mutate: func(e *Event) { e.Event.Category = "" }, want: "event.category: required"},
		{name: "bad category", mutate: func(e *Event) { e.Event.Category = "exfil" }, want: `event.category: "exfil" is not one of authentication, session, data_access, data_change, export, permission, configuration, integration`},
		{name: "no action", mutate: func(e *Event) { e.Event.Action = "" }, want: "event.action: required"},
		{name: "no outcome", mutate: func(e *Event) { e.Event.Outcome = "" }, want: "event.outcome: required"},
		{name: "bad outcome", mutate: func(e *Event) { e.Event.Outcome = "ok" }, want: `event.outcome: "ok" is not one of success, failure, unknown`},
		{name: "no user.id", mutate: func(e *Event) { e.User.ID = "" }, want: "user.id: required"},
		{name: "bad user.type", mutate: func(e *Event) { e.User.Type = "bot" }, want: `user.type: "bot" is not one of human, integration, system`},
		{name: "bad timezone", mutate: func(e *Event) { e.User.Timezone = "Mars/Olympus_Mons" }, want: `user.timezone: "Mars/Olympus_Mons" does not load: unknown time zone`},
		{name: "bad timezone shape", mutate: func(e *Event) { e.User.Timezone = "Local" }, want: `user.timezone: "Local" is not an IANA time zone name`},
		{name: "bad ip", mutate: func(e *Event) { e.Client.IP = "localhost" }, want: `client.ip: "localhost" is not an IPv4 or IPv6 address`},
		{name: "bad access method", mutate: func(e *Event) { e.Client.AccessMethod = "ftp" }, want: `client.access_method: "ftp" is not one of web, api, mobile, bulk_api, integration`},
		{name: "bad country", mutate: func(e *Event) { e.Client.Geo.Country = "usa" }, want: `client.geo.country: "usa" is not an ISO 3166-1 alpha-2 code`},
		{name: "lat out of range", mutate: func(e *Event) { e.Client.Geo.Lat = 90.5 }, want: "client.geo.lat: 90.5 out of range [-90, 90]"},
		{name: "lat NaN", mutate: func(e *Event) { e.Client.Geo.Lat = math.NaN() }, want: "client.geo.lat: NaN out of range [-90, 90]"},
		{name: "lon infinite", mutate: func(e *Event) { e.Client.Geo.Lon = math.Inf(-1) }, want: "client.geo.lon: -Inf out of range [-180, 180]"},
		{name: "coordinates without flag", mutate: func(e *Event) { e.Client.Geo.HasCoords = false }, want: "client.geo: lat/lon set without HasCoords"},
		{name: "zero coordinates without flag", mutate: func(e *Event) { e.Client.Geo = Geo{} }},
		{name: "records without flag", mutate: func(e *Event) { e.HasRecords = false }, want: "records: set to 1 without HasRecords"},
		{name: "negative records", mutate: func(e *Event) { e.Records = -5 }, want: `records: "-5" is negative`},
		{name: "change without field", mutate: func(e *Event) { e.Changes = append(e.Changes, Change{Old: "a"}) }, want: "changes[1].field: required"},
		{name: "related without id", mutate: func(e *Event) { e.Related[0].ID = "" }, want: "related[0].id: required"},
		{name: "invalid UTF-8", mutate: func(e *Event) { e.User.Name = "j\xffdoe" }, want: "user.name: invalid UTF-8"},
		{name: "invalid UTF-8 in a change", mutate: func(e *Event) { e.Changes[0].New = "\xc3" }, want: "changes[0].new: invalid UTF-8"},
		{name: "invalid UTF-8 in a label", mutate: func(e *Event) { e.Labels["x"] = "\xff" }, want: "labels.x: invalid UTF-8"},
		{name: "invalid UTF-8 in a label key", mutate: func(e *Event) { e.Labels["\xff"] = "x" }, want: "labels: invalid UTF-8 in a key"},
		{name: "1001 changes", mutate: func(e *Event) { e.Changes = make([]Change, 1001); fill(e.Changes) }, want: "changes: 1001 entries, limit 1000"},
		{name: "257 labels", mutate: func(e *Event) { e.Labels = labels(257) }, want: "labels: 257 keys, limit 256"},
		{name: "over 64 KiB encoded", mutate: func(e *Event) { e.Comment = strings.Repeat("\x01", 11000) }, want: "event is 66744 bytes encoded, limit 65536"}, // 11,000 × len(`\u0001`) + 744 for the rest,
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := goEvent()
			tc.mutate(&e)
			opts := testOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			err := Validate(&e, opts)
			if got := errorText(t, err); got != tc.want {
				t.Fatalf("Validate\n got error %q\nwant error %q", got, tc.want)
			}
			if err != nil {
				return
			}
			// A valid event survives the trip through JSON unchanged.
			back, err := Decode(AppendJSON(nil, &e), opts)
			if err != nil {
				t.Fatalf("decoding a valid event's encoding: %v", err)
			}
			if !back.Equal(&e) {
				t.Fatalf("round trip changed the event:\n in  %+v\n out %+v", e, back)
			}
		})
	}
}

func replay(o *Options) { o.MaxAge = 0 }

func fill(changes []Change) {
	for i := range changes {
		changes[i] = Change{Field: "f"}
	}
}
