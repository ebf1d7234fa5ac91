package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCommands runs `trailwatch bench` small: both measurements print
// their figures beside issue 3's targets, and bad flags are refused with
// the flag's name.
func TestBenchCommands(t *testing.T) {
	out, _, err := runCLI(t, "", "bench", "detect", "--rules", "../../rules", "--events", "5000", "--accounts", "1000", "--measure", "10000", "--warm", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`stream: 5000 events over 1000 accounts \(\d+ B per event as JSON\); \d+ rules`,
		`decode \+ evaluate +\d+ events/s +\d+ cpu-ns/event .* [1-9]\d* keys`,
		`target \(issue 3\): 500000 events/s decoding included: (met|NOT met) \(\d+\.\d\d× the target\)`,
		`evaluate +\d+ events/s`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("bench detect output lacks %s:\n%s", re, out)
		}
	}
	out, _, err = runCLI(t, "", "bench", "memory", "--rules", "../../rules", "--accounts", "2000")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`2000 accounts, 6000 events, [1-9]\d* keys: live heap \d+ MiB \(\d+ B per account\), peak resident \d+ MiB`).MatchString(out) {
		t.Errorf("bench memory output:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "detect", "--rules", "../../rules", "--events", "1"}, "--events: 1, need at least 2"},
		{[]string{"bench", "detect", "--rules", "../../rules", "--warm", "-1"}, "--warm: -1"},
		{[]string{"bench", "memory", "--rules", "../../rules", "--accounts", "0"}, "--accounts: 0"},
		{[]string{"bench", "memory", "--rules", "/nonexistent"}, "the rule directory"},
	} {
		_, _, err := runCLI(t, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestBenchSink runs `trailwatch bench sink` small as its own process
// (it starts its own engine; libchdb allows one per process): it stores
// every event, prints the figures beside the target and the engine's
// floor, and leaves no scratch directory behind.
func TestBenchSink(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "bench", "sink", "--events", "3000", "--batch", "1000", "--floor-batches", "2", "--dir", dir)
	cmd.Env = append(os.Environ(), asTrailwatch+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, re := range []string{
		`sink, end to end: 3000 events \(\d+ B each as JSON\) in \S+: \d+ rows/s, \d+ cpu-ns/row`,
		`per row: decode \d+ ns build \d+ ns columns \d+ ns insert \d+ ns other \d+ ns wait -?\d+ ns`,
		`target \(issue 6\): 300000 rows/s: (met|NOT met)`,
		`engine floor: 2000 rows inserted from the engine's memory and merged in \S+: \d+ rows/s`,
		`sink / engine floor: \d+\.\d\d of the rows/s`,
	} {
		if !regexp.MustCompile(re).Match(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the scratch directory was left: %v", left)
	}
	bad := exec.CommandContext(t.Context(), os.Args[0], "bench", "sink", "--events", "0")
	bad.Env = cmd.Env
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "--events: 0") {
		t.Errorf("--events 0: %v\n%s", err, out)
	}
}
