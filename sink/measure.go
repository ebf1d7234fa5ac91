package sink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// The sink's measurements (issue 6: rows per second end to end from Kafka
// into ClickHouse), shared by the Go benchmarks of this package and
// `trailwatch bench sink`, so a figure in docs/PERFORMANCE.md can be
// checked with the binary alone.

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

// benchColumns is n benchmark events as one batch of audit_events
// columns, as buildEvents leaves them.
func benchColumns(n int) *auditrow.Columns {
	base := time.Now().UTC().Add(-24 * time.Hour)
	var c auditrow.Columns
	var r auditrow.Row
	var h auditrow.Hasher
	for i := range n {
		e := benchEvent(i, base)
		auditrow.FromEvent(&r, &e, 0, int64(i), base)
		r.RowFP = auditrow.Fingerprint(h.Hash(&r))
		r.ChainGap = 1
		c.Append(&r)
		// FromEvent reuses r's slices; the columns keep copies in their
		// arena, so the next event may overwrite them.
	}
	return &c
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Measurement is one measured stretch of storing rows.
type Measurement struct {
	Rows      int
	Bytes     int           // the events' size as JSON (end to end only)
	Wall, CPU time.Duration // CPU: the whole process, engine and broker included when they run in it
	// Phases is the time Handle spent in each phase (decode, build,
	// columns, insert, other) and, as "wait", the rest of the wall time:
	// fetching, batching, committing. End to end only.
	Phases []Phase
}

// Phase is a named stretch of time.
type Phase struct {
	Name string
	Time time.Duration
}

// RowsPerSecond is rows over wall time.
func (m Measurement) RowsPerSecond() float64 { return float64(m.Rows) / m.Wall.Seconds() }

// CPUPerRow is the process's CPU per row.
func (m Measurement) CPUPerRow() time.Duration { return m.CPU / time.Duration(max(m.Rows, 1)) }

// ProduceBenchEvents puts n benchmark events on topic, in calls of 5,000,
// and returns their size as JSON.
func ProduceBenchEvents(ctx context.Context, p *kafka.Producer, topic string, n int) (int, error) {
	base := time.Now().UTC().Add(-24 * time.Hour)
	var msgs []kafka.Message
	size := 0
	for i := range n {
		e := benchEvent(i, base)
		v := event.AppendJSON(nil, &e)
		size += len(v)
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(e.Tenant + "/" + e.User.ID), Value: v})
		if len(msgs) == 5000 || i == n-1 {
			if err := p.Produce(ctx, msgs...); err != nil {
				return 0, fmt.Errorf("producing the benchmark's events: %w", err)
			}
			msgs = msgs[:0]
		}
	}
	return size, nil
}

// MeasureFromKafka runs a sink (cfg, with a new consumer group of the
// given name) over the n events on kcfg's activity topic until all of them
// are stored in st's audit_events, which must be migrated and empty, and
// their offsets committed, and reports the run. The signing key of its
// checkpoints is created in keyDir. The events are on the topic already
// (ProduceBenchEvents): what is measured starts at the first fetch.
func MeasureFromKafka(ctx context.Context, kcfg kafka.Config, st *chstore.Store, cfg Config, group, keyDir string, n int) (Measurement, error) {
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		return Measurement{}, err
	}
	defer p.Close()
	key, _, err := integrity.LoadSigner(filepath.Join(keyDir, "checkpoint.pem"), true)
	if err != nil {
		return Measurement{}, err
	}
	dlq, err := deadletter.NewWriter(p, kcfg.Topics.DeadLetter.Name, "sink", nil)
	if err != nil {
		return Measurement{}, err
	}
	cfg.Group = group
	s, err := New(st, cfg, Topics{Activity: kcfg.Topics.Activity.Name}, Deps{DeadLetter: dlq, Signer: key}, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		return Measurement{}, err
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
	c, err := kafka.NewBatchConsumer(kcfg, s.Options(), h, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		return Measurement{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start, startCPU := time.Now(), processCPU()
	go func() { done <- c.Run(runCtx) }()
	select {
	case <-stored:
	case err := <-done:
		cancel()
		return Measurement{}, fmt.Errorf("the sink's consumer stopped before storing %d events: %w", n, err)
	case <-ctx.Done():
		cancel()
		<-done
		return Measurement{}, ctx.Err()
	}
	m := Measurement{Rows: n, Wall: time.Since(start), CPU: processCPU() - startCPU}
	s.mu.Lock()
	busy := time.Duration(0)
	for i, d := range s.clock.total {
		busy += d
		m.Phases = append(m.Phases, Phase{phaseNames[i], d})
	}
	s.mu.Unlock()
	m.Phases = append(m.Phases, Phase{"wait", m.Wall - busy})
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return m, fmt.Errorf("stopping the sink's consumer: %w", err)
	}
	var rows uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM audit_events").Scan(&rows); err != nil {
		return m, err
	}
	if rows != uint64(n) {
		return m, fmt.Errorf("audit_events holds %d rows after the run, want %d", rows, n)
	}
	return m, nil
}

