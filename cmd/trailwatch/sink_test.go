package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink"
)

// e2e is a sink role's environment: the embedded broker, a ClickHouse
// database reached through a proxy the test can cut, and the config.
type e2e struct {
	kafka testenv.KafkaEnv
	ch    testenv.ClickHouseEnv
	proxy *tcpProxy
	cfg   *Config
	st    *chstore.Store
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{kafka: testenv.Kafka(t), ch: testenv.ClickHouse(t)}
	e.proxy = startProxy(t, e.ch.Addr)
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Metrics.Listen = ""
	cfg.Kafka = e.kafka.Config
	cfg.Kafka.Consumer.MaxBytes = 64 << 10
	cfg.ClickHouse.URL = "http://" + e.proxy.addr
	cfg.ClickHouse.Database = e.ch.Database
	cfg.ClickHouse.User = e.ch.User
	cfg.Sink.Group = e.kafka.Group("sink")
	cfg.Sink.BatchMessages = 5000
	cfg.Sink.BatchWait = 50 * time.Millisecond
	cfg.Sink.RetryMin = 20 * time.Millisecond
	cfg.Sink.RetryMax = 300 * time.Millisecond
	cfg.Sink.Integrity.CheckpointInterval = time.Second
	e.cfg = cfg
	direct := chstore.DefaultConfig()
	direct.URL, direct.Database, direct.User = e.ch.URL, e.ch.Database, e.ch.User
	st, err := chstore.Open(t.Context(), direct, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	// The role migrates too; doing it here first lets the test query at once.
	if _, err := sink.Migrate(t.Context(), st, cfg.Storage, testenv.Logger(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts the sink role; stop cancels it and waits for it to return.
func (e *e2e) run(t *testing.T, reg *prometheus.Registry) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runSink(ctx, e.cfg, testenv.Logger(t), reg, nil) }()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("sink role: %v", err)
		}
	}
}

