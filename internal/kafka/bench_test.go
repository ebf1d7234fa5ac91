package kafka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// event returns a ~600-byte message shaped like a canonical CRM event, so
// compression sees realistic data.
func event(r *rand.Rand, i int) []byte {
	b := fmt.Appendf(nil, `{"v":1,"id":"evt_%016x","tenant":"acme-%d","source":{"vendor":"salesforce","collector":"webhook"},`+
		`"timestamp":"2026-03-01T09:%02d:%02d.%03d+01:00","user":{"id":"005%012d","person_id":"p-%06d","email":"user%d@acme.example","timezone":"Europe/Paris"},`+
		`"event":{"category":"data","action":"report_export","outcome":"success"},"object":{"type":"Report","id":"00O%012d","name":"Pipeline by owner %d"},`+
		`"client":{"ip":"203.0.%d.%d","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15","geo":{"country":"FR","city":"Paris"}},`+
		`"records":%d,"labels":{"env":"prod","region":"eu-west-3"}}`,
		r.Uint64(), r.IntN(50), r.IntN(60), r.IntN(60), r.IntN(1000), r.IntN(1e9), r.IntN(1e6), r.IntN(1e5),
		r.IntN(1e9), i, r.IntN(256), r.IntN(256), r.IntN(10000))
	for len(b) < 600 {
		b = append(b, ' ')
	}
	return b[:600]
}

// benchBroker starts an embedded broker persisting under a temporary
// directory, as `trailwatch run` does, and returns a client config.
func benchBroker(b *testing.B, partitions int, sync bool, compression string) kafka.Config {
	b.Helper()
	cfg := kafka.DefaultConfig()
	for _, tc := range []*kafka.TopicConfig{&cfg.Topics.Activity, &cfg.Topics.DeadLetter, &cfg.Topics.Alerts, &cfg.Topics.Actions, &cfg.Topics.DetectState, &cfg.Topics.Rekeyed} {
		tc.Partitions = partitions
	}
	dir := ""
	if compression != "memory" {
		dir = b.TempDir()
	} else {
		compression = "lz4"
	}
	k, err := embedded.StartKafka(context.Background(), dir, embedded.KafkaConfig{Listen: "127.0.0.1:0", SyncWrites: sync}, cfg.Topics, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = k.Close() })
	cfg.Brokers = k.Brokers()
	cfg.Producer.Compression = compression
	return cfg
}

