package detect

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// TestSpec is one test a rule carries: events (compact YAML, merged onto
// defaults, at times relative to a start) and the alerts they must produce.
// An empty expectation list means the events must not fire the rule.
type TestSpec struct {
	Name     string
	Line     int
	Start    time.Time
	Config   *Config // per-tenant overrides for this test; nil for the defaults
	Defaults map[string]any
	Events   []*TestEvent
	Expect   []*Expectation
	// ExpectNone is set by `expect: none` or `expect: []`.
	ExpectNone bool
}

// TestEvent is one input event of a test (or Repeat copies of it).
type TestEvent struct {
	Line      int
	At        *time.Duration // offset from the test's start
	After     *time.Duration // offset from the previous event
	Timestamp string         // an explicit timestamp, overriding At and After
	Repeat    int
	Every     time.Duration
	Fields    map[string]any
}

// Expectation is one expected alert (or Count identical ones).
type Expectation struct {
	Line    int
	Rule    string // defaults to the rule carrying the test
	Count   int
	Group   map[string]string
	Values  map[string]any
	Events  []string // evidence event ids that must be present
	Summary string   // a substring of the summary
	Actions []string // action types requested
}

// DefaultTestStart is when a test's events start unless it says otherwise:
// a Monday, 10:00 UTC.
var DefaultTestStart = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

var testKeys = []string{"name", "start", "config", "defaults", "events", "expect"}

func (d *ydoc) parseTests(n *yaml.Node) []*TestSpec {
	var out []*TestSpec
	names := map[string]bool{}
	for i, tn := range d.seq(n, "tests") {
		t := &TestSpec{Line: tn.Line, Start: DefaultTestStart}
		hasExpect := false
		for _, kv := range d.mapping(tn, "test", testKeys) {
			switch kv.key {
			case "name":
				t.Name = d.nonEmpty(kv.v, "test name")
			case "start":
				s := d.str(kv.v, "start")
				ts, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					d.errorf(kv.v, "start %q: want an RFC 3339 time such as 2026-03-02T09:00:00Z", s)
				}
				t.Start = ts
			case "config":
				c := d.parseConfig(kv.v)
				t.Config = &c
			case "defaults":
				t.Defaults = d.eventFields(kv.v, "defaults")
			case "events":
				for _, en := range d.seq(kv.v, "events") {
					if e := d.parseTestEvent(en); e != nil {
						t.Events = append(t.Events, e)
					}
				}
			case "expect":
				hasExpect = true
				t.Expect, t.ExpectNone = d.parseExpect(kv.v)
			}
		}
		if t.Name == "" {
			t.Name = fmt.Sprintf("test%d", i+1)
		}
		if names[t.Name] {
			d.errorf(tn, "test name %q is used twice", t.Name)
		}
		names[t.Name] = true
		if len(t.Events) == 0 {
			d.errorf(tn, "test %q has no events", t.Name)
		}
		if !hasExpect {
			d.errorf(tn, "test %q lacks \"expect\" (use expect: none for events that must not fire)", t.Name)
		}
		out = append(out, t)
	}
	return out
}

func (d *ydoc) parseTestEvent(n *yaml.Node) *TestEvent {
	e := &TestEvent{Line: n.Line, Repeat: 1}
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.errorf(n, "a test event must be a mapping of event fields")
		return nil
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "at", "after", "every":
			s := d.str(v, k.Value)
			dur, err := ParseDuration(strings.TrimPrefix(s, "+"))
			if err != nil {
				d.errorf(v, "%s: %s", k.Value, err.Error())
				continue
			}
			switch k.Value {
			case "at":
				e.At = &dur
			case "after":
				e.After = &dur
			default:
				e.Every = dur
			}
		case "repeat":
			e.Repeat = d.integer(v, "repeat")
			if e.Repeat < 1 || e.Repeat > 100000 {
				d.errorf(v, "repeat must be between 1 and 100000")
				e.Repeat = 1
			}
		case "timestamp":
			e.Timestamp = d.str(v, "timestamp")
		default:
			rest.Content = append(rest.Content, k, v)
		}
	}
	if e.At != nil && e.After != nil {
		d.errorf(n, "a test event takes at or after, not both")
	}
	e.Fields = d.eventFields(rest, "event")
	return e
}

// eventFields decodes a mapping of event fields, expanding dotted keys
// ("client.geo.country: BR") into nested objects.
func (d *ydoc) eventFields(n *yaml.Node, what string) map[string]any {
	out := map[string]any{}
	for _, kv := range d.mapping(n, what, nil) {
		var v any
		if err := kv.v.Decode(&v); err != nil {
			d.errorf(kv.v, "%s.%s: %s", what, kv.key, err.Error())
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = expandDotted(m)
		}
		setDotted(out, kv.key, v)
	}
	return out
}

func expandDotted(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = expandDotted(mm)
		}
		setDotted(out, k, v)
	}
	return out
}

// setDotted sets path (a.b.c) in m, merging maps.
func setDotted(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if vm, ok := v.(map[string]any); ok {
		if old, ok := m[last].(map[string]any); ok {
			mergeMaps(old, vm)
			return
		}
	}
	m[last] = v
}

// mergeMaps deep-merges src into dst.
func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if vm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeMaps(dm, vm)
				continue
			}
			v = deepCopyMap(vm)
		}
		dst[k] = v
	}
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if vm, ok := v.(map[string]any); ok {
			v = deepCopyMap(vm)
		}
		out[k] = v
	}
	return out
}

func (d *ydoc) parseExpect(n *yaml.Node) ([]*Expectation, bool) {
	n = deref(n)
	if n == nil {
		return nil, true
	}
	if n.Kind == yaml.ScalarNode && (n.Value == "none" || n.Tag == "!!null") {
		return nil, true
	}
	items := d.seq(n, "expect")
	if len(items) == 0 {
		return nil, true
	}
	var out []*Expectation
	for _, en := range items {
		x := &Expectation{Line: en.Line, Count: 1}
		for _, kv := range d.mapping(en, "expectation", []string{"rule", "count", "group", "values", "events", "summary", "actions"}) {
			switch kv.key {
			case "rule":
				x.Rule = d.str(kv.v, "rule")
			case "count":
				x.Count = d.integer(kv.v, "count")
				if x.Count < 0 {
					d.errorf(kv.v, "count must not be negative")
				}
			case "group":
				x.Group = map[string]string{}
				for _, g := range d.mapping(kv.v, "group", nil) {
					x.Group[g.key] = d.str(g.v, "group value")
				}
			case "values":
				x.Values = map[string]any{}
				for _, g := range d.mapping(kv.v, "values", nil) {
					var v any
					if err := g.v.Decode(&v); err != nil {
						d.errorf(g.v, "values.%s: %s", g.key, err.Error())
						continue
					}
					x.Values[g.key] = v
				}
			case "events":
				x.Events = d.strList(kv.v, "events")
			case "summary":
				x.Summary = d.str(kv.v, "summary")
			case "actions":
				x.Actions = d.strList(kv.v, "actions")
			}
		}
		out = append(out, x)
	}
	return out, false
}
