package backtest

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// query reads audit_events for a backtest.
type query struct {
	tenant string
	route  string // extra WHERE condition, or ""
}

// columns are read in this order by scan.fill.
const columns = `id, timestamp, tz_offset_minutes, tenant, person_key,
	source_system, source_id, source_collector, category, action, outcome, reason,
	user_id, user_name, person_id, user_employee_id, user_role, user_department, user_type, user_timezone,
	ifNull(IPv6NumToString(client_ip), ''), client_user_agent, client_device_id, client_session_id, client_access_method,
	geo_country, geo_region, geo_city, geo_lat, geo_lon,
	object_type, object_id, object_name, object_owner_id,
	changes.field, changes.old, changes.new, records, comment, related.type, related.id,
	target_user_id, target_user_name, permission_name, permission_scope, labels`

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

// stream reads the span in the given order, each event once (FINAL folds
// re-delivered copies), calling fn for each.
func (q query) stream(ctx context.Context, st *chstore.Store, from, to time.Time, order string, fn func(*scan) error) error {
	w, args := q.where(from, to)
	rows, err := st.Query(ctx, "SELECT "+columns+" FROM audit_events FINAL WHERE "+w+" ORDER BY "+order, args...)
	if err != nil {
		return fmt.Errorf("reading audit_events: %w", err)
	}
	defer rows.Close()
	s := &scan{}
	dest := s.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reading audit_events: %w", err)
		}
		s.fill()
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading audit_events: %w", err)
	}
	return nil
}

// scan holds one row and the event built from it.
type scan struct {
	ev        event.Event
	personKey string

	ts                                    time.Time
	off                                   int16
	ip                                    string
	lat, lon                              *float64
	records                               *uint64
	chField, chOld, chNew, relType, relID []string
	labels                                map[string]string
	userType                              string
}

func (s *scan) dest() []any {
	e := &s.ev
	return []any{
		&e.ID, &s.ts, &s.off, &e.Tenant, &s.personKey,
		&e.Source.System, &e.Source.ID, &e.Source.Collector, &e.Event.Category, &e.Event.Action, &e.Event.Outcome, &e.Event.Reason,
		&e.User.ID, &e.User.Name, &e.User.PersonID, &e.User.EmployeeID, &e.User.Role, &e.User.Department, &s.userType, &e.User.Timezone,
		&s.ip, &e.Client.UserAgent, &e.Client.DeviceID, &e.Client.SessionID, &e.Client.AccessMethod,
		&e.Client.Geo.Country, &e.Client.Geo.Region, &e.Client.Geo.City, &s.lat, &s.lon,
		&e.Object.Type, &e.Object.ID, &e.Object.Name, &e.Object.OwnerID,
		&s.chField, &s.chOld, &s.chNew, &s.records, &e.Comment, &s.relType, &s.relID,
		&e.TargetUser.ID, &e.TargetUser.Name, &e.Permission.Name, &e.Permission.Scope, &s.labels,
	}
}

// fill completes the event from the row's raw values. Slices are built
// afresh: the engine may keep what it is given until the next event only,
// but a fresh slice costs little and keeps that true whatever it does.
func (s *scan) fill() {
	e := &s.ev
	e.Timestamp = s.ts.In(time.FixedZone("", int(s.off)*60))
	if s.off == 0 {
		e.Timestamp = s.ts.UTC()
	}
	e.User.Type = s.userType
	e.Client.IP = ""
	if a, err := netip.ParseAddr(s.ip); err == nil && s.ip != "" {
		e.Client.IP = a.Unmap().String()
	}
	e.Client.Geo.HasCoords = s.lat != nil && s.lon != nil
	e.Client.Geo.Lat, e.Client.Geo.Lon = 0, 0
	if e.Client.Geo.HasCoords {
		e.Client.Geo.Lat, e.Client.Geo.Lon = *s.lat, *s.lon
	}
	e.HasRecords = s.records != nil
	e.Records = 0
	if s.records != nil {
		e.Records = int64(*s.records)
	}
	e.Changes = nil
	for i := range s.chField {
		if i < len(s.chOld) && i < len(s.chNew) {
			e.Changes = append(e.Changes, event.Change{Field: s.chField[i], Old: s.chOld[i], New: s.chNew[i]})
		}
	}
	e.Related = nil
	for i := range s.relType {
		if i < len(s.relID) {
			e.Related = append(e.Related, event.Related{Type: s.relType[i], ID: s.relID[i]})
		}
	}
	e.Labels = nil
	if len(s.labels) > 0 {
		e.Labels = make(map[string]string, len(s.labels))
		for k, v := range s.labels {
			e.Labels[k] = v
		}
	}
}
