package simulate

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config shapes a simulation. Start from DefaultConfig; Validate reports
// every problem at once, naming the setting by its command-line flag.
type Config struct {
	// Seed makes the run reproducible: the same configuration and seed give
	// the same events and labels, byte for byte.
	Seed uint64
	// Start is the beginning of the main period. Each tenant's days are its
	// own local dates from Start's UTC date on.
	Start time.Time
	// Days is the length of the main period; 0 with Live runs until the
	// context ends.
	Days int
	// History is the warm-up before Start: a thin record of each person's
	// logins (and leavers' last activity), so that rules with a history
	// (new countries, dormant accounts) start from a known past, as a
	// detector that has been running for a while would.
	History time.Duration
	// Tenants is how many of the scenario's tenants take part (0: all);
	// more than the scenario has repeats its tenants under new ids.
	Tenants int
	// People is the number of people across all tenants (integration
	// accounts, leavers and new hires come on top).
	People int
	// Attacks is how many episodes of each attack kind each tenant gets;
	// 0 means one per three days (at least one).
	Attacks int
	// Benign is the same for benign look-alike kinds; 0 means one per day
	// per tenant, as look-alikes are commoner than attacks.
	Benign int
	// Kinds limits episodes to these kinds (empty: every kind).
	Kinds []string
	// Live starts the main period now and schedules one episode of every
	// attack kind in the first minutes, with their steps compressed, so a
	// demo shows alerts within a minute; the pacer then releases events in
	// real time.
	Live bool
	// Disorder is the share of events delivered late, up to MaxDelay of
	// event time after later ones (collectors batch and retry): the
	// detector must put them in their place. Keep MaxDelay within the
	// detector's allowed lateness (1 minute by default).
	Disorder float64
	MaxDelay time.Duration
	// Scenario is the world's tenants; nil means DefaultScenario.
	Scenario *Scenario
}

// DefaultConfig is a week of five tenants and 300 people, with 40 days of
// history, starting on Monday 2 November 2026.
func DefaultConfig() Config {
	return Config{
		Seed:     1,
		Start:    time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Days:     7,
		History:  40 * 24 * time.Hour,
		People:   300,
		Disorder: 0.005,
		MaxDelay: 30 * time.Second,
	}
}

// Limits keep a simulation within what one machine generates quickly.
const (
	MaxDays     = 366
	MaxHistory  = 120 * 24 * time.Hour
	MaxTenants  = 50
	MaxPeople   = 100_000
	MaxEpisodes = 100
)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Days < 0 || c.Days > MaxDays {
		errs = append(errs, fmt.Errorf("--days: %d, want 0 to %d", c.Days, MaxDays))
	}
	if c.Days == 0 && !c.Live {
		errs = append(errs, errors.New("--days: at least 1 (only --live runs without an end)"))
	}
	if c.History < 0 || c.History > MaxHistory {
		errs = append(errs, fmt.Errorf("--history: %s, want 0 to %s", c.History, MaxHistory))
	}
	if c.Tenants < 0 || c.Tenants > MaxTenants {
		errs = append(errs, fmt.Errorf("--tenants: %d, want 1 to %d (0: the scenario's)", c.Tenants, MaxTenants))
	}
	if c.People < 1 || c.People > MaxPeople {
		errs = append(errs, fmt.Errorf("--people: %d, want 1 to %d", c.People, MaxPeople))
	}
	if c.Attacks < 0 || c.Attacks > MaxEpisodes {
		errs = append(errs, fmt.Errorf("--attacks: %d, want 0 to %d", c.Attacks, MaxEpisodes))
	}
	if c.Benign < 0 || c.Benign > MaxEpisodes {
		errs = append(errs, fmt.Errorf("--benign: %d, want 0 to %d", c.Benign, MaxEpisodes))
	}
	if c.Disorder < 0 || c.Disorder > 0.5 {
		errs = append(errs, fmt.Errorf("--disorder: %g, want a share from 0 to 0.5", c.Disorder))
	}
	if c.MaxDelay < 0 || c.MaxDelay > time.Hour {
		errs = append(errs, fmt.Errorf("--max-delay: %s, want 0 to 1h", c.MaxDelay))
	}
	if !c.Live && c.Start.IsZero() {
		errs = append(errs, errors.New("--start: required"))
	}
	if !c.Start.IsZero() && (c.Start.Year() < 2000 || c.Start.Year() > 2200) {
		errs = append(errs, fmt.Errorf("--start: %s is out of range (years 2000 to 2200)", c.Start.Format(time.RFC3339)))
	}
	for _, k := range c.Kinds {
		if kindByName(k) == nil {
			errs = append(errs, fmt.Errorf("--kinds: unknown kind %q (want %s)", k, strings.Join(KindNames(), ", ")))
		}
	}
	sc := c.Scenario
	if sc == nil {
		sc = DefaultScenario()
	}
	n := c.Tenants
	if n == 0 {
		n = len(sc.Tenants)
	}
	if c.People > 0 && c.People < 8*n {
		errs = append(errs, fmt.Errorf("--people: %d is too few for %d tenants (at least 8 each, for roles and episodes)", c.People, n))
	}
	return errors.Join(errs...)
}
