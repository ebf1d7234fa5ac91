package sink

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// BenchmarkAuditColumns measures handing one 20,000-row batch of columns
// to clickhouse-go (its column encoding, before anything is sent): with
// the types the table declares (wire=table: clickhouse-go asks the server
// with DESCRIBE and builds LowCardinality dictionaries) and with the
// plain types auditrow.InsertContext gives (wire=plain). cpu-ns/row is
// the whole process's CPU per row.
func BenchmarkAuditColumns(b *testing.B) {
	const n = 20_000
	st := benchStore(b)
	cols := benchColumns(n)
	for _, tc := range []struct {
		name string
		ctx  func(context.Context) context.Context
	}{
		{"wire=table", func(ctx context.Context) context.Context { return ctx }},
		{"wire=plain", auditrow.InsertContext},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				bt, err := st.PrepareBatch(tc.ctx(insertSettings(b.Context(), "t")), auditrow.Insert)
				if err != nil {
					b.Fatal(err)
				}
				if err := cols.Send(bt); err != nil {
					b.Fatal(err)
				}
				_ = bt.Abort()
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(n*b.N), "cpu-ns/row")
		})
	}
}

// BenchmarkAuditInsert measures inserting one batch into audit_events
// through clickhouse-go and the embedded server: 20,000 rows with the
// roll-up views the migrations create, with all and with each of them
// dropped, and with the client's compression off; 5,000 and 100,000
// rows. cpu-ns/row is the whole process's CPU (the engine runs in it,
// background merges included) per row inserted.
func BenchmarkAuditInsert(b *testing.B) {
	all := []string{"rollup_activity_minute_mv", "rollup_exports_daily_mv", "rollup_failed_logins_hourly_mv"}
	for _, tc := range []struct {
		name     string
		n        int
		drop     []string
		compress string
	}{
		{"rows=20000/views=all", 20_000, nil, "lz4"},
		{"rows=20000/views=all/compression=none", 20_000, nil, "none"},
		{"rows=20000/views=none", 20_000, all, "lz4"},
		{"rows=20000/views=-activity_minute", 20_000, all[:1], "lz4"},
		{"rows=20000/views=-exports_daily", 20_000, all[1:2], "lz4"},
		{"rows=20000/views=-failed_logins", 20_000, all[2:], "lz4"},
		{"rows=5000/views=all", 5_000, nil, "lz4"},
		{"rows=100000/views=all", 100_000, nil, "lz4"},
		{"rows=100000/views=none", 100_000, all, "lz4"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := tc.n
			cols := benchColumns(n)
			st := benchStoreCompressed(b, tc.compress)
			for _, v := range tc.drop {
				if err := st.Exec(b.Context(), "DROP VIEW "+v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			cpu := processCPU()
			for b.Loop() {
				i++
				bt, err := st.PrepareBatch(auditrow.InsertContext(insertSettings(b.Context(), fmt.Sprint("t", i))), auditrow.Insert)
				if err != nil {
					b.Fatal(err)
				}
				if err := cols.Send(bt); err != nil {
					b.Fatal(err)
				}
				if err := bt.Send(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(n*b.N), "cpu-ns/row")
		})
	}
}

func benchStore(b *testing.B) *chstore.Store { return benchStoreCompressed(b, "lz4") }

// benchStoreCompressed is a migrated store whose client compresses the
// data it sends with method.
func benchStoreCompressed(b *testing.B, method string) *chstore.Store {
	b.Helper()
	ch := testenv.ClickHouse(b)
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User, cfg.Compression = ch.URL, ch.Database, ch.User, method
	st, err := chstore.Open(b.Context(), cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := Migrate(b.Context(), st, DefaultStorageConfig(), zerolog.Nop()); err != nil {
		b.Fatal(err)
	}
	return st
}
