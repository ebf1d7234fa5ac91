package poll

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/checkpoint"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

type fixture struct {
	env   testenv.KafkaEnv
	pub   *ingest.Publisher
	store *checkpoint.Store
	reg   *prometheus.Registry
	dir   string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	env := testenv.Kafka(t)
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	reg := prometheus.NewRegistry()
	pub, err := ingest.NewPublisher(p, env.Config.Topics, reg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := checkpoint.Open(filepath.Join(dir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{env: env, pub: pub, store: store, reg: reg, dir: dir}
}

func (fx fixture) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(fx.dir, name)
	if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// poller builds a poller with test timings: batches of two, millisecond
// backoffs.
func (fx fixture) poller(t *testing.T, cfg Config) *Poller {
	t.Helper()
	cfg.BatchSize = 2
	cfg.RetryBackoff, cfg.RateLimitBackoff, cfg.MaxWait = time.Millisecond, 5*time.Millisecond, 50*time.Millisecond
	cfg.Interval = 10 * time.Millisecond
	p, err := New(cfg, fx.pub, fx.store, zerolog.Nop(), fx.reg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (fx fixture) metric(t *testing.T, name, result string) float64 {
	labels := map[string]string{}
	if result != "" {
		labels["result"] = result
	}
	return ingesttest.Metric(t, fx.reg, name, labels)
}

// stopAfterSaves runs fn (a catch-up) and cancels it after n checkpoint
// saves: a clean stop in the middle of a file or a window.
func stopAfterSaves(t *testing.T, p *Poller, n int) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	saves := 0
	p.saved = func() {
		if saves++; saves == n {
			cancel()
		}
	}
	return p.CatchUp(ctx)
}

func loginCSV(at time.Time, n int, user string) string {
	var b strings.Builder
	b.WriteString("EVENT_TYPE,TIMESTAMP,USER_ID,LOGIN_STATUS,SOURCE_IP\n")
	for i := range n {
		fmt.Fprintf(&b, "Login,%s,%s,LOGIN_NO_ERROR,198.51.100.%d\n", at.Add(time.Duration(i)*time.Second).UTC().Format("20060102150405.000"), user, i)
	}
	return b.String()
}

func apiCSV(at time.Time, n int) string {
	var b strings.Builder
	b.WriteString("EVENT_TYPE,TIMESTAMP,USER_ID,METHOD_NAME,ENTITY_NAME,ROWS_PROCESSED\n")
	for i := range n {
		fmt.Fprintf(&b, "API,%s,005B0000001vURv,query,Lead,%d\n", at.Add(time.Duration(i)*time.Second).UTC().Format("20060102150405.000"), i)
	}
	return b.String()
}

// TestRunKeepsPollingAndLocksItsCursor runs a poller: it picks up events
// added while it runs, a second poller on the same cursor is refused, and
// it stops cleanly when its context ends.
func TestRunKeepsPollingAndLocksItsCursor(t *testing.T) {
	fx := newFixture(t)
	t.Setenv("TEST_HS_SECRET", "hs-client-secret")
	h := newHubSpotStandIn(t)
	h.add(hsEvent{ID: "1", At: time.Now().Add(-time.Hour)})
	cfg := fx.hubspotConfig(t, h)
	cfg.SettleDelay = time.Millisecond
	p := fx.poller(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitPublished(t, fx, 1)
	if err := fx.poller(t, cfg).CatchUp(t.Context()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second poller on the same cursor: %v", err)
	}
	h.add(hsEvent{ID: "2", At: time.Now()})
	waitPublished(t, fx, 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// waitPublished waits (up to a minute) until n events are on the topic.
func waitPublished(t *testing.T, fx fixture, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if len(ingesttest.Published(t, fx.env)) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never saw %d events published", n)
}
