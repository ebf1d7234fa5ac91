package report

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

func TestCron(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		cron, after string
		zone        *time.Location
		want        string
	}{
		{"*/15 * * * *", "2026-11-10T12:07:30Z", time.UTC, "2026-11-10T12:15:00Z"},
		{"0 7 * * 1-5", "2026-11-13T08:00:00Z", time.UTC, "2026-11-16T07:00:00Z"}, // Friday → Monday
		{"@daily", "2026-11-10T12:00:00Z", time.UTC, "2026-11-11T00:00:00Z"},
		{"0 7 * * *", "2026-11-10T13:00:00Z", ny, "2026-11-11T12:00:00Z"},          // 07:00 New York (EST)
		{"30 2 * * *", "2026-03-08T00:00:00Z", ny, "2026-03-09T06:30:00Z"},         // 02:30 is skipped on 8 March
		{"30 1 * * *", "2026-11-01T05:00:00Z", ny, "2026-11-01T05:30:00Z"},         // 01:30 EDT, the first occurrence
		{"30 1 * * *", "2026-11-01T05:30:00Z", ny, "2026-11-02T06:30:00Z"},         // not again at 01:30 EST
		{"0 0 1,15 * 0", "2026-11-02T00:00:00Z", time.UTC, "2026-11-08T00:00:00Z"}, // day of month or Sunday
		{"0 0 * * 7", "2026-11-10T00:00:00Z", time.UTC, "2026-11-15T00:00:00Z"},    // 7 is Sunday
	} {
		c, err := ParseCron(tc.cron)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Next(at(tc.after), tc.zone).UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("%q after %s in %s: %s, want %s", tc.cron, tc.after, tc.zone, got, tc.want)
		}
	}
	for _, bad := range []string{"* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * 0 * *"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestJobsValidate(t *testing.T) {
	_, err := Config{Schedules: []Schedule{
		{Report: "nope", Cron: "* *", Timezone: "Mars/Base", Format: "pdf"},
		{Report: "gdpr-person-access", Tenant: "acme", Cron: "@daily"},
	}}.Jobs("reports")
	for _, want := range []string{
		"reports: schedules need output_dir or webhook",
		"reports.schedules[0].tenant: required",
		`reports.schedules[0].report: no report "nope"`,
		"reports.schedules[0].cron: cron \"* *\": want five fields",
		"reports.schedules[0].timezone: unknown time zone Mars/Base",
		`reports.schedules[0].format: "pdf"`,
		"reports.schedules[1].params.object_id: report gdpr-person-access requires it",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	jobs, err := Config{OutputDir: "/tmp", Schedules: []Schedule{{Report: "audit-trail-health", Tenant: "acme", Cron: "@hourly", Timezone: "Europe/Berlin"}}}.Jobs("reports")
	if err != nil || len(jobs) != 1 || jobs[0].Format != "html" || jobs[0].Zone.String() != "Europe/Berlin" {
		t.Errorf("jobs %+v, %v", jobs, err)
	}
}

// TestSchedulerLoop runs the loop on the bubble's fake clock: an hourly
// and a daily job fire at their times, in order, and the loop stops with
// its context.
func TestSchedulerLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now() // the bubble starts at 2000-01-01 00:00 UTC
		hourly, _ := ParseCron("0 * * * *")
		daily, _ := ParseCron("30 6 * * *")
		var runs []string
		s := &Scheduler{Log: zerolog.Nop(), Jobs: []Job{
			{Schedule: Schedule{Report: "h"}, Cron: hourly, Zone: time.UTC},
			{Schedule: Schedule{Report: "d"}, Cron: daily, Zone: time.UTC},
		}, Run: func(_ context.Context, j Job, at time.Time) error {
			runs = append(runs, j.Report+at.Sub(start).String())
			return nil
		}}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Loop(ctx) }()
		time.Sleep(7*time.Hour + time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := "h1h0m0s h2h0m0s h3h0m0s h4h0m0s h5h0m0s h6h0m0s d6h30m0s h7h0m0s"
		if got := strings.Join(runs, " "); got != want {
			t.Errorf("runs %s, want %s", got, want)
		}
	})
}

// TestReaderConfig: a configured reader replaces the user (and the
// password file when given); without one the store's settings stand.
func TestReaderConfig(t *testing.T) {
	ch := chstore.DefaultConfig()
	ch.User, ch.PasswordFile = "writer", "/run/writer"
	if got := (Config{}).ReaderConfig(ch); got.User != "writer" || got.PasswordFile != "/run/writer" {
		t.Errorf("no reader: %+v", got)
	}
	if got := (Config{ReaderUser: "reader", ReaderPasswordFile: "/run/reader"}).ReaderConfig(ch); got.User != "reader" || got.PasswordFile != "/run/reader" || got.URL != ch.URL {
		t.Errorf("reader: %+v", got)
	}
}
