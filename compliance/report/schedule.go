package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

// Config is the reports section of the configuration: where definitions
// live, where results go, and the schedules trailwatch run executes.
type Config struct {
	Definitions []string   `yaml:"definitions" doc:"Directories of report definitions (*.yaml) besides the built-in ones."`
	OutputDir   string     `yaml:"output_dir" doc:"Directory scheduled reports are written to (under <tenant>/<UTC time>/); empty with no webhook prints nothing and is refused when schedules are set."`
	Webhook     string     `yaml:"webhook" doc:"URL scheduled reports are POSTed to, each file in its own request; used instead of output_dir when set."`
	Schedules   []Schedule `yaml:"schedules" doc:"Reports trailwatch run produces on a schedule: report, tenant, cron, timezone, format (csv or html), params."`
	// Reader names the read-only ClickHouse user reports and audits
	// connect as. Every named query also runs with readonly = 1 whatever
	// the user, so a query that writes fails either way.
	ReaderUser         string `yaml:"clickhouse_user" doc:"ClickHouse user the reports role, trailwatch report and trailwatch audit connect as instead of clickhouse.user: a read-only reader (docs/STORAGE.md). Empty uses clickhouse.user. Every report and audit query runs with readonly = 1 either way."`
	ReaderPasswordFile string `yaml:"clickhouse_password_file" doc:"File holding the password of reports.clickhouse_user; when empty the password is read as for clickhouse.user (clickhouse.password_file, else TRAILWATCH_CLICKHOUSE_PASSWORD)."`
}

// Schedule runs one report for one tenant on a cron schedule.
type Schedule struct {
	Report   string            `yaml:"report" doc:"The report's name (built in, or in definitions)."`
	Tenant   string            `yaml:"tenant" doc:"The tenant."`
	Cron     string            `yaml:"cron" doc:"Five-field cron expression (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly."`
	Timezone string            `yaml:"timezone" doc:"IANA time zone the cron expression is read in (the tenant's); empty is UTC."`
	Format   string            `yaml:"format" doc:"csv or html; empty is html."`
	Params   map[string]string `yaml:"params" doc:"Values of the report's parameters."`
}

// Job is a validated schedule.
type Job struct {
	Schedule
	Def  *Definition
	Cron Cron
	Zone *time.Location
}

// Jobs validates c (every problem at once, named under path) and returns
// its schedules ready to run.
func (c Config) Jobs(path string) ([]Job, error) {
	var errs []error
	var jobs []Job
	if len(c.Schedules) > 0 && c.OutputDir == "" && c.Webhook == "" {
		errs = append(errs, fmt.Errorf("%s: schedules need output_dir or webhook", path))
	}
	for i, s := range c.Schedules {
		at := fmt.Sprintf("%s.schedules[%d]", path, i)
		j := Job{Schedule: s}
		var err error
		if s.Tenant == "" {
			errs = append(errs, fmt.Errorf("%s.tenant: required", at))
		}
		if j.Def, err = Find(s.Report, c.Definitions...); err != nil {
			errs = append(errs, fmt.Errorf("%s.report: %w", at, err))
		} else {
			for _, p := range j.Def.Params {
				if _, ok := s.Params[p]; !ok {
					errs = append(errs, fmt.Errorf("%s.params.%s: report %s requires it", at, p, s.Report))
				}
			}
		}
		if j.Cron, err = ParseCron(s.Cron); err != nil {
			errs = append(errs, fmt.Errorf("%s.cron: %w", at, err))
		}
		if j.Zone, err = time.LoadLocation(s.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("%s.timezone: %w", at, err))
		}
		if j.Format == "" {
			j.Format = "html"
		}
		if j.Format != "csv" && j.Format != "html" {
			errs = append(errs, fmt.Errorf("%s.format: %q, want csv or html", at, s.Format))
		}
		jobs = append(jobs, j)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return jobs, nil
}

// ReaderConfig is ch with the reader's user and password file when
// c.ReaderUser is set: how reports and audits reach ClickHouse.
func (c Config) ReaderConfig(ch chstore.Config) chstore.Config {
	if c.ReaderUser != "" {
		ch.User = c.ReaderUser
		if c.ReaderPasswordFile != "" {
			ch.PasswordFile = c.ReaderPasswordFile
		}
	}
	return ch
}

// Scheduler runs jobs at their times: Run is called for each job at each
// of its fire times, one at a time. A run that fails is logged and the
// schedule goes on; a fire time missed while a run was going is run late,
// once.
type Scheduler struct {
	Jobs []Job
	Run  func(ctx context.Context, j Job, at time.Time) error
	Log  zerolog.Logger
}

// Clock is what the scheduler reads time from: the real clock unless a
// test puts another in the context (WithClock).
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a
	// function that stops the timer.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

type clockKey struct{}

// WithClock returns ctx carrying c: a Scheduler looping under it reads
// time from c. It lets a test drive the scheduler of a role function it
// cannot reach into (trailwatch run's reports role) on its own clock.
func WithClock(ctx context.Context, c Clock) context.Context {
	return context.WithValue(ctx, clockKey{}, c)
}

func clockFrom(ctx context.Context) Clock {
	if c, ok := ctx.Value(clockKey{}).(Clock); ok && c != nil {
		return c
	}
	return realClock{}
}

// Loop runs until ctx ends.
func (s *Scheduler) Loop(ctx context.Context) error {
	if len(s.Jobs) == 0 {
		<-ctx.Done()
		return nil
	}
	clock := clockFrom(ctx)
	next := make([]time.Time, len(s.Jobs))
	now := clock.Now()
	for i, j := range s.Jobs {
		next[i] = j.Cron.Next(now, j.Zone)
	}
	for {
		first := -1
		for i, t := range next {
			if !t.IsZero() && (first < 0 || t.Before(next[first])) {
				first = i
			}
		}
		if first < 0 {
			<-ctx.Done()
			return nil
		}
		fire, stop := clock.NewTimer(next[first].Sub(clock.Now()))
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-fire:
		}
		at := next[first]
		j := s.Jobs[first]
		if err := s.Run(ctx, j, at); err != nil {
			s.Log.Error().Err(err).Str("report", j.Report).Str("tenant", j.Tenant).Time("at", at).Msg("scheduled report failed")
		} else {
			s.Log.Info().Str("report", j.Report).Str("tenant", j.Tenant).Time("at", at).Msg("scheduled report done")
		}
		n := j.Cron.Next(at, j.Zone)
		if now := clock.Now(); !n.IsZero() && n.Before(now) {
			n = now // missed while running: once, late
		}
		next[first] = n
	}
}
