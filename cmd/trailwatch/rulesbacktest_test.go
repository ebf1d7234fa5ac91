package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink"
)

func TestBacktestSpan(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since, until, from, to, err string
	}{
		{"30d", "", "2026-10-24T12:00:00Z", "2026-11-23T12:00:00Z", ""},
		{"12h", "2026-11-10", "2026-11-09T12:00:00Z", "2026-11-10T00:00:00Z", ""},
		{"2026-11-01", "2026-11-03T06:00:00Z", "2026-11-01T00:00:00Z", "2026-11-03T06:00:00Z", ""},
		{"yesterday", "", "", "", `--since: "yesterday" is neither a duration`},
		{"2026-12-01", "2026-11-01", "", "", "is not before --until"},
		{"1d", "soon", "", "", "--until:"},
	} {
		from, to, err := backtestSpan(tc.since, tc.until, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s..%s: err %v, want %q", tc.since, tc.until, err, tc.err)
			}
			continue
		}
		if err != nil || from.Format(time.RFC3339) != tc.from || to.Format(time.RFC3339) != tc.to {
			t.Errorf("%s..%s: %s..%s %v", tc.since, tc.until, from, to, err)
		}
	}
}

// TestRulesBacktestCommand runs the command as an analyst would, against
// the embedded ClickHouse holding two simulated days.
func TestRulesBacktestCommand(t *testing.T) {
	env := testenv.ClickHouse(t)
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = env.URL, env.Database, env.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := sink.Migrate(t.Context(), st, sink.DefaultStorageConfig(), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	scfg := simulate.DefaultConfig()
	scfg.Days, scfg.Tenants, scfg.People = 2, 2, 40
	sim, err := simulate.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	if _, err := sim.Run(context.Background(), func(e *event.Event) error {
		evs = append(evs, e)
		return nil
	}, func(*simulate.Label) error { return nil }); err != nil {
		t.Fatal(err)
	}
	history.Store(t, st, evs, 0, nil)

	t.Setenv("TRAILWATCH_CLICKHOUSE_URL", env.URL)
	t.Setenv("TRAILWATCH_CLICKHOUSE_DATABASE", env.Database)
	t.Setenv("TRAILWATCH_CLICKHOUSE_USER", env.User)
	out := filepath.Join(t.TempDir(), "alerts.ndjson")
	root := newRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"rules", "backtest", "--rules", "../../rules", "--rule", "auth.failed_logins_many_countries",
		"--since", "2026-11-02", "--until", "2026-11-04", "--out", out})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(b), "\n")
	for _, want := range []string{"auth.failed_logins_many_countries (version 2)", fmt.Sprintf(": %d alerts from", n), "2026-11-02", "2026-11-03", "TENANT", "samples:", "failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n == 0 {
		t.Errorf("no alert written:\n%s", text)
	}
	if stderr.Len() != 0 {
		t.Errorf("a progress bar outside a terminal: %q", stderr.String())
	}
}
