package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

const failedLogin = `{"id":"%s","timestamp":"2026-01-05T10:0%d:00.000Z","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"authentication","action":"login","outcome":"failure"},"user":{"id":"005A","name":"jdoe@acme.example"},"client":{"ip":"203.0.113.9","geo":{"country":"%s"}}}`

func eventsFile(t *testing.T) string {
	t.Helper()
	lines := []string{
		fmt.Sprintf(failedLogin, "e1", 0, "RU"),
		`{"id":"broken"`,
		fmt.Sprintf(failedLogin, "e2", 1, "BR"),
		"",
		fmt.Sprintf(failedLogin, "e3", 2, "NG"),
		`{"id":"x","timestamp":"2026-01-05T10:00:00.000Z","tenant":"acme","source":{"system":"s"},"event":{"category":"nope","action":"a","outcome":"success"},"user":{"id":"u"}}`,
		fmt.Sprintf(failedLogin, "e4", 3, "RU"),
		fmt.Sprintf(failedLogin, "e5", 4, "BR"),
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplay(t *testing.T) {
	in := eventsFile(t)
	var stdout, stderr bytes.Buffer
	o := replayOptions{rules: "../../rules", in: in, out: "-", lateness: "2m"}
	if err := runReplay(o, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	errs := stderr.String()
	for _, want := range []string{in + ":2: invalid event", in + ":6: invalid event: event.category", "auth.failed_logins_many_countries", "5 events (2 rejected, 0 late), 1 alerts"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one alert line, got:\n%s", stdout.String())
	}
	var a alert.Alert
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if a.Rule.ID != "auth.failed_logins_many_countries" || strings.Join(a.EventIDs, ",") != "e1,e2,e3,e4,e5" {
		t.Errorf("alert %+v", a)
	}

	// The same input from stdin, with the alerts in a file: the same alert.
	data, _ := os.ReadFile(in)
	out := filepath.Join(t.TempDir(), "alerts.ndjson")
	stdout.Reset()
	stderr.Reset()
	o = replayOptions{rules: "../../rules", in: "-", out: out, actions: filepath.Join(t.TempDir(), "actions.ndjson")}
	if err := runReplay(o, bytes.NewReader(data), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if strings.TrimSpace(string(got)) != lines[0] {
		t.Errorf("replay is not deterministic:\n%s\n%s", got, lines[0])
	}
	if !strings.Contains(stdout.String(), "1 alerts, 2 actions") || !strings.Contains(stderr.String(), "stdin:2: invalid event") {
		t.Errorf("summary %q, stderr %q", stdout.String(), stderr.String())
	}
}

func TestReplayRefusesBrokenRules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("id: r\nversion: 1\ntitle: t\nseverity: low\nfilter: user.nmae == \"\"\n"), 0o644)
	err := runReplay(replayOptions{rules: dir, in: eventsFile(t), out: "-"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "r.yaml:5:14") || !strings.Contains(err.Error(), `did you mean "user.name"`) {
		t.Errorf("err = %v", err)
	}
}

func TestRulesTest(t *testing.T) {
	var out bytes.Buffer
	if err := runRulesTest("../../rules", "", false, &out); err != nil {
		t.Fatalf("the pack's tests fail:\n%s", out.String())
	}
	if !strings.HasPrefix(out.String(), "ok  \t../../rules") {
		t.Errorf("output %q", out.String())
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(`id: r
version: 1
title: t
severity: low
filter: event.category == "export"
tests:
  - name: must fire twice
    events: [{event: {category: export, action: export}}]
    expect: [{count: 2}]
  - name: fires once
    events: [{event: {category: export, action: export}}]
    expect: [{count: 1}]
`), 0o644)
	out.Reset()
	err := runRulesTest(dir, "", true, &out)
	if !errors.Is(err, errTestsFailed) {
		t.Fatalf("err = %v", err)
	}
	text := out.String()
	for _, want := range []string{"=== RUN   r/must fire twice", "--- FAIL: r/must fire twice", "r.yaml:7: line 9: want 2 alert(s) of r, got 1", "--- PASS: r/fires once", "1 of 2 tests failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := runRulesTest(dir, "once", false, &out); err != nil {
		t.Errorf("-run once: %v\n%s", err, out.String())
	}
}

// TestReplayRejectsOverlongLine: a line longer than the limit is rejected
// with its number, without being held in memory, and the lines after it
// are replayed.
func TestReplayRejectsOverlongLine(t *testing.T) {
	data, err := os.ReadFile(eventsFile(t))
	if err != nil {
		t.Fatal(err)
	}
	long := `{"id":"` + strings.Repeat("x", maxLine+10) + `"}` + "\n"
	in := append([]byte(long), data...)
	var stdout, stderr bytes.Buffer
	o := replayOptions{rules: "../../rules", in: "-", out: "-", lateness: "2m"}
	if err := runReplay(o, bytes.NewReader(in), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("stdin:1: line is longer than %d bytes", maxLine), "stdin:3: invalid event", "5 events (3 rejected, 0 late), 1 alerts"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
