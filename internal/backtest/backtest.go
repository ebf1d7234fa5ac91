// Package backtest runs one rule, new or changed, over the history stored
// in ClickHouse's audit_events, in event-time order, and reports the alerts
// it would have raised: per day, the top groups, and samples. It reads
// through internal/chstore and writes nothing anywhere (no Kafka, no
// table): a backtest can never page anyone.
//
// Events are streamed in the order the engine needs, one partition of
// work at a time. Rules grouped by the person (or by the account, which
// belongs to one person) read in the table's sort order (tenant,
// person_key, timestamp) and give each person a fresh shard: ClickHouse
// reads in order without sorting, and each person's events are in exact
// event-time order. Other rules (grouped by a record, a login name, or
// nothing) need every tenant's events in one time order: they read a day
// at a time ordered by timestamp. Before --since the rule's longest span
// (window, sequence, history, previous) is read as a warm-up, so state is
// as the live detector would have had it; only alerts triggered from
// --since on are counted.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Options say what to backtest.
type Options struct {
	// Rule is the id of the rule to run.
	Rule string
	// Since and Until bound the alerts' trigger times (Until zero: now,
	// as given by the caller in Until; the package reads no clock).
	Since, Until time.Time
	// Tenant limits the run to one tenant ("" for all).
	Tenant string
	// Config is the detector configuration (calendars, tenant overrides);
	// overrides of other rules are ignored. Nil: detect.DefaultConfig().
	Config *detect.Config
	// Samples and Top bound the report's sample alerts (default 5) and
	// top groups (default 10).
	Samples, Top int
	// Progress, when set, is called now and then with the events read and
	// the (approximate) total.
	Progress func(read, total int64)
	// OnAlert, when set, receives every counted alert (to write them out).
	OnAlert func(*alert.Alert) error
}

// Report is what the rule would have done.
type Report struct {
	Rule      string         `json:"rule"`
	Version   string         `json:"version"`
	Mode      string         `json:"mode"` // "person" or "time"
	From      time.Time      `json:"from"` // warm-up start
	Since     time.Time      `json:"since"`
	Until     time.Time      `json:"until"`
	Events    int64          `json:"events"`
	Alerts    int            `json:"alerts"`
	Late      int64          `json:"late"`
	PerDay    []DayCount     `json:"per_day"`
	TopGroups []GroupCount   `json:"top_groups"`
	Samples   []*alert.Alert `json:"samples"`
}

// DayCount is the alerts of one UTC day.
type DayCount struct {
	Day    string `json:"day"`
	Alerts int    `json:"alerts"`
}

// GroupCount is one group's alerts.
type GroupCount struct {
	Tenant string `json:"tenant"`
	Group  string `json:"group"`
	Alerts int    `json:"alerts"`
}

// ErrNoSuchRule is returned for an unknown rule id.
var ErrNoSuchRule = errors.New("no such rule")

// maxWarmup bounds how far before --since state is rebuilt.
const maxWarmup = 400 * 24 * time.Hour

// Run backtests one rule of rs over st's audit_events.
func Run(ctx context.Context, st *chstore.Store, rs *detect.RuleSet, opt Options) (*Report, error) {
	r := rs.Rule(opt.Rule)
	if r == nil {
		ids := make([]string, len(rs.Rules))
		for i, x := range rs.Rules {
			ids[i] = x.ID
		}
		return nil, fmt.Errorf("%w %q in %s (rules: %s)", ErrNoSuchRule, opt.Rule, rs.Dir, strings.Join(ids, ", "))
	}
	if opt.Until.IsZero() || !opt.Since.Before(opt.Until) {
		return nil, fmt.Errorf("backtest: --since %s is not before --until %s", opt.Since.Format(time.RFC3339), opt.Until.Format(time.RFC3339))
	}
	if opt.Samples <= 0 {
		opt.Samples = 5
	}
	if opt.Top <= 0 {
		opt.Top = 10
	}
	cfg := detect.DefaultConfig()
	if opt.Config != nil {
		cfg = *opt.Config
	}
	eng, err := engineFor(rs, r, cfg)
	if err != nil {
		return nil, err
	}
	info := eng.Rules()[0]
	rep := &Report{Rule: r.ID, Version: r.Version, Since: opt.Since.UTC(), Until: opt.Until.UTC()}
	rep.From = opt.Since.Add(-warmup(r)).UTC()
	q := query{tenant: opt.Tenant, route: routeSQL(info.Route)}
	perPerson := len(info.GroupBy) == 1 && (info.GroupBy[0] == "person" || info.GroupBy[0] == "user.id")
	if perPerson {
		rep.Mode = "person"
	} else {
		rep.Mode = "time"
	}
	var total int64
	if opt.Progress != nil {
		if total, err = q.count(ctx, st, rep.From, opt.Until); err != nil {
			return nil, err
		}
		opt.Progress(0, total)
	}
	byDay := map[string]int{}
	byGroup := map[[2]string]int{}
	var out []detect.Output
	process := func(sh *detect.Shard, s *scan) error {
		out = sh.Process(&s.ev, out[:0])
		for _, o := range out {
			switch o.Kind {
			case detect.OutputLate:
				rep.Late++
			case detect.OutputAlert:
				a := o.Alert
				if a.TriggeredAt.Before(opt.Since) || !a.TriggeredAt.Before(opt.Until) {
					continue
				}
				rep.Alerts++
				byDay[a.TriggeredAt.UTC().Format(time.DateOnly)]++
				byGroup[[2]string{a.Tenant, groupText(a.Group)}]++
				if len(rep.Samples) < opt.Samples {
					rep.Samples = append(rep.Samples, a)
				}
				if opt.OnAlert != nil {
					if err := opt.OnAlert(a); err != nil {
						return err
					}
				}
			}
		}
		rep.Events++
		if opt.Progress != nil && rep.Events%10000 == 0 {
			opt.Progress(rep.Events, max(total, rep.Events))
		}
		return nil
	}
	if perPerson {
		var sh *detect.Shard
		var key string
		err = q.stream(ctx, st, rep.From, opt.Until, "tenant, person_key, timestamp, id", func(s *scan) error {
			if k := s.ev.Tenant + "\x00" + s.personKey; sh == nil || k != key {
				sh, key = eng.NewShard(), k
			}
			return process(sh, s)
		})
	} else {
		sh := eng.NewShard()
		for day := rep.From; day.Before(opt.Until) && err == nil; day = day.Add(24 * time.Hour) {
			err = q.stream(ctx, st, day, minTime(day.Add(24*time.Hour), opt.Until), "timestamp, id", func(s *scan) error {
				return process(sh, s)
			})
		}
	}
	if err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress(rep.Events, max(total, rep.Events))
	}
	for d := opt.Since.UTC(); d.Before(opt.Until); d = d.Add(24 * time.Hour) {
		day := d.Format(time.DateOnly)
		rep.PerDay = append(rep.PerDay, DayCount{Day: day, Alerts: byDay[day]})
	}
	for g, n := range byGroup {
		rep.TopGroups = append(rep.TopGroups, GroupCount{Tenant: g[0], Group: g[1], Alerts: n})
	}
	sort.Slice(rep.TopGroups, func(i, j int) bool {
		a, b := rep.TopGroups[i], rep.TopGroups[j]
		if a.Alerts != b.Alerts {
			return a.Alerts > b.Alerts
		}
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		return a.Group < b.Group
	})
	if len(rep.TopGroups) > opt.Top {
		rep.TopGroups = rep.TopGroups[:opt.Top]
	}
	return rep, nil
}

