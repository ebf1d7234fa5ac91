package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/compliance/report"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// stepClock is a report.Clock that moves only when the test says: every
// timer the scheduler sets is handed to the test, which fires it.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers chan stepTimer
}

type stepTimer struct {
	at   time.Time
	fire chan time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := stepTimer{at: c.Now().Add(d), fire: make(chan time.Time, 1)}
	c.timers <- t
	return t.fire, func() bool { return true }
}

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestReportsRole runs trailwatch run's reports role (the function
// pipelineRoles gives trailwatch run) with a configuration whose schedule
// fires every minute, on the embedded ClickHouse, and a clock the test
// steps: the first fire time comes, the report runs, and its CSV appears
// under output_dir/<tenant>/<fire time>/ with the stored exports.
func TestReportsRole(t *testing.T) {
	st := history.Migrated(t)
	ch := testenv.ClickHouse(t)
	start := time.Date(2026, 11, 10, 12, 0, 30, 0, time.UTC)
	exp := func(id, user string, records int64, ago time.Duration) *event.Event {
		return &event.Event{ID: id, Timestamp: start.Add(-ago), Tenant: "acme", Source: event.Source{System: "salesforce"},
			Event: event.Activity{Category: "export", Action: "export", Outcome: "success"},
			User:  event.User{ID: user, Name: user + "@acme.example"}, Records: records, HasRecords: true}
	}
	history.Store(t, st, []*event.Event{
		exp("e1", "005big", 7000, 3*time.Hour), exp("e2", "005big", 500, 2*time.Hour),
		exp("e3", "005small", 20, time.Hour),
		exp("e4", "005old", 9999, 30*time.Hour), // outside the report's day
	}, 0, nil)

	out := t.TempDir()
	// As the embedded server's read-only user, when there is one: the
	// reports role reads through reports.clickhouse_user.
	reader := ""
	if ch.Reader != "" {
		pw := writeFile(t, t.TempDir(), "reader-password", ch.ReaderPassword)
		reader = "  clickhouse_user: " + ch.Reader + "\n  clickhouse_password_file: " + pw + "\n"
	}
	conf := writeFile(t, t.TempDir(), "trailwatch.yaml", "log:\n  level: warn\nmetrics:\n  listen: \"\"\n"+
		"clickhouse:\n  url: "+st.URL()+"\n  database: "+st.Database()+"\n  user: \""+ch.User+"\"\n"+
		"reports:\n"+reader+"  output_dir: "+out+"\n  schedules:\n"+
		"    - {report: exports-by-person, tenant: acme, cron: \"* * * * *\", timezone: America/New_York, format: csv}\n")
	cfg, err := (&globalFlags{configPath: conf}).load()
	if err != nil {
		t.Fatal(err)
	}
	role, ok := pipelineRoles()["reports"]
	if !ok {
		t.Fatal("trailwatch run has no reports role")
	}

	clock := &stepClock{now: start, timers: make(chan stepTimer, 4)}
	ctx, cancel := context.WithCancel(report.WithClock(t.Context(), clock))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- role(ctx, cfg, testenv.Logger(t), prometheus.NewRegistry(), nil) }()
	next := func() stepTimer {
		t.Helper()
		select {
		case tm := <-clock.timers:
			return tm
		case err := <-done:
			t.Fatalf("the role returned early: %v", err)
		}
		return stepTimer{}
	}

	first := next()
	fireAt := time.Date(2026, 11, 10, 12, 1, 0, 0, time.UTC)
	if !first.at.Equal(fireAt) {
		t.Fatalf("first fire at %s, want %s", first.at, fireAt)
	}
	clock.set(first.at)
	first.fire <- first.at
	// The scheduler sets its next timer once the run is over.
	if second := next(); !second.at.Equal(fireAt.Add(time.Minute)) {
		t.Errorf("second fire at %s, want a minute later", second.at)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("role: %v", err)
	}

	path := filepath.Join(out, "acme", "20261110T120100Z", "exports-by-person.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		entries, _ := filepath.Glob(filepath.Join(out, "*", "*", "*"))
		t.Fatalf("report file: %v; the output directory holds %v", err, entries)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "005big,005big@acme.example,2,7500,7000,") ||
		!strings.HasPrefix(lines[2], "005small,005small@acme.example,1,20,20,") {
		t.Errorf("report content:\n%s", b)
	}
}
