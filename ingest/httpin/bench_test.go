package httpin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// BenchmarkHTTPIngest is the load generator of the HTTP collector: clients
// POST NDJSON batches of 500 canonical events (about 600 bytes each) over
// loopback to the collector, which authenticates them, validates every
// event and answers once the embedded broker (acks=all) acknowledged them.
// One iteration is one request. It reports events/s over the wall time
// from the first request to the last answer, the request latency
// percentiles, and the process CPU time per event (client, collector and
// broker together: on a shared machine the wall figures include waiting for
// a core, the CPU figure does not).
//
//	go test ./ingest/httpin/ -run '^$' -bench HTTPIngest -benchtime=400x
func BenchmarkHTTPIngest(b *testing.B) {
	for _, storage := range []string{"memory", "datadir"} {
		for _, auth := range []string{"token", "signed"} {
			for _, clients := range []int{4, 16} {
				b.Run(fmt.Sprintf("%s/%s/clients=%d", storage, auth, clients), func(b *testing.B) {
					benchIngest(b, storage, auth, clients)
				})
			}
		}
	}
}

const benchBatch = 500

func benchIngest(b *testing.B, storage, auth string, clients int) {
	var brokers []string
	topics := kafka.DefaultConfig().Topics
	if storage == "memory" {
		env := testenv.Kafka(b, testenv.KafkaPartitions(12))
		brokers, topics = env.Config.Brokers, env.Config.Topics
	} else {
		k, err := embedded.StartKafka(context.Background(), filepath.Join(b.TempDir(), "kafka"), embedded.KafkaConfig{Listen: "127.0.0.1:0"}, topics, zerolog.Nop())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = k.Close() })
		brokers = k.Brokers()
	}
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers, kcfg.Topics = brokers, topics
	reg := telemetry.NewRegistry()
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), reg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pub, err := ingest.NewPublisher(p, kcfg.Topics, reg)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	tokenFile, secretFile := filepath.Join(dir, "token"), filepath.Join(dir, "secret")
	_ = os.WriteFile(tokenFile, []byte(crmToken), 0o600)
	_ = os.WriteFile(secretFile, []byte(signedSecret), 0o600)
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	sc := SourceConfig{Source: ingest.Source{Name: "bench", Tenant: "acme"}, TokenFile: tokenFile}
	if auth == "signed" {
		sc.HMACSecretFile = secretFile
	}
	cfg.Sources = []SourceConfig{sc}
	srv, err := New(cfg, pub, ingest.DefaultLimits(), zerolog.Nop(), reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { cancel(); <-served }()

	// Distinct bodies, generated before timing.
	now := time.Now()
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = ingesttest.NDJSON(i*benchBatch, benchBatch, now)
	}
	url := "http://" + srv.Addr() + EventsPath
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	send := func(i int) (time.Duration, error) {
		body := bodies[i%len(bodies)]
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+crmToken)
		req.Header.Set("Content-Type", "application/x-ndjson")
		if auth == "signed" {
			// A body comes round again only after 63 others, milliseconds
			// later: its signature is new.
			for k, v := range signed("bench", signedSecret, EventsPath, body, time.Now()) {
				req.Header.Set(k, v)
			}
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	if _, err := send(0); err != nil { // warm the connection and the topic metadata
		b.Fatal(err)
	}

	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var firstErr error
	slots := make(chan struct{}, clients)
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		slots <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-slots; wg.Done() }()
			d, err := send(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			lat = append(lat, d)
		}(i)
		i++
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	slices.Sort(lat)
	events := float64(len(lat) * benchBatch)
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
