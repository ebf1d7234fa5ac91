package integrity

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// Problem kinds Verify reports.
const (
	Changed    = "changed"    // a row's content no longer matches what was chained
	Deleted    = "deleted"    // a chained row is missing
	Inserted   = "inserted"   // a row that is not part of the chain
	Rewritten  = "rewritten"  // rows no longer fold to their signed checkpoint, though each row looks consistent
	BadCheckpt = "checkpoint" // a checkpoint whose signature fails, or whose predecessor is gone
)

// Problem is one thing Verify found wrong.
type Problem struct {
	Kind      string `json:"kind"`
	Tenant    string `json:"tenant"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	ID        string `json:"id,omitempty"` // the row's event id, when the row is there to say it
	Detail    string `json:"detail"`
}

func (p Problem) String() string {
	id := ""
	if p.ID != "" {
		id = " id " + p.ID
	}
	return fmt.Sprintf("%s: partition %d offset %d%s: %s", p.Kind, p.Partition, p.Offset, id, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Tenant      string    `json:"tenant"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Checkpoints int       `json:"checkpoints_verified"`
	Rows        int       `json:"rows_verified"`
	// Unsigned counts rows in the window after the last checkpoint of
	// their partition: their links were checked, but no signature covers
	// them yet.
	Unsigned int `json:"rows_not_yet_checkpointed"`
	// Expired counts missing rows in segments older than the retention
	// horizon, which retention may have deleted.
	Expired  int       `json:"rows_missing_past_retention"`
	Problems []Problem `json:"problems"`
}

// Options tune Verify.
type Options struct {
	// Keys are the public keys checkpoints may be signed with, by KeyID.
	Keys map[string]ed25519.PublicKey
	// Horizon is the retention horizon: a row missing from a segment with
	// events older than it may have expired, and is counted, not reported.
	// Zero: nothing expires.
	Horizon time.Time
}

// segment is the rows a checkpoint vouches for.
type segment struct {
	partition int32
	prev, at  Point
	tsMin     time.Time
}

