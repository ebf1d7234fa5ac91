package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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

// pipelineData is what the test stored: the simulation's span and counts.
type pipelineData struct {
	from, to        time.Time
	events          int
	alerts, actions int
}

// loadPipeline fills a migrated database the way the pipeline would: a
// simulation's events (at consecutive offsets, ingested a little after
// their time), the alerts and actions the shipped rules raise on them (as
// the sink stores them), and the responder's later status records for
// those actions: some done, some failed, some waiting for approval.
func loadPipeline(t *testing.T, st *chstore.Store) pipelineData {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Tenants, cfg.People, cfg.History = 2, 3, 60, 10*24*time.Hour
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dcfg, err := detect.ParseConfig("simulated", sim.DetectConfig())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Load("../rules")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.NewEngine(rs, dcfg)
	if err != nil {
		t.Fatal(err)
	}
	sh := eng.NewShard()
	var evs []*event.Event
	var alerts []*alert.Alert
	var actions []*alert.Action
	var out []detect.Output
	_, err = sim.Run(t.Context(), func(e *event.Event) error {
		evs = append(evs, e)
		out = sh.Process(e, out[:0])
		for _, o := range out {
			switch o.Kind {
			case detect.OutputAlert:
				alerts = append(alerts, o.Alert)
			case detect.OutputAction:
				actions = append(actions, o.Action)
			}
		}
		return nil
	}, func(*simulate.Label) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) == 0 || len(actions) == 0 {
		t.Fatalf("the rules raised %d alerts and %d actions on the simulation: nothing for the dashboards to show", len(alerts), len(actions))
	}
	// Ingest publishes an event a few seconds after it happened (a
	// deterministic 0-30 s here), so the pipeline panels have delays to show.
	ingested := func(e *event.Event) time.Time {
		h := fnv.New32a()
		h.Write([]byte(e.ID))
		return e.Timestamp.Add(time.Duration(h.Sum32()%30000) * time.Millisecond)
	}
	history.Store(t, st, evs, 0, ingested)
	// A collector sent the first hundred events twice: the copies sit at
	// new log positions, and the dashboards must still count each once.
	history.Store(t, st, evs[:100], int64(len(evs)), ingested)

	insertAlerts(t, st, alerts)
	insertActions(t, st, actions)
	return pipelineData{from: evs[0].Timestamp, to: evs[len(evs)-1].Timestamp, events: len(evs), alerts: len(alerts), actions: len(actions)}
}

// insertAlerts stores alerts with the columns the sink writes (sink.insertAlerts).
func insertAlerts(t *testing.T, st *chstore.Store, as []*alert.Alert) {
	t.Helper()
	b, err := st.PrepareBatch(t.Context(), `INSERT INTO alerts (id, tenant, rule_id, rule_version, rule_title,
		severity, rule_tags, group_keys, group_values, subject, window_start, window_end, triggered_at, detected_at,
		event_ids, summary, values_json, action_ids, ingested_at, kafka_partition, kafka_offset)`)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		keys := sortedKeys(a.Group)
		vals := make([]string, len(keys))
		for j, k := range keys {
			vals[j] = a.Group[k]
		}
		values, err := json.Marshal(a.Values)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(a.ID, a.Tenant, a.Rule.ID, a.Rule.Version, a.Rule.Title, a.Rule.Severity, nonNil(a.Rule.Tags),
			keys, vals, sink.Subject(a.Group), a.WindowStart.UTC(), a.WindowEnd.UTC(), a.TriggeredAt.UTC(), a.DetectedAt.UTC(),
			nonNil(a.EventIDs), a.Summary, string(values), nonNil(a.Actions), a.DetectedAt.Add(time.Second).UTC(), int32(0), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("inserting %d alerts: %v", len(as), err)
	}
}

