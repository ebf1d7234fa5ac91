package sink

import (
	"context"
	"fmt"
	"hash/maphash"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Counting each event once in the roll-ups.
//
// The roll-up tables are fed by materialized views, which see every
// inserted row. audit_events keeps a row per Kafka position, so an event
// is inserted twice when a batch the sink stored was delivered again
// before its offsets were committed (a crash, a rebalance), or when a
// collector sent the same event twice. The sink remembers the ids it
// stored most recently, per partition, and marks a row whose id it has
// already stored with rollup_skip; the views count only rows without it
// (migration 0009). After a crash or when a partition moves to this sink,
// the memory is reloaded from ClickHouse (the last ids stored in that
// partition), so a batch stored but not committed is recognised when it
// comes again. A resend more than the remembered count of ids later is
// counted again: that bound is sink.rollup_dedup_ids per partition.

// partKey names a partition of a topic.
type partKey struct {
	topic     string
	partition int32
}

// recentIDs is, per partition, the set of the last ids stored, in order.
type recentIDs struct {
	seed  maphash.Seed
	per   int // ids kept per partition
	parts map[partKey]*idRing
	// next is, per partition, the offset after the last batch adopted; a
	// batch that does not start there means the memory may be stale.
	next map[partKey]int64
}

func newRecentIDs(per int) *recentIDs {
	return &recentIDs{seed: maphash.MakeSeed(), per: per, parts: map[partKey]*idRing{}, next: map[partKey]int64{}}
}

// key is the memory's key of an id of tenant.
func (r *recentIDs) key(tenant, id string) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(id)
	return h.Sum64()
}

// continues reports whether a batch whose first offset in p is first
// follows the last one adopted there.
func (r *recentIDs) continues(p partKey, first int64) bool {
	next, ok := r.next[p]
	return ok && next == first
}

// has reports whether the id keyed k was stored in p lately.
func (r *recentIDs) has(p partKey, k uint64) bool {
	ring := r.parts[p]
	if ring == nil {
		return false
	}
	_, ok := ring.set[k]
	return ok
}

// reset replaces p's memory with keys, oldest first.
func (r *recentIDs) reset(p partKey, keys []uint64) {
	ring := newIDRing(r.per)
	for _, k := range keys {
		ring.add(k)
	}
	r.parts[p] = ring
	delete(r.next, p)
}

// adopt adds the keys of a stored batch (oldest first) to p's memory and
// notes where the next batch should start.
func (r *recentIDs) adopt(p partKey, keys []uint64, next int64) {
	ring := r.parts[p]
	if ring == nil {
		ring = newIDRing(r.per)
		r.parts[p] = ring
	}
	for _, k := range keys {
		ring.add(k)
	}
	r.next[p] = next
}

// idRing is a set of at most len(ring) keys that forgets the oldest.
type idRing struct {
	set  map[uint64]struct{}
	ring []uint64
	max  int // keys kept
	n    int // keys added, total
}

func newIDRing(capacity int) *idRing {
	return &idRing{set: map[uint64]struct{}{}, max: max(capacity, 1)}
}

func (r *idRing) add(k uint64) {
	if _, ok := r.set[k]; ok {
		return
	}
	if len(r.ring) < r.max {
		r.ring = append(r.ring, k)
	} else {
		i := r.n % r.max
		delete(r.set, r.ring[i])
		r.ring[i] = k
	}
	r.set[k] = struct{}{}
	r.n++
}

// seedQueries read the ids last stored in a partition, newest first.
var seedQueries = map[string]string{
	"audit_events": `SELECT tenant, id FROM audit_events
		WHERE kafka_partition = {p:Int32} AND kafka_offset >= {from:Int64}
		ORDER BY kafka_offset DESC LIMIT {n:UInt64}`,
	"alerts": `SELECT tenant, id FROM alerts
		WHERE kafka_partition = {p:Int32} AND kafka_offset >= {from:Int64}
		ORDER BY kafka_offset DESC LIMIT {n:UInt64}`,
}

// reload replaces p's memory with the ids table holds from p's last
// positions before first and from every position after it (a batch
// stored but not committed).
func (s *Sink) reload(ctx context.Context, r *recentIDs, table string, p partKey, first int64) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"p": fmt.Sprint(p.partition), "from": fmt.Sprint(max(first-int64(r.per), 0)), "n": fmt.Sprint(r.per),
	}))
	rows, err := s.st.Query(ctx, seedQueries[table])
	if err != nil {
		return fmt.Errorf("reading the ids %s holds of partition %d: %w", table, p.partition, err)
	}
	defer rows.Close()
	var keys []uint64
	var tenant, id string
	for rows.Next() {
		if err := rows.Scan(&tenant, &id); err != nil {
			return fmt.Errorf("reading the ids %s holds of partition %d: %w", table, p.partition, err)
		}
		keys = append(keys, r.key(tenant, id))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the ids %s holds of partition %d: %w", table, p.partition, err)
	}
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	r.reset(p, keys)
	s.m.reloads.WithLabelValues(table).Inc()
	return nil
}
