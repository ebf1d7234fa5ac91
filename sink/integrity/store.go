package integrity

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// State is a chain's state as the sink keeps it and integrity_heads
// records it: where the chain is, the checkpoint it extends, and the
// event-time span of the rows since that checkpoint (meaningful when
// At.Rows > Cp.Rows).
type State struct {
	Tenant    string
	Partition int32
	At        Point
	Cp        Point
	SegMin    time.Time
	SegMax    time.Time
}

// NoTime stands for "no event time yet" in a segment's span (the Unix
// epoch, which ClickHouse stores and returns as it is).
var NoTime = time.UnixMilli(0).UTC()

// NewState is the state of a chain with no rows.
func NewState(tenant string, partition int32) State {
	return State{Tenant: tenant, Partition: partition, At: Genesis, Cp: Genesis, SegMin: NoTime, SegMax: NoTime}
}

// Add extends the state by one row at offset with hash h and event time
// ts.
func (s *State) Add(offset int64, h [auditrow.HashSize]byte, ts time.Time) {
	s.At.Head = auditrow.Fold(s.At.Head, offset, h)
	s.At.Offset = offset
	s.At.Rows++
	if s.At.Rows == s.Cp.Rows+1 || ts.Before(s.SegMin) {
		s.SegMin = ts
	}
	if s.At.Rows == s.Cp.Rows+1 || ts.After(s.SegMax) {
		s.SegMax = ts
	}
}

// Checkpointed moves the segment start to the current point, after a
// checkpoint of it was stored.
func (s *State) Checkpointed() {
	s.Cp = s.At
	s.SegMin, s.SegMax = NoTime, NoTime
}

// Checkpoint is the unsigned checkpoint of s's current point.
func (s *State) Checkpoint(now time.Time) Checkpoint {
	return Checkpoint{Tenant: s.Tenant, Partition: s.Partition, At: s.At, Prev: s.Cp, TsMin: s.SegMin, TsMax: s.SegMax, SignedAt: now}
}