// produce publishes events [from, to) of the generated stream.
func (e *e2e) produce(t *testing.T, from, to int) {
	t.Helper()
	p, err := kafka.NewProducer(e.kafka.Config, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	topic := e.kafka.Config.Topics.Activity.Name
	var msgs []kafka.Message
	for i := from; i < to; i++ {
		ev := genEvent(i)
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(ev.Tenant + "/" + ev.User.ID), Value: event.AppendJSON(nil, &ev)})
		if len(msgs) == 2000 || i == to-1 {
			if err := p.Produce(t.Context(), msgs...); err != nil {
				t.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

var genBase = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)

// genEvent is event i of a stream over 3 tenants and 500 people.
func genEvent(i int) event.Event {
	tenant := []string{"acme", "globex", "initech"}[i%3]
	person := fmt.Sprintf("005P%03d", (i/3)%500)
	return event.Event{
		ID: fmt.Sprintf("e2e-%07d", i), Timestamp: genBase.Add(time.Duration(i) * 100 * time.Millisecond),
		Tenant: tenant, Source: event.Source{System: "salesforce", ID: fmt.Sprint(i)},
		Event:  event.Activity{Category: "data_access", Action: "view", Outcome: "success"},
		User:   event.User{ID: person, Name: person + "@" + tenant + ".example"},
		Client: event.Client{IP: fmt.Sprintf("198.51.100.%d", i%250), AccessMethod: "web"},
		Object: event.Object{Type: "contact", ID: fmt.Sprintf("003%05d", i%20000)},
	}
}

func (e *e2e) count(t *testing.T, q string) uint64 {
	t.Helper()
	var n uint64
	if err := e.st.Conn().QueryRow(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitFor polls q until it returns want; the deadline only bounds how
// long a broken sink makes the test hang.
func (e *e2e) waitFor(t *testing.T, q string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n := e.count(t, q)
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("%s = %d, want %d", q, n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const (
	distinctIDs = "SELECT uniqExact(id) FROM audit_events"
	dedupedRows = "SELECT count() FROM (SELECT id FROM audit_events LIMIT 1 BY id)"
	positions   = "SELECT count() FROM audit_events FINAL"
)

// TestSinkEndToEnd is the foundation's test of the sink: 100,000 events
// from crm.activity on the embedded broker, through the sink role, into
// the embedded ClickHouse; again; with the sink stopped mid-stream
// gracefully and then hard (commits refused), and with ClickHouse
// unreachable for a while. Every time, queries see exactly 100,000
// distinct events, and the consumer's memory stays bounded while it
// waits.
func TestSinkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 300,000 events")
	}
	const n = 100_000
	e := newE2E(t)
	e.produce(t, 0, n)

	t.Log("1: stop gracefully mid-stream, restart")
	stop := e.run(t, prometheus.NewRegistry())
	for e.count(t, "SELECT count() FROM audit_events") < n/3 {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	stop = e.run(t, prometheus.NewRegistry())
	e.waitFor(t, distinctIDs, n)
	e.waitFor(t, dedupedRows, n)
	e.waitFor(t, positions, n)

	t.Log("2: the same events produced again")
	e.produce(t, 0, n)
	e.waitFor(t, "SELECT count() FROM audit_events FINAL", 2*n)
	if got := e.count(t, distinctIDs); got != n {
		t.Fatalf("distinct ids = %d after producing the events again, want %d", got, n)
	}
	if got := e.count(t, dedupedRows); got != n {
		t.Fatalf("LIMIT 1 BY id gives %d rows, want %d", got, n)
	}
	stop()

	t.Log("3: hard stop: offset commits refused, then the sink is stopped")
	cluster := e.kafka.Cluster(t)
	var refuse atomic.Bool
	refuse.Store(true)
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		req := kreq.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	e.produce(t, n, n+20_000)
	stop = e.run(t, prometheus.NewRegistry())
	e.waitFor(t, "SELECT count() FROM audit_events FINAL", 2*n+20_000)
	stop() // nothing of the last 20,000 was committed
	refuse.Store(false)
	stop = e.run(t, prometheus.NewRegistry())
	// Everything is delivered again; the copies fold (same positions).
	e.waitFor(t, "SELECT count() FROM (SELECT kafka_partition, kafka_offset FROM audit_events LIMIT 1 BY kafka_partition, kafka_offset)", 2*n+20_000)
	if got := e.count(t, distinctIDs); got != n+20_000 {
		t.Fatalf("distinct ids = %d after the hard stop, want %d", got, n+20_000)
	}
	stop()

	t.Log("4: the chains survived every restart and redelivery")
	var out bytes.Buffer
	for _, tenant := range []string{"acme", "globex", "initech"} {
		out.Reset()
		if err := e.cli(t, &out, "verify", "--tenant", tenant, "--from", genBase.Add(-time.Hour).Format(time.RFC3339), "--to", genBase.Add(24*time.Hour).Format(time.RFC3339)); err != nil {
			t.Fatalf("verify %s: %v\n%s", tenant, err, out.String())
		}
		if !strings.Contains(out.String(), "0 rows after the last checkpoint") {
			t.Errorf("verify %s: the last checkpoint at shutdown is missing:\n%s", tenant, out.String())
		}
	}
}

// cli runs a trailwatch subcommand with the test's configuration.
func (e *e2e) cli(t *testing.T, out io.Writer, args ...string) error {
	t.Helper()
	// What the commands other than the role need: ClickHouse and the data
	// directory (where the role keeps its signing key).
	b := fmt.Sprintf("data_dir: %s\nclickhouse:\n  url: %s\n  database: %s\n  user: %q\n",
		e.cfg.DataDir, e.cfg.ClickHouse.URL, e.cfg.ClickHouse.Database, e.cfg.ClickHouse.User)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"--config", path}, args...))
	cmd.SetOut(out)
	cmd.SetErr(out)
	return cmd.ExecuteContext(t.Context())
}

// TestSinkClickHouseOutage cuts the sink off from ClickHouse while
// 30,000 events arrive: it stops fetching once its bounded buffers are
// full, retries, and stores everything once ClickHouse is back.
func TestSinkClickHouseOutage(t *testing.T) {
	e := newE2E(t)
	reg := prometheus.NewRegistry()
	stop := e.run(t, reg)
	defer stop()
	e.produce(t, 0, 1000)
	e.waitFor(t, distinctIDs, 1000) // the sink is up and storing
	e.proxy.down()
	before := metric(t, reg, "trailwatch_kafka_consumer_messages_total")
	rebalances := metric(t, reg, "trailwatch_kafka_consumer_rebalances_total")
	e.produce(t, 1000, 30_000)
	fetched := waitStable(t, reg, "trailwatch_kafka_consumer_messages_total") - before
	if r := metric(t, reg, "trailwatch_kafka_consumer_rebalances_total"); r != rebalances {
		t.Fatalf("the group rebalanced during the outage (%v → %v): partitions were fetched again, so the count no longer measures what is held", rebalances, r)
	}
	t.Logf("held %v messages while ClickHouse was down", fetched)
	// What the consumer may hold: the batch in hand, the channel of
	// batch_messages, and per partition queue_capacity plus one fetch
	// (64 KiB of ~400-byte messages).
	bound := 2*e.cfg.Sink.BatchMessages + 4*(e.cfg.Kafka.Consumer.QueueCapacity+200)
	if fetched > float64(bound) {
		t.Fatalf("fetched %v messages while ClickHouse was down, more than the bound %d", fetched, bound)
	}
	if metric(t, reg, "trailwatch_kafka_consumer_handler_errors_total") == 0 {
		t.Fatal("no batch failed while ClickHouse was down: the outage was not exercised")
	}
	e.proxy.up()
	e.waitFor(t, distinctIDs, 30_000)
	e.waitFor(t, positions, 30_000)

	// The named queries run from the command line on what was stored:
	// person 005P000 of acme has events 0, 1500, 3000, … (20 of them).
	var out bytes.Buffer
	if err := e.cli(t, &out, "query", "--format", "json", "--named", "user-timeline", "--param", "tenant=acme", "--param", "person=005P000"); err != nil {
		t.Fatalf("query --named: %v\n%s", err, out.String())
	}
	if lines := strings.Count(out.String(), "\n"); lines != 20 || !strings.Contains(out.String(), `"id":"e2e-0028500"`) {
		t.Fatalf("user-timeline printed %d lines, want 20 including e2e-0028500:\n%s", lines, out.String())
	}
	out.Reset()
	if err := e.cli(t, &out, "gdpr", "export", "--tenant", "acme", "--user", "005P000"); err != nil {
		t.Fatalf("gdpr export: %v\n%s", err, out.String())
	}
	if lines := strings.Count(out.String(), `"matched":["actor"]`); lines != 20 {
		t.Fatalf("gdpr export wrote %d events by the person, want 20:\n%s", lines, out.String())
	}
}

// waitStable waits until the counter stops growing, and returns it.
func waitStable(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	last, same := -1.0, 0
	for same < 10 {
		time.Sleep(200 * time.Millisecond)
		v := metric(t, reg, name)
		if v == last {
			same++
		} else {
			same, last = 0, v
		}
	}
	return last
}

// metric sums every series of the counter name.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += counterValue(m)
		}
	}
	return sum
}

func counterValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// tcpProxy forwards a port to ClickHouse and can refuse connections for a
// while, as a server that went away would.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// down closes the listener and every open connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// up listens on the same address again.
func (p *tcpProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}
