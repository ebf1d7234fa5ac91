package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// produceEvents writes events to crm.activity, keyed by tenant and person.
func produceEvents(t testing.TB, kcfg kafka.Config, evs ...*event.Event) {
	t.Helper()
	msgs := make([]kafka.Message, len(evs))
	for i, e := range evs {
		msgs[i] = kafka.Message{Key: []byte(e.Tenant + "\x00" + e.PersonKey()), Value: event.AppendJSON(nil, e)}
	}
	produce(t, kcfg, kcfg.Topics.Activity.Name, msgs)
}

// alertsOn reads the alerts topic.
func alertsOn(t testing.TB, env testenv.KafkaEnv, kcfg kafka.Config) []alert.Alert {
	t.Helper()
	var out []alert.Alert
	for _, m := range env.ReadTopic(t, kcfg.Topics.Alerts.Name) {
		var a alert.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func writeRule(t testing.TB, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHotReload: a rule file that does not load leaves the running rules
// in place (and says where it is wrong); a good change is picked up
// without a restart.
func TestHotReload(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	dir := t.TempDir()
	writeRule(t, dir, "by_user.yaml", byUser)
	cfg := testConfig()
	cfg.Rules = dir
	cfg.ReloadInterval = 20 * time.Millisecond
	run := start(t, cfg, kcfg)
	v1 := run.r.Version()

	edits := func(user string, n int, from time.Duration) {
		var evs []*event.Event
		for i := range n {
			evs = append(evs, mkEvent(user+"-"+string(rune('a'+i)), at(from+time.Duration(i)*time.Second), "data_change", "update", user))
		}
		produceEvents(t, kcfg, evs...)
	}
	waitAlerts := func(n int) []alert.Alert {
		var as []alert.Alert
		eventually(t, "alerts", func() bool { as = alertsOn(t, env, kcfg); return len(as) >= n })
		return as
	}
	edits("u1", 3, 0)
	waitAlerts(1)

	// A typo: the file fails to load; the version stays, and so do the
	// rules, which still fire.
	writeRule(t, dir, "broken.yaml", strings.Replace(byUser, "id: by_user", "id: broken", 1)+"summary: '{{ user.nmae }}'\n")
	eventually(t, "the failed reload", func() bool {
		return metricValue(t, run.reg, "trailwatch_detect_rules_reloads_total", map[string]string{"result": "error"}) > 0
	})
	if ok := metricValue(t, run.reg, "trailwatch_detect_rules_last_reload_ok", nil); ok != 0 {
		t.Errorf("rules_last_reload_ok %v after a failed load", ok)
	}
	err := run.r.Reload()
	if err == nil || !strings.Contains(err.Error(), "broken.yaml:9:") || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("Reload error %v, want the file, line and field", err)
	}
	if run.r.Version() != v1 || metricValue(t, run.reg, "trailwatch_detect_rules_info", map[string]string{"version": v1}) != 1 {
		t.Fatal("the running rules changed after a failed load")
	}
	edits("u2", 3, time.Minute)
	waitAlerts(2)

	// Fixed, and the threshold lowered in a new version: it loads, and the
	// next events see it.
	if err := os.Remove(filepath.Join(dir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	writeRule(t, dir, "by_user.yaml", strings.Replace(strings.Replace(byUser, "version: 1", "version: 2", 1), "count() >= 3", "count() >= 2", 1))
	eventually(t, "the new rules", func() bool { return run.r.Version() != v1 })
	if metricValue(t, run.reg, "trailwatch_detect_rules_info", map[string]string{"version": v1}) != 0 ||
		metricValue(t, run.reg, "trailwatch_detect_rules_info", map[string]string{"version": run.r.Version()}) != 1 {
		t.Error("rules_info does not show the new version alone")
	}
	edits("u3", 2, 2*time.Minute)
	as := waitAlerts(3)
	if last := as[len(as)-1]; last.Rule.Version != "2" || last.Group["user.id"] != "u3" {
		t.Errorf("after the reload: %+v", last)
	}
}

// TestLateEvents: an event older than the watermark is counted, stateful
// rules do not take it, and single-event rules still see it.
func TestLateEvents(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	dir := t.TempDir()
	writeRule(t, dir, "by_user.yaml", byUser)
	writeRule(t, dir, "grant.yaml", stateless)
	cfg := testConfig()
	cfg.Rules = dir
	run := start(t, cfg, kcfg)

	grant := mkEvent("late-grant", at(time.Minute), "permission", "grant", "u1")
	produceEvents(t, kcfg,
		mkEvent("e1", at(0), "data_change", "update", "u1"),
		mkEvent("e2", at(10*time.Minute), "data_change", "update", "u1"), // the watermark moves to 10m - 1m
		mkEvent("late-edit", at(time.Minute), "data_change", "update", "u1"),
		grant,
	)
	waitCaughtUp(t, kcfg, cfg.Group)
	if n := metricValue(t, run.reg, "trailwatch_detect_late_events_total", map[string]string{"stream": "main"}); n != 1 {
		t.Errorf("late_events_total{stream=main} = %v, want 1 (the edit; the grant is late too, but no stateful rule wanted it)", n)
	}
	if n := metricValue(t, run.reg, "trailwatch_detect_late_rule_events_total", map[string]string{"rule": "by_user"}); n != 1 {
		t.Errorf("late_rule_events_total{rule=by_user} = %v, want 1", n)
	}
	as := alertsOn(t, env, kcfg)
	if len(as) != 1 || as[0].Rule.ID != "grant" || as[0].EventIDs[0] != "late-grant" {
		t.Errorf("alerts %+v, want the late grant's", as)
	}
}

// TestSnapshotUnderChangedRules: a detector restarted with changed rules
// restores the snapshot its predecessor wrote under the old ones by the
// reload policy: a rule whose stored state means the same keeps it (a new
// version with a summary), one whose window changed starts empty.
func TestSnapshotUnderChangedRules(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	dir := t.TempDir()
	writeRule(t, dir, "by_user.yaml", byUser)
	cfg := testConfig()
	cfg.Rules = dir
	cfg.SnapshotInterval = time.Hour // only the last snapshot, on stop

	edit := func(id string, d time.Duration) *event.Event {
		return mkEvent(id, at(d), "data_change", "update", "u1")
	}
	runWith := func(rule string, evs ...*event.Event) *started {
		writeRule(t, dir, "by_user.yaml", rule)
		run := start(t, cfg, kcfg)
		produceEvents(t, kcfg, evs...)
		waitCaughtUp(t, kcfg, cfg.Group)
		if err := run.stop(false); err != nil {
			t.Fatal(err)
		}
		return run
	}
	runWith(byUser, edit("e1", 0), edit("e2", time.Second))
	if as := alertsOn(t, env, kcfg); len(as) != 0 {
		t.Fatalf("alerts after two edits: %+v", as)
	}

	v2 := strings.Replace(byUser, "version: 1", "version: 2", 1) + "summary: '{{ count() }} edits'\n"
	run := runWith(v2, edit("e3", 2*time.Second))
	if n := metricValue(t, run.reg, "trailwatch_detect_recoveries_total", map[string]string{"source": "migrated"}); n == 0 {
		t.Error("no partition restored by migrating the snapshot")
	}
	as := alertsOn(t, env, kcfg)
	if len(as) != 1 || strings.Join(as[0].EventIDs, ",") != "e1,e2,e3" || as[0].Summary != "3 edits" {
		t.Fatalf("after the restart under v2: %+v", as)
	}

	v3 := strings.Replace(v2, "window: 10m", "window: 20m", 1)
	runWith(v3, edit("e4", 3*time.Second), edit("e5", 4*time.Second))
	if as := alertsOn(t, env, kcfg); len(as) != 1 {
		t.Errorf("the rule kept its window across a change of window: %+v", as[1:])
	}
}
