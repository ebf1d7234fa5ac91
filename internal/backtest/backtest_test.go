package backtest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func migratedStore(t *testing.T) *chstore.Store {
	t.Helper()
	env := testenv.ClickHouse(t)
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = env.URL, env.Database, env.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := sink.Migrate(t.Context(), st, sink.DefaultStorageConfig(), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	return st
}

// simulated is a small labelled world: two days after 40 of history.
func simulated(t *testing.T) ([]*event.Event, simulate.Config) {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Tenants, cfg.People = 2, 2, 40
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	if _, err := sim.Run(context.Background(), func(e *event.Event) error { evs = append(evs, e); return nil }, func(*simulate.Label) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return evs, cfg
}

// store writes the events as the sink does, then a second, re-delivered
// copy of the first thousand at later log positions (a collector that
// sent them twice).
func store(t *testing.T, st *chstore.Store, evs []*event.Event) {
	t.Helper()
	history.Store(t, st, evs, 0, func(e *event.Event) time.Time { return e.Timestamp.Add(time.Second) })
	history.Store(t, st, evs[:1000], int64(len(evs)), func(e *event.Event) time.Time { return e.Timestamp.Add(time.Minute) })
}

// replayed is what the live engine raises for one rule over the events in
// delivery order, triggered within [since, until).
func replayed(t *testing.T, rs *detect.RuleSet, id string, evs []*event.Event, since, until time.Time) []string {
	t.Helper()
	eng, err := engineFor(rs, rs.Rule(id), detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	sh := eng.NewShard()
	var ids []string
	var out []detect.Output
	for _, e := range evs {
		out = sh.Process(e, out[:0])
		for _, o := range out {
			if o.Kind == detect.OutputAlert && !o.Alert.TriggeredAt.Before(since) && o.Alert.TriggeredAt.Before(until) {
				ids = append(ids, o.Alert.ID)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

func TestBacktestMatchesTheLiveEngine(t *testing.T) {
	st := migratedStore(t)
	evs, cfg := simulated(t)
	store(t, st, evs)
	rs, err := detect.Load("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	since, until := cfg.Start, cfg.Start.Add(48*time.Hour)
	for _, tc := range []struct {
		rule, mode string
	}{
		{"auth.failed_logins_many_countries", "person"},
		{"auth.dormant_account_active", "person"},
		{"data.rapid_sensitive_field_changes", "time"},
		{"auth.one_login_many_ips", "time"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			want := replayed(t, rs, tc.rule, evs, since, until)
			if len(want) == 0 {
				t.Fatalf("the simulation raises no %s alert: the comparison would prove nothing", tc.rule)
			}
			var got []string
			var progress [][2]int64
			rep, err := Run(t.Context(), st, rs, Options{Rule: tc.rule, Since: since, Until: until, Samples: 2,
				Progress: func(read, total int64) { progress = append(progress, [2]int64{read, total}) },
				OnAlert:  func(a *alert.Alert) error { got = append(got, a.ID); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("backtest raised\n%v\nthe engine over the same events\n%v", got, want)
			}
			if rep.Mode != tc.mode || rep.Alerts != len(want) || len(rep.Samples) != min(2, len(want)) || len(rep.PerDay) != 2 ||
				rep.PerDay[0].Alerts+rep.PerDay[1].Alerts != len(want) || len(rep.TopGroups) == 0 || rep.Late != 0 {
				t.Errorf("report %+v", rep)
			}
			last := progress[len(progress)-1]
			if len(progress) < 2 || last[0] != rep.Events || last[1] < last[0] {
				t.Errorf("progress %v, events %d", progress, rep.Events)
			}
		})
	}
}

func TestBacktestTenantAndErrors(t *testing.T) {
	st := migratedStore(t)
	evs, cfg := simulated(t)
	store(t, st, evs)
	rs, err := detect.Load("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	until := cfg.Start.Add(48 * time.Hour)
	rep, err := Run(t.Context(), st, rs, Options{Rule: "auth.failed_logins_many_countries", Since: cfg.Start, Until: until, Tenant: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range rep.TopGroups {
		if g.Tenant != "globex" {
			t.Errorf("tenant %s in a globex backtest", g.Tenant)
		}
	}
	if rep.Alerts == 0 {
		t.Error("no alert for globex")
	}
	if _, err := Run(t.Context(), st, rs, Options{Rule: "nope", Since: cfg.Start, Until: until}); err == nil || !strings.Contains(err.Error(), `no such rule "nope"`) {
		t.Errorf("err %v", err)
	}
	if _, err := Run(t.Context(), st, rs, Options{Rule: "audit.tampering", Since: until, Until: cfg.Start}); err == nil {
		t.Error("an empty span was accepted")
	}
}

func TestRouteSQL(t *testing.T) {
	for route, want := range map[string]string{
		"any event": "",
		"[{authentication login} {authentication password_reset}]": "((category = 'authentication' AND action = 'login') OR (category = 'authentication' AND action = 'password_reset'))",
		"[{export }]":         "(category = 'export')",
		"[{ mfa_disable}]":    "(action = 'mfa_disable')",
		"[{export x'; DROP}]": "",
		"[{ }]":               "",
	} {
		if got := routeSQL(route); got != want {
			t.Errorf("routeSQL(%q) = %q, want %q", route, got, want)
		}
	}
}