// InsertHeads records states in integrity_heads. token makes a retried
// insert a no-op.
func InsertHeads(ctx context.Context, st *chstore.Store, states []State, token string) error {
	if len(states) == 0 {
		return nil
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_deduplication_token": token}))
	b, err := st.PrepareBatch(ctx, `INSERT INTO integrity_heads (tenant, kafka_partition, kafka_offset, head, rows,
		cp_offset, cp_head, cp_rows, seg_ts_min, seg_ts_max, written_at)`)
	if err != nil {
		return fmt.Errorf("preparing integrity_heads insert: %w", err)
	}
	now := time.Now().UTC()
	for _, s := range states {
		if err := b.Append(s.Tenant, s.Partition, s.At.Offset, Hex(s.At.Head), s.At.Rows,
			s.Cp.Offset, Hex(s.Cp.Head), s.Cp.Rows, s.SegMin, s.SegMax, now); err != nil {
			_ = b.Abort()
			return fmt.Errorf("integrity head of %s/%d: %w", s.Tenant, s.Partition, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d integrity heads: %w", len(states), err)
	}
	return nil
}

// InsertCheckpoints writes signed checkpoints.
func InsertCheckpoints(ctx context.Context, st *chstore.Store, cps []Checkpoint) error {
	if len(cps) == 0 {
		return nil
	}
	b, err := st.PrepareBatch(ctx, `INSERT INTO integrity_checkpoints (tenant, kafka_partition, kafka_offset, head, rows,
		prev_offset, prev_head, prev_rows, ts_min, ts_max, signed_at, key_id, signature)`)
	if err != nil {
		return fmt.Errorf("preparing integrity_checkpoints insert: %w", err)
	}
	for _, c := range cps {
		if err := b.Append(c.Tenant, c.Partition, c.At.Offset, Hex(c.At.Head), c.At.Rows,
			c.Prev.Offset, Hex(c.Prev.Head), c.Prev.Rows, c.TsMin, c.TsMax, c.SignedAt, c.KeyID, hex.EncodeToString(c.Signature)); err != nil {
			_ = b.Abort()
			return fmt.Errorf("checkpoint of %s/%d: %w", c.Tenant, c.Partition, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d checkpoints: %w", len(cps), err)
	}
	return nil
}

const checkpointColumns = `tenant, kafka_partition, kafka_offset, head, rows, prev_offset, prev_head, prev_rows,
	ts_min, ts_max, signed_at, key_id, signature`

func scanCheckpoint(scan func(...any) error) (Checkpoint, error) {
	var c Checkpoint
	var head, prevHead, sig string
	if err := scan(&c.Tenant, &c.Partition, &c.At.Offset, &head, &c.At.Rows, &c.Prev.Offset, &prevHead, &c.Prev.Rows,
		&c.TsMin, &c.TsMax, &c.SignedAt, &c.KeyID, &sig); err != nil {
		return c, err
	}
	var err error
	if c.At.Head, err = ParseHead(head); err != nil {
		return c, fmt.Errorf("checkpoint %s/%d@%d head: %w", c.Tenant, c.Partition, c.At.Offset, err)
	}
	if c.Prev.Head, err = ParseHead(prevHead); err != nil {
		return c, fmt.Errorf("checkpoint %s/%d@%d prev_head: %w", c.Tenant, c.Partition, c.At.Offset, err)
	}
	if c.Signature, err = hex.DecodeString(sig); err != nil {
		return c, fmt.Errorf("checkpoint %s/%d@%d signature: %w", c.Tenant, c.Partition, c.At.Offset, err)
	}
	return c, nil
}

// Resume returns the state a sink resumes the chain of tenant in
// partition from, before offset: the later of the last head and the last
// checkpoint below offset, or the start of the chain. A checkpoint at the
// same offset as the head wins (its segment starts there).
func Resume(ctx context.Context, st *chstore.Store, tenant string, partition int32, offset int64) (State, error) {
	s := NewState(tenant, partition)
	params := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "p": fmt.Sprint(partition), "o": fmt.Sprint(offset),
	}))
	var headOK bool
	row := st.Conn().QueryRow(params, `SELECT kafka_offset, head, rows, cp_offset, cp_head, cp_rows, seg_ts_min, seg_ts_max
		FROM integrity_heads WHERE tenant = {t:String} AND kafka_partition = {p:Int32} AND kafka_offset < {o:Int64}
		ORDER BY kafka_offset DESC LIMIT 1`)
	var head, cpHead string
	switch err := row.Scan(&s.At.Offset, &head, &s.At.Rows, &s.Cp.Offset, &cpHead, &s.Cp.Rows, &s.SegMin, &s.SegMax); {
	case err == nil:
		var e1, e2 error
		s.At.Head, e1 = ParseHead(head)
		s.Cp.Head, e2 = ParseHead(cpHead)
		if e1 != nil || e2 != nil {
			return s, fmt.Errorf("integrity head of %s/%d@%d is corrupt: %v %v", tenant, partition, s.At.Offset, e1, e2)
		}
		headOK = true
	case isNoRows(err):
	default:
		return s, fmt.Errorf("reading the chain head of %s/%d: %w", tenant, partition, err)
	}
	rows, err := st.Query(params, `SELECT `+checkpointColumns+` FROM integrity_checkpoints
		WHERE tenant = {t:String} AND kafka_partition = {p:Int32} AND kafka_offset < {o:Int64}
		ORDER BY kafka_offset DESC LIMIT 1`)
	if err != nil {
		return s, fmt.Errorf("reading the last checkpoint of %s/%d: %w", tenant, partition, err)
	}
	defer rows.Close()
	if rows.Next() {
		c, err := scanCheckpoint(rows.Scan)
		if err != nil {
			return s, err
		}
		if !headOK || c.At.Offset >= s.At.Offset {
			s.At, s.Cp = c.At, c.At
			s.SegMin, s.SegMax = NoTime, NoTime
		}
	}
	return s, rows.Err()
}

// Checkpoints returns every checkpoint of tenant, by partition and offset.
func Checkpoints(ctx context.Context, st *chstore.Store, tenant string) ([]Checkpoint, error) {
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"t": chstore.StringParam(tenant)}))
	rows, err := st.Query(ctx, `SELECT `+checkpointColumns+` FROM integrity_checkpoints FINAL
		WHERE tenant = {t:String} ORDER BY kafka_partition, kafka_offset, prev_offset`)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func isNoRows(err error) bool { return err != nil && errors.Is(err, sql.ErrNoRows) }
