package generic

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func load(t testing.TB) *Mapping {
	t.Helper()
	m, err := Load("testdata/inhouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExampleMapping(t *testing.T) {
	m := load(t)
	lines := recordtest.Lines(t, "testdata/inhouse.ndjson")
	norm := func(i int) event.Event {
		ev, err := m.Normalizer().Normalize(record.Record{Data: lines[i]}, recordtest.Meta)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		recordtest.CheckContract(t, &ev)
		return ev
	}
	recordtest.Equal(t, norm(0), event.Event{
		ID: "acme-evt-000017", Timestamp: time.UnixMilli(1762174931204).UTC(), Tenant: "acme",
		Source: event.Source{System: "acme-crm", ID: "evt-000017", Collector: "test"},
		Event:  event.Activity{Category: "authentication", Action: "login", Outcome: "failure", Reason: "bad_password"},
		User:   event.User{ID: "u-42", Name: "jdoe@acme.example", Type: "human"},
		Client: event.Client{IP: "198.51.100.23", UserAgent: "Mozilla/5.0", AccessMethod: "web", Geo: event.Geo{Country: "DE"}},
		Labels: map[string]string{"region": "eu-1"},
	})
	export := norm(1)
	if export.Event != (event.Activity{Category: "export", Action: "export", Outcome: "success"}) ||
		export.Object != (event.Object{Type: "contact", ID: "c-1"}) || !export.HasRecords || export.Records != 5000 ||
		export.Client.AccessMethod != "bulk_api" {
		t.Errorf("export: %+v %+v records %d (has %v) access %q", export.Event, export.Object, export.Records, export.HasRecords, export.Client.AccessMethod)
	}
	edit := norm(2)
	want := []event.Change{{Field: "email", Old: "a@x.example", New: "b@x.example"}, {Field: "phone", Old: "", New: "+49 30 1234"}}
	if !reflect.DeepEqual(edit.Changes, want) || edit.HasRecords || edit.Client.IP != "" {
		t.Errorf("edit: changes %+v records %v ip %q", edit.Changes, edit.HasRecords, edit.Client.IP)
	}
}

func TestHashIDWithoutIDPath(t *testing.T) {
	m, err := Parse([]byte(`version: 1
id: {prefix: x-}
timestamp: {path: t}
fields:
  event.category: {const: data_access}
  event.action: {const: view}
  event.outcome: {const: success}
  user.id: u
`), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Normalize([]byte(`{"t":"2026-11-03T13:02:11.204Z","u":"bob","n":1.50}`), recordtest.Meta)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Normalize([]byte(`{ "n":1.50, "u":"bob", "t":"2026-11-03T13:02:11.204Z" }`), recordtest.Meta)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.Normalize([]byte(`{"t":"2026-11-03T13:02:11.204Z","u":"bob","n":1.5}`), recordtest.Meta)
	if a.ID != b.ID || !strings.HasPrefix(a.ID, "x-") || len(a.ID) != 2+32 {
		t.Errorf("same record, fields reordered: ids %s and %s, want one x-<32 hex>", a.ID, b.ID)
	}
	if c.ID == a.ID {
		t.Error("a different record (1.5 vs 1.50 as written) got the same id")
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	bad := `version: 1
id: {prefix: acme-}
timestamp:
  path: when
  format: epoch_minutes
fields:
  event.category: {const: authentication}
  event.action: {const: login}
  event.outcome:
    path: result
    map: {OK: succeeded}
  user.id: {path: "actor..id"}
  user.nickname: nick
  client.geo.country: {const: de}
  records: {const: many}
`
	_, err := Parse([]byte(bad), "bad.yaml")
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`bad.yaml:5: timestamp.format: "epoch_minutes" is not one of rfc3339, epoch_ms, epoch_s, layout`,
		`bad.yaml:11: fields.event.outcome.map.OK: "succeeded" is not one of success, failure, unknown`,
		`bad.yaml:12: fields.user.id.path: path "actor..id": empty key`,
		`bad.yaml:13: fields: "user.nickname" is not a canonical field`,
		`bad.yaml:14: fields.client.geo.country.const: "de" is not an ISO 3166-1 alpha-2 code in upper case`,
		`bad.yaml:15: fields.records.const: "many" is not a record count`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors do not contain %q:\n%v", want, err)
		}
	}
	for _, tt := range []struct{ yaml, want string }{
		{"version: 2\n", `:1: version: "2" is not supported`},
		{"version: 1\nfields: {}\n", "fields.event.category: missing (the contract requires it"},
		{"version: 1\nid: {path: x}\n", "id.prefix: missing"},
		{"version: 1\nextra: 1\n", `mapping: unknown setting "extra"`},
		{"version: 1\ntimestamp: {path: t, format: layout}\n", "timestamp.layout: missing"},
		{"version: 1\ntimestamp: {path: t, format: layout, layout: '2006-01-02', timezone: Mars/Base}\n", `timestamp.timezone: "Mars/Base" is not an IANA time zone name`},
		{"version: 1\nfields:\n  user.id: {path: a, const: b}\n", "give a path or a const, not both"},
		{"version: 1\nfields:\n  object.id: {path: 'a[x]'}\n", `"x" is not an array index`},
		{"version: 1\n\tbad", "bad.yaml"},
	} {
		_, err := Parse([]byte(tt.yaml), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.yaml, err, tt.want)
		}
	}
}

