package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Snapshots live on the compacted detect_state topic. A snapshot of a
// partition's state is written as chunks, each under its own key naming
// the snapshot, then a manifest naming the chunks, under one key per
// partition (so compaction keeps the latest manifest). Chunks of the
// snapshot a manifest replaces are then tombstoned. A reader trusts a
// snapshot only through its manifest, and checks the chunks' total size and
// checksum: a snapshot interrupted before its manifest is never taken for
// complete, and its orphaned chunks are tombstoned by the next reader.
//
// All records of one partition's snapshots go to one partition of the
// state topic (its home), so a detector reads one state partition on
// assignment, not the whole topic. The producer partitions by key
// (murmur2), so each key ends in "#n", the first n that lands it home.
//
//	manifest: tw1/m/<group>/<topic>/<partition>#n
//	chunk:    tw1/c/<group>/<topic>/<partition>/<snapshot id>/<i>#n

// manifest describes a complete snapshot.
type manifest struct {
	V         int       `json:"v"`
	ID        string    `json:"id"`
	Group     string    `json:"group"`
	Topic     string    `json:"topic"`
	Partition int       `json:"partition"`
	Next      int64     `json:"next"` // every message before it is in the state, its outputs acknowledged
	Bytes     int       `json:"bytes"`
	CRC32C    uint32    `json:"crc32c"`
	Chunks    int       `json:"chunks"`
	Rules     string    `json:"rules_version"`
	CreatedAt time.Time `json:"created_at"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type store struct {
	topic  string
	group  string
	parts  int // partitions of the state topic
	chunk  int
	p      producer
	client *kafkago.Client
	log    zerolog.Logger
	// readAttempts and readBackoff: how often read tries a scan that
	// failed, and the first wait between tries (doubling).
	readAttempts int
	readBackoff  time.Duration
}

// Reading a snapshot that failed is tried again before the partition falls
// back to replay: a broker slow for a moment should not cost a replay of
// the rules' whole horizon (months, for a previous-event rule).
const (
	snapshotReadAttempts = 3
	snapshotReadBackoff  = 500 * time.Millisecond
)

func newStore(ctx context.Context, kcfg kafka.Config, group string, chunk int, p producer, log zerolog.Logger) (*store, error) {
	client, err := kcfg.Client()
	if err != nil {
		return nil, err
	}
	topic := kcfg.Topics.DetectState.Name
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil || len(meta.Topics[0].Partitions) == 0 {
		return nil, fmt.Errorf("snapshot topic %s is not available (%v)", topic, meta.Topics)
	}
	return &store{topic: topic, group: group, parts: len(meta.Topics[0].Partitions), chunk: chunk, p: p, client: client,
		log:          log.With().Str("component", "detect-snapshots").Logger(),
		readAttempts: snapshotReadAttempts, readBackoff: snapshotReadBackoff}, nil
}

// home is the state partition of a source partition's snapshots.
func (s *store) home(topic string, partition int) int {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%s/%d", s.group, topic, partition)
	return int(h.Sum32() % uint32(s.parts))
}

// keyAt returns base with the first "#n" suffix that the producer's
// partitioner sends to partition home.
func (s *store) keyAt(base string, home int) []byte {
	parts := make([]int, s.parts)
	for i := range parts {
		parts[i] = i
	}
	var b kafkago.Murmur2Balancer
	for n := 0; ; n++ {
		k := []byte(base + "#" + strconv.Itoa(n))
		if b.Balance(kafkago.Message{Key: k}, parts...) == home {
			return k
		}
	}
}

func (s *store) prefix(kind, topic string, partition int) string {
	return "tw1/" + kind + "/" + s.group + "/" + topic + "/" + strconv.Itoa(partition)
}

func (s *store) manifestKey(topic string, partition int) []byte {
	return s.keyAt(s.prefix("m", topic, partition), s.home(topic, partition))
}

func (s *store) chunkKey(topic string, partition int, id string, i int) []byte {
	return s.keyAt(s.prefix("c", topic, partition)+"/"+id+"/"+strconv.Itoa(i), s.home(topic, partition))
}

// write stores blob as the snapshot of topic/partition at next: chunks,
// then (once acked says the outputs of the messages before next are
// acknowledged) the manifest, then tombstones for prev's chunks. It
// returns the new manifest.
func (s *store) write(ctx context.Context, topic string, partition int, next int64, rules string, blob []byte,
	acked func(context.Context) bool, prev *manifest) (*manifest, error) {
	now := time.Now().UTC()
	m := &manifest{V: 1, ID: strconv.FormatInt(next, 10) + "-" + strconv.FormatInt(now.UnixNano(), 36), Group: s.group,
		Topic: topic, Partition: partition, Next: next, Bytes: len(blob), CRC32C: crc32.Checksum(blob, castagnoli),
		Rules: rules, CreatedAt: now}
	var chunks []kafka.Message
	for off := 0; off < len(blob) || off == 0; off += s.chunk {
		end := min(off+s.chunk, len(blob))
		chunks = append(chunks, kafka.Message{Topic: s.topic, Key: s.chunkKey(topic, partition, m.ID, len(chunks)), Value: blob[off:end]})
		if end == len(blob) {
			break
		}
	}
	m.Chunks = len(chunks)
	if err := s.p.Produce(ctx, chunks...); err != nil {
		s.tombstone(ctx, chunkKeys(chunks))
		return nil, fmt.Errorf("writing snapshot chunks of %s/%d: %w", topic, partition, err)
	}
	if !acked(ctx) {
		s.tombstone(ctx, chunkKeys(chunks))
		return nil, fmt.Errorf("snapshot of %s/%d at %d: outputs not acknowledged: %w", topic, partition, next, context.Cause(ctx))
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := s.p.Produce(ctx, kafka.Message{Topic: s.topic, Key: s.manifestKey(topic, partition), Value: b}); err != nil {
		// The manifest may or may not be stored: leave the chunks (a
		// reader tombstones them if no manifest names them).
		return nil, fmt.Errorf("writing the snapshot manifest of %s/%d: %w", topic, partition, err)
	}
	if prev != nil && prev.ID != m.ID {
		var keys [][]byte
		for i := range prev.Chunks {
			keys = append(keys, s.chunkKey(topic, partition, prev.ID, i))
		}
		s.tombstone(ctx, keys)
	}
	return m, nil
}

func chunkKeys(msgs []kafka.Message) [][]byte {
	keys := make([][]byte, len(msgs))
	for i := range msgs {
		keys[i] = msgs[i].Key
	}
	return keys
}

// tombstone deletes keys (best effort: a leftover chunk is garbage a later
// reader removes, never state).
func (s *store) tombstone(ctx context.Context, keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	msgs := make([]kafka.Message, len(keys))
	for i, k := range keys {
		msgs[i] = kafka.Message{Topic: s.topic, Key: k, Value: nil}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.p.Produce(ctx, msgs...); err != nil {
		s.log.Warn().Err(err).Int("keys", len(keys)).Msg("tombstoning old snapshot chunks failed; a later snapshot read removes them")
	}
}

// read returns the latest complete snapshot of topic/partition and its
// blob, or nil when there is none. It tombstones chunks no manifest names.
// A scan that fails is tried again, up to readAttempts in all; the error
// is the last one's.
func (s *store) read(ctx context.Context, topic string, partition int) (*manifest, []byte, error) {
	failed, wait := 0, s.readBackoff
	for attempt := 0; ; attempt++ {
		m, blob, orphans, err := s.scan(ctx, topic, partition)
		if err != nil {
			if failed++; failed >= s.readAttempts || ctx.Err() != nil {
				return nil, nil, err
			}
			s.log.Warn().Err(err).Str("partition", topic+"/"+strconv.Itoa(partition)).Int("attempt", failed).Dur("retry_in", wait).
				Msg("reading the latest snapshot failed; trying again")
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, ctx.Err()
			case <-t.C:
			}
			wait *= 2
			attempt--
			continue
		}
		if len(orphans) > 0 {
			s.tombstone(ctx, orphans)
		}
		if m == nil || blob != nil {
			return m, blob, nil
		}
		// The manifest names chunks the scan did not find complete: a
		// newer snapshot replaced it during the scan (and compaction took
		// the old chunks). Scan again, once.
		if attempt == 1 {
			s.log.Warn().Str("partition", topic+"/"+strconv.Itoa(partition)).Str("snapshot", m.ID).Msg("latest snapshot is incomplete; ignoring it")
			return nil, nil, nil
		}
	}
}

// scan reads the home partition to its end: the last manifest of
// topic/partition and the chunks still stored.
func (s *store) scan(ctx context.Context, topic string, partition int) (*manifest, []byte, [][]byte, error) {
	home := s.home(topic, partition)
	mpre, cpre := s.prefix("m", topic, partition)+"#", s.prefix("c", topic, partition)+"/"
	resp, err := s.client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{
		s.topic: {kafkago.FirstOffsetOf(home), kafkago.LastOffsetOf(home)},
	}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing offsets of %s/%d: %w", s.topic, home, err)
	}
	var first, end int64
	for _, p := range resp.Topics[s.topic] {
		if p.Partition == home {
			if p.Error != nil {
				return nil, nil, nil, fmt.Errorf("listing offsets of %s/%d: %w", s.topic, home, p.Error)
			}
			first, end = p.FirstOffset, p.LastOffset
		}
	}
	var last *manifest
	chunks := map[string][]byte{}
	for off := first; off < end; {
		f, err := s.client.Fetch(ctx, &kafkago.FetchRequest{Topic: s.topic, Partition: home, Offset: off,
			MinBytes: 1, MaxBytes: 32 << 20, MaxWait: 500 * time.Millisecond})
		if err == nil {
			err = f.Error
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading snapshots from %s/%d at %d: %w", s.topic, home, off, err)
		}
		n := 0
		for {
			r, err := f.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Records.(io.Closer).Close()
				return nil, nil, nil, fmt.Errorf("reading snapshots from %s/%d at %d: %w", s.topic, home, off, err)
			}
			if r.Offset < off {
				continue
			}
			n++
			off = r.Offset + 1
			key, err := kafkago.ReadAll(r.Key)
			if err != nil {
				return nil, nil, nil, err
			}
			k := string(key)
			val, err := kafkago.ReadAll(r.Value)
			if err != nil {
				return nil, nil, nil, err
			}
			switch {
			case strings.HasPrefix(k, mpre):
				last = nil
				if val != nil {
					var m manifest
					if err := json.Unmarshal(val, &m); err != nil || m.V != 1 {
						s.log.Warn().Err(err).Int64("offset", r.Offset).Msg("skipping an unreadable snapshot manifest")
						continue
					}
					last = &m
				}
			case strings.HasPrefix(k, cpre):
				if val == nil {
					delete(chunks, k)
				} else {
					chunks[k] = val
				}
			}
		}
		if c, ok := f.Records.(io.Closer); ok {
			c.Close()
		}
		if n == 0 {
			break // the rest of the log was compacted away
		}
	}
	var orphans [][]byte
	if last == nil {
		for k := range chunks {
			orphans = append(orphans, []byte(k))
		}
		return nil, nil, orphans, nil
	}
	var blob []byte
	complete := true
	mine := map[string]bool{}
	for i := range last.Chunks {
		k := string(s.chunkKey(topic, partition, last.ID, i))
		mine[k] = true
		c, ok := chunks[k]
		if !ok {
			complete = false
			break
		}
		blob = append(blob, c...)
	}
	for k := range chunks {
		if !mine[k] && !strings.HasPrefix(k, cpre+last.ID+"/") {
			orphans = append(orphans, []byte(k))
		}
	}
	if !complete || len(blob) != last.Bytes || crc32.Checksum(blob, castagnoli) != last.CRC32C {
		if complete {
			s.log.Warn().Str("snapshot", last.ID).Msg("snapshot fails its size or checksum; ignoring it")
		}
		return last, nil, orphans, nil
	}
	if blob == nil {
		blob = []byte{}
	}
	return last, blob, orphans, nil
}
