package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/rs/zerolog"

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
