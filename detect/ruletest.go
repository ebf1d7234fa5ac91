package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestResult is the outcome of one rule test.
type TestResult struct {
	Rule     string
	Test     string
	File     string
	Line     int
	Failures []string
	Alerts   []*alert.Alert // every alert the test's events raised (any rule)
}

// Passed says whether the test passed.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// RunTests runs the tests of every rule accepted by match (nil: all), in
// rule and test order.
func RunTests(rs *RuleSet, match func(rule, test string) bool) []TestResult {
	var out []TestResult
	for _, r := range rs.Rules {
		for _, t := range r.Tests {
			if match != nil && !match(r.ID, t.Name) {
				continue
			}
			out = append(out, RunTest(rs, r, t))
		}
	}
	return out
}

// testTimeFormat is the contract's timestamp: milliseconds and the offset.
const testTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// baseTestEvent holds what every test event has unless it says otherwise.
func baseTestEvent() map[string]any {
	return map[string]any{
		"tenant": "acme",
		"source": map[string]any{"system": "test"},
		"event":  map[string]any{"outcome": "success"},
		"user":   map[string]any{"id": "u1"},
	}
}

// TestEvents builds the events of a test, in input order.
func TestEvents(t *TestSpec) ([]*event.Event, error) {
	var out []*event.Event
	at := t.Start
	n := 0
	for i, te := range t.Events {
		for k := 0; k < te.Repeat; k++ {
			switch {
			case k > 0:
				every := te.Every
				if every == 0 {
					every = time.Second
				}
				at = at.Add(every)
			case te.Timestamp != "":
				ts, err := time.Parse(time.RFC3339Nano, te.Timestamp)
				if err != nil {
					return nil, fmt.Errorf("event %d (line %d): timestamp %q: %w", i+1, te.Line, te.Timestamp, err)
				}
				at = ts
			case te.At != nil:
				at = t.Start.Add(*te.At)
			case te.After != nil:
				at = at.Add(*te.After)
			case i > 0:
				at = at.Add(time.Second)
			}
			n++
			m := baseTestEvent()
			mergeMaps(m, deepCopyMap(t.Defaults))
			mergeMaps(m, deepCopyMap(te.Fields))
			if _, ok := m["id"]; !ok || te.Repeat > 1 {
				if id, ok := m["id"].(string); ok && te.Repeat > 1 {
					m["id"] = fmt.Sprintf("%s-%d", id, k+1)
				} else if !ok {
					m["id"] = fmt.Sprintf("e%d", n)
				}
			}
			// The contract writes times with milliseconds; an explicit
			// timestamp may omit them but not be more precise.
			if at.Nanosecond()%int(time.Millisecond) != 0 {
				return nil, fmt.Errorf("event %d (line %d): timestamp %s is more precise than a millisecond", i+1, te.Line, at.Format(time.RFC3339Nano))
			}
			m["timestamp"] = at.Format(testTimeFormat)
			if te.Repeat > 1 {
				m = substituteN(m, k+1).(map[string]any)
			}
			b, err := json.Marshal(normalizeYAML(m))
			if err != nil {
				return nil, fmt.Errorf("event %d (line %d): %w", i+1, te.Line, err)
			}
			ev, err := DecodeEvent(b)
			if err != nil {
				return nil, fmt.Errorf("event %d (line %d): %w", i+1, te.Line, err)
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// substituteN replaces {n} in every string of a repeated event with the
// repetition's number (1-based), so repeats can differ ("object.id: c{n}").
func substituteN(v any, n int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substituteN(e, n)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substituteN(e, n)
		}
		return out
	case string:
		return strings.ReplaceAll(x, "{n}", fmt.Sprint(n))
	}
	return v
}

// normalizeYAML turns what yaml.v3 decodes (times, map[any]any) into what
// encoding/json writes as the contract wants.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeYAML(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeYAML(e)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// RunTest runs one test of rule r: its events through an engine of the
// whole rule set (with the test's configuration), then its expectations.
func RunTest(rs *RuleSet, r *Rule, t *TestSpec) TestResult {
	res := TestResult{Rule: r.ID, Test: t.Name, File: r.File, Line: t.Line}
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	cfg := DefaultConfig()
	if t.Config != nil {
		cfg = *t.Config
	}
	eng, err := NewEngine(rs, cfg)
	if err != nil {
		fail("config: %v", err)
		return res
	}
	evs, err := TestEvents(t)
	if err != nil {
		fail("%v", err)
		return res
	}
	sh := eng.NewShard()
	var outs []Output
	for _, ev := range evs {
		outs = sh.Process(ev, outs)
	}
	for _, o := range outs {
		if o.Kind == OutputAlert {
			res.Alerts = append(res.Alerts, o.Alert)
		}
	}
	byRule := map[string][]*alert.Alert{}
	for _, a := range res.Alerts {
		byRule[a.Rule.ID] = append(byRule[a.Rule.ID], a)
	}
	if t.ExpectNone || len(t.Expect) == 0 {
		if got := byRule[r.ID]; len(got) > 0 {
			fail("want no alert, got %d:\n%s", len(got), describeAlerts(got))
		}
		return res
	}
	want := map[string]int{}
	for _, x := range t.Expect {
		rule := x.Rule
		if rule == "" {
			rule = r.ID
		}
		want[rule] += x.Count
		var matched []*alert.Alert
		var why []string
		for _, a := range byRule[rule] {
			if reason := x.mismatch(a); reason == "" {
				matched = append(matched, a)
			} else {
				why = append(why, reason)
			}
		}
		if len(matched) != x.Count {
			msg := fmt.Sprintf("line %d: want %d alert(s) of %s", x.Line, x.Count, rule)
			if desc := x.describe(); desc != "" {
				msg += " with " + desc
			}
			msg += fmt.Sprintf(", got %d", len(matched))
			if len(why) > 0 {
				msg += " (others: " + strings.Join(dedupeStrings(why), "; ") + ")"
			}
			fail("%s", msg)
		}
	}
	for _, rule := range sortedKeys(want) {
		if got := len(byRule[rule]); got != want[rule] {
			fail("want %d alert(s) of %s in all, got %d:\n%s", want[rule], rule, got, describeAlerts(byRule[rule]))
		}
	}
	return res
}

func dedupeStrings(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// mismatch says why alert a does not meet the expectation ("" if it does).
func (x *Expectation) mismatch(a *alert.Alert) string {
	for _, k := range sortedKeys(x.Group) {
		if a.Group[k] != x.Group[k] {
			return fmt.Sprintf("group %s is %q, not %q", k, a.Group[k], x.Group[k])
		}
	}
	for _, k := range sortedKeys(x.Values) {
		got, ok := a.Values[k]
		if !ok {
			return fmt.Sprintf("no value %s", k)
		}
		if !valuesEqual(got, x.Values[k]) {
			return fmt.Sprintf("value %s is %v, not %v", k, formatValue(got), formatValue(x.Values[k]))
		}
	}
	for _, id := range x.Events {
		if !contains(a.EventIDs, id) {
			return fmt.Sprintf("evidence %v lacks %s", a.EventIDs, id)
		}
	}
	if x.Summary != "" && !strings.Contains(a.Summary, x.Summary) {
		return fmt.Sprintf("summary %q lacks %q", a.Summary, x.Summary)
	}
	return ""
}

func (x *Expectation) describe() string {
	var parts []string
	if len(x.Group) > 0 {
		parts = append(parts, fmt.Sprintf("group %v", x.Group))
	}
	if len(x.Values) > 0 {
		parts = append(parts, fmt.Sprintf("values %v", x.Values))
	}
	if len(x.Events) > 0 {
		parts = append(parts, fmt.Sprintf("evidence %v", x.Events))
	}
	if x.Summary != "" {
		parts = append(parts, fmt.Sprintf("summary containing %q", x.Summary))
	}
	return strings.Join(parts, ", ")
}

func valuesEqual(got, want any) bool {
	gf, gok := toNumber(got)
	wf, wok := toNumber(want)
	if gok && wok {
		return math.Abs(gf-wf) <= 1e-6*math.Max(1, math.Abs(wf))
	}
	gl, glok := toStrings(got)
	wl, wlok := toStrings(want)
	if glok && wlok {
		sort.Strings(gl)
		sort.Strings(wl)
		return reflect.DeepEqual(gl, wl)
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func toStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return append([]string(nil), x...), true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out, true
	}
	return nil, false
}

func describeAlerts(as []*alert.Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "    %s group=%v values=%v evidence=%v summary=%q\n", a.TriggeredAt.Format(time.RFC3339), a.Group, a.Values, a.EventIDs, a.Summary)
	}
	return strings.TrimRight(b.String(), "\n")
}
