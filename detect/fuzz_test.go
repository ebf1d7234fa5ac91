package detect

import (
	"strings"
	"testing"
)

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"a","timestamp":"2026-11-03T02:14:07.412-05:00","tenant":"acme","source":{"system":"s"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},"client":{"geo":{"lat":1,"lon":2}},"records":5}`))
	f.Add([]byte(`{"id":"a","changes":[{"field":"f","old":"o","new":"n"}],"labels":{"k":"v"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid event: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Tenant == "" || ev.Timestamp.IsZero() {
			t.Fatalf("accepted an event without id, tenant or time: %+v", ev)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("lateness: 2m\ncalendar: {zone: Europe/Paris, days: [mon], hours: \"09:00-17:00\"}\n"))
	f.Add([]byte("tenants:\n  acme:\n    rules:\n      r: {params: {n: 5}, actions: {notify: enforce}}\n    lists: {l: [a]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("detect.yaml", b)
		if err != nil {
			if !strings.Contains(err.Error(), "detect.yaml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
	})
}
