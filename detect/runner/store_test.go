package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestSnapshotStore(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	s, err := newStore(ctx, kcfg, "g", 1024, p, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	acked := func(context.Context) bool { return true }
	blob := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

	if m, got, err := s.read(ctx, "crm.activity", 1); err != nil || m != nil || got != nil {
		t.Fatalf("read with no snapshot: %v %v %v", m, got, err)
	}

	// A snapshot larger than a chunk, then one that replaces it.
	m1, err := s.write(ctx, "crm.activity", 1, 100, "v1", blob(3000, 'a'), acked, nil)
	if err != nil || m1.Chunks != 3 {
		t.Fatalf("write: %v %+v", err, m1)
	}
	m, got, err := s.read(ctx, "crm.activity", 1)
	if err != nil || m == nil || m.Next != 100 || !bytes.Equal(got, blob(3000, 'a')) {
		t.Fatalf("read back: %v %+v %d bytes", err, m, len(got))
	}
	m2, err := s.write(ctx, "crm.activity", 1, 200, "v1", blob(10, 'b'), acked, m1)
	if err != nil {
		t.Fatal(err)
	}
	if m, got, err = s.read(ctx, "crm.activity", 1); err != nil || m.ID != m2.ID || !bytes.Equal(got, blob(10, 'b')) {
		t.Fatalf("read after replacement: %v %+v %q", err, m, got)
	}
	// Another partition's snapshot is its own.
	if _, err := s.write(ctx, "crm.activity", 2, 7, "v1", blob(5, 'c'), acked, nil); err != nil {
		t.Fatal(err)
	}

	// Everything went to each partition's home, and the first snapshot's
	// chunks were tombstoned.
	live := map[string][]byte{}
	for _, msg := range env.ReadTopic(t, kcfg.Topics.DetectState.Name) {
		k := string(msg.Key)
		part := 1
		if strings.Contains(k, "/crm.activity/2") {
			part = 2
		}
		if msg.Partition != s.home("crm.activity", part) {
			t.Errorf("%q is on partition %d, its home is %d", k, msg.Partition, s.home("crm.activity", part))
		}
		live[k] = msg.Value
	}
	for i := range m1.Chunks {
		if v, ok := live[string(s.chunkKey("crm.activity", 1, m1.ID, i))]; !ok || v != nil {
			t.Errorf("chunk %d of the replaced snapshot not tombstoned", i)
		}
	}

	// A snapshot whose manifest never made it: its chunks are not taken
	// for anything, and the next read tombstones them.
	orphan := kafka.Message{Topic: s.topic, Key: s.chunkKey("crm.activity", 1, "999-x", 0), Value: blob(10, 'z')}
	if err := p.Produce(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	if m, got, err = s.read(ctx, "crm.activity", 1); err != nil || m.ID != m2.ID || !bytes.Equal(got, blob(10, 'b')) {
		t.Fatalf("read with an orphan chunk: %v %+v %q", err, m, got)
	}
	_, _, orphans, err := s.scan(ctx, "crm.activity", 1)
	if err != nil || len(orphans) != 0 {
		t.Errorf("orphans after a read: %q %v", orphans, err)
	}

	// A manifest that does not match its chunks (damaged, or naming a
	// chunk that is gone) is not trusted.
	bad := *m2
	bad.ID, bad.CRC32C = "300-bad", crc32.Checksum([]byte("other"), castagnoli)
	if err := p.Produce(ctx, kafka.Message{Topic: s.topic, Key: s.chunkKey("crm.activity", 1, bad.ID, 0), Value: blob(10, 'b')}); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.Marshal(bad)
	if err := p.Produce(ctx, kafka.Message{Topic: s.topic, Key: s.manifestKey("crm.activity", 1), Value: mb}); err != nil {
		t.Fatal(err)
	}
	if m, got, err = s.read(ctx, "crm.activity", 1); err != nil || m != nil || got != nil {
		t.Fatalf("read of a damaged snapshot: %v %+v %q", err, m, got)
	}
	missing := *m2
	missing.ID, missing.Chunks = "400-missing", 2
	mb, _ = json.Marshal(missing)
	if err := p.Produce(ctx, kafka.Message{Topic: s.topic, Key: s.manifestKey("crm.activity", 1), Value: mb}); err != nil {
		t.Fatal(err)
	}
	if m, got, err = s.read(ctx, "crm.activity", 1); err != nil || m != nil || got != nil {
		t.Fatalf("read of a snapshot missing chunks: %v %+v %q", err, m, got)
	}

	// The other partition never noticed.
	if m, got, err = s.read(ctx, "crm.activity", 2); err != nil || m == nil || !bytes.Equal(got, blob(5, 'c')) {
		t.Fatalf("partition 2: %v %+v %q", err, m, got)
	}
}

// TestSnapshotReadRetries: a snapshot read that fails (here the broker
// refuses to list the state partition's offsets) is tried again before the
// partition falls back to a replay of its whole horizon; after
// readAttempts failures the error is returned.
func TestSnapshotReadRetries(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	cluster := env.Cluster(t)
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	s, err := newStore(ctx, kcfg, "g", 1024, p, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	s.readAttempts, s.readBackoff = 3, 10*time.Millisecond
	if _, err := s.write(ctx, "crm.activity", 1, 100, "v1", []byte("state"), func(context.Context) bool { return true }, nil); err != nil {
		t.Fatal(err)
	}

	// The broker refuses the next `refuse` ListOffsets requests for the
	// state topic (a scan sends one or more: kafka-go splits them).
	var refuse, seen atomic.Int32
	cluster.ControlKey(int16(kmsg.ListOffsets), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := kreq.(*kmsg.ListOffsetsRequest)
		if len(req.Topics) == 0 || req.Topics[0].Topic != s.topic {
			return nil, nil, false
		}
		seen.Add(1)
		for {
			n := refuse.Load()
			if n <= 0 {
				return nil, nil, false
			}
			if refuse.CompareAndSwap(n, n-1) {
				break
			}
		}
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.LeaderNotAvailable.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	if _, _, err := s.read(ctx, "crm.activity", 1); err != nil {
		t.Fatal(err)
	}
	perScan := seen.Load()
	if perScan == 0 {
		t.Fatal("a read sent no ListOffsets request for the state topic")
	}

	attempts := int32(s.readAttempts)
	refuse.Store((attempts - 1) * perScan)
	m, blob, err := s.read(ctx, "crm.activity", 1)
	if err != nil || m == nil || string(blob) != "state" {
		t.Fatalf("read with its first %d scans refused: %v %+v %q", attempts-1, err, m, blob)
	}
	if n := refuse.Load(); n != 0 {
		t.Fatalf("%d refusals left: the read did not try again", n)
	}
	refuse.Store(attempts * perScan)
	if _, _, err := s.read(ctx, "crm.activity", 1); err == nil || !strings.Contains(err.Error(), "listing offsets") {
		t.Fatalf("read with all %d scans refused: %v, want the last refusal", attempts, err)
	}
	if n := refuse.Load(); n != 0 {
		t.Fatalf("%d refusals left after a failed read, want 0 (%d attempts)", n, attempts)
	}
}
