package simulate

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// small is a quick configuration: three days, three tenants, 60 people.
func small() Config {
	cfg := DefaultConfig()
	cfg.Days, cfg.Tenants, cfg.People = 3, 3, 60
	return cfg
}

// generate runs a simulation into memory.
func generate(t testing.TB, cfg Config) ([]*event.Event, []*Label, Stats) {
	t.Helper()
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	var labels []*Label
	st, err := sim.Run(context.Background(), func(e *event.Event) error { evs = append(evs, e); return nil },
		func(l *Label) error { labels = append(labels, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return evs, labels, st
}

// smallRun is small()'s output, generated once for the tests that only
// read it.
var smallRun struct {
	once   sync.Once
	evs    []*event.Event
	labels []*Label
	st     Stats
}

func generateSmall(t testing.TB) ([]*event.Event, []*Label, Stats) {
	t.Helper()
	smallRun.once.Do(func() { smallRun.evs, smallRun.labels, smallRun.st = generate(t, small()) })
	if smallRun.evs == nil {
		t.Fatal("generating the small world failed")
	}
	return smallRun.evs, smallRun.labels, smallRun.st
}

func encodeAll(t testing.TB, cfg Config) (string, string) {
	t.Helper()
	evs, labels, _ := generate(t, cfg)
	var e, l bytes.Buffer
	for _, ev := range evs {
		e.Write(event.AppendJSON(nil, ev))
		e.WriteByte('\n')
	}
	for _, x := range labels {
		if err := WriteLabel(&l, x); err != nil {
			t.Fatal(err)
		}
	}
	return e.String(), l.String()
}

func TestAtlas(t *testing.T) {
	nets := map[[2]byte]string{}
	for _, p := range places {
		if placeByCity[p.City] != p {
			t.Errorf("city %s is in the atlas twice", p.City)
		}
		if _, err := event.LoadZone(p.Zone); err != nil {
			t.Errorf("%s: zone %s: %v", p.City, p.Zone, err)
		}
		for _, n := range [][2]byte{p.net, p.dc} {
			if other, dup := nets[n]; dup {
				t.Errorf("%s and %s share the network %d.%d", p.City, other, n[0], n[1])
			}
			nets[n] = p.City
			if n[0] == 10 || n[0] == 127 || n[0] == 0 || n[0] >= 224 || (n[0] == 192 && n[1] == 168) || (n[0] == 172 && n[1]&0xf0 == 16) || (n[0] == 100 && n[1]&0xc0 == 64) {
				t.Errorf("%s: network %d.%d is not public", p.City, n[0], n[1])
			}
		}
	}
	for _, c := range attackerCities {
		if placeByCity[c] == nil {
			t.Errorf("attacker city %s is not in the atlas", c)
		}
	}
}

func TestDeterministic(t *testing.T) {
	cfg := small()
	e1, l1 := encodeAll(t, cfg)
	e2, l2 := encodeAll(t, cfg)
	if e1 != e2 || l1 != l2 {
		t.Fatal("the same configuration gave different output")
	}
	cfg.Seed = 2
	e3, _ := encodeAll(t, cfg)
	if e3 == e1 {
		t.Fatal("another seed gave the same events")
	}
}

func TestEventsAreValidUniqueAndInOrder(t *testing.T) {
	cfg := small()
	evs, _, st := generateSmall(t)
	if len(evs) < 5000 || st.Events != len(evs) {
		t.Fatalf("%d events (stats say %d): too few for three days of 60 people", len(evs), st.Events)
	}
	ids := map[string]bool{}
	var newest time.Time
	late := 0
	tenants := map[string]bool{}
	cats := map[string]int{}
	for _, e := range evs {
		if ids[e.ID] {
			t.Fatalf("event id %s used twice", e.ID)
		}
		ids[e.ID] = true
		// The run validates each event before it leaves; check again the
		// way ingest does, from the encoded bytes.
		if _, err := event.Decode(event.AppendJSON(nil, e), event.Options{Now: e.Timestamp, ResolveTimezone: true}); err != nil {
			t.Fatalf("event %s does not decode: %v", e.ID, err)
		}
		if e.Timestamp.Before(newest) {
			late++
			if newest.Sub(e.Timestamp) > cfg.MaxDelay {
				t.Fatalf("event %s is %s behind the newest, more than --max-delay", e.ID, newest.Sub(e.Timestamp))
			}
		} else {
			newest = e.Timestamp
		}
		tenants[e.Tenant] = true
		cats[e.Event.Category]++
	}
	if late == 0 {
		t.Error("no event arrived out of order, with --disorder 0.005")
	}
	if len(tenants) != 3 {
		t.Errorf("tenants %v, want 3", tenants)
	}
	for _, c := range event.Categories {
		if cats[c] == 0 {
			t.Errorf("no %s event in three days", c)
		}
	}
}

func TestLabels(t *testing.T) {
	cfg := small()
	evs, labels, st := generateSmall(t)
	byID := map[string]*event.Event{}
	for _, e := range evs {
		byID[e.ID] = e
	}
	kinds := map[string]int{}
	for _, l := range labels {
		if err := l.Validate(); err != nil {
			t.Errorf("label %s: %v", l.Episode, err)
		}
		kinds[l.Kind]++
		for _, id := range l.Events {
			e := byID[id]
			if e == nil {
				t.Fatalf("label %s names event %s, which was not generated", l.Episode, id)
			}
			if e.Tenant != l.Tenant {
				t.Errorf("label %s (tenant %s) holds event %s of tenant %s", l.Episode, l.Tenant, id, e.Tenant)
			}
			if e.Timestamp.Before(l.Start) || e.Timestamp.After(l.End) {
				t.Errorf("label %s: event %s at %s outside %s–%s", l.Episode, id, e.Timestamp, l.Start, l.End)
			}
		}
	}
	for _, k := range Kinds() {
		if k.Class == ClassAttack && kinds[k.Name] != cfg.Tenants {
			t.Errorf("%d episodes of %s, want one per tenant", kinds[k.Name], k.Name)
		}
	}
	for _, k := range []string{"travel", "password_reset", "integration_export", "integration_sync", "integration_purge", "support_browsing"} {
		if kinds[k] == 0 {
			t.Errorf("no %s episode", k)
		}
	}
	if st.Labels != len(labels) {
		t.Errorf("stats count %d labels, %d written", st.Labels, len(labels))
	}
}

// TestPersonGrouping checks what the person-level rules rely on: a resolved
// person's accounts in two CRMs share user.person_id and user.timezone.
func TestPersonGrouping(t *testing.T) {
	evs, _, _ := generateSmall(t)
	accounts := map[string]map[string]bool{}
	zones := map[string]string{}
	for _, e := range evs {
		if e.User.PersonID == "" || e.User.Type != "human" {
			continue
		}
		if accounts[e.User.PersonID] == nil {
			accounts[e.User.PersonID] = map[string]bool{}
		}
		accounts[e.User.PersonID][e.Source.System+":"+e.User.ID] = true
		if z, ok := zones[e.User.PersonID]; ok && z != e.User.Timezone {
			t.Fatalf("person %s in zones %s and %s", e.User.PersonID, z, e.User.Timezone)
		}
		zones[e.User.PersonID] = e.User.Timezone
	}
	multi := 0
	for _, a := range accounts {
		if len(a) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("nobody has accounts in two CRMs")
	}
}

func TestLive(t *testing.T) {
	cfg := small()
	cfg.Live, cfg.Days = true, 1
	cfg.Start = time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC) // a Wednesday: day in New York, night in Tokyo
	cfg.History = 6 * 24 * time.Hour
	_, labels, st := generate(t, cfg)
	attacks := 0
	for _, l := range labels {
		if l.Class != ClassAttack {
			continue
		}
		attacks++
		if l.Start.Before(cfg.Start) || l.Start.After(cfg.Start.Add(10*time.Minute)) {
			t.Errorf("%s starts at %s, not in the first minutes after %s", l.Episode, l.Start, cfg.Start)
		}
		if l.End.Sub(l.Start) > 10*time.Minute {
			t.Errorf("%s lasts %s: live episodes are compressed", l.Episode, l.End.Sub(l.Start))
		}
	}
	if attacks+len(st.Skipped) < 15 || attacks < 13 || !contains(st.Skipped, "dormant_account") {
		t.Errorf("%d live attack episodes, skipped %v (dormancy needs a month of history)", attacks, st.Skipped)
	}
}

func TestDetectConfigOverridesShortHistory(t *testing.T) {
	cfg := small()
	cfg.History = 5 * 24 * time.Hour
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := string(sim.DetectConfig())
	for _, want := range []string{"acme:", "zone: America/New_York", `hours: "07:00-19:30"`, "auth.new_country:", "learning: 96h"} {
		if !strings.Contains(got, want) {
			t.Errorf("detect config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "dormant") {
		t.Errorf("a short history tunes dormancy into noise:\n%s", got)
	}
	cfg.History = 40 * 24 * time.Hour
	sim, _ = New(cfg)
	if got := string(sim.DetectConfig()); strings.Contains(got, "rules:") {
		t.Errorf("a 40-day history needs no overrides:\n%s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no days", func(c *Config) { c.Days = 0 }, "--days: at least 1"},
		{"too many days", func(c *Config) { c.Days = 1000 }, "--days: 1000"},
		{"negative history", func(c *Config) { c.History = -time.Hour }, "--history"},
		{"no people", func(c *Config) { c.People = 0 }, "--people: 0"},
		{"too few people", func(c *Config) { c.People = 20 }, "too few for 5 tenants"},
		{"unknown kind", func(c *Config) { c.Kinds = []string{"nope"} }, `--kinds: unknown kind "nope"`},
		{"disorder", func(c *Config) { c.Disorder = 2 }, "--disorder"},
		{"every problem at once", func(c *Config) { c.Days, c.People = -1, -1 }, "--people"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Days, cfg.History = 1, 0
	n := 0
	for b.Loop() {
		sim, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		st, err := sim.Run(context.Background(), func(*event.Event) error { return nil }, func(*Label) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		n += st.Events
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
