package deadletter_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestWriterPublishes(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	topic := env.Config.Topics.DeadLetter.Name
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reg := prometheus.NewRegistry()
	w, err := deadletter.NewWriter(p, topic, "sink", reg)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("a"), deadletter.MaxRaw+10)
	rejects := []deadletter.Reject{
		{Raw: []byte(`{"id":1}`), Key: []byte("acme/p1"), Reason: "user.id: required", Field: "user.id", Origin: deadletter.FromKafka("crm.activity", 2, 77)},
		{Raw: []byte{0xff, 0xfe}, Reason: "not JSON", Origin: deadletter.FromFile("hubspot", "x.ndjson", 3)},
		{Raw: big, Reason: "event too large: 524298 bytes, the limit is 262144"},
	}
	if err := w.Write(t.Context(), rejects...); err != nil {
		t.Fatal(err)
	}
	msgs := env.ReadTopic(t, topic)
	if len(msgs) != 3 {
		t.Fatalf("dead-letter topic holds %d records, want 3", len(msgs))
	}
	for i, m := range msgs {
		rec, err := deadletter.Decode(m.Value)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		raw, _ := rec.Bytes()
		want := rejects[i]
		switch {
		case rec.Stage != "sink" || rec.Reason != want.Reason || rec.Field != want.Field:
			t.Errorf("record %d: %+v", i, rec)
		case i < 2 && !bytes.Equal(raw, want.Raw):
			t.Errorf("record %d carries %q, want %q", i, raw, want.Raw)
		case !bytes.Equal(m.Key, want.Key):
			t.Errorf("record %d key %q, want %q", i, m.Key, want.Key)
		}
	}
	if r, _ := deadletter.Decode(msgs[0].Value); *r.Origin.Partition != 2 || *r.Origin.Offset != 77 {
		t.Errorf("origin %+v", r.Origin)
	}
	if r, _ := deadletter.Decode(msgs[2].Value); !r.RawTruncated || r.RawSize != len(big) {
		t.Errorf("large input: truncated %v, size %d", r.RawTruncated, r.RawSize)
	}
	if n := counterSum(t, reg, "trailwatch_deadletter_records_total"); n != 3 {
		t.Errorf("records_total = %v, want 3", n)
	}
}

// TestWriterReportsFailure: a refused dead-letter write is an error for
// the caller, and is not counted as written.
func TestWriterReportsFailure(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	topic := env.Config.Topics.DeadLetter.Name
	cfg := env.Config
	cfg.Producer.MaxAttempts = 1
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reg := prometheus.NewRegistry()
	w, err := deadletter.NewWriter(p, topic, "ingest", reg)
	if err != nil {
		t.Fatal(err)
	}
	env.Cluster(t).Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
	err = w.Write(t.Context(), deadletter.Reject{Raw: []byte("x"), Reason: "r"})
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		t.Fatalf("Write under a produce fault returned %v, want WriteErrors", err)
	}
	if n := counterSum(t, reg, "trailwatch_deadletter_records_total"); n != 0 {
		t.Errorf("records_total = %v after a failed write, want 0", n)
	}
}

func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
