package event

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func TestAppendJSONCanonical(t *testing.T) {
	// The benchmark events are written in canonical form, so encoding what
	// they decode to gives back the same bytes.
	for _, name := range benchEvents {
		t.Run(name, func(t *testing.T) {
			in := benchInput(t, name)
			e, err := Decode(in, benchOptions())
			if err != nil {
				t.Fatal(err)
			}
			if out := AppendJSON(nil, &e); string(out) != string(in) {
				t.Fatalf("canonical encoding\n got %s\nwant %s", out, in)
			}
		})
	}
}

func TestAppendJSON(t *testing.T) {
	base := func() Event {
		return Event{ID: "e", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 7e6, time.UTC), Tenant: "t",
			Source: Source{System: "s"}, Event: Activity{Category: "session", Action: "login", Outcome: "failure"}, User: User{ID: "u"}}
	}
	const head = `{"id":"e","timestamp":"2026-01-02T03:04:05.007Z","tenant":"t","source":{"system":"s"},"event":{"category":"session","action":"login","outcome":"failure"},"user":{"id":"u"}`
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(*Event)
		want   string
	}{
		{name: "minimal", mutate: func(*Event) {}, want: head + `}`},
		{name: "fixed offset", mutate: func(e *Event) { e.Timestamp = e.Timestamp.In(time.FixedZone("", 5*3600+45*60)) },
			want: `{"id":"e","timestamp":"2026-01-02T08:49:05.007+05:45"` + head[len(`{"id":"e","timestamp":"2026-01-02T03:04:05.007Z"`):] + `}`},
		{name: "named zone", mutate: func(e *Event) { e.Timestamp = time.Date(2026, 7, 1, 23, 59, 59, 999e6, ny) },
			want: `{"id":"e","timestamp":"2026-07-01T23:59:59.999-04:00"` + head[len(`{"id":"e","timestamp":"2026-01-02T03:04:05.007Z"`):] + `}`},
		{name: "zero offset is Z", mutate: func(e *Event) { e.Timestamp = e.Timestamp.In(time.FixedZone("GMT", 0)) }, want: head + `}`},
		{name: "year 1", mutate: func(e *Event) { e.Timestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) },
			want: `{"id":"e","timestamp":"0001-01-01T00:00:00.000Z"` + head[len(`{"id":"e","timestamp":"2026-01-02T03:04:05.007Z"`):] + `}`},
		{name: "records zero with flag", mutate: func(e *Event) { e.HasRecords = true }, want: head + `,"records":0}`},
		{name: "records without flag", mutate: func(e *Event) { e.Records = 7 }, want: head + `}`},
		{name: "coordinates zero with flag", mutate: func(e *Event) { e.Client.Geo.HasCoords = true }, want: head + `,"client":{"geo":{"lat":0,"lon":0}}}`},
		{name: "coordinates", mutate: func(e *Event) { e.Client.Geo = Geo{City: "x", Lat: -33.8688, Lon: 1e-7, HasCoords: true} },
			want: head + `,"client":{"geo":{"city":"x","lat":-33.8688,"lon":1e-7}}}`},
		{name: "client without geo", mutate: func(e *Event) { e.Client.IP = "::1" }, want: head + `,"client":{"ip":"::1"}}`},
		{name: "optional strings", mutate: func(e *Event) {
			e.Source.Collector = "c1"
			e.Event.Reason = "bad_password"
			e.User.Timezone = "UTC"
			e.Comment = "why"
			e.Object.OwnerID = "o"
			e.TargetUser.Name = "n"
			e.Permission.Scope = "api"
		}, want: `{"id":"e","timestamp":"2026-01-02T03:04:05.007Z","tenant":"t","source":{"system":"s","collector":"c1"},"event":{"category":"session","action":"login","outcome":"failure","reason":"bad_password"},"user":{"id":"u","timezone":"UTC"},"object":{"owner_id":"o"},"comment":"why","target_user":{"name":"n"},"permission":{"scope":"api"}}`},
		{name: "changes and related", mutate: func(e *Event) {
			e.Changes = []Change{{Field: "a"}, {Field: "b", Old: "1", New: "2"}}
			e.Related = []Related{{Type: "account", ID: "1"}}
		}, want: head + `,"changes":[{"field":"a","old":"","new":""},{"field":"b","old":"1","new":"2"}],"related":[{"type":"account","id":"1"}]}`},
		{name: "empty slices and map", mutate: func(e *Event) { e.Changes, e.Related, e.Labels = []Change{}, []Related{}, map[string]string{} }, want: head + `}`},
		{name: "labels sorted", mutate: func(e *Event) { e.Labels = map[string]string{"b": "2", "a": "1", "": "0"} }, want: head + `,"labels":{"":"0","a":"1","b":"2"}}`},
		{name: "escapes", mutate: func(e *Event) { e.Comment = "a\"b\\c\nd\te\rf\x00g\x1fh/i<j>&\u2028é😀" },
			want: head + `,"comment":"a\"b\\c\nd\te\rf\u0000g\u001fh/i<j>&` + "\u2028é😀" + `"}`},
		{name: "invalid UTF-8 replaced", mutate: func(e *Event) { e.Comment = "a\xffb\xc3" }, want: head + `,"comment":"a\ufffdb\ufffd"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := base()
			tc.mutate(&e)
			got := AppendJSON([]byte("prefix"), &e)
			if string(got[:6]) != "prefix" {
				t.Fatalf("AppendJSON overwrote dst: %q", got[:6])
			}
			got = got[6:]
			if string(got) != tc.want {
				t.Fatalf("AppendJSON\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
		})
	}
}

func TestAppendJSONManyLabels(t *testing.T) {
	// More labels than the sort's stack buffer holds.
	e := goEvent()
	e.Labels = map[string]string{}
	for i := range 40 {
		e.Labels["k"+strconv.Itoa(i)] = strconv.Itoa(i)
	}
	opts := testOptions()
	opts.MaxAge = 0
	back, err := Decode(AppendJSON(nil, &e), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(&e) {
		t.Fatalf("round trip lost labels: %v", back.Labels)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	// encoding/json reads the canonical encoding as the same values: every
	// string, number and the timestamp instant and offset.
	e := goEvent()
	e.Comment = "quote \" backslash \\ control \x01 emoji 😀"
	out := AppendJSON(nil, &e)
	var got Event
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	got.HasRecords, got.Client.Geo.HasCoords = true, true // not in JSON
	if !got.Equal(&e) {
		t.Fatalf("encoding/json read a different event:\n got %+v\nwant %+v", got, e)
	}
}
