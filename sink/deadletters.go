package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// StageUnreadable is the stage of a dead_letters row whose record was not
// a dead-letter record at all.
const StageUnreadable = "unreadable"

// maxTenantLen bounds a tenant read from a rejected input's bytes.
const maxTenantLen = 128

// deadRow is one dead_letters row.
type deadRow struct {
	tenant, stage, reason, field   string
	source, collector, topic, file string
	partition                      int32
	offset                         int64
	line                           uint32
	receivedAt                     time.Time
	rawSize                        uint64
	rawSHA256                      string
	raw                            []byte
	truncated                      bool
	ingested                       time.Time
	kafkaPartition                 int32
	kafkaOffset                    int64
}

// decodeDeadLetter turns a dead-letter record into a row: its input masked
// (the tracking policy's fields, tracking.Filter.MaskRaw, then shadow data,
// shadow.MaskRaw) and cut to dead_letter_raw_bytes. A record that is not
// one is stored too, as a row of stage unreadable with its bytes masked as
// the input: it is never dead-lettered again, which would loop.
func (s *Sink) decodeDeadLetter(b *batch, m *kafka.Message) {
	r := deadRow{partition: -1, offset: -1, ingested: m.Time, kafkaPartition: int32(m.Partition), kafkaOffset: m.Offset}
	rec, err := deadletter.Decode(m.Value)
	var raw []byte
	if err == nil {
		raw, err = rec.Bytes()
	}
	if err != nil {
		r.stage, r.reason = StageUnreadable, deadletter.RedactReason("not a dead-letter record: "+err.Error())
		r.receivedAt, raw = m.Time, m.Value
		sum := sha256.Sum256(raw)
		r.rawSize, r.rawSHA256 = uint64(len(raw)), hex.EncodeToString(sum[:])
	} else {
		o := rec.Origin
		r.tenant, r.stage, r.reason, r.field = o.Tenant, rec.Stage, deadletter.RedactReason(rec.Reason), rec.Field
		r.source, r.collector, r.topic, r.file, r.line = o.Source, o.Collector, o.Topic, o.File, uint32(max(o.Line, 0))
		if o.Partition != nil {
			r.partition = int32(*o.Partition)
		}
		if o.Offset != nil {
			r.offset = *o.Offset
		}
		r.receivedAt, r.rawSize, r.rawSHA256, r.truncated = rec.ReceivedAt, uint64(rec.RawSize), rec.RawSHA256, rec.RawTruncated
	}
	if r.tenant == "" {
		r.tenant = tenantOf(raw)
	}
	// The tracking policy's masked and removed fields first: where it
	// cannot be applied, none of the bytes are kept (raw_size and
	// raw_sha256 still describe them).
	if masked, ok := s.track.MaskRaw(raw); ok {
		raw = masked
	} else {
		raw, r.truncated = nil, true
	}
	raw = shadow.MaskRaw(raw)
	if n := s.cfg.DeadLetterRawBytes; len(raw) > n {
		cut := n
		if utf8.Valid(raw) {
			for cut > 0 && !utf8.RuneStart(raw[cut]) {
				cut--
			}
		}
		// Masked again: a cut can turn the tail of a longer number, which
		// the scan rightly left alone, into something card-shaped.
		raw, r.truncated = shadow.MaskRaw(raw[:cut]), true
	}
	r.raw = raw
	b.dead = append(b.dead, r)
}

// tenantOf is the top-level tenant of a JSON object, or "".
func tenantOf(raw []byte) string {
	var v struct {
		Tenant string `json:"tenant"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &v) != nil || len(v.Tenant) > maxTenantLen || !utf8.ValidString(v.Tenant) {
		return ""
	}
	return v.Tenant
}

func (s *Sink) insertDeadLetters(ctx context.Context, rows []deadRow, token string) error {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	b, err := s.st.PrepareBatch(insertSettings(ctx, token), `INSERT INTO dead_letters (tenant, stage, reason, field, source,
		collector, origin_topic, origin_partition, origin_offset, origin_file, origin_line, received_at, raw_size, raw_sha256,
		raw, raw_truncated, ingested_at, kafka_partition, kafka_offset)`)
	if err != nil {
		return fmt.Errorf("preparing the dead_letters insert: %w", err)
	}
	for _, r := range rows {
		if err := b.Append(r.tenant, r.stage, r.reason, r.field, r.source, r.collector, r.topic, r.partition, r.offset,
			r.file, r.line, r.receivedAt.UTC(), r.rawSize, r.rawSHA256, string(r.raw), r.truncated, r.ingested.UTC(),
			r.kafkaPartition, r.kafkaOffset); err != nil {
			_ = b.Abort()
			return fmt.Errorf("dead letter at %d/%d: %w", r.kafkaPartition, r.kafkaOffset, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d dead letters: %w", len(rows), err)
	}
	s.m.insertTime.WithLabelValues("dead_letters").Observe(time.Since(start).Seconds())
	s.m.rows.WithLabelValues("dead_letters").Add(float64(len(rows)))
	return nil
}
