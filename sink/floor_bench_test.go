package sink

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkEngineFloor runs MeasureEngineFloor once per iteration on a
// fresh migrated database: 2,000,000 rows as 100 INSERT … SELECT
// statements of 20,000 (the sink's default batch), with the roll-up views
// the migrations create (views=all) and with them dropped. cpu-ns/row is
// the process's CPU per row for the inserts and the merges that follow
// (until-inserted-cpu-ns/row: up to the last insert's return, merges
// running meanwhile included); rows/s is wall time. TW_FLOOR_ALTER,
// statements separated by ";", is run on the migrated database first (to
// measure a table setting or a dropped index).
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
			var total Measurement
			var inserted int64
			for b.Loop() {
				m, err := MeasureEngineFloor(ctx, st, batch, batches)
				if err != nil {
					b.Fatal(err)
				}
				total.Rows += m.Rows
				total.Wall += m.Wall
				total.CPU += m.CPU
				inserted += m.Phases[0].Time.Nanoseconds()
			}
			b.ReportMetric(float64(total.CPU.Nanoseconds())/float64(total.Rows), "cpu-ns/row")
			b.ReportMetric(float64(inserted)/float64(total.Rows), "until-inserted-cpu-ns/row")
			b.ReportMetric(total.RowsPerSecond(), "rows/s")
		})
	}
}
