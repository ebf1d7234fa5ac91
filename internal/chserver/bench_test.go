package chserver

import (
	"context"
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
// three ways in the same run:
//
//   - engine-infile: the engine's own INSERT … FROM INFILE of the batch's
//     Native bytes (the floor: no HTTP, no client);
//   - http-native: the same bytes POSTed to the server (server overhead);
//   - clickhouse-go: Batch.Send of the appended rows (client encoding +
//     HTTP + server + engine; appending is not timed).
//
// Each reports rows/s.
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
	truncate := func() {
		b.StopTimer()
		admin(b, "TRUNCATE TABLE "+table)
		b.StartTimer()
	}
	rowsPerSec := func(b *testing.B) {
		b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}

	b.Run("engine-infile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			truncate()
			if _, _, err := testSrv.eng.Query(ctx, "INSERT INTO "+table+" FROM INFILE '"+path+"' FORMAT Native", ""); err != nil {
				b.Fatal(err)
			}
		}
		rowsPerSec(b)
	})
	b.Run("http-native", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			truncate()
			r := call(b, "POST", q("query", "INSERT INTO "+table+" FORMAT Native"), strings.NewReader(native), "")
			if r.status != 200 {
				b.Fatal(r.body)
			}
		}
		rowsPerSec(b)
	})
	b.Run("clickhouse-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			truncate()
			b.StopTimer()
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
			if err != nil {
				b.Fatal(err)
			}
			appendAudit(b, batch, 0, benchRows, nil)
			b.StartTimer()
			if err := batch.Send(); err != nil {
				b.Fatal(err)
			}
		}
		rowsPerSec(b)
	})
	if got := admin(b, "SELECT count() FROM "+table+" FORMAT TSV"); got != "1000000\n" {
		b.Fatalf("table holds %s rows", got)
	}
}

// BenchmarkPointQuery measures a point query by key on a 1,000,000-row
// table: the engine called directly, and clickhouse-go over HTTP. Each
// reports p50 and p99 latency.
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
