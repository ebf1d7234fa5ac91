package eventwire

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func minimal() event.Event {
	return event.Event{
		ID: "sf-1", Timestamp: time.Date(2026, 11, 3, 13, 2, 11, 204e6, time.UTC), Tenant: "acme",
		Source: event.Source{System: "salesforce"},
		Event:  event.Activity{Category: "export", Action: "export", Outcome: "success"},
		User:   event.User{ID: "005B0000001vURvIAM"},
	}
}

func TestAppendJSONHonoursPresence(t *testing.T) {
	ev := minimal()
	got, err := AppendJSON(nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"sf-1","timestamp":"2026-11-03T13:02:11.204Z","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"005B0000001vURvIAM"}}`
	if string(got) != want {
		t.Errorf("minimal event:\n got %s\nwant %s", got, want)
	}
	ev.HasRecords = true // zero records, stated: written
	ev.Client.Geo = event.Geo{Lat: 0, Lon: 0, HasCoords: true}
	ev.Timestamp = ev.Timestamp.In(time.FixedZone("", -5*3600))
	got, _ = AppendJSON(nil, &ev)
	for _, w := range []string{`"records":0`, `"geo":{"lat":0,"lon":0}`, `"timestamp":"2026-11-03T08:02:11.204-05:00"`} {
		if !strings.Contains(string(got), w) {
			t.Errorf("%s lacks %s", got, w)
		}
	}
	ev.Labels = map[string]string{"big": strings.Repeat("x", MaxEventBytes)}
	if _, err := AppendJSON(nil, &ev); err == nil || !strings.Contains(err.Error(), "over the 65536-byte limit") {
		t.Errorf("oversized event: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := minimal()
	if err := Validate(&ok); err != nil {
		t.Fatalf("minimal event: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*event.Event)
		want   string
	}{
		{"no id", func(e *event.Event) { e.ID = "" }, "id: missing"},
		{"long id", func(e *event.Event) { e.ID = strings.Repeat("x", 129) }, "id: 129 characters"},
		{"no time", func(e *event.Event) { e.Timestamp = time.Time{} }, "timestamp: missing"},
		{"category", func(e *event.Event) { e.Event.Category = "login" }, `event.category: "login" is not one of`},
		{"outcome", func(e *event.Event) { e.Event.Outcome = "ok" }, `event.outcome: "ok"`},
		{"ip", func(e *event.Event) { e.Client.IP = "Salesforce.com IP" }, `client.ip: "Salesforce.com IP" is not an IPv4 or IPv6 address`},
		{"country", func(e *event.Event) { e.Client.Geo.Country = "ie" }, `client.geo.country: "ie" is not an ISO 3166-1 alpha-2 code`},
		{"records without flag", func(e *event.Event) { e.Records = 5 }, "records: 5 set without HasRecords"},
		{"negative records", func(e *event.Event) { e.Records, e.HasRecords = -1, true }, "records: -1 is negative"},
		{"labels", func(e *event.Event) {
			e.Labels = map[string]string{}
			for i := 0; i < 257; i++ {
				e.Labels[strings.Repeat("k", i+1)] = "v"
			}
		}, "labels: 257 keys"},
		{"utf8", func(e *event.Event) { e.Object.Name = "\xff" }, "object.name: not valid UTF-8"},
		{"utf8 in labels", func(e *event.Event) { e.Labels = map[string]string{"k": "\xff"} }, "labels.k: not valid UTF-8"},
		{"empty change field", func(e *event.Event) { e.Changes = []event.Change{{Old: "a"}} }, "changes[0].field: missing"},
		{"latitude", func(e *event.Event) { e.Client.Geo = event.Geo{Lat: 91, HasCoords: true} }, "client.geo.lat: 91"},
		{"user type", func(e *event.Event) { e.User.Type = "bot" }, `user.type: "bot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := minimal()
			tt.mutate(&ev)
			if err := Validate(&ev); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