// engineFor compiles an engine of the one rule, keeping only the
// configuration's overrides of that rule.
func engineFor(rs *detect.RuleSet, r *detect.Rule, cfg detect.Config) (*detect.Engine, error) {
	one := &detect.RuleSet{Dir: rs.Dir, Rules: []*detect.Rule{r}, Lists: rs.Lists, Files: rs.Files}
	tenants := map[string]detect.TenantConfig{}
	for t, tc := range cfg.Tenants {
		rules := map[string]detect.RuleOverride{}
		if o, ok := tc.Rules[r.ID]; ok {
			rules[r.ID] = o
		}
		tc.Rules = rules
		tenants[t] = tc
	}
	cfg.Tenants = tenants
	if r.Disabled {
		r2 := *r
		r2.Disabled = false // a backtest runs the rule it is asked to
		one.Rules = []*detect.Rule{&r2}
	}
	eng, err := detect.NewEngine(one, cfg)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", r.ID, err)
	}
	if len(eng.Rules()) != 1 {
		return nil, fmt.Errorf("compiling %s: the rule did not load", r.ID)
	}
	return eng, nil
}

// warmup is how much history before --since the rule's state needs.
func warmup(r *detect.Rule) time.Duration {
	params := map[string]any{}
	for _, p := range r.Params {
		params[p.Name] = p.Default
	}
	var longest time.Duration
	for _, ds := range []*detect.DurationSpec{r.Window, r.Previous, seqWithin(r), nvHistory(r)} {
		if ds == nil {
			continue
		}
		d := ds.D
		if ds.Param != "" {
			d, _ = params[ds.Param].(time.Duration)
		}
		longest = max(longest, d)
	}
	if r.NewValue != nil {
		// a group must also have been known for min_history
		if mh := r.NewValue.MinHistory; mh != nil {
			d := mh.D
			if mh.Param != "" {
				d, _ = params[mh.Param].(time.Duration)
			}
			longest += d
		}
	}
	return min(longest, maxWarmup)
}

func seqWithin(r *detect.Rule) *detect.DurationSpec {
	if r.Sequence == nil {
		return nil
	}
	return r.Sequence.Within
}

func nvHistory(r *detect.Rule) *detect.DurationSpec {
	if r.NewValue == nil {
		return nil
	}
	return r.NewValue.History
}

var routePairRE = regexp.MustCompile(`\{([a-z_]*) ([A-Za-z0-9_.:-]*)\}`)

// routeSQL turns the engine's description of the (category, action)
// pairs a rule can match into a WHERE clause that skips the rest; "" when
// it can match anything or the description is not understood (the engine
// evaluates the filter on every event either way, so this only saves
// reading).
func routeSQL(route string) string {
	if !strings.HasPrefix(route, "[") || !strings.HasSuffix(route, "]") {
		return ""
	}
	inner := route[1 : len(route)-1]
	ms := routePairRE.FindAllStringSubmatch(inner, -1)
	if len(ms) == 0 || strings.TrimSpace(routePairRE.ReplaceAllString(inner, "")) != "" {
		return ""
	}
	var parts []string
	for _, m := range ms {
		switch {
		case m[1] == "" && m[2] == "":
			return ""
		case m[2] == "":
			parts = append(parts, "category = '"+m[1]+"'")
		case m[1] == "":
			parts = append(parts, "action = '"+m[2]+"'")
		default:
			parts = append(parts, "(category = '"+m[1]+"' AND action = '"+m[2]+"')")
		}
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func groupText(g map[string]string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + g[k]
	}
	return strings.Join(parts, " ")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