// Verify recomputes the chains of tenant's events from ClickHouse and
// checks them against the signed checkpoints, for every checkpoint segment
// that holds events with times in [from, to] (whole segments are checked,
// so a few rows outside the window are read too), and the links of rows in
// the window after the last checkpoint.
func Verify(ctx context.Context, st *chstore.Store, tenant string, from, to time.Time, opts Options) (Report, error) {
	rep := Report{Tenant: tenant, From: from, To: to}
	cps, err := Checkpoints(ctx, st, tenant)
	if err != nil {
		return rep, err
	}
	// Valid checkpoints, by partition.
	byPart := map[int32][]Checkpoint{}
	for _, c := range cps {
		if err := c.CheckSignature(opts.Keys); err != nil {
			rep.Problems = append(rep.Problems, Problem{Kind: BadCheckpt, Tenant: tenant, Partition: c.Partition, Offset: c.At.Offset, Detail: err.Error()})
			continue
		}
		byPart[c.Partition] = append(byPart[c.Partition], c)
	}
	selected := map[[3]int64]segment{}
	for p, list := range byPart {
		points := map[Point]bool{Genesis: true}
		for _, c := range list {
			points[c.At] = true
		}
		for _, c := range list {
			if !points[c.Prev] {
				rep.Problems = append(rep.Problems, Problem{Kind: BadCheckpt, Tenant: tenant, Partition: p, Offset: c.Prev.Offset,
					Detail: fmt.Sprintf("the checkpoint at offset %d extends a checkpoint at offset %d that is gone", c.At.Offset, c.Prev.Offset)})
			}
			if !c.TsMax.Before(from) && !c.TsMin.After(to) {
				selected[segKey(p, c)] = segment{p, c.Prev, c.At, c.TsMin}
			}
		}
	}

	// Rows in the window: each must lie in a checkpointed segment (then
	// that segment is checked) or after the last checkpoint.
	type pos struct {
		p   int32
		off int64
		id  string
	}
	var window []pos
	pctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "from": from.UTC().Format("2006-01-02 15:04:05.000"), "to": to.UTC().Format("2006-01-02 15:04:05.000"),
	}))
	rows, err := st.Query(pctx, `SELECT kafka_partition, kafka_offset, id FROM audit_events
		WHERE tenant = {t:String} AND timestamp BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')}`)
	if err != nil {
		return rep, fmt.Errorf("reading the window's rows: %w", err)
	}
	for rows.Next() {
		var x pos
		if err := rows.Scan(&x.p, &x.off, &x.id); err != nil {
			rows.Close()
			return rep, err
		}
		window = append(window, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	tails := map[int32]bool{}
	for _, x := range window {
		list := byPart[x.p]
		last := Genesis
		found := false
		for _, c := range list {
			if c.At.Offset > last.Offset {
				last = c.At
			}
			if x.off > c.Prev.Offset && x.off <= c.At.Offset {
				selected[segKey(x.p, c)] = segment{x.p, c.Prev, c.At, c.TsMin}
				found = true
			}
		}
		switch {
		case found:
		case x.off > last.Offset:
			tails[x.p] = true
		default:
			rep.Problems = append(rep.Problems, Problem{Kind: Inserted, Tenant: tenant, Partition: x.p, Offset: x.off, ID: x.id,
				Detail: "the row lies in no checkpointed range of its partition"})
		}
	}

	keys := make([][3]int64, 0, len(selected))
	for k := range selected {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][2] < keys[j][2]
	})
	for _, k := range keys {
		sg := selected[k]
		rs, err := readRows(ctx, st, tenant, sg.partition, sg.prev.Offset, sg.at.Offset)
		if err != nil {
			return rep, err
		}
		expired := !opts.Horizon.IsZero() && sg.tsMin.Before(opts.Horizon)
		probs, missing := checkSegment(tenant, sg, rs)
		for _, pr := range probs {
			if expired && pr.Kind == Deleted {
				rep.Expired++
				continue
			}
			rep.Problems = append(rep.Problems, pr)
		}
		if expired {
			rep.Expired += missing
		}
		rep.Checkpoints++
		rep.Rows += len(rs)
	}
	for p := range tails {
		last := Genesis
		for _, c := range byPart[p] {
			if c.At.Offset > last.Offset {
				last = c.At
			}
		}
		rs, err := readRows(ctx, st, tenant, p, last.Offset, -1)
		if err != nil {
			return rep, err
		}
		rep.Problems = append(rep.Problems, checkTail(tenant, p, last, rs)...)
		rep.Unsigned += len(rs)
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset < b.Offset
	})
	return rep, nil
}

func segKey(p int32, c Checkpoint) [3]int64 { return [3]int64{int64(p), c.Prev.Offset, c.At.Offset} }

// readRows reads tenant's rows of partition in (after, upTo] (upTo < 0:
// no upper bound), in offset order.
func readRows(ctx context.Context, st *chstore.Store, tenant string, partition int32, after, upTo int64) ([]auditrow.Row, error) {
	q := `SELECT ` + auditrow.SelectList + ` FROM audit_events
		WHERE tenant = {t:String} AND kafka_partition = {p:Int32} AND kafka_offset > {a:Int64}`
	if upTo >= 0 {
		q += ` AND kafka_offset <= {b:Int64}`
	}
	q += ` ORDER BY kafka_offset`
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "p": fmt.Sprint(partition), "a": fmt.Sprint(after), "b": fmt.Sprint(upTo),
	}))
	rows, err := st.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading rows of %s partition %d: %w", tenant, partition, err)
	}
	defer rows.Close()
	var sc auditrow.Scanner
	var out []auditrow.Row
	for rows.Next() {
		var r auditrow.Row
		if err := sc.Scan(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
