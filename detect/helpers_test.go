package detect

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// t0 is a Monday, 10:00 UTC.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// ruleSet loads rules from name → YAML text.
func ruleSet(t testing.TB, files map[string]string) *RuleSet {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	rs, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatalf("loading rules:\n%v", err)
	}
	return rs
}

// engine loads one rule (YAML) into an engine with cfg (nil: defaults).
func engine(t testing.TB, rule string, cfg *Config) *Engine {
	t.Helper()
	return engineOf(t, map[string]string{"r.yaml": rule}, cfg)
}

func engineOf(t testing.TB, files map[string]string, cfg *Config) *Engine {
	t.Helper()
	rs := ruleSet(t, files)
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	e, err := NewEngine(rs, c)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// ev makes an event: id, time, category/action, then options.
func ev(id string, ts time.Time, category, action string, opts ...func(*event.Event)) *event.Event {
	e := &event.Event{
		ID: id, Timestamp: ts, Tenant: "acme",
		Source: event.Source{System: "salesforce"},
		Event:  event.Activity{Category: category, Action: action, Outcome: "success"},
		User:   event.User{ID: "u1", Name: "u1@acme.example"},
	}
	for _, o := range opts {
		o(e)
	}
	return e
}

func user(id string) func(*event.Event) { return func(e *event.Event) { e.User.ID = id } }
func person(id string) func(*event.Event) {
	return func(e *event.Event) { e.User.PersonID = id }
}
func tenant(t string) func(*event.Event)  { return func(e *event.Event) { e.Tenant = t } }
func failed(e *event.Event)               { e.Event.Outcome = "failure" }
func country(c string) func(*event.Event) { return func(e *event.Event) { e.Client.Geo.Country = c } }
func ip(a string) func(*event.Event)      { return func(e *event.Event) { e.Client.IP = a } }
func tz(z string) func(*event.Event)      { return func(e *event.Event) { e.User.Timezone = z } }
func object(id string) func(*event.Event) {
	return func(e *event.Event) { e.Object.ID = id; e.Object.Type = "contact" }
}
func userType(t string) func(*event.Event) { return func(e *event.Event) { e.User.Type = t } }
func records(n int64) func(*event.Event) {
	return func(e *event.Event) { e.Records, e.HasRecords = n, true }
}
func geo(lat, lon float64) func(*event.Event) {
	return func(e *event.Event) { e.Client.Geo.Lat, e.Client.Geo.Lon, e.Client.Geo.HasCoords = lat, lon, true }
}

// decodeJSON decodes an event through the package's one decoding helper.
func decodeJSON(t testing.TB, s string) *event.Event {
	t.Helper()
	e, err := DecodeEvent([]byte(s))
	if err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return e
}

// run processes events through a fresh shard and returns its outputs.
func run(e *Engine, evs ...*event.Event) []Output {
	sh := e.NewShard()
	var out []Output
	for _, x := range evs {
		out = sh.Process(x, out)
	}
	return out
}

func alertsOf(out []Output) []*alert.Alert {
	var as []*alert.Alert
	for _, o := range out {
		if o.Kind == OutputAlert {
			as = append(as, o.Alert)
		}
	}
	return as
}

// triggers lists each alert as "trigger-event-id" for compact comparisons.
func triggers(out []Output) string {
	var ids []string
	for _, a := range alertsOf(out) {
		ids = append(ids, a.EventIDs[len(a.EventIDs)-1])
	}
	return strings.Join(ids, ",")
}

func describe(out []Output) string {
	var b strings.Builder
	for _, a := range alertsOf(out) {
		fmt.Fprintf(&b, "%s group=%v values=%v evidence=%v summary=%q\n", a.Rule.ID, a.Group, a.Values, a.EventIDs, a.Summary)
	}
	return b.String()
}

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

const ruleHead = `id: r
version: 1
title: Test rule
severity: medium
`
