package main

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/score"
	"github.com/trailwatch/trailwatch/internal/simulate"
)

// TestPackQualityOnSimulation is the bar, end to end through the
// commands an analyst runs: two simulated days (after the usual 40 days
// of history) of five tenants and 150 people, replayed through the shipped
// pack, scored against the labels: every attack kind caught (recall at
// least 0.95 for each) and precision at least 0.9 overall.
// docs/DETECTIONS.md records the same measurement over a week.
func TestPackQualityOnSimulation(t *testing.T) {
	dir := t.TempDir()
	events, labels := filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "labels.ndjson")
	alerts, config := filepath.Join(dir, "alerts.ndjson"), filepath.Join(dir, "detect.yaml")
	sim := simulateOptions{seed: 1, start: "2026-11-02", days: 2, history: "40d", people: 150, batch: 500,
		disorder: 0.005, maxDelay: "30s", out: events, labels: labels, detectConfig: config}
	if err := runSimulate(t.Context(), sim, io.Discard, io.Discard, time.Now()); err != nil {
		t.Fatal(err)
	}
	var replayErr bytes.Buffer
	if err := runReplay(replayOptions{rules: "../../rules", in: events, out: alerts, config: config}, nil, io.Discard, &replayErr); err != nil {
		t.Fatalf("%v\n%s", err, replayErr.String())
	}
	var out bytes.Buffer
	err := runScore(scoreOptions{labels: labels, alerts: alerts, slack: "1h", minRecall: 0.95, minPrecison: 0.9, asJSON: true}, &out)
	var rep score.Report
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("report: %v\n%s", jerr, out.String())
	}
	var text bytes.Buffer
	rep.Write(&text, 20)
	if err != nil {
		t.Fatalf("%v:\n%s", err, text.String())
	}
	got := map[string]int{}
	for _, k := range rep.Kinds {
		got[k.Kind] = k.Episodes
	}
	for _, k := range simulate.Kinds() {
		if k.Class == simulate.ClassAttack && got[k.Name] == 0 {
			t.Errorf("no %s episode: the measurement would not cover it", k.Name)
		}
	}
	if rep.Alerts < 50 {
		t.Errorf("only %d alerts", rep.Alerts)
	}
	t.Logf("\n%s", text.String())
}
