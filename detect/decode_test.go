package detect

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestDecodeEvent(t *testing.T) {
	e := decodeJSON(t, `{"id":"a","timestamp":"2026-11-03T02:14:07.412-05:00","tenant":"acme","source":{"system":"salesforce"},
		"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},
		"client":{"ip":"198.51.100.23","geo":{"country":"US","lat":0,"lon":-71.06}},"records":0}`)
	if !e.HasRecords || e.Records != 0 || !e.Client.Geo.HasCoords || e.Client.Geo.Lat != 0 || e.Client.Geo.Lon != -71.06 || e.Client.IP != "198.51.100.23" {
		t.Errorf("presence: %+v", e)
	}
	if _, off := e.Timestamp.Zone(); off != -5*3600 || !e.Timestamp.Equal(time.Date(2026, 11, 3, 7, 14, 7, 412e6, time.UTC)) {
		t.Errorf("timestamp %v", e.Timestamp)
	}
	e = decodeJSON(t, `{"id":"a","timestamp":"2026-11-03T02:14:07.000Z","tenant":"acme","source":{"system":"s"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},"client":{"geo":{"country":"FR"}}}`)
	if e.HasRecords || e.Client.Geo.HasCoords {
		t.Errorf("absent numbers read as present: %+v", e)
	}
	// Event time is all that matters: any age and any time ahead of the
	// wall clock are accepted, so a file replays the same on any day.
	for _, ts := range []string{"1971-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999-23:59"} {
		decodeJSON(t, `{"id":"a","timestamp":"`+ts+`","tenant":"acme","source":{"system":"s"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"}}`)
	}
	const head = `{"id":"a","timestamp":"2026-11-03T02:14:07.000Z","tenant":"t","source":{"system":"s"},`
	for _, bad := range []struct{ in, want string }{
		{`{"id":"a"`, "offset 9: unexpected end of input"},
		{`{"id":"a","bogus":1}`, "bogus: unknown field"},
		{head + `"event":{"category":"x","action":"a","outcome":"success"},"user":{"id":"u"}}`, `event.category: "x"`},
		{head + `"event":{"category":"export","action":"a","outcome":"success"},"user":{"id":"u"},"records":-1}`, `records: "-1" is negative`},
		{head + `"event":{"category":"export","action":"a","outcome":"success"},"user":{"id":"u","timezone":"Mars/Base"}}`, `user.timezone: "Mars/Base" does not load`},
		{`{"id":"a","timestamp":"2026-11-03T02:14:07Z"}`, "timestamp: no milliseconds"},
		{`{"id":"a","client":{"geo":{"lat":1}}}`, "client.geo.lon: required with client.geo.lat"},
		{`{}`, "id: required"},
	} {
		_, err := DecodeEvent([]byte(bad.in))
		if err == nil || !strings.HasPrefix(err.Error(), "invalid event: ") || !strings.Contains(err.Error(), bad.want) || !errors.Is(err, event.ErrInvalidEvent) {
			t.Errorf("%s: err %v, want %q", bad.in, err, bad.want)
		}
	}
	// Encoding and decoding again gives the same event.
	x := ev("id1", t0, "export", "export", records(5), geo(1, 2), country("FR"))
	b, err := EncodeEvent(x)
	if err != nil {
		t.Fatal(err)
	}
	y := decodeJSON(t, string(b))
	if y.Records != 5 || !y.HasRecords || !y.Client.Geo.HasCoords || y.Client.Geo.Country != "FR" || !y.Timestamp.Equal(t0) {
		t.Errorf("round trip: %s -> %+v", b, y)
	}
	// Decoding into a reused event leaves nothing of the previous one.
	var z event.Event
	if err := DecodeEventInto(&z, b); err != nil {
		t.Fatal(err)
	}
	if err := DecodeEventInto(&z, []byte(head+`"event":{"category":"export","action":"a","outcome":"success"},"user":{"id":"u"}}`)); err != nil {
		t.Fatal(err)
	}
	if z.HasRecords || z.Client.Geo.Country != "" || z.Tenant != "t" {
		t.Errorf("reused event kept old fields: %+v", z)
	}
}

// Rule tests write times with or without milliseconds, in any offset; the
// events they build carry the contract's millisecond timestamps.
func TestTestEventTimes(t *testing.T) {
	spec := &TestSpec{Start: DefaultTestStart, Defaults: map[string]any{"event": map[string]any{"category": "export", "action": "export"}}, Events: []*TestEvent{
		{Line: 3, Repeat: 1, Timestamp: "2026-03-02T09:30:00-05:00"},
		{Line: 4, Repeat: 2, Every: 250 * time.Millisecond},
	}}
	evs, err := TestEvents(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-03-02T09:30:00.000-05:00", "2026-03-02T09:30:01.000-05:00", "2026-03-02T09:30:01.250-05:00"}
	for i, e := range evs {
		if got := e.Timestamp.Format(testTimeFormat); got != want[i] {
			t.Errorf("event %d at %s, want %s", i+1, got, want[i])
		}
	}
	spec.Events[0].Timestamp = "2026-03-02T09:30:00.0001Z"
	if _, err := TestEvents(spec); err == nil || !strings.Contains(err.Error(), "event 1 (line 3): timestamp 2026-03-02T09:30:00.0001Z is more precise than a millisecond") {
		t.Errorf("sub-millisecond timestamp: %v", err)
	}
}