// insertActions stores each request and, cycling through the outcomes a
// responder records, its later status records.
func insertActions(t *testing.T, st *chstore.Store, as []*alert.Action) {
	t.Helper()
	b, err := st.PrepareBatch(t.Context(), `INSERT INTO actions (id, tenant, type, alert_id, target, target_name,
		target_type, mode, status, requested_at, completed_at, recorded_at, error, rule_id, rule_version, severity, summary,
		actor, attempt, detail, undoes, ingested_at, kafka_partition, kafka_offset)`)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(0)
	add := func(a *alert.Action, status, errText string, at time.Time) {
		var completed *time.Time
		if status == alert.StatusDone || status == alert.StatusFailed {
			c := at.UTC()
			completed = &c
		}
		if err := b.Append(a.ID, a.Tenant, a.Type, a.AlertID, a.Target, a.TargetName, a.TargetType, a.Mode, status,
			a.RequestedAt.UTC(), completed, at.UTC(), errText, a.RuleID, a.RuleVersion, a.Severity, a.Summary,
			"responder-1", uint32(1), "", a.Undoes, at.Add(time.Second).UTC(), int32(0), off); err != nil {
			t.Fatal(err)
		}
		off++
	}
	for i, a := range as {
		add(a, alert.StatusRequested, "", a.RequestedAt)
		at := a.RequestedAt.Add(2 * time.Second)
		switch i % 4 {
		case 0:
			add(a, alert.StatusExecuting, "", at)
			add(a, alert.StatusDone, "", at.Add(time.Second))
		case 1:
			add(a, alert.StatusAwaitingApproval, "", at)
		case 2:
			add(a, alert.StatusExecuting, "", at)
			add(a, alert.StatusFailed, "salesforce: 503 Service Unavailable", at.Add(time.Minute))
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("inserting action records: %v", err)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// wantParity is how many panels of each dashboard say they show a named
// query, so a description that loses the phrase is noticed.
var wantParity = map[string]int{"account-investigation.json": 1, "soc-overview.json": 1, "record-history.json": 1}

// mayBeEmpty are panels whose data the test cannot produce honestly: the
// integrity checkpoints are signed by the sink itself, which this test
// does not run (history.Store writes rows without the chain).
var mayBeEmpty = map[string]bool{
	"Integrity checkpoints": true,
}

// TestDashboardQueriesRun runs every ClickHouse query of every dashboard,
// variables first, on a migrated database holding a simulated pipeline's
// events, alerts and actions, as Grafana and the plugin would send them.
// A query that fails fails the test, and so does a panel without rows
// (except mayBeEmpty).
func TestDashboardQueriesRun(t *testing.T) {
	env := testenv.ClickHouse(t)
	st := history.MigratedIn(t, env)
	data := loadPipeline(t, st)
	t.Logf("stored %d events (+100 duplicates), %d alerts, %d actions from %s to %s",
		data.events, data.alerts, data.actions, data.from.Format(time.RFC3339), data.to.Format(time.RFC3339))

	// Grafana's connection: the data source's default database, over HTTP.
	conn, err := clickhouse.Open(env.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// Grafana's user is a reader (docs/CLICKHOUSE.md): on the embedded
	// server every panel must also pass the reader's guard.
	var reader clickhouse.Conn
	if env.Reader != "" {
		o := env.Options()
		o.Auth.Username, o.Auth.Password = env.Reader, env.ReaderPassword
		if reader, err = clickhouse.Open(o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reader.Close() })
	}

	// The values an analyst would pick: the account with the most alerts
	// that requested actions, and the record of that tenant with the most
	// changes among those alerts' evidence (else the most changed record).
	// An alert's subject is a person or an account (user id); the
	// dashboard's variable lists persons (person_key).
	tenant, subject := pick2(t, conn, `SELECT a.tenant, a.subject FROM alerts AS a FINAL
		WHERE a.subject != '' AND notEmpty(a.action_ids)
		GROUP BY a.tenant, a.subject ORDER BY count() DESC, a.subject LIMIT 1`)
	_, person := pick2(t, conn, fmt.Sprintf(`SELECT tenant, person_key FROM audit_events
		WHERE tenant = '%s' AND (person_key = '%s' OR user_id = '%s')
		GROUP BY tenant, person_key ORDER BY count() DESC, person_key LIMIT 1`, tenant, subject, subject))
	_, object := pick2(t, conn, fmt.Sprintf(`SELECT tenant, object_id FROM audit_events
		WHERE tenant = '%s' AND object_id != '' AND notEmpty(change_field)
		GROUP BY tenant, object_id
		ORDER BY max(id IN (SELECT event_id FROM alert_event_hits)) DESC, count() DESC, object_id LIMIT 1`, tenant))
	preferred := map[string]string{"tenant": tenant, "person": person, "object_id": object}
	t.Logf("chosen: tenant %s, person %s, record %s", tenant, person, object)

	r := macroRange{From: data.from.Add(-time.Hour), To: data.to.Add(time.Hour), Interval: 5 * time.Minute}
	for file, d := range loadDashboards(t) {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			vars, multi := resolveVariables(t, conn, d, r, preferred)
			ran, parity := 0, 0
			for _, p := range allPanels(d.Panels) {
				for _, tg := range p.Targets {
					if tg.Datasource.Type != clickhouseType {
						continue
					}
					sql, err := replaceVariables(tg.RawSQL, vars, multi)
					if err == nil {
						sql, err = expandMacros(sql, r)
					}
					if err != nil {
						t.Errorf("panel %q: %v", p.Title, err)
						continue
					}
					n, err := countRows(t.Context(), conn, sql)
					if err != nil {
						t.Errorf("panel %q fails: %v\n%s", p.Title, err, sql)
						continue
					}
					if reader != nil {
						if m, err := countRows(t.Context(), reader, sql); err != nil || m != n {
							t.Errorf("panel %q as the reader: %d rows (%v), as the admin %d\n%s", p.Title, m, err, n, sql)
						}
					}
					ran++
					if file == "soc-overview.json" && p.Title == "Events" {
						// The copies the collector sent twice must not count.
						var got uint64
						if err := conn.QueryRow(t.Context(), sql).Scan(&got); err != nil || got != uint64(data.events) {
							t.Errorf("panel %q = %d, %v; want the %d distinct events stored", p.Title, got, err, data.events)
						}
					}
					if m := namedIn.FindStringSubmatch(p.Description); m != nil {
						checkNamedParity(t, conn, st, p.Title, m[1], sql, vars, r)
						parity++
					}
					if n == 0 && !mayBeEmpty[p.Title] {
						t.Errorf("panel %q returned no rows on the simulated pipeline\n%s", p.Title, sql)
					}
				}
			}
			if ran == 0 {
				t.Error("no ClickHouse panel ran")
			}
			if want := wantParity[file]; parity != want {
				t.Errorf("%d panels compared with the named query they copy, want %d", parity, want)
			}
		})
	}
}

// resolveVariables runs the query variables in order (later ones may use
// earlier ones) and picks values: every value of a multi-value variable,
// else the preferred value (which must be among the options), else the
// first option. Textbox variables take the preferred value.
func resolveVariables(t *testing.T, conn driver.Conn, d dashboard, r macroRange, preferred map[string]string) (map[string][]string, map[string]bool) {
	t.Helper()
	vars := map[string][]string{}
	multi := map[string]bool{}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "query":
			raw, err := v.sql()
			if err != nil {
				t.Fatal(err)
			}
			sql, err := replaceVariables(raw, vars, multi)
			if err == nil {
				sql, err = expandMacros(sql, r)
			}
			if err != nil {
				t.Fatalf("variable %s: %v", v.Name, err)
			}
			opts, err := firstColumn(t.Context(), conn, sql)
			if err != nil {
				t.Fatalf("variable %s fails: %v\n%s", v.Name, err, sql)
			}
			if len(opts) == 0 {
				t.Fatalf("variable %s has no options on the simulated pipeline\n%s", v.Name, sql)
			}
			switch want, ok := preferred[v.Name]; {
			case v.Multi:
				vars[v.Name], multi[v.Name] = opts, true
			case ok:
				if !contains(opts, want) {
					t.Fatalf("variable %s: %q is not among its %d options", v.Name, want, len(opts))
				}
				vars[v.Name] = []string{want}
			default:
				vars[v.Name] = opts[:1]
			}
		case "textbox":
			want, ok := preferred[v.Name]
			if !ok {
				t.Fatalf("textbox variable %s: the test has no value for it", v.Name)
			}
			vars[v.Name] = []string{want}
		default:
			t.Fatalf("variable %s: type %s is not reproduced by this test", v.Name, v.Type)
		}
	}
	return vars, multi
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func countRows(ctx context.Context, conn driver.Conn, sql string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

func firstColumn(ctx context.Context, conn driver.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func pick2(t *testing.T, conn driver.Conn, sql string) (string, string) {
	t.Helper()
	var a, b string
	if err := conn.QueryRow(t.Context(), sql).Scan(&a, &b); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return a, b
}
