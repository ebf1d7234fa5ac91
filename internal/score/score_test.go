package score

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func lbl(ep, kind, class, rule, person string, from, to time.Duration, events ...string) simulate.Label {
	return simulate.Label{Episode: ep, Kind: kind, Class: class, Rule: rule, Tenant: "acme", Person: person,
		Start: t0.Add(from), End: t0.Add(to), Events: events}
}

func alrt(id, rule string, at time.Duration, group map[string]string, events ...string) alert.Alert {
	return alert.Alert{ID: id, Rule: alert.Rule{ID: rule}, Tenant: "acme", Group: group, TriggeredAt: t0.Add(at), EventIDs: events}
}

func TestScore(t *testing.T) {
	labels := []simulate.Label{
		lbl("tr1", "impossible_travel", "attack", "auth.impossible_travel", "p1", 0, time.Hour, "e1", "e2"),
		lbl("tr2", "impossible_travel", "attack", "auth.impossible_travel", "p2", 0, time.Hour, "e3", "e4"),
		lbl("nc1", "new_country", "attack", "auth.new_country", "p3", 0, 0, "e5"),
		lbl("trip", "travel", "benign", "auth.impossible_travel", "p4", 0, 48*time.Hour, "e6"),
		lbl("sync", "integration_sync", "benign", "data.record_scraping", "svc", 0, time.Minute, "e7"),
	}
	alerts := []alert.Alert{
		// detects tr1 by evidence, 30 min in
		alrt("a1", "auth.impossible_travel", 30*time.Minute, map[string]string{"person": "p1"}, "e0", "e2"),
		// the victim's next login, hours later: still tr1's evidence, a true alert, not a second detection
		alrt("a2", "auth.impossible_travel", 14*time.Hour, map[string]string{"person": "p1"}, "e2", "e9"),
		// tr2 detected by its group within the slack, no shared evidence
		alrt("a3", "auth.impossible_travel", 90*time.Minute, map[string]string{"person": "p2"}, "x1"),
		// another rule on tr2's events: true, but not tr2's detection
		alrt("a4", "auth.new_country", 20*time.Minute, map[string]string{"user.id": "u2"}, "e4"),
		// p2's group, but two days later: nothing
		alrt("a5", "auth.impossible_travel", 50*time.Hour, map[string]string{"person": "p2"}, "x2"),
		// on the benign trip
		alrt("a6", "auth.new_country", 24*time.Hour, map[string]string{"user.id": "u4"}, "e6"),
		// another tenant's event with the same id: nothing
		{ID: "a7", Rule: alert.Rule{ID: "auth.new_country"}, Tenant: "globex", TriggeredAt: t0, EventIDs: []string{"e5"}},
	}
	rep := Score(labels, alerts, Options{})
	if rep.Alerts != 7 || rep.True != 4 || rep.FalseBenign != 1 || rep.FalseUnlabelled != 2 {
		t.Fatalf("alerts %d true %d benign %d unlabelled %d", rep.Alerts, rep.True, rep.FalseBenign, rep.FalseUnlabelled)
	}
	if got := rep.Precision; got != 4.0/7 {
		t.Errorf("precision %v", got)
	}
	if len(rep.Kinds) != 2 {
		t.Fatalf("kinds %+v", rep.Kinds)
	}
	it, nc := rep.Kinds[0], rep.Kinds[1]
	if it.Kind != "impossible_travel" || it.Episodes != 2 || it.Detected != 2 || it.Recall != 1 || it.Alerts != 4 || it.True != 3 ||
		it.DelayP50 != 30*time.Minute || it.DelayMax != 90*time.Minute {
		t.Errorf("impossible_travel %+v", it)
	}
	if nc.Kind != "new_country" || nc.Detected != 0 || nc.Recall != 0 || nc.Alerts != 3 || nc.True != 1 {
		t.Errorf("new_country %+v", nc)
	}
	if len(rep.Missed) != 1 || rep.Missed[0].Episode != "nc1" {
		t.Errorf("missed %+v", rep.Missed)
	}
	if len(rep.Benign) != 2 || rep.Benign[0].Kind != "travel" || rep.Benign[0].Alerts != 1 || rep.Benign[0].ByRule["auth.new_country"] != 1 || rep.Benign[1].Alerts != 0 {
		t.Errorf("benign %+v", rep.Benign)
	}
	var b strings.Builder
	rep.Write(&b, 10)
	for _, want := range []string{"impossible_travel", "0.571", "missed: new_country nc1", "false alarm: auth.new_country", "on trip"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestScoreSlack(t *testing.T) {
	labels := []simulate.Label{lbl("x", "mass_deletion", "attack", "data.mass_deletion", "p1", 0, 10*time.Minute, "e1")}
	a := []alert.Alert{alrt("a", "data.mass_deletion", 40*time.Minute, map[string]string{"person": "p1"}, "z")}
	if rep := Score(labels, a, Options{Slack: 20 * time.Minute}); rep.True != 0 {
		t.Error("matched outside the slack")
	}
	if rep := Score(labels, a, Options{Slack: 30 * time.Minute}); rep.True != 1 || rep.Kinds[0].Detected != 1 {
		t.Error("not matched within the slack")
	}
}

func TestReadAlertsErrors(t *testing.T) {
	good := `{"id":"a1","rule":{"id":"r","version":"1","title":"t","severity":"high","tags":[]},"tenant":"acme","group":{},"window_start":"2026-11-02T10:00:00.000Z","window_end":"2026-11-02T10:00:00.000Z","triggered_at":"2026-11-02T10:00:00.000Z","detected_at":"2026-11-02T10:00:00.000Z","event_ids":["e1"],"summary":"s","values":{},"actions":[]}`
	got, err := ReadAlerts(strings.NewReader(good+"\n\n"+good+"\n"), "a")
	if err != nil || len(got) != 1 {
		t.Fatalf("a duplicate delivery should count once: %v %v", got, err)
	}
	cases := []struct{ name, src, want string }{
		{"not json", good + "\n{x", "a:2: invalid JSON at byte 2"},
		{"wrong type", strings.Replace(good, `["e1"]`, `"e1"`, 1), "a:1: event_ids: wrong type"},
		{"bad time", strings.Replace(good, `"triggered_at":"2026-11-02T10:00:00.000Z"`, `"triggered_at":"soon"`, 1), "a:1: not an alert: triggered_at"},
		{"missing", `{"id":"a2"}`, `a:1: alert "a2" lacks [rule.id tenant triggered_at]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadAlerts(strings.NewReader(tc.src), "a")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
