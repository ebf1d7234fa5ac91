package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

// EventStore writes records to audit_events.
type EventStore struct {
	st *chstore.Store
}

// NewEventStore writes through st.
func NewEventStore(st *chstore.Store) *EventStore { return &EventStore{st: st} }

// Write inserts recs as one batch. token identifies the batch (its topic,
// partitions and offsets): ClickHouse drops a second insert with the same
// token, so a batch retried after a lost acknowledgement is not stored
// twice (audit_events keeps a deduplication window for that).
func (w *EventStore) Write(ctx context.Context, recs []Record, token string) error {
	if len(recs) == 0 {
		return nil
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token": token,
	}))
	b, err := w.st.PrepareBatch(ctx, eventInsert)
	if err != nil {
		return fmt.Errorf("preparing audit_events batch: %w", err)
	}
	for i := range recs {
		if err := b.Append(eventValues(&recs[i])...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("event %s: %w", recs[i].Event.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d events: %w", len(recs), err)
	}
	return nil
}

// BatchToken names a batch by the Kafka positions it covers: topic, and
// per partition the first and last offset.
func BatchToken(topic string, ranges map[int32][2]int64) string {
	parts := make([]int32, 0, len(ranges))
	for p := range ranges {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	h := sha256.New()
	h.Write([]byte(topic))
	for _, p := range parts {
		r := ranges[p]
		h.Write([]byte("|" + strconv.Itoa(int(p)) + ":" + strconv.FormatInt(r[0], 10) + "-" + strconv.FormatInt(r[1], 10)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
