package sink

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// BenchmarkSinkFromKafka measures the sink end to end: N events already
// on crm.activity (embedded broker), consumed by a new consumer group,
// decoded, chained and inserted into a fresh database of the embedded
// ClickHouse, until every offset is committed. One iteration is one pass
// over the N events; rows/s is the figure the issue sets a target for.
// TW_BENCH_EVENTS sets N (default 200,000); TW_BENCH_BATCH the batch size;
// TW_BENCH_DROP_VIEWS a comma-separated list of materialized views to drop
// before the run ("all": every view on audit_events), to measure what each
// costs the insert. Besides rows/s it reports, per row, the time Handle
// spent in each phase (decode, build, columns, insert, other) and the
// time it was not running (wait: fetching, batching, committing).
func BenchmarkSinkFromKafka(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("TW_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	kenv := testenv.Kafka(b)
	kcfg := kenv.Config
	kcfg.Consumer.MaxBytes = 8 << 20
	kcfg.Consumer.QueueCapacity = 10000
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	size, err := ProduceBenchEvents(b.Context(), p, kcfg.Topics.Activity.Name, n)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	if v, err := strconv.Atoi(os.Getenv("TW_BENCH_BATCH")); err == nil && v > 0 {
		cfg.BatchMessages = v
	}
	iter := 0
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var total Measurement
	phases := map[string]time.Duration{}
	var order []string
	for b.Loop() {
		b.StopTimer()
		ch := testenv.ClickHouse(b)
		st := openStore(b, ch)
		if _, err := Migrate(b.Context(), st, DefaultStorageConfig(), zerolog.Nop()); err != nil {
			b.Fatal(err)
		}
		dropViews(b, st)
		iter++
		b.StartTimer()
		m, err := MeasureFromKafka(b.Context(), kcfg, st, cfg, fmt.Sprintf("bench-%d", iter), b.TempDir(), n)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		total.Rows += m.Rows
		total.Wall += m.Wall
		total.CPU += m.CPU
		for _, ph := range m.Phases {
			if _, ok := phases[ph.Name]; !ok {
				order = append(order, ph.Name)
			}
			phases[ph.Name] += ph.Time
		}
		b.StartTimer()
	}
	b.ReportMetric(total.RowsPerSecond(), "rows/s")
	// The engine runs in this process, so this is the whole pipeline's
	// CPU: Kafka client and broker, decoding, chaining, clickhouse-go,
	// the HTTP server and the engine's threads. On a shared machine it is
	// steadier than wall time.
	b.ReportMetric(float64(total.CPU.Nanoseconds())/float64(total.Rows), "cpu-ns/row")
	for _, name := range order {
		b.ReportMetric(float64(phases[name].Nanoseconds())/float64(total.Rows), name+"-ns/row")
	}
}

// dropViews drops the materialized views TW_BENCH_DROP_VIEWS names.
func dropViews(b *testing.B, st *chstore.Store) {
	v := os.Getenv("TW_BENCH_DROP_VIEWS")
	if v == "" {
		return
	}
	views := strings.Split(v, ",")
	if v == "all" {
		views = []string{"rollup_activity_minute_mv", "rollup_exports_daily_mv", "rollup_failed_logins_hourly_mv"}
	}
	for _, name := range views {
		if err := st.Exec(b.Context(), "DROP VIEW "+name); err != nil {
			b.Fatal(err)
		}
	}
}