// MeasureEngineFloor measures what the engine alone needs to store audit
// events: no Kafka, no decoding, no clickhouse-go, no HTTP. It puts batch
// benchmark rows in a Memory table of st's database once, then inserts
// batches*batch rows into its audit_events (migrated, with whatever views
// it has) with INSERT … SELECT statements of batch rows, with the sink's
// insert settings and a fresh deduplication token each, every statement
// shifting kafka_offset so no row repeats another (nothing is deduplicated
// or folded), and waits for the engine's merges to end. Whatever a sink
// does besides, its CPU per row cannot be lower than this.
//
// The result's Phases hold "until-inserted", the CPU up to the last
// insert's return (the merges of earlier parts run meanwhile).
func MeasureEngineFloor(ctx context.Context, st *chstore.Store, batch, batches int) (Measurement, error) {
	if err := st.Exec(ctx, "CREATE TABLE IF NOT EXISTS floor_src AS audit_events ENGINE = Memory"); err != nil {
		return Measurement{}, err
	}
	defer func() { _ = st.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS floor_src") }()
	seed, err := st.PrepareBatch(auditrow.InsertContext(ctx), "INSERT INTO floor_src")
	if err != nil {
		return Measurement{}, err
	}
	if err := benchColumns(batch).Send(seed); err != nil {
		return Measurement{}, err
	}
	if err := seed.Send(); err != nil {
		return Measurement{}, err
	}
	// Offsets continue after the table's highest, so that a second
	// measurement on the same table repeats no row of the first.
	var before uint64
	var base int64
	if err := st.Conn().QueryRow(ctx, "SELECT count(), if(count() = 0, 0, max(kafka_offset) + 1) FROM audit_events").Scan(&before, &base); err != nil {
		return Measurement{}, err
	}
	start, startCPU := time.Now(), processCPU()
	for i := range batches {
		q := fmt.Sprintf("INSERT INTO audit_events SELECT * REPLACE (kafka_offset + %d AS kafka_offset) FROM floor_src "+
			"SETTINGS insert_deduplication_token = 'floor-%d-%d', deduplicate_blocks_in_dependent_materialized_views = 1, "+
			"optimize_on_insert = 0, parallel_view_processing = 1", base+int64(i+1)*int64(batch), start.UnixNano(), i)
		if err := st.Exec(ctx, q); err != nil {
			return Measurement{}, err
		}
	}
	inserted := processCPU() - startCPU
	const poll, quietPolls = 200 * time.Millisecond, 3
	for quiet := 0; quiet < quietPolls; {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&n); err != nil {
			return Measurement{}, err
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			return Measurement{}, ctx.Err()
		case <-time.After(poll):
		}
	}
	// The last polls only made sure the merges had ended: not the
	// engine's time.
	m := Measurement{Rows: batch * batches, Wall: time.Since(start) - quietPolls*poll, CPU: processCPU() - startCPU,
		Phases: []Phase{{"until-inserted", inserted}}}
	var after uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM audit_events").Scan(&after); err != nil {
		return m, err
	}
	if after-before != uint64(m.Rows) {
		return m, fmt.Errorf("audit_events gained %d rows, want %d: rows were deduplicated or lost", after-before, m.Rows)
	}
	return m, nil
}
