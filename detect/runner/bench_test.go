package runner

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// envKnob reads a positive benchmark setting from the environment: def
// when unset; a malformed or non-positive value fails the benchmark,
// naming it.
func envKnob[T int | time.Duration](b *testing.B, name string, def T, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil || x <= 0 {
		b.Fatalf("%s=%q: want a positive value", name, v)
	}
	return x
}

// BenchmarkAlertLatency measures alert latency in a running pipeline on
// the embedded broker: events are produced to crm.activity at a fixed
// rate (TW_BENCH_RATE, default 20,000 a second; one iteration is one
// event) by several producers, as ingest would; the detector runs the
// shipped rules; a reader takes alerts off crm.alerts as they appear. Each
// alert's latency is the time from the acknowledgement of the event that
// triggered it (its producer's Produce call returned) to the alert being
// read. Reported: p50, p99 and max in ms over every alert, the alerts
// measured, and the rate achieved. TW_BENCH_PARTITIONS, TW_BENCH_BATCH_SIZE and
// TW_BENCH_STATS_INTERVAL set the topics' partitions (12), the producers'
// batch size and the detector's stats interval (their defaults otherwise).
//
//	go test ./detect/runner -run '^$' -bench AlertLatency -benchtime 200000x
func BenchmarkAlertLatency(b *testing.B) {
	// Knobs for experiments (docs/PERFORMANCE.md); unset, the defaults.
	rate := float64(envKnob(b, "TW_BENCH_RATE", 20_000, strconv.Atoi))
	parts := envKnob(b, "TW_BENCH_PARTITIONS", 12, strconv.Atoi)
	// The broker keeps its log in files, as trailwatch run's does.
	env := testenv.Kafka(b, testenv.KafkaPartitions(parts), testenv.KafkaDataDir(b.TempDir()))
	kcfg := env.Config // the producers' defaults, as trailwatch run has them
	kcfg.Producer.BatchSize = envKnob(b, "TW_BENCH_BATCH_SIZE", kcfg.Producer.BatchSize, strconv.Atoi)
	cfg := DefaultConfig()
	cfg.Rules = "../../rules"
	cfg.ReloadInterval = 0
	cfg.StatsInterval = envKnob(b, "TW_BENCH_STATS_INTERVAL", cfg.StatsInterval, time.ParseDuration)
	run := start(b, cfg, kcfg)
	eventually(b, "the detector to own every partition", func() bool {
		return metricValue(b, run.reg, "trailwatch_detect_recoveries_total", nil) >= float64(2*parts)
	})

	// The alerts reader: one partition reader per partition of crm.alerts.
	// Each alert is measured once, when first read.
	type readAlert struct {
		read, detected, handed time.Time
		triggered              time.Time // the trigger's event time (ms)
		ids                    []string  // evidence, in event-time order
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	alerts := map[string]*readAlert{}
	var wg sync.WaitGroup
	dialer, err := kcfg.Dialer()
	if err != nil {
		b.Fatal(err)
	}
	for p := range kcfg.Topics.Alerts.Partitions {
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: kcfg.Brokers, Topic: kcfg.Topics.Alerts.Name, Partition: p,
			Dialer: dialer, MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 500 * time.Millisecond, ReadLagInterval: -1})
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					return
				}
				now := time.Now()
				var a struct {
					ID          string    `json:"id"`
					EventIDs    []string  `json:"event_ids"`
					TriggeredAt time.Time `json:"triggered_at"`
					DetectedAt  time.Time `json:"detected_at"`
				}
				if json.Unmarshal(m.Value, &a) != nil || len(a.EventIDs) == 0 {
					continue
				}
				mu.Lock()
				if alerts[a.ID] == nil {
					// m.Time: when the detector handed the alert to its producer.
					alerts[a.ID] = &readAlert{read: now, detected: a.DetectedAt, handed: m.Time, triggered: a.TriggeredAt, ids: a.EventIDs}
				}
				mu.Unlock()
			}
		})
	}

	// Producers: batches of what is due every millisecond, on 8
	// goroutines, each batch acknowledged as a whole.
	type batch struct {
		msgs []kafka.Message
		ids  []string
		ts   []time.Time // the events' times
	}
	batches := make(chan batch, 1024)
	ackAt := map[string]time.Time{}
	tsOf := map[string]time.Time{}
	sentAt := map[string]time.Time{}
	var ackMu sync.Mutex
	var pwg sync.WaitGroup
	prod, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	for range 8 {
		pwg.Go(func() {
			for bt := range batches {
				sent := time.Now()
				if err := prod.Produce(ctx, bt.msgs...); err != nil {
					b.Error(err)
					return
				}
				now := time.Now()
				ackMu.Lock()
				for i, id := range bt.ids {
					ackAt[id] = now
					sentAt[id] = sent
					tsOf[id] = bt.ts[i]
				}
				ackMu.Unlock()
			}
		})
	}

	g := traffic.New(traffic.Config{Seed: 11, Accounts: 50_000, Start: time.Now(), Rate: rate, AttackRate: 0.002})
	var e event.Event
	var cur batch
	t0, cpu0 := time.Now(), processCPU()
	n := 0
	for b.Loop() {
		g.Next(&e)
		cur.msgs = append(cur.msgs, kafka.Message{Topic: kcfg.Topics.Activity.Name, Key: []byte(e.Tenant + "\x00" + e.PersonKey()), Value: event.AppendJSON(make([]byte, 0, 1024), &e)})
		cur.ids = append(cur.ids, e.ID)
		cur.ts = append(cur.ts, e.Timestamp)
		n++
		// Send what is due each millisecond (ingest answers requests in
		// batches too), then wait for the next millisecond's events.
		due := t0.Add(time.Duration(float64(n) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > time.Millisecond || len(cur.msgs) >= 500 {
			batches <- cur
			cur = batch{}
			if wait > time.Millisecond {
				time.Sleep(wait)
			}
		}
	}
	if len(cur.msgs) > 0 {
		batches <- cur
	}
	close(batches)
	pwg.Wait()
	elapsed, cpu := time.Since(t0), processCPU()-cpu0
	b.StopTimer()
	waitCaughtUp(b, kcfg, cfg.Group)
	time.Sleep(time.Second) // the last alerts reach the reader
	cancel()
	wg.Wait()
	_ = run.stop(false)

	// Each alert's latency runs from the acknowledgement of the event that
	// triggered it: of its evidence, the one at triggered_at (the
	// acknowledged last of those, when several share that millisecond).
	// That is not always the last of event_ids, which are in event-time
	// order: an out-of-order event can complete a window whose newest
	// event came before it. When evidence was cut to its first and last
	// 100 ids and the trigger is among those left out, the one
	// acknowledged last of those kept stands in: it came before the
	// trigger, so the latency is longer, never shorter, than the truth.
	//
	// The stages, logged for profiling: the event's produce call (sent →
	// ack), sent → detected (fetch, queue, evaluate), detected → handed to
	// the producer (the emitter's queue), handed → read (produce, fetch by
	// the reader).
	var lat []time.Duration
	var stages [4][]time.Duration
	notLast, cut := 0, 0
	for _, a := range alerts {
		trigger, latest := "", ""
		for _, id := range a.ids {
			ack, ok := ackAt[id]
			if !ok {
				continue
			}
			if latest == "" || !ack.Before(ackAt[latest]) {
				latest = id
			}
			if tsOf[id].Truncate(time.Millisecond).Equal(a.triggered) && (trigger == "" || !ack.Before(ackAt[trigger])) {
				trigger = id
			}
		}
		if latest == "" {
			continue // evidence from before the measurement
		}
		if trigger == "" {
			trigger = latest
			cut++
		}
		if trigger != a.ids[len(a.ids)-1] {
			notLast++
		}
		ack, sent := ackAt[trigger], sentAt[trigger]
		lat = append(lat, a.read.Sub(ack))
		for i, d := range []time.Duration{ack.Sub(sent), a.detected.Sub(sent), a.handed.Sub(a.detected), a.read.Sub(a.handed)} {
			stages[i] = append(stages[i], d)
		}
	}
	b.Logf("%d alerts measured: %d triggered by an event other than their newest, %d whose trigger was cut from their evidence", len(lat), notLast, cut)
	for i, name := range []string{"sent→ack", "sent→detected", "detected→handed", "handed→read"} {
		d := stages[i]
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		b.Logf("%-16s p50 %8.1fms p90 %8.1fms p99 %8.1fms max %8.1fms", name, ms(d[len(d)/2]), ms(d[len(d)*9/10]), ms(d[len(d)*99/100]), ms(d[len(d)-1]))
	}
	if len(lat) == 0 {
		b.Fatal("no alert measured")
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(len(lat)), "alerts")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	// The whole process (producers, broker, detector, reader) per event.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
	b.ReportMetric(metricValue(b, run.reg, "trailwatch_detect_alert_latency_seconds", nil), "detector-alerts")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// processCPU is the process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
