package queries

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var now = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

type fixture struct {
	st   *chstore.Store
	off  int64
	dead int64 // the last dead-letter offset
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := history.Migrated(t)
	return &fixture{st: st}
}

// events stores es, each at the next offset of partition 0.
func (f *fixture) events(t *testing.T, es ...event.Event) {
	t.Helper()
	var cols auditrow.Columns
	var r auditrow.Row
	for i := range es {
		auditrow.FromEvent(&r, &es[i], 0, f.off, es[i].Timestamp)
		f.off++
		cols.Append(&r)
	}
	b, err := f.st.PrepareBatch(t.Context(), auditrow.Insert)
	if err != nil {
		t.Fatal(err)
	}
	if err := cols.Send(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) alert(t *testing.T, id, tenant, rule, severity, subject string, at time.Time, eventIDs ...string) {
	t.Helper()
	f.off++
	if err := f.st.Exec(t.Context(), `INSERT INTO alerts (id, tenant, rule_id, severity, subject, window_start, window_end, triggered_at, detected_at, event_ids, kafka_offset)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, tenant, rule, severity, subject, at, at, at, at, eventIDs, f.off); err != nil {
		t.Fatal(err)
	}
}

func ev(id, tenant, person, category, action, outcome string, at time.Time) event.Event {
	return event.Event{ID: id, Timestamp: at, Tenant: tenant, Source: event.Source{System: "salesforce"},
		Event: event.Activity{Category: category, Action: action, Outcome: outcome},
		User:  event.User{ID: person, Name: person + "@acme.example"}}
}

func with(e event.Event, fn func(*event.Event)) event.Event { fn(&e); return e }

func (f *fixture) seed(t *testing.T) {
	t.Helper()
	located := func(country string, lat, lon float64) func(*event.Event) {
		return func(e *event.Event) {
			e.Client.IP = "203.0.113.9"
			e.Client.Geo = event.Geo{Country: country, Lat: lat, Lon: lon, HasCoords: true}
		}
	}
	export := func(n int64) func(*event.Event) {
		return func(e *event.Event) { e.Records, e.HasRecords = n, true }
	}
	onC1 := func(changes ...event.Change) func(*event.Event) {
		return func(e *event.Event) {
			e.Object = event.Object{Type: "contact", ID: "C1", Name: "Ann"}
			e.Changes = changes
			e.Client.IP = "198.51.100.4"
			e.Comment = "fix"
		}
	}
	exportP1 := with(ev("p1-export", "acme", "P1", "export", "export", "success", ago(2*time.Hour)), export(500))
	f.events(t,
		ev("p1-login", "acme", "P1", "authentication", "login", "success", ago(3*24*time.Hour)),
		with(ev("p1-update", "acme", "P1", "data_change", "update", "success", ago(2*24*time.Hour)),
			onC1(event.Change{Field: "Email", Old: "a@x", New: "b@x"}, event.Change{Field: "Phone", Old: "1", New: "2"})),
		exportP1,
		with(ev("p1-fail", "acme", "P1", "authentication", "login", "failure", ago(time.Hour)), located("RU", 55.75, 37.62)),
		ev("p1-old", "acme", "P1", "data_access", "view", "success", ago(40*24*time.Hour)),
		with(ev("p2-create", "acme", "P2", "data_change", "create", "success", ago(5*24*time.Hour)), onC1()),
		with(ev("p2-update", "acme", "P2", "data_change", "update", "success", ago(24*time.Hour)), onC1(event.Change{Field: "Phone", Old: "2", New: "3"})),
		with(ev("p2-view", "acme", "P2", "data_access", "view", "success", ago(23*time.Hour)), onC1()),
		with(ev("p2-export-1", "acme", "P2", "export", "export", "success", ago(3*time.Hour)), export(1500)),
		with(ev("p2-export-2", "acme", "P2", "export", "export", "success", ago(30*time.Minute)), export(500)),
		with(ev("p2-export-failed", "acme", "P2", "export", "export", "failure", ago(20*time.Minute)), export(9000)),
		with(ev("p2-fail-1", "acme", "P2", "authentication", "login", "failure", ago(4*time.Hour)), located("RU", 55.65, 37.52)),
		with(ev("p2-fail-2", "acme", "P2", "authentication", "login", "failure", ago(5*time.Hour)), located("BR", -23.5, -46.6)),
		ev("p3-fail", "acme", "P3", "authentication", "login", "failure", ago(6*time.Hour)),
		with(ev("globex-export", "globex", "P1", "export", "export", "success", ago(time.Hour)), export(99999)),
		with(ev("p2-export-old", "acme", "P2", "export", "export", "success", ago(30*time.Hour)), export(7777)),
	)
	// A collector sent two events twice: the copies sit at new offsets.
	f.events(t, exportP1, with(ev("p2-fail-1", "acme", "P2", "authentication", "login", "failure", ago(4*time.Hour)), located("RU", 55.65, 37.52)))

	f.alert(t, "al-1", "acme", "export.bulk", "high", "P1", ago(2*time.Hour), "p1-export")
	f.alert(t, "al-1", "acme", "export.bulk", "high", "P1", ago(2*time.Hour), "p1-export") // replayed by the detector
	f.alert(t, "al-2", "acme", "auth.failures", "high", "P1", ago(time.Hour), "p1-fail")
	f.alert(t, "al-3", "acme", "auth.travel", "critical", "P2", ago(4*time.Hour), "p2-fail-1", "p2-fail-2")
	f.alert(t, "al-4", "acme", "auth.failures", "low", "P3", ago(6*time.Hour), "p3-fail")
	f.alert(t, "al-5", "acme", "data.scrape", "medium", "", ago(time.Hour))
	f.alert(t, "al-6", "acme", "export.bulk", "high", "P2", ago(10*24*time.Hour), "p2-export-old")
	f.alert(t, "al-g", "globex", "export.bulk", "critical", "P1", ago(time.Hour), "globex-export")

	// Rejects: a collector sending local times, events too large, a
	// malformed alert; one read twice by a restarted sink; another
	// tenant's, one of an unknown tenant and one older than a day.
	for i := range 3 {
		f.deadLetter(t, "acme", "ingest", "salesforce", `timestamp: "…" has no UTC offset`, "timestamp", ago(time.Duration(10+i)*time.Minute), 300)
	}
	f.deadLetter(t, "acme", "ingest", "salesforce", "event is 70000 bytes encoded, limit 65536", "", ago(3*time.Hour), 70000)
	f.deadLetter(t, "acme", "ingest", "salesforce", "event is 81234 bytes encoded, limit 65536", "", ago(5*time.Hour), 81234)
	f.deadLetter(t, "acme", "sink", "", "alert is missing [rule.id]", "", ago(2*time.Hour), 120)
	f.dead-- // the same record again, at the same position
	f.deadLetter(t, "acme", "sink", "", "alert is missing [rule.id]", "", ago(2*time.Hour), 120)
	f.deadLetter(t, "globex", "ingest", "hubspot", "event.category: \"…\" is not one of authentication", "event.category", ago(time.Minute), 500)
	f.deadLetter(t, "", "ingest", "", "offset 0: not JSON", "", ago(time.Minute), 10)
	f.deadLetter(t, "acme", "ingest", "salesforce", "offset 3: not JSON", "", ago(30*time.Hour), 10)
}

// deadLetter stores a dead_letters row at the next dead-letter position.
func (f *fixture) deadLetter(t *testing.T, tenant, stage, source, reason, field string, at time.Time, size uint64) {
	t.Helper()
	f.dead++
	if err := f.st.Exec(t.Context(), `INSERT INTO dead_letters (tenant, stage, reason, field, source, received_at, raw_size, raw, ingested_at, kafka_partition, kafka_offset)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenant, stage, reason, field, source, at, size, "masked", at, int32(0), f.dead); err != nil {
		t.Fatal(err)
	}
}

// run runs a named query and returns its rows as text, cells joined by |.
func (f *fixture) run(t *testing.T, name string, params map[string]string) []string {
	t.Helper()
	rows, err := Run(t.Context(), f.st, name, params)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out []string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(dest))
		for i, d := range dest {
			cells[i] = cell(reflect.ValueOf(d).Elem().Interface())
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func cell(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("01-02T15:04")
	case *uint64:
		if x == nil {
			return "NULL"
		}
		return fmt.Sprint(*x)
	case float64:
		return fmt.Sprintf("%.3f", x)
	case *float64:
		if x == nil {
			return "NULL"
		}
		return fmt.Sprintf("%.3f", *x)
	}
	return fmt.Sprint(v)
}

func TestNamedQueries(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	window := func(extra map[string]string, from time.Duration) map[string]string {
		p := map[string]string{"tenant": "acme", "from": ago(from).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   []string
	}{
		{"user-timeline", window(map[string]string{"person": "P1"}, 30*24*time.Hour), []string{
			"11-10T11:00|p1-fail|authentication|login|failure|P1|P1@acme.example|203.0.113.9|RU|||||NULL|[auth.failures]",
			"11-10T10:00|p1-export|export|export|success|P1|P1@acme.example|||||||500|[export.bulk]",
			"11-08T12:00|p1-update|data_change|update|success|P1|P1@acme.example|198.51.100.4|||contact|C1|Ann|NULL|[]",
			"11-07T12:00|p1-login|authentication|login|success|P1|P1@acme.example|||||||NULL|[]",
		}},
		{"user-timeline", window(map[string]string{"person": "P1", "limit": "1"}, 30*24*time.Hour), []string{
			"11-10T11:00|p1-fail|authentication|login|failure|P1|P1@acme.example|203.0.113.9|RU|||||NULL|[auth.failures]",
		}},
		{"record-history", map[string]string{"tenant": "acme", "object_id": "C1"}, []string{
			"11-05T12:00|p2-create|create|P2|P2@acme.example||||198.51.100.4|||fix",
			"11-08T12:00|p1-update|update|P1|P1@acme.example|Email|a@x|b@x|198.51.100.4|||fix",
			"11-08T12:00|p1-update|update|P1|P1@acme.example|Phone|1|2|198.51.100.4|||fix",
			"11-09T12:00|p2-update|update|P2|P2@acme.example|Phone|2|3|198.51.100.4|||fix",
		}},
		{"exports-by-person", window(nil, 24*time.Hour), []string{
			"P2|P2@acme.example|2|2000|1500|11-10T11:30",
			"P1|P1@acme.example|1|500|500|11-10T10:00",
		}},
		{"exports-by-person", window(map[string]string{"min_records": "1000"}, 48*time.Hour), []string{
			"P2|P2@acme.example|3|9777|7777|11-10T11:30",
		}},
		{"failed-login-map", window(nil, 24*time.Hour), []string{
			"RU|2|2|55.700|37.570",
			"|1|1|NULL|NULL",
			"BR|1|1|-23.500|-46.600",
		}},
		{"alerts-by-rule", window(nil, 7*24*time.Hour), []string{
			"auth.travel|critical|1|1|11-10T08:00|11-10T08:00",
			"auth.failures|high|1|1|11-10T11:00|11-10T11:00",
			"export.bulk|high|1|1|11-10T10:00|11-10T10:00",
			"data.scrape|medium|1|1|11-10T11:00|11-10T11:00",
			"auth.failures|low|1|1|11-10T06:00|11-10T06:00",
		}},
		{"rejected-by-reason", map[string]string{"tenant": "acme", "at": now.Format(time.RFC3339)}, []string{
			"ingest|salesforce|timestamp: \"…\" has no UTC offset|timestamp|3|3|900|11-10T11:48|11-10T11:50",
			"ingest|salesforce|event is N bytes encoded, limit N||0|2|151234|11-10T07:00|11-10T09:00",
			"sink||alert is missing [rule.id]||0|1|120|11-10T10:00|11-10T10:00",
		}},
		{"top-risky-accounts", window(nil, 7*24*time.Hour), []string{
			"P2|25|1|[auth.travel]|11-10T08:00",
			"P1|20|2|[auth.failures export.bulk]|11-10T11:00",
			"P3|2|1|[auth.failures]|11-10T06:00",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := f.run(t, tc.name, tc.params)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestBindChecksEveryValue(t *testing.T) {
	q, err := Get("exports-by-person")
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.Bind(map[string]string{"from": "yesterday", "min_records": "-1", "limit": "99999999999", "person": "x"}, now)
	for _, want := range []string{"tenant: required", `from: "yesterday" is not a time`, `min_records: "-1" is not a UInt64`, `limit: "99999999999" is not a UInt32`, "person: exports-by-person takes no such parameter"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	p, err := q.Bind(map[string]string{"tenant": "a'; DROP TABLE audit_events; --"}, now)
	if err != nil {
		t.Fatal(err)
	}
	// The value travels as a parameter, verbatim; the SQL never changes.
	if p["tenant"] != "a'; DROP TABLE audit_events; --" || p["from"] != "2026-11-09 12:00:00.000" || p["limit"] != "20" {
		t.Errorf("bound %v", p)
	}
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "user-timeline") {
		t.Errorf("an unknown name should list the known ones: %v", err)
	}
}

func TestParseRejectsMismatches(t *testing.T) {
	for name, text := range map[string]string{
		"undeclared":    "-- name: q\nSELECT {a:String}",
		"type mismatch": "-- name: q\n-- param: a UInt32: x\nSELECT {a:String}",
		"unused":        "-- name: q\n-- param: a String: x\nSELECT 1",
		"bad decl":      "-- name: q\n-- param: a Blob: x\nSELECT {a:Blob}",
		"bad default":   "-- name: q\n-- param: a UInt32 = x: y\nSELECT {a:UInt32}",
		"no name":       "SELECT 1",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	all, err := All()
	if err != nil || len(all) != 25 {
		t.Fatalf("library: %d queries, %v", len(all), err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"-- name: q\n-- param: a String: x\nSELECT {a:String}", "-- param: b DateTime64(3) = now-3d: t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err == nil && (q.Name == "" || q.SQL == "") {
			t.Fatal("accepted a query without a name or SQL")
		}
	})
}

// TestRunIsReadOnly: a statement that writes, run the way every named
// query runs (Query.Run), is refused by the server, and nothing is
// written; the same insert outside that path succeeds, so the refusal is
// the setting's doing and not a broken statement.
func TestRunIsReadOnly(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.st.Exec(ctx, "CREATE TABLE ro_probe (n UInt32) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	write, err := Parse("-- name: write-probe\n-- param: n UInt32: a value\nINSERT INTO ro_probe SELECT {n:UInt32}")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := write.Run(ctx, f.st, map[string]string{"n": "7"})
	if err == nil {
		rows.Close()
		t.Fatal("an INSERT through Query.Run was accepted")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "readonly") {
		t.Errorf("refused for another reason: %v", err)
	}
	set, err := Parse("-- name: setting-probe\nSELECT 1 SETTINGS max_threads = 1")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := set.Run(ctx, f.st, nil); err == nil {
		rows.Close()
		t.Error("a statement changing a setting through Query.Run was accepted (readonly = 1 forbids it)")
	}
	count := func() uint64 {
		var n uint64
		if err := f.st.Conn().QueryRow(ctx, "SELECT count() FROM ro_probe").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d rows written through the read-only path", n)
	}
	if err := f.st.Exec(ctx, "INSERT INTO ro_probe SELECT 7"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("control insert: %d rows", n)
	}
	read, err := Parse("-- name: read-probe\nSELECT count() FROM ro_probe")
	if err != nil {
		t.Fatal(err)
	}
	rows, err = read.Run(ctx, f.st, nil)
	if err != nil {
		t.Fatalf("a read through Query.Run: %v", err)
	}
	rows.Close()

	// A session that is read-only already (as for a read-only user; here
	// the request's own readonly = 2): the statement must not try to set
	// readonly again, which the server refuses, and writes stay refused.
	roCtx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 2}))
	rows, err = read.Run(roCtx, f.st, nil)
	if err != nil {
		t.Fatalf("a read through Query.Run in a read-only session: %v", err)
	}
	rows.Close()
	plain, err := Parse("-- name: write-probe-2\nINSERT INTO ro_probe SELECT 8")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := plain.Run(roCtx, f.st, nil); err == nil {
		rows.Close()
		t.Error("an INSERT through Query.Run in a read-only session was accepted")
	}
	if n := count(); n != 1 {
		t.Fatalf("%d rows after writes through the read-only path; want the control row only", n)
	}
}