func TestRuntimeErrors(t *testing.T) {
	m := load(t)
	tests := []struct{ name, input, want string }{
		{"required path missing", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK"}`, "user.id (path actor.id): missing in this record (required)"},
		{"id missing", `{"meta":{"when":1},"kind":"LOGIN_OK","actor":{"id":"u"}}`, "id: path meta.event_id is missing"},
		{"object where a string belongs", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK","actor":{"id":{"x":1}}}`, "user.id (path actor.id): is an object"},
		{"value not in the map, no default", `{"meta":{"event_id":"e","when":1},"kind":"LOGOUT","actor":{"id":"u"}}`, `event.category (path kind): value "LOGOUT" is not in the map`},
		{"bad epoch", `{"meta":{"event_id":"e","when":"noon"},"kind":"LOGIN_OK","actor":{"id":"u"}}`, `timestamp: path meta.when: "noon" is not a epoch_ms time`},
		{"bad ip", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK","actor":{"id":"u"},"request":{"ip":"Salesforce.com IP"}}`, `client.ip (path request.ip): "Salesforce.com IP" is not an IP address`},
		{"bad country", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK","actor":{"id":"u"},"request":{"geo":{"cc":"Germany"}}}`, `client.geo.country (path request.geo.cc): "GERMANY" is not an ISO 3166-1 alpha-2 code`},
		{"negative count", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK","actor":{"id":"u"},"target":{"count":-3}}`, `records (path target.count): "-3" is not a record count`},
		{"changes not an array", `{"meta":{"event_id":"e","when":1},"kind":"LOGIN_OK","actor":{"id":"u"},"diff":{}}`, "changes: path diff is not an array"},
		{"invalid UTF-8", "{\"meta\":\"\xff\"}", "not valid UTF-8"},
		{"two values", `{} {}`, "more than one JSON value"},
		{"not an object", `"x"`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Normalize([]byte(tt.input), recordtest.Meta)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLayoutInTimezone(t *testing.T) {
	m, err := Parse([]byte(`version: 1
id: {prefix: x-, path: id}
timestamp: {path: t, format: layout, layout: "2006-01-02 15:04:05", timezone: Europe/Berlin}
fields:
  event.category: {const: data_access}
  event.action: {const: view}
  event.outcome: {const: success}
  user.id: u
`), "tz.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Normalize([]byte(`{"id":"1","t":"2026-11-03 14:02:11","u":"bob"}`), recordtest.Meta)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 3, 13, 2, 11, 0, time.UTC); !ev.Timestamp.Equal(want) || ev.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %s, want %s (Berlin is UTC+1 in November)", ev.Timestamp, want)
	}
}

// TestEveryTargetIsSettable keeps Targets and the field switch in step.
func TestEveryTargetIsSettable(t *testing.T) {
	for _, target := range Targets {
		switch target {
		case "records", "client.geo.lat", "client.geo.lon":
			continue
		}
		var ev event.Event
		v := "x"
		if allowed, ok := enums[target]; ok {
			v = allowed[0]
		}
		switch target {
		case "client.ip":
			v = "192.0.2.1"
		case "client.geo.country":
			v = "DE"
		}
		if err := set(&ev, record.Labels{}, target, v); err != nil || get(&ev, target) != v {
			t.Errorf("target %s: set %q gave %q, %v", target, v, get(&ev, target), err)
		}
	}
}

// FuzzGeneric drives the example mapping with arbitrary records: no input
// panics, every accepted record gives a valid, deterministic event.
func FuzzGeneric(f *testing.F) {
	m := load(f)
	for _, line := range recordtest.Lines(f, "testdata/inhouse.ndjson") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := m.Normalize(data, recordtest.Meta)
		if err != nil {
			return
		}
		if err := event.Validate(&ev, recordtest.NoClock); err != nil {
			t.Fatalf("accepted %q but the event breaks the contract: %v", data, err)
		}
		again, _ := m.Normalize(data, recordtest.Meta)
		if !reflect.DeepEqual(ev, again) {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzLoad: no mapping file panics the loader.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: 1\nid: {prefix: a-}\ntimestamp: {path: t}\nfields: {user.id: u, event.category: {const: export}, event.action: {const: export}, event.outcome: {const: success}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.yaml")
		if err == nil {
			_, _ = m.Normalize([]byte(`{"t":"2026-11-03T13:02:11Z","u":"x"}`), recordtest.Meta)
		}
	})
}
