package sink

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// BenchmarkEngineFloor measures what the embedded engine alone needs to
// store audit events: no Kafka, no decoding, no clickhouse-go, no HTTP.
// 20,000 benchmark rows are put once in a Memory table; each iteration
// then inserts 2,000,000 rows into audit_events from it, as 100 INSERT …
// SELECT statements of 20,000 rows (the sink's default batch) with the
// sink's insert settings and a fresh deduplication token each, every
// statement shifting kafka_offset so that no row repeats another (nothing
// is deduplicated or folded), and waits until the engine's background
// merges are done. cpu-ns/row is the process's CPU per row for the
// inserts and the merges that follow (until-inserted-cpu-ns/row: up to
// the last insert's return, merges running meanwhile included); rows/s
// is wall time. Run with the
// roll-up views the migrations create (views=all) and with them dropped.
// TW_FLOOR_ALTER, statements separated by ";", is run on the migrated
// database first (to measure a table setting or a dropped index).
//
// Whatever a sink does besides, its CPU per row cannot be lower than this.
func BenchmarkEngineFloor(b *testing.B) {
	const batch, batches = 20_000, 100
	for _, tc := range []struct {
		name  string
		views bool
	}{{"views=all", true}, {"views=none", false}} {
		b.Run(tc.name, func(b *testing.B) {
			st := benchStore(b)
			ctx := b.Context()
			exec := func(q string) {
				b.Helper()
				if err := st.Exec(ctx, q); err != nil {
					b.Fatalf("%s: %v", q, err)
				}
			}
			if !tc.views {
				for _, v := range []string{"rollup_activity_minute_mv", "rollup_exports_daily_mv", "rollup_failed_logins_hourly_mv"} {
					exec("DROP VIEW " + v)
				}
			}
			for _, q := range strings.Split(os.Getenv("TW_FLOOR_ALTER"), ";") {
				if q != "" {
					exec(q)
				}
			}
			exec("CREATE TABLE floor_src AS audit_events ENGINE = Memory")
			seed, err := st.PrepareBatch(auditrow.InsertContext(ctx), "INSERT INTO floor_src")
			if err != nil {
				b.Fatal(err)
			}
			if err := benchColumns(batch).Send(seed); err != nil {
				b.Fatal(err)
			}
			if err := seed.Send(); err != nil {
				b.Fatal(err)
			}
			waitMerges := func() {
				for quiet := 0; quiet < 3; {
					var n uint64
					if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&n); err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						quiet++
					} else {
						quiet = 0
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			i := 0
			var cpu, insertCPU, wall time.Duration
			for b.Loop() {
				start, startCPU := time.Now(), processCPU()
				for range batches {
					i++
					// The settings the sink inserts with (insertSettings).
					exec(fmt.Sprintf("INSERT INTO audit_events SELECT * REPLACE (kafka_offset + %d AS kafka_offset) FROM floor_src "+
						"SETTINGS insert_deduplication_token = 'floor-%d', deduplicate_blocks_in_dependent_materialized_views = 1, "+
						"optimize_on_insert = 0, parallel_view_processing = 1", i*batch, i))
				}
				insertCPU += processCPU() - startCPU
				waitMerges()
				// The last 600 ms were spent making sure the merges had
				// ended: not the engine's time.
				wall += time.Since(start) - 600*time.Millisecond
				cpu += processCPU() - startCPU
			}
			var stored uint64
			if err := st.Conn().QueryRow(ctx, "SELECT count() FROM audit_events").Scan(&stored); err != nil || stored != uint64(i*batch) {
				b.Fatalf("audit_events holds %d rows (%v), want %d: rows were deduplicated or lost", stored, err, i*batch)
			}
			rows := float64(i * batch)
			b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
			b.ReportMetric(float64(insertCPU.Nanoseconds())/rows, "until-inserted-cpu-ns/row")
			b.ReportMetric(rows/wall.Seconds(), "rows/s")
		})
	}
}
