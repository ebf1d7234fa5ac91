package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestReplayAcrossBatches: lines are decoded a batch at a time beside the
// engine; over several batches, rejections are still reported in line
// order with their numbers, and the alerts are those of the events in
// file order.
func TestReplayAcrossBatches(t *testing.T) {
	var in strings.Builder
	var wantErrs []string
	countries := []string{"RU", "BR", "NG", "CN", "IN"}
	for i := 1; i <= 10*replayBatchSize+7; i++ {
		if i%97 == 0 {
			in.WriteString(`{"id":"broken"` + "\n")
			wantErrs = append(wantErrs, fmt.Sprintf("stdin:%d: invalid event", i))
			continue
		}
		// One failed login a minute, from a different country each time:
		// every rejected line is among them.
		ts := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&in, `{"id":"e%d","timestamp":"%s","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"authentication","action":"login","outcome":"failure"},"user":{"id":"005A","name":"jdoe@acme.example"},"client":{"ip":"203.0.113.9","geo":{"country":"%s"}}}`+"\n",
			i, ts.Format("2006-01-02T15:04:05.000Z"), countries[i%len(countries)])
	}
	run := func() (string, string) {
		var stdout, stderr bytes.Buffer
		o := replayOptions{rules: "../../rules", in: "-", out: "-"}
		if err := runReplay(o, strings.NewReader(in.String()), &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String()
	}
	alerts, errs := run()
	var got []string
	for _, l := range strings.Split(errs, "\n") {
		if i := strings.Index(l, ": invalid event"); i > 0 {
			got = append(got, l[:i+len(": invalid event")])
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("rejections, in order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
	total := 10*replayBatchSize + 7
	if want := fmt.Sprintf("%d events (%d rejected, 0 late)", total-len(wantErrs), len(wantErrs)); !strings.Contains(errs, want) {
		t.Errorf("summary lacks %q:\n%s", want, errs)
	}
	if strings.Count(alerts, "\n") < 2 {
		t.Fatalf("want alerts over several batches, got:\n%s", alerts)
	}
	if again, _ := run(); again != alerts {
		t.Errorf("replay is not deterministic across batches")
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data *strings.Reader
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data.Len() == 0 {
		return 0, r.err
	}
	return r.data.Read(p)
}

// TestReplayReadError: an input that fails part way stops the replay with
// the reading error (nothing hangs), after the lines read before it.
func TestReplayReadError(t *testing.T) {
	data, err := os.ReadFile(eventsFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	o := replayOptions{rules: "../../rules", in: "-", out: "-", lateness: "2m"}
	err = runReplay(o, &failingReader{strings.NewReader(string(data)), errors.New("disk on fire")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "reading stdin") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the reading error", err)
	}
	if !strings.Contains(stderr.String(), "stdin:2: invalid event") {
		t.Errorf("the lines before the error were not replayed:\n%s", stderr.String())
	}
}

// stalledReader blocks every read until its channel is closed, then ends.
type stalledReader chan struct{}

func (r stalledReader) Read([]byte) (int, error) {
	<-r
	return 0, io.EOF
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

// TestReplayWriteError: alerts that cannot be written stop the replay with
// that error, whatever input is still unread (nothing hangs).
func TestReplayWriteError(t *testing.T) {
	var in strings.Builder
	// Every line an alert (a self-grant by a different person): the
	// first batch's alerts overflow the output buffer, while the reader
	// has read every line and waits on the input for the rest of its
	// second batch.
	for i := range replayBatchSize + 40 {
		fmt.Fprintf(&in, `{"id":"g%d","timestamp":"2026-01-05T10:00:00.000Z","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"permission","action":"grant","outcome":"success"},"user":{"id":"u%d"},"target_user":{"id":"u%d"},"permission":{"name":"Modify_All_Data"}}`+"\n", i, i, i)
	}
	o := replayOptions{rules: "../../rules", in: "-", out: "-", lateness: "2m"}
	var stderr bytes.Buffer
	// The input then stalls (a pipe nobody writes to): the error must not
	// wait for it.
	stalled := make(chan struct{})
	t.Cleanup(func() { close(stalled) })
	input := io.MultiReader(strings.NewReader(in.String()), stalledReader(stalled))
	err := runReplay(o, input, failingWriter{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "pipe closed") {
		t.Fatalf("err = %v, want the write error", err)
	}
	if strings.Contains(stderr.String(), "events (") {
		t.Errorf("a failed replay printed a summary:\n%s", stderr.String())
	}
}