// BenchmarkProduce measures acknowledged (acks=all) 600-byte messages per
// second into the embedded broker, by storage and compression, with one
// caller producing calls of 1000 messages (a file or a webhook batch).
func BenchmarkProduce(b *testing.B) {
	for _, bc := range []struct {
		name        string
		compression string
		sync        bool
	}{
		{"storage=memory/compression=lz4", "memory", false},
		{"storage=datadir/compression=none", "none", false},
		{"storage=datadir/compression=lz4", "lz4", false},
		{"storage=datadir/compression=zstd", "zstd", false},
		{"storage=datadir+sync/compression=lz4", "lz4", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := benchBroker(b, 4, bc.sync, bc.compression)
			p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			r := rand.New(rand.NewPCG(1, 2))
			msgs := make([]kafka.Message, 1000)
			for i := range msgs {
				msgs[i] = kafka.Message{Topic: cfg.Topics.Activity.Name, Key: fmt.Appendf(nil, "acme/p-%d", i%97), Value: event(r, i)}
			}
			b.SetBytes(int64(len(msgs) * 600))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := p.Produce(b.Context(), msgs...); err != nil {
					b.Fatal(err)
				}
				n += len(msgs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkProduceConcurrent measures many callers producing one message
// each (ingest answering single-event webhooks): each call waits for its
// batch to fill or for batch_timeout to pass, then for acks=all.
func BenchmarkProduceConcurrent(b *testing.B) {
	for _, bc := range []struct {
		callers int
		timeout time.Duration
	}{{16, 5 * time.Millisecond}, {256, 5 * time.Millisecond}, {16, time.Millisecond}, {256, time.Millisecond}} {
		callers := bc.callers
		b.Run(fmt.Sprintf("callers=%d/batch_timeout=%s", callers, bc.timeout), func(b *testing.B) {
			cfg := benchBroker(b, 4, false, "lz4")
			cfg.Producer.BatchTimeout = bc.timeout
			p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			r := rand.New(rand.NewPCG(1, 2))
			value := event(r, 0)
			var n atomic.Int64
			b.ReportAllocs()
			for b.Loop() {
				// One iteration: every caller produces 20 messages, one
				// call at a time.
				var wg sync.WaitGroup
				for c := range callers {
					wg.Go(func() {
						for i := range 20 {
							m := kafka.Message{Topic: cfg.Topics.Activity.Name, Key: fmt.Appendf(nil, "acme/p-%d-%d", c, i), Value: value}
							if err := p.Produce(context.Background(), m); err != nil {
								b.Error(err)
								return
							}
							n.Add(1)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkConsume measures how fast each consumer shape reads 100,000
// 600-byte messages (4 partitions) from the embedded broker and commits
// them, with a handler that does nothing. An iteration is one new consumer
// group reading the topic from the start.
func BenchmarkConsume(b *testing.B) {
	const total = 100_000
	cfg := benchBroker(b, 4, false, "lz4")
	topic := cfg.Topics.Activity.Name
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < total; i += 1000 {
		msgs := make([]kafka.Message, 1000)
		for j := range msgs {
			msgs[j] = kafka.Message{Topic: topic, Key: fmt.Appendf(nil, "acme/p-%d", (i+j)%997), Value: event(r, i+j)}
		}
		if err := p.Produce(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	p.Close()

	b.Run("shape=batch", func(b *testing.B) {
		b.SetBytes(total * 600)
		b.ReportAllocs()
		for b.Loop() {
			group := benchGroups.Add(1)
			var n atomic.Int64
			done := make(chan struct{})
			c, err := kafka.NewBatchConsumer(cfg, kafka.BatchOptions{Group: fmt.Sprintf("bench-batch-%d", group), Topics: []string{topic}, MaxMessages: 5000},
				func(ctx context.Context, msgs []kafka.Message) error {
					if n.Add(int64(len(msgs))) == total {
						close(done)
					}
					return nil
				}, zerolog.Nop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			runUntil(b, c.Run, done)
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})

	b.Run("shape=partition", func(b *testing.B) {
		b.SetBytes(total * 600)
		b.ReportAllocs()
		for b.Loop() {
			group := benchGroups.Add(1)
			var n atomic.Int64
			done := make(chan struct{})
			c, err := kafka.NewPartitionConsumer(cfg, kafka.PartitionOptions{Group: fmt.Sprintf("bench-partition-%d", group), Topics: []string{topic}},
				kafka.PartitionHandlerFunc(func(ctx context.Context, claim *kafka.Claim) error {
					end := claim.Bounds().End
					for {
						m, err := claim.Fetch(ctx)
						if err != nil {
							return err
						}
						if m.Offset%10000 == 9999 || m.Offset == end-1 {
							if err := claim.Commit(m.Offset + 1); err != nil {
								return err
							}
						}
						if n.Add(1) == total {
							close(done)
						}
					}
				}), zerolog.Nop(), nil)
			if err != nil {
				b.Fatal(err)
			}
			runUntil(b, c.Run, done)
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// benchGroups numbers consumer groups: the harness may call a benchmark
// function more than once against the same broker, and a reused group
// would start at its committed end.
var benchGroups atomic.Int64

func runUntil(b *testing.B, run func(context.Context) error, done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx) }()
	select {
	case <-done:
	case err := <-errc:
		b.Fatalf("consumer stopped early: %v", err)
	case <-time.After(5 * time.Minute):
		b.Fatal("consumer did not finish within 5 minutes")
	}
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}
