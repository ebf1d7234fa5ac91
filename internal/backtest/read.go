package backtest

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// query reads audit_events for a backtest.
type query struct {
	tenant string
	route  string // extra WHERE condition, or ""
}

func (q query) where(from, to time.Time) (string, []any) {
	w := "timestamp >= parseDateTime64BestEffort({from:String}, 3, 'UTC') AND timestamp < parseDateTime64BestEffort({to:String}, 3, 'UTC')"
	args := []any{clickhouse.Named("from", from.UTC().Format("2006-01-02T15:04:05.000Z")), clickhouse.Named("to", to.UTC().Format("2006-01-02T15:04:05.000Z"))}
	if q.tenant != "" {
		w += " AND tenant = {tenant:String}"
		args = append(args, clickhouse.Named("tenant", q.tenant))
	}
	if q.route != "" {
		w += " AND " + q.route
	}
	return w, args
}

// count is the number of rows in the span (before deduplication: for the
// progress bar only).
func (q query) count(ctx context.Context, st *chstore.Store, from, to time.Time) (int64, error) {
	w, args := q.where(from, to)
	var n uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM audit_events WHERE "+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting audit_events: %w", err)
	}
	return int64(n), nil
}

// stream reads the span in the given order, each event once, calling fn
// for each. audit_events keeps one row per log position, so an event a
// collector sent twice is there twice: LIMIT 1 BY id keeps its first row
// in the order read (docs/STORAGE.md, "Reading without double counting").
func (q query) stream(ctx context.Context, st *chstore.Store, from, to time.Time, order string, fn func(*scan) error) error {
	w, args := q.where(from, to)
	rows, err := st.Query(ctx, "SELECT "+auditrow.SelectList+" FROM audit_events WHERE "+w+" ORDER BY "+order+" LIMIT 1 BY id", args...)
	if err != nil {
		return fmt.Errorf("reading audit_events: %w", err)
	}
	defer rows.Close()
	s := &scan{}
	var sc auditrow.Scanner
	for rows.Next() {
		if err := sc.Scan(rows, &s.row); err != nil {
			return err
		}
		s.ev = s.row.ToEvent()
		s.personKey = s.row.PersonKey
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading audit_events: %w", err)
	}
	return nil
}

// scan holds one row and the event rebuilt from it, as the source gave it
// (the detector never sees the sink's enrichment).
type scan struct {
	row       auditrow.Row
	ev        event.Event
	personKey string
}
