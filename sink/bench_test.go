package sink

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// benchEvent is a realistic event (about 600 bytes as JSON): tenants,
// people, records, addresses and actions vary as in a CRM's trail.
func benchEvent(i int, base time.Time) event.Event {
	tenant := [...]string{"acme", "globex", "initech", "umbrella", "hooli"}[i%5]
	person := "005P" + strconv.Itoa((i*7919)%20000)
	cats := [...]struct{ cat, act string }{
		{"data_access", "view"}, {"data_access", "view"}, {"data_access", "search"}, {"data_change", "update"},
		{"authentication", "login"}, {"export", "export"}, {"data_access", "report_run"}, {"data_change", "create"},
	}
	c := cats[i%len(cats)]
	e := event.Event{
		ID: "sf-0AT" + strconv.Itoa(1_000_000_000+i), Timestamp: base.Add(time.Duration(i) * time.Millisecond), Tenant: tenant,
		Source: event.Source{System: "salesforce", ID: "0AT" + strconv.Itoa(i), Collector: "rtem-1"},
		Event:  event.Activity{Category: c.cat, Action: c.act, Outcome: "success"},
		User: event.User{ID: person, Name: person + "@" + tenant + ".example", Role: "sales_rep", Department: "sales",
			Type: "human", Timezone: "America/New_York"},
		Client: event.Client{IP: "198.51." + strconv.Itoa(i%200) + "." + strconv.Itoa(i%250), UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15",
			SessionID: "s-" + strconv.Itoa(i/50), AccessMethod: "web", Geo: event.Geo{Country: "US", City: "Boston", Lat: 42.36, Lon: -71.06, HasCoords: true}},
		Object: event.Object{Type: "contact", ID: "003" + strconv.Itoa(i%100000), Name: "Contact " + strconv.Itoa(i%100000), OwnerID: "005P" + strconv.Itoa(i%300)},
		Labels: map[string]string{"org": "00D" + tenant},
	}
	switch c.act {
	case "update":
		e.Changes = []event.Change{{Field: "Email", Old: "a" + strconv.Itoa(i) + "@x.example", New: "b" + strconv.Itoa(i) + "@x.example"}}
	case "export", "report_run":
		e.Records, e.HasRecords = int64(i%5000), true
	}
	return e
}

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
	base := time.Now().UTC().Add(-24 * time.Hour)
	topic := kcfg.Topics.Activity.Name
	var msgs []kafka.Message
	bytes := 0
	for i := range n {
		e := benchEvent(i, base)
		v := event.AppendJSON(nil, &e)
		bytes += len(v)
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(e.Tenant + "/" + e.User.ID), Value: v})
		if len(msgs) == 5000 || i == n-1 {
			if err := p.Produce(b.Context(), msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	key, _, err := integrity.LoadSigner(b.TempDir()+"/k.pem", true)
	if err != nil {
		b.Fatal(err)
	}
	dlq, err := deadletter.NewWriter(p, kcfg.Topics.DeadLetter.Name, "sink", nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	if v, err := strconv.Atoi(os.Getenv("TW_BENCH_BATCH")); err == nil && v > 0 {
		cfg.BatchMessages = v
	}
	iter := 0
	b.ReportAllocs()
	b.SetBytes(int64(bytes))
	var total, cpu time.Duration
	var phases [nPhases]time.Duration
	for b.Loop() {
		b.StopTimer()
		ch := testenv.ClickHouse(b)
		st := openStore(b, ch)
		if _, err := Migrate(b.Context(), st, DefaultStorageConfig(), zerolog.Nop()); err != nil {
			b.Fatal(err)
		}
		dropViews(b, st)
		iter++
		cfg.Group = fmt.Sprintf("bench-%d", iter)
		s, err := New(st, cfg, Topics{Activity: topic}, Deps{DeadLetter: dlq, Signer: key}, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		stored := make(chan struct{})
		handled := 0
		h := func(ctx context.Context, ms []kafka.Message) error {
			if err := s.Handle(ctx, ms); err != nil {
				return err
			}
			if handled += len(ms); handled == n {
				close(stored)
			}
			return nil
		}
		opts := s.Options()
		c, err := kafka.NewBatchConsumer(kcfg, opts, h, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan error, 1)
		start, startCPU := time.Now(), processCPU()
		b.StartTimer()
		go func() { done <- c.Run(ctx) }()
		<-stored
		b.StopTimer()
		total += time.Since(start)
		cpu += processCPU() - startCPU
		s.mu.Lock()
		for i, d := range s.clock.total {
			phases[i] += d
		}
		s.mu.Unlock()
		cancel()
		<-done
		var rows uint64
		if err := st.Conn().QueryRow(b.Context(), "SELECT count() FROM audit_events").Scan(&rows); err != nil || rows != uint64(n) {
			b.Fatalf("stored %d rows (%v), want %d", rows, err, n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*iter)/total.Seconds(), "rows/s")
	// The engine runs in this process, so this is the whole pipeline's
	// CPU: Kafka client and broker, decoding, chaining, clickhouse-go,
	// the HTTP server and the engine's threads. On a shared machine it is
	// steadier than wall time.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*iter), "cpu-ns/row")
	busy := time.Duration(0)
	for i, d := range phases {
		busy += d
		b.ReportMetric(float64(d.Nanoseconds())/float64(n*iter), phaseNames[i]+"-ns/row")
	}
	b.ReportMetric(float64((total-busy).Nanoseconds())/float64(n*iter), "wait-ns/row")
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

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
