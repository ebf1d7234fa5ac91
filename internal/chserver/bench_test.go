package chserver

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

const benchRows = 1_000_000

// BenchmarkInsertAudit1M measures one batch of 1,000,000 audit-event rows
// three ways, one after another in every iteration so that all three meet
// the same machine (the engine's speed here varies with what else runs):
//
//   - engine: the engine's own INSERT … FROM INFILE of the batch's Native
//     bytes (the floor: no HTTP, no client);
//   - http-native: the same bytes POSTed to the server (server overhead);
//   - clickhouse-go: Batch.Send of the appended rows (client encoding +
//     HTTP + server + engine; appending the rows is not timed).
//
// It reports each path's rows/s and the HTTP paths' share of the engine's.
func BenchmarkInsertAudit1M(b *testing.B) {
	ctx := context.Background()
	conn := openCH(b, clickhouse.CompressionNone)
	table := uniqueTable(b, conn, auditColumns)
	if err := sendAudit(b, ctx, conn, table, 0, benchRows, nil); err != nil {
		b.Fatal(err)
	}
	native := admin(b, "SELECT * FROM "+table+" FORMAT Native")
	path := filepath.Join(b.TempDir(), "batch.native")
	if err := os.WriteFile(path, []byte(native), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("batch: %d rows, %d MB Native", benchRows, len(native)>>20)
	var engine, httpNative, chgo time.Duration
	timed := func(d *time.Duration, f func()) {
		admin(b, "TRUNCATE TABLE "+table)
		start := time.Now()
		f()
		*d += time.Since(start)
	}
	b.ReportAllocs()
	for b.Loop() {
		timed(&engine, func() {
			if _, _, err := testSrv.eng.Query(ctx, "INSERT INTO "+table+" FROM INFILE '"+path+"' FORMAT Native", ""); err != nil {
				b.Fatal(err)
			}
		})
		timed(&httpNative, func() {
			r := call(b, "POST", q("query", "INSERT INTO "+table+" FORMAT Native"), strings.NewReader(native), "")
			if r.status != 200 {
				b.Fatal(r.body)
			}
		})
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
		if err != nil {
			b.Fatal(err)
		}
		appendAudit(b, batch, 0, benchRows, nil)
		timed(&chgo, func() {
			if err := batch.Send(); err != nil {
				b.Fatal(err)
			}
		})
	}
	if got := admin(b, "SELECT count() FROM "+table+" FORMAT TSV"); got != "1000000\n" {
		b.Fatalf("table holds %s rows", got)
	}
	rate := func(d time.Duration) float64 { return float64(benchRows) * float64(b.N) / d.Seconds() }
	b.ReportMetric(rate(engine), "engine-rows/s")
	b.ReportMetric(rate(httpNative), "http-native-rows/s")
	b.ReportMetric(rate(chgo), "clickhouse-go-rows/s")
	b.ReportMetric(100*engine.Seconds()/httpNative.Seconds(), "http-native-%")
	b.ReportMetric(100*engine.Seconds()/chgo.Seconds(), "clickhouse-go-%")
}

// BenchmarkPointQuery measures a point query by key on a 1,000,000-row
// table: the engine called directly (one-piece and streaming calls), and
// clickhouse-go over HTTP. Each reports p50 and p99 latency.
func BenchmarkPointQuery(b *testing.B) {
	ctx := context.Background()
	admin(b, "DROP TABLE IF EXISTS bench_point")
	admin(b, "CREATE TABLE bench_point (seq UInt64, actor String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY seq")
	admin(b, "INSERT INTO bench_point SELECT number, concat('user', toString(number % 1000)), now64() FROM numbers(1000000)")
	b.Cleanup(func() { admin(b, "DROP TABLE IF EXISTS bench_point") })
	const sql = "SELECT actor, ts FROM bench_point WHERE seq = {s:UInt64}"
	latencies := func(b *testing.B, one func(i int)) {
		b.ReportAllocs()
		var d []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			one(i)
			d = append(d, time.Since(start))
			i++
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
	}
	b.Run("engine", func(b *testing.B) {
		latencies(b, func(i int) {
			out, _, err := testSrv.eng.Query(ctx, sql, "Native", chdb.Param{Name: "s", Value: strconv.Itoa(i * 7919 % benchRows)})
			if err != nil || len(out) == 0 {
				b.Fatal(err)
			}
		})
	})
	// The server streams every SELECT (results can be large); the engine's
	// streaming calls cost more than its one-piece call for a tiny result.
	b.Run("engine-stream", func(b *testing.B) {
		latencies(b, func(i int) {
			c, err := testSrv.eng.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Release()
			s, err := c.Stream(sql, "Native", chdb.Param{Name: "s", Value: strconv.Itoa(i * 7919 % benchRows)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for {
				if _, err := s.Next(); err == io.EOF {
					return
				} else if err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("http", func(b *testing.B) {
		conn := openCH(b, clickhouse.CompressionNone)
		latencies(b, func(i int) {
			var actor string
			var ts time.Time
			if err := conn.QueryRow(ctx, sql, clickhouse.Named("s", strconv.Itoa(i*7919%benchRows))).Scan(&actor, &ts); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkMixedClients is the 16 clients for 60 s (one run).
func BenchmarkMixedClients(b *testing.B) {
	for b.Loop() {
		mixedLoad(b, 16, 60*time.Second)
	}
}

// BenchmarkReaderGuard measures what the read guard adds to a statement:
// the same point query over HTTP as an admin (no guard), as a reader
// (formatQuery, EXPLAIN AST, the table-name check) and as a reader scoped
// to a tenant (and the catalogue read, the tenant filter). Reported as
// ms per query, one client, one query at a time.
func BenchmarkReaderGuard(b *testing.B) {
	for _, sql := range []string{
		"DROP DATABASE IF EXISTS guard_bench", "CREATE DATABASE guard_bench",
		"CREATE TABLE guard_bench.ev (tenant LowCardinality(String), id String, n UInt32) ENGINE = MergeTree ORDER BY (tenant, id)",
		"INSERT INTO guard_bench.ev SELECT ['acme', 'globex'][number % 2 + 1], toString(number), number FROM numbers(100000)",
	} {
		admin(b, sql)
	}
	b.Cleanup(func() { admin(b, "DROP DATABASE IF EXISTS guard_bench") })
	const sql = "SELECT id, n FROM ev WHERE tenant = 'acme' AND id = '4242' FORMAT TSV"
	for _, tc := range []struct{ name, user string }{
		{"admin", "admin:" + adminPassword},
		{"reader", "reader:" + readerPassword},
		{"tenant-reader", "acme:" + readerPassword},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if r := call(b, "POST", q("database", "guard_bench"), strings.NewReader(sql), tc.user); r.status != 200 || r.body != "4242\t4242\n" {
					b.Fatalf("%d %q", r.status, r.body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
}
