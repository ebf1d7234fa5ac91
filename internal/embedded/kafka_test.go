package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func topics() kafka.Topics {
	t := kafka.DefaultConfig().Topics
	for _, tc := range []*kafka.TopicConfig{&t.Activity, &t.DeadLetter, &t.Alerts, &t.Actions, &t.DetectState, &t.Rekeyed} {
		tc.Partitions = 3
	}
	return t
}

// config returns a client config for brokers with short group timings.
func config(brokers []string) kafka.Config {
	c := kafka.DefaultConfig()
	c.Brokers = brokers
	c.Topics = topics()
	c.Producer.BatchTimeout = time.Millisecond
	c.Consumer.HeartbeatInterval = 100 * time.Millisecond
	c.Consumer.SessionTimeout = 3 * time.Second
	c.Consumer.RebalanceTimeout = 5 * time.Second
	c.Consumer.ShutdownTimeout = 3 * time.Second
	return c
}

func start(t *testing.T, dir string) *embedded.Kafka {
	t.Helper()
	k, err := embedded.StartKafka(t.Context(), dir, embedded.KafkaConfig{Listen: "127.0.0.1:0"}, topics(), testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func produce(t *testing.T, cfg kafka.Config, from, n int) {
	t.Helper()
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []kafka.Message
	for i := from; i < from+n; i++ {
		msgs = append(msgs, kafka.Message{Topic: cfg.Topics.Activity.Name, Key: fmt.Appendf(nil, "k%d", i%17), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if err := p.Produce(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// consume runs a batch consumer of group until it has seen want messages
// (and committed them), and returns the values it saw.
func consume(t *testing.T, cfg kafka.Config, group string, want int) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	c, err := kafka.NewBatchConsumer(cfg, kafka.BatchOptions{Group: group, Topics: []string{cfg.Topics.Activity.Name}, MaxWait: 10 * time.Millisecond},
		func(ctx context.Context, msgs []kafka.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				seen[string(m.Value)] = true
			}
			return nil
		}, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer saw %d messages, want %d", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // shutdown commits the batch in hand
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return seen
}

func committedOffsets(t *testing.T, cfg kafka.Config, group string) string {
	t.Helper()
	client, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.OffsetFetch(t.Context(), &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{cfg.Topics.Activity.Name: {0, 1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[cfg.Topics.Activity.Name] {
		out[p.Partition] = p.CommittedOffset
	}
	return fmt.Sprint(out)
}

// TestKafkaPersistsAcrossRestart closes the broker and starts another on
// the same data directory: messages, topics and the group's committed
// offsets are all there, and the group resumes where it committed.
func TestKafkaPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	k := start(t, dir)
	cfg := config(k.Brokers())
	produce(t, cfg, 0, 1000)
	if n := len(consume(t, cfg, "sink", 1000)); n != 1000 {
		t.Fatalf("consumed %d, want 1000", n)
	}
	before := committedOffsets(t, cfg, "sink")
	produce(t, cfg, 1000, 200) // produced, not consumed
	if _, err := embedded.StartKafka(t.Context(), dir, embedded.KafkaConfig{Listen: "127.0.0.1:0"}, topics(), zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second broker on a data directory in use started (err %v)", err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}

	k = start(t, dir)
	defer k.Close()
	cfg = config(k.Brokers())
	if after := committedOffsets(t, cfg, "sink"); after != before {
		t.Errorf("committed offsets after restart %s, before %s", after, before)
	}
	rest := consume(t, cfg, "sink", 200)
	for i := range 1200 {
		if v := fmt.Sprintf("v%d", i); rest[v] != (i >= 1000) {
			t.Fatalf("after restart the group got %s: %v, want only the 200 not yet consumed", v, rest[v])
		}
	}
	if n := len(consume(t, cfg, "fresh-group", 1200)); n != 1200 {
		t.Errorf("a new group read %d messages after restart, want 1200", n)
	}
}

// TestKafkaSurvivesKill runs the broker in a child process, kills it with
// SIGKILL after acknowledged writes and commits, and starts a broker on the
// same directory: every acknowledged message and the committed offsets are
// there.
func TestKafkaSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokerChild$")
	cmd.Env = append(os.Environ(), "TRAILWATCH_EMBEDDED_BROKER_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	}()
	var addr string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "broker "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child broker never reported its address")
	}
	go func() {
		for sc.Scan() { // drain
		}
	}()

	cfg := config([]string{addr})
	produce(t, cfg, 0, 5000)
	if n := len(consume(t, cfg, "sink", 5000)); n != 5000 {
		t.Fatalf("consumed %d, want 5000", n)
	}
	before := committedOffsets(t, cfg, "sink")
	produce(t, cfg, 5000, 5000) // acknowledged, not consumed

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	_ = cmd.Wait()

	k := start(t, dir)
	defer k.Close()
	cfg = config(k.Brokers())
	if after := committedOffsets(t, cfg, "sink"); after != before {
		t.Errorf("committed offsets after kill -9 %s, before %s", after, before)
	}
	rest := consume(t, cfg, "sink", 5000)
	for i := 5000; i < 10000; i++ {
		if !rest[fmt.Sprintf("v%d", i)] {
			t.Fatalf("acknowledged message v%d lost in the kill", i)
		}
	}
	if len(rest) != 5000 {
		t.Errorf("after the kill the group got %d messages, want the 5000 not yet consumed", len(rest))
	}
}

// TestBrokerChild is the broker process TestKafkaSurvivesKill kills.
func TestBrokerChild(t *testing.T) {
	dir := os.Getenv("TRAILWATCH_EMBEDDED_BROKER_CHILD")
	if dir == "" {
		t.Skip("runs only as TestKafkaSurvivesKill's child process")
	}
	k, err := embedded.StartKafka(context.Background(), dir, embedded.KafkaConfig{Listen: "127.0.0.1:0"}, topics(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("broker %s\n", k.Addr())
	select {} // until killed
}

func TestKafkaConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:9092", true},
		{"127.0.0.1:0", true},
		{"[::1]:9092", true},
		{"localhost:9092", true},
		{"0.0.0.0:9092", false},
		{":9092", false},
		{"127.0.0.1", false},
		{"127.0.0.1:70000", false},
	} {
		err := embedded.KafkaConfig{Listen: tc.listen}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("listen %q: err %v, want ok=%v", tc.listen, err, tc.ok)
		}
	}
}
