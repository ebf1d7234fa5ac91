package auditrow

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Scanner reads rows selected with SelectList. It reuses its scan
// targets; the zero value is ready.
type Scanner struct {
	ts, ingested time.Time
	ip           *netip.Addr
	lat, lon     *float64
	records      *uint64
	dest         []any
	row          *Row
}

// Scan reads the current row of rows into r (all of r is overwritten).
func (s *Scanner) Scan(rows driver.Rows, r *Row) error {
	*r = Row{}
	if s.row != r || s.dest == nil {
		s.row = r
		s.dest = []any{
			&r.ID, &s.ts, &r.TZOffsetMinutes, &r.Tenant, &r.SourceSystem, &r.SourceID, &r.SourceCollector,
			&r.Category, &r.Action, &r.Outcome, &r.Reason,
			&r.UserID, &r.UserName, &r.PersonID, &r.PersonKey, &r.EmployeeID, &r.UserRole, &r.UserDepartment,
			&r.UserType, &r.UserTimezone, &s.ip, &r.UserAgent, &r.DeviceID, &r.SessionID,
			&r.AccessMethod, &r.GeoCountry, &r.GeoRegion, &r.GeoCity, &s.lat, &s.lon, &r.GeoEnriched,
			&r.ObjectType, &r.ObjectID, &r.ObjectName, &r.ObjectOwnerID,
			&r.ChangeField, &r.ChangeOld, &r.ChangeNew, &s.records, &r.Comment, &r.RelatedType, &r.RelatedID,
			&r.TargetUserID, &r.TargetUserName, &r.PermissionName, &r.PermissionScope, &r.LabelKeys, &r.LabelValues,
			&r.DirRole, &r.DirDepartment, &r.DirManager,
			&s.ingested, &r.Partition, &r.Offset, &r.RowFP, &r.ChainGap, &r.RollupSkip,
		}
	}
	s.ip, s.lat, s.lon, s.records = nil, nil, nil, nil
	if err := rows.Scan(s.dest...); err != nil {
		return fmt.Errorf("reading an audit_events row: %w", err)
	}
	r.TimestampMs = s.ts.UnixMilli()
	r.IngestedAtMs = s.ingested.UnixMilli()
	if s.ip != nil {
		r.ClientIP = netip.AddrFrom16(s.ip.As16())
	}
	if s.lat != nil && s.lon != nil {
		r.GeoLat, r.GeoLon, r.HasCoords = *s.lat, *s.lon, true
	}
	if s.records != nil {
		r.Records, r.HasRecords = *s.records, true
	}
	return nil
}
