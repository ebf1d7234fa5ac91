package compliance

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/compliance/report"
	"github.com/trailwatch/trailwatch/internal/chstore"
)

// generate fills audit_events with n events of tenant acme spread evenly
// over span from start, generated inside ClickHouse (INSERT … SELECT FROM
// numbers): 20,000 accounts on two sources; every eighth event is a login
// (1 in 50 failing), then views, updates of one Phone field, exports,
// grants and configuration changes; record 003<k> is touched by events
// k, k+1,000,000, … (ten events per record at 10,000,000), of category
// k mod 8.
func generate(tb testing.TB, st *chstore.Store, n int, start time.Time, span time.Duration) {
	tb.Helper()
	q := fmt.Sprintf(`INSERT INTO audit_events (id, timestamp, tenant, source_system, category, action, outcome, user_id, user_name,
	    person_key, object_type, object_id, change_field, change_old, change_new, records, geo_country, target_user_id, permission_name,
	    ingested_at, kafka_partition, kafka_offset)
	SELECT concat('e', toString(number)), ts, 'acme', ['salesforce', 'hubspot'][number %% 2 + 1], cat,
	       ['login', 'view', 'view', 'update', 'export', 'grant', 'config_change', 'search'][number %% 8 + 1],
	       if(cat = 'authentication' AND number %% 50 = 0, 'failure', 'success'),
	       concat('005U', toString(number %% 20000)), concat('u', toString(number %% 20000), '@acme.example'),
	       concat('005U', toString(number %% 20000)), 'contact', concat('003', toString(number %% 1000000)),
	       if(cat = 'data_change', ['Phone'], []), if(cat = 'data_change', [toString(number)], []), if(cat = 'data_change', [toString(number + 1)], []),
	       if(cat = 'export', number %% 5000, NULL), ['US', 'DE', 'BR', 'RU'][number %% 4 + 1],
	       if(cat = 'permission', concat('005U', toString((number + 1) %% 20000)), ''), if(cat = 'permission', 'Export Reports', ''),
	       ts + toIntervalSecond(1), toInt32(number %% 12), toInt64(intDiv(number, 12))
	FROM (SELECT number,
	             toDateTime64('%s', 3, 'UTC') + toIntervalMillisecond(intDiv(number * %d, %d)) AS ts,
	             ['authentication', 'data_access', 'data_access', 'data_change', 'export', 'permission', 'configuration', 'data_access'][number %% 8 + 1] AS cat
	      FROM numbers(OFFSET, COUNT))`,
		start.UTC().Format("2006-01-02 15:04:05"), span.Milliseconds(), n)
	began := time.Now()
	// In chunks: one statement stays well inside the store's query timeout.
	const chunk = 500_000
	for off := 0; off < n; off += chunk {
		stmt := strings.NewReplacer("OFFSET", strconv.Itoa(off), "COUNT", strconv.Itoa(min(chunk, n-off))).Replace(q)
		if err := st.Exec(tb.Context(), stmt); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("generated %d events in %s", n, time.Since(began).Round(time.Millisecond))
}

func benchEvents(def int) int {
	if v, err := strconv.Atoi(os.Getenv("TW_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkHistoryAmong10M reads one record's versions and its as-of
// state out of 10,000,000 stored events over 30 days (TW_BENCH_EVENTS
// overrides the count).
func BenchmarkHistoryAmong10M(b *testing.B) {
	st := openStore(b)
	n := benchEvents(10_000_000)
	start := time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC)
	generate(b, st, n, start, 30*24*time.Hour)
	rec := RecordRef{Tenant: "acme", ObjectType: "contact", ObjectID: "003379"} // events 379, 1,000,379, …: updates (379 % 8 = 3)
	asOf := start.Add(31 * 24 * time.Hour)
	versions := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vs, err := Versions(b.Context(), st, rec, asOf)
			if err != nil {
				b.Fatal(err)
			}
			if want := (n-380)/1_000_000 + 1; len(vs) != want {
				b.Fatalf("%d versions, want %d", len(vs), want)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/history")
	}
	asof := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if fv, err := AsOf(b.Context(), st, rec, asOf); err != nil || len(fv) != 1 {
				b.Fatal(fv, err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/as-of")
	}
	// Fresh: the twenty inserts' parts, with the engine's background merges
	// of them competing for the same two cores. Then merged, as the parts
	// of a store that has been running for a while are: one per month.
	b.Run("fresh/versions", versions)
	b.Run("fresh/as-of", asof)
	if err := st.Exec(b.Context(), "OPTIMIZE TABLE audit_events FINAL"); err != nil {
		b.Fatal(err)
	}
	b.Run("merged/versions", versions)
	b.Run("merged/as-of", asof)
}

// BenchmarkDailyReports5M runs every built-in report over a day of
// 5,000,000 stored events (TW_BENCH_EVENTS overrides the count).
func BenchmarkDailyReports5M(b *testing.B) {
	st := openStore(b)
	n := benchEvents(5_000_000)
	start := time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC)
	generate(b, st, n, start, 24*time.Hour)
	defs, err := report.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	now := start.Add(24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range defs {
			if _, err := report.Run(b.Context(), st, d, "acme", map[string]string{"object_id": "003379"}, now); err != nil {
				b.Fatalf("%s: %v", d.Name, err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/report-set")
}
