// Command gensample writes testdata/sample-events.ndjson: a small, fixed
// day of CRM activity (logins, views, updates, exports, a few failures)
// for `make run` to feed through the pipeline, with a handful of malformed
// lines that must land in the dead-letter topic. Deterministic: rerunning
// it writes the same file.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	rng := rand.New(rand.NewPCG(7, 11))
	out := os.Stdout
	enc := json.NewEncoder(out)
	tenants := []struct {
		name, country, city string
		lat, lon            float64
		offset              int
	}{
		{"acme", "US", "Boston", 42.36, -71.06, -5},
		{"globex", "DE", "Berlin", 52.52, 13.40, 1},
	}
	actions := []struct{ category, action, object string }{
		{"authentication", "login", ""},
		{"data_access", "view", "contact"},
		{"data_access", "view", "account"},
		{"data_change", "update", "contact"},
		{"data_access", "search", ""},
		{"export", "export", "report"},
		{"session", "logout", ""},
	}
	start := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	for i := range 2000 {
		t := tenants[i%len(tenants)]
		a := actions[rng.IntN(len(actions))]
		user := rng.IntN(40)
		ts := start.Add(time.Duration(i)*20*time.Second + time.Duration(rng.IntN(1000))*time.Millisecond).In(time.FixedZone("", t.offset*3600))
		ev := map[string]any{
			"id":        fmt.Sprintf("sample-%05d", i),
			"timestamp": ts.Format("2006-01-02T15:04:05.000Z07:00"),
			"tenant":    t.name,
			"source":    map[string]any{"system": "salesforce", "id": fmt.Sprintf("0AT%07d", i)},
			"event":     map[string]any{"category": a.category, "action": a.action, "outcome": "success"},
			"user":      map[string]any{"id": fmt.Sprintf("005%s%04d", t.name[:2], user), "name": fmt.Sprintf("user%d@%s.example", user, t.name), "type": "human"},
			"client": map[string]any{
				"ip":  fmt.Sprintf("198.51.100.%d", 1+user),
				"geo": map[string]any{"country": t.country, "city": t.city, "lat": t.lat, "lon": t.lon},
			},
		}
		if a.action == "login" && rng.IntN(10) == 0 {
			ev["event"] = map[string]any{"category": "authentication", "action": "login", "outcome": "failure", "reason": "bad_password"}
		}
		if a.object != "" {
			ev["object"] = map[string]any{"type": a.object, "id": fmt.Sprintf("003%06d", rng.IntN(5000))}
		}
		if a.action == "update" {
			ev["changes"] = []map[string]string{{"field": "phone", "old": "+1 555 0100", "new": "+1 555 0199"}}
		}
		if a.action == "export" {
			ev["records"] = 50 + rng.IntN(2000)
		}
		if err := enc.Encode(ev); err != nil {
			panic(err)
		}
		if i%500 == 250 {
			// Malformed lines: they must reach the dead-letter topic.
			bad := []string{
				`{"id":"bad-1","timestamp":"yesterday","tenant":"acme"}`,
				`{"id":"bad-2","timestamp":"2026-11-03T09:00:00.000Z","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"telepathy","action":"x","outcome":"success"},"user":{"id":"u"}}`,
				`not json at all`,
				`{"id":"bad-4","timestamp":"2026-11-03T09:00:00.000Z","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},"colour":"red"}`,
			}
			fmt.Fprintln(out, bad[(i/500)%len(bad)])
		}
	}
}
