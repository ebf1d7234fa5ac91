package detect

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestAggregations(t *testing.T) {
	// Each case: an aggregate, the events' records values one minute apart
	// in a 3m window, and the aggregate's value after each event.
	cases := []struct {
		agg  string
		recs []int64
		want []float64
	}{
		{"count()", []int64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 3, 3}},
		{"count(records >= 3)", []int64{1, 5, 3, 0, 0}, []float64{0, 1, 2, 2, 1}},
		{"sum(records)", []int64{1, 2, 3, 4, 5}, []float64{1, 3, 6, 9, 12}},
		{"min(records)", []int64{1, 5, 3, 7, 9}, []float64{1, 1, 1, 3, 3}},
		{"max(records)", []int64{9, 5, 3, 4, 1}, []float64{9, 9, 9, 5, 4}},
		{"avg(records)", []int64{3, 6, 9, 0, 0}, []float64{3, 4.5, 6, 5, 3}},
		{"count_distinct(records)", []int64{1, 1, 2, 3, 3}, []float64{1, 1, 2, 3, 2}},
		{"count_distinct(string(records % 2))", []int64{1, 3, 2, 4, 5}, []float64{1, 1, 2, 2, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.agg, func(t *testing.T) {
			// The condition is always true, suppression off: every event
			// alerts and reports the aggregate.
			e := engine(t, ruleHead+`filter: event.category == "export"
window: 3m
suppress: 0s
aggregates:
  x: `+tc.agg+`
condition: x >= 0
`, nil)
			var evs []*event.Event
			for i, n := range tc.recs {
				evs = append(evs, ev(fmt.Sprint("e", i), at(time.Duration(i)*time.Minute), "export", "export", records(n)))
			}
			as := alertsOf(run(e, evs...))
			if len(as) != len(tc.want) {
				t.Fatalf("got %d alerts, want %d", len(as), len(tc.want))
			}
			for i, a := range as {
				if got := toFloat(a.Values["x"]); got != tc.want[i] {
					t.Errorf("after event %d: %s = %v, want %v", i, tc.agg, got, tc.want[i])
				}
			}
		})
	}
}

func toFloat(v any) float64 {
	f, _ := toNumber(v)
	return f
}

func TestDistinctValuesAndSummary(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication" && event.outcome == "failure"
group_by: [user.id]
window: 10m
condition: count_distinct(client.geo.country) >= 3
summary: '{{ user.id }}: {{ count() }} failures from {{ distinct(client.geo.country) }} in {{ window }}'
`, nil)
	out := run(e,
		ev("a", at(0), "authentication", "login", failed, country("RU")),
		ev("b", at(time.Minute), "authentication", "login", failed, country("BR")),
		ev("c", at(2*time.Minute), "authentication", "login", failed, country("RU")),
		ev("d", at(3*time.Minute), "authentication", "login", failed, country("NG")),
	)
	as := alertsOf(out)
	if len(as) != 1 {
		t.Fatalf("want 1 alert, got:\n%s", describe(out))
	}
	a := as[0]
	if want := "u1: 4 failures from BR, NG, RU in 10m"; a.Summary != want {
		t.Errorf("summary = %q, want %q", a.Summary, want)
	}
	if fmt.Sprint(a.EventIDs) != "[a b c d]" || a.Group["user.id"] != "u1" {
		t.Errorf("evidence %v group %v", a.EventIDs, a.Group)
	}
	if fmt.Sprint(a.Values["distinct(client.geo.country)"]) != "[BR NG RU]" {
		t.Errorf("values = %v", a.Values)
	}
	if !a.WindowStart.Equal(at(0)) || !a.WindowEnd.Equal(at(3*time.Minute)) || !a.TriggeredAt.Equal(at(3*time.Minute)) {
		t.Errorf("window %v..%v triggered %v", a.WindowStart, a.WindowEnd, a.TriggeredAt)
	}
}

func TestWindowGroupsAreSeparate(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "data_change" && event.action == "delete"
group_by: [person]
window: 5m
condition: count() >= 3
`, nil)
	out := run(e,
		ev("1", at(0), "data_change", "delete", user("a")),
		ev("2", at(time.Second), "data_change", "delete", user("b")),
		ev("3", at(2*time.Second), "data_change", "delete", user("a"), person("p1")),
		ev("4", at(3*time.Second), "data_change", "delete", user("b")),
		ev("5", at(4*time.Second), "data_change", "delete", user("x"), person("p1")),
		ev("6", at(5*time.Second), "data_change", "delete", user("a"), tenant("other")),
		ev("7", at(6*time.Second), "data_change", "delete", user("a")),
	)
	// a: 1, 7 (3 and 5 belong to person p1); b: 2, 4; p1: 3, 5; other/a: 6.
	if got := triggers(out); got != "" {
		t.Errorf("alerts at %q, want none:\n%s", got, describe(out))
	}
	out = run(e,
		ev("1", at(0), "data_change", "delete", person("p1")),
		ev("2", at(time.Second), "data_change", "delete", user("other"), person("p1")),
		ev("3", at(2*time.Second), "data_change", "delete", user("third"), person("p1")),
	)
	if got := triggers(out); got != "3" {
		t.Errorf("person p1 across three accounts: alerts at %q, want 3", got)
	}
	if a := alertsOf(out); len(a) == 1 && a[0].Group["person"] != "p1" {
		t.Errorf("group = %v", a[0].Group)
	}
}

