package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwatch/trailwatch/internal/simulate"
)

var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// parseSimulateArgs parses args as the command does and builds the
// configuration.
func parseSimulateArgs(args []string) (simulate.Config, error) {
	var o simulateOptions
	fs := pflag.NewFlagSet("simulate", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	simulateFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return simulate.Config{}, err
	}
	return simulateConfig(o, fixedNow)
}

func TestSimulateConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("tenants:\n  - id: x\n    zone: Nowhere/Town\n    offices: [London]\n    systems: [hubspot]\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--days", "3", "--start", "2026-03-02T08:00:00Z", "--tenants", "7", "--people", "500", "--kinds", "travel,new_country"}, ""},
		{[]string{"--live", "--days", "0", "--history", "30d"}, ""},
		{[]string{"--start", "next tuesday"}, `--start: "next tuesday": want a date`},
		{[]string{"--history", "forever"}, "--history:"},
		{[]string{"--days", "0"}, "--days: at least 1"},
		{[]string{"--people", "5"}, "--people: 5 is too few"},
		{[]string{"--rate", "-1", "--batch", "0"}, "--rate: -1"},
		{[]string{"--kinds", "phishing"}, `--kinds: unknown kind "phishing"`},
		{[]string{"--http", "http://x", "--out", "f"}, "--http and --out"},
		{[]string{"--max-delay", "soon"}, "--max-delay:"},
		{[]string{"--scenario", bad}, bad + `:3:11: tenants[0].zone: unknown time zone "Nowhere/Town"`},
		{[]string{"--scenario", filepath.Join(dir, "missing.yaml")}, "--scenario: open"},
		{[]string{"--start", "x", "--history", "y", "--rate", "-5"}, "--history"},
	}
	for _, tc := range cases {
		cfg, err := parseSimulateArgs(tc.args)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
		_ = cfg
	}
	cfg, _ := parseSimulateArgs([]string{"--live", "--history", "30d"})
	if !cfg.Start.Equal(fixedNow) || cfg.History != 6*24*time.Hour || !cfg.Live {
		t.Errorf("live config %+v", cfg)
	}
}

// Every problem with the flags names its flag, or the scenario file with
// its line.
var flagErrRE = regexp.MustCompile(`^(--[a-z-]+|invalid argument|bad flag syntax|flag needs an argument|unknown (shorthand )?flag|pflag: help requested|.*\.yaml:\d+)`)

func FuzzSimulateFlags(f *testing.F) {
	f.Add("--days 3 --people 120 --tenants 2")
	f.Add("--start 2026-02-30 --history -4d")
	f.Add("--kinds travel,,nope --rate 1e309 --batch 99999999999")
	f.Add("--live --days 0 --max-delay 2h --disorder 0.9")
	f.Add("--seed=18446744073709551616 --tenants=-1")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		for _, a := range args {
			if strings.HasPrefix(a, "--scenario") || strings.HasPrefix(a, "--out") || strings.HasPrefix(a, "--labels") {
				return // files are not the flags' concern here
			}
		}
		cfg, err := parseSimulateArgs(args)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !flagErrRE.MatchString(line) {
					t.Fatalf("error line does not name its flag: %q", line)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted a configuration that does not validate: %v", err)
		}
	})
}

func TestSimulateCommandWritesEventsLabelsAndConfig(t *testing.T) {
	dir := t.TempDir()
	o := simulateOptions{seed: 3, start: "2026-11-02", days: 1, history: "2d", people: 40, tenants: 2, batch: 500, disorder: 0.005, maxDelay: "30s",
		out: "-", labels: filepath.Join(dir, "l.ndjson"), detectConfig: filepath.Join(dir, "d.yaml")}
	var stdout, stderr bytes.Buffer
	if err := runSimulate(context.Background(), o, &stdout, &stderr, fixedNow); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout.String(), "\n"); n < 1000 || !strings.Contains(stderr.String(), "simulated 2 tenants, 40 people") {
		t.Fatalf("%d events; stderr %s", n, stderr.String())
	}
	l, _ := os.ReadFile(o.labels)
	d, _ := os.ReadFile(o.detectConfig)
	if !strings.Contains(string(l), `"class":"attack"`) || !strings.Contains(string(d), "learning: 24h") {
		t.Errorf("labels or detect config missing:\n%s", d)
	}
}