func TestSuppression(t *testing.T) {
	rule := ruleHead + `filter: event.category == "data_change"
group_by: [user.id]
window: 1m
condition: count() >= 2
suppress: 10m
`
	e := engine(t, rule, nil)
	var evs []*event.Event
	for i := range 30 {
		evs = append(evs, ev(fmt.Sprint(i), at(time.Duration(i)*30*time.Second), "data_change", "update"))
	}
	// Two events per minute: the condition holds from the second event on;
	// alerts are 10 minutes apart in event time.
	if got := triggers(run(e, evs...)); got != "1,21" {
		t.Errorf("alerts at %s, want 1,21", got)
	}
	// The default suppression of a window rule is its window.
	e = engine(t, ruleHead+`filter: event.category == "data_change"
window: 1m
condition: count() >= 2
`, nil)
	if got := triggers(run(e, evs...)); got != "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29" {
		t.Errorf("default suppression: alerts at %s", got)
	}
}

func TestOutOfOrderWithinLateness(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication" && event.outcome == "failure"
group_by: [user.id]
window: 1m
condition: count() >= 3
`, nil)
	inOrder := []*event.Event{
		ev("a", at(0), "authentication", "login", failed),
		ev("b", at(10*time.Second), "authentication", "login", failed),
		ev("c", at(20*time.Second), "authentication", "login", failed),
	}
	want := run(e, inOrder...)
	if triggers(want) != "c" {
		t.Fatalf("in order: alerts at %q", triggers(want))
	}
	// The first failure arrives last, 20s late (lateness is 1m): the window
	// ending at c now holds three failures, and the alert is the one the
	// in-order run raised, with the same id.
	got := run(e, inOrder[1], inOrder[2], inOrder[0])
	if triggers(got) != "c" || alertsOf(got)[0].ID != alertsOf(want)[0].ID {
		t.Fatalf("out of order: %s, want the in-order alert %s", describe(got), alertsOf(want)[0].ID)
	}
	if fmt.Sprint(alertsOf(got)[0].EventIDs) != "[a b c]" {
		t.Errorf("evidence %v, want event-time order [a b c]", alertsOf(got)[0].EventIDs)
	}
	// A late event is evaluated with the window as of its own time: here
	// the window ending at the late event holds it alone, so the condition
	// "the newest event is a success after 2 failures" sees the right order.
	e = engine(t, ruleHead+`filter: event.category == "authentication"
group_by: [user.id]
window: 5m
condition: event.outcome == "success" && count(event.outcome == "failure") >= 2
`, nil)
	ok := ev("ok", at(30*time.Second), "authentication", "login")
	f1 := ev("f1", at(0), "authentication", "login", failed)
	f2 := ev("f2", at(10*time.Second), "authentication", "login", failed)
	for _, order := range [][]*event.Event{{f1, f2, ok}, {f1, ok, f2}, {ok, f1, f2}, {f2, ok, f1}} {
		out := run(e, order...)
		if triggers(out) != "ok" {
			t.Errorf("order %s %s %s: alerts at %q, want one at ok", order[0].ID, order[1].ID, order[2].ID, triggers(out))
		}
	}
	// A success before the failures in event time never fires, whatever the
	// arrival order.
	early := ev("ok", at(-30*time.Second), "authentication", "login")
	for _, order := range [][]*event.Event{{early, f1, f2}, {f1, f2, early}} {
		if out := run(e, order...); len(alertsOf(out)) != 0 {
			t.Errorf("success before failures fired: %s", describe(out))
		}
	}
}

func TestLateEventsBeyondLateness(t *testing.T) {
	files := map[string]string{
		"w.yaml": `id: w
version: 1
title: W
severity: low
filter: event.category == "data_change"
window: 1h
condition: count() >= 2
`,
		"s.yaml": `id: s
version: 1
title: S
severity: low
filter: event.category == "data_change" && event.action == "delete"
`,
	}
	cfg := DefaultConfig()
	cfg.Lateness = time.Minute
	e := engineOf(t, files, &cfg)
	sh := e.NewShard()
	var out []Output
	out = sh.Process(ev("new", at(10*time.Minute), "data_change", "update"), out)
	// Two minutes behind the newest event: late. The stateful rule w does not
	// take it (it would have joined the window), the single-event rule s
	// still alerts, and the shard reports it.
	out = sh.Process(ev("old", at(8*time.Minute), "data_change", "delete"), out)
	var late *Late
	for _, o := range out {
		if o.Kind == OutputLate {
			late = o.Late
		}
	}
	if late == nil || late.EventID != "old" || fmt.Sprint(late.Rules) != "[w]" || !late.Watermark.Equal(at(9*time.Minute)) {
		t.Fatalf("late report = %+v", late)
	}
	if as := alertsOf(out); len(as) != 1 || as[0].Rule.ID != "s" {
		t.Errorf("alerts: %s", describe(out))
	}
	st := sh.Stats()
	if st.LateEvents != 1 || st.Rules[1].Late != 1 || st.Rules[1].Rule != "w" {
		t.Errorf("stats: late=%d rules=%+v", st.LateEvents, st.Rules)
	}
	// Within the lateness it is not late.
	out = sh.Process(ev("ok", at(9*time.Minute+30*time.Second), "data_change", "update"), nil)
	if len(out) != 1 || out[0].Kind != OutputAlert || out[0].Alert.Rule.ID != "w" {
		t.Errorf("event within lateness: %v", out)
	}
}

func TestExpiryFreesState(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "data_access"
group_by: [user.id]
window: 5m
condition: count() >= 100
`, nil)
	sh := e.NewShard()
	for i := range 1000 {
		sh.Process(ev(fmt.Sprint(i), at(time.Duration(i)*time.Second), "data_access", "view", user(fmt.Sprint("u", i%50))), nil)
	}
	if k := sh.Stats().Keys; k != 50 {
		t.Fatalf("keys = %d, want 50", k)
	}
	// One event far later (another user) moves the watermark past every
	// window: all 50 groups are freed.
	sh.Process(ev("later", at(3*time.Hour), "data_access", "view", user("z")), nil)
	if st := sh.Stats(); st.Keys != 1 {
		t.Errorf("after the watermark passed: keys = %d, want 1", st.Keys)
	}
}

func TestKeyCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxKeysPerRule = 3
	e := engine(t, ruleHead+`filter: event.category == "data_change"
group_by: [user.id]
window: 1h
condition: count() >= 2
`, &cfg)
	sh := e.NewShard()
	var out []Output
	for i, u := range []string{"a", "b", "c", "a", "d", "b", "a"} {
		out = sh.Process(ev(fmt.Sprint(i), at(time.Duration(i)*time.Second), "data_change", "update", user(u)), out)
	}
	// a fires at 3. d evicts b (least recently active: b@1, c@2, a@3), so b
	// at 5 starts over and evicts c; a at 6 is suppressed (window).
	st := sh.Stats()
	if st.Rules[0].Evicted != 2 || st.Rules[0].Keys != 3 {
		t.Errorf("evicted %d keys %d, want 2 and 3", st.Rules[0].Evicted, st.Rules[0].Keys)
	}
	if triggers(out) != "3" {
		t.Errorf("alerts at %s", triggers(out))
	}
}

// TestOutOfOrderReevaluatesEveryLaterWindow sends an event a thousand
// places back into windows of a thousand events: every later window it
// joins is evaluated again, each with exactly its own aggregates. (Built
// window by window that was two million accumulator updates, beyond the
// work bound, and only the event's own window and the newest were
// evaluated; an accumulator sliding over them makes it four thousand.)
func TestOutOfOrderReevaluatesEveryLaterWindow(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "data_access"
group_by: [user.id]
window: 10s
suppress: 0s
aggregates:
  n: count()
  objs: count_distinct(object.id)
  total: sum(records)
  least: min(records)
  most: max(records)
condition: objs >= 51
`, nil)
	type point struct {
		ts   time.Time
		obj  string
		recs int64
	}
	var pts []point
	var evs []*event.Event
	for i := range 2000 {
		p := point{at(time.Duration(i) * 10 * time.Millisecond), fmt.Sprint("o", i%50), int64(i*37%101 + 1)}
		pts = append(pts, p)
		evs = append(evs, ev(fmt.Sprint("e", i), p.ts, "data_access", "view", user("u"), object(p.obj), records(p.recs)))
	}
	sh := e.NewShard()
	var out []Output
	for _, x := range evs {
		out = sh.Process(x, out)
	}
	if len(alertsOf(out)) != 0 {
		t.Fatalf("fifty objects met a condition of fifty-one: %s", describe(out))
	}
	// The fifty-first object, 10s back (within the lateness), between
	// e999 and e1000.
	late := point{at(9995 * time.Millisecond), "new", 0}
	pts = append(pts, late)
	out = sh.Process(ev("late", late.ts, "data_access", "view", user("u"), object(late.obj), records(late.recs)), nil)
	as := alertsOf(out)
	// Its own window and those ending at e1000…e1999 hold it.
	if len(as) != 1001 {
		t.Fatalf("%d alerts, want 1001 (the late event's window and the 1000 later ones)", len(as))
	}
	seen := map[time.Time]bool{}
	for _, a := range as {
		end := a.TriggeredAt
		if seen[end] {
			t.Fatalf("two alerts for the window ending at %s", end)
		}
		seen[end] = true
		var n, total float64
		least, most := math.Inf(1), math.Inf(-1)
		objs := map[string]bool{}
		for _, p := range pts {
			if p.ts.After(end.Add(-10*time.Second)) && !p.ts.After(end) {
				n++
				objs[p.obj] = true
				r := float64(p.recs)
				total += r
				least, most = min(least, r), max(most, r)
			}
		}
		want := map[string]float64{"n": n, "objs": float64(len(objs)), "total": total, "least": least, "most": most}
		for k, w := range want {
			if got := toFloat(a.Values[k]); got != w {
				t.Errorf("window ending at %s: %s = %v, want %v", end.Format("15:04:05.000"), k, got, w)
			}
		}
	}
	if st := sh.Stats(); st.Rules[0].Reevaluated != 1000 {
		t.Errorf("%d windows evaluated again, want 1000", st.Rules[0].Reevaluated)
	}
}

// BenchmarkOutOfOrderInBigWindow: a group whose 10s window holds about
// 2,000 events (two a 10ms tick, one of them 500ms late, landing about a
// hundred places back); one op is the two events. The late one
// re-evaluates the hundred windows after it.
//
//	go test ./detect -run '^$' -bench OutOfOrderInBigWindow
func BenchmarkOutOfOrderInBigWindow(b *testing.B) {
	e := engine(b, ruleHead+`filter: event.category == "data_access"
group_by: [user.id]
window: 10s
aggregates:
  objs: count_distinct(object.id)
  total: sum(records)
condition: objs >= 100000
`, nil)
	sh := e.NewShard()
	var out []Output
	i := 0
	step := func() {
		ts := at(time.Duration(i) * 10 * time.Millisecond)
		out = sh.Process(ev(fmt.Sprint("e", i), ts, "data_access", "view", user("u"), object(fmt.Sprint("o", i%3000)), records(int64(i%7))), out[:0])
		out = sh.Process(ev(fmt.Sprint("l", i), ts.Add(-500*time.Millisecond), "data_access", "view", user("u"), object(fmt.Sprint("o", i%2999)), records(1)), out[:0])
		i++
	}
	for range 2000 {
		step()
	}
	for b.Loop() {
		step()
	}
}
