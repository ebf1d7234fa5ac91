package auditrow

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// columnNames are audit_events' stored columns, in the order Columns
// appends them and Scan reads them.
var columnNames = []string{
	"id", "timestamp", "tz_offset_minutes", "tenant", "source_system", "source_id", "source_collector",
	"category", "action", "outcome", "reason",
	"user_id", "user_name", "person_id", "person_key", "user_employee_id", "user_role", "user_department",
	"user_type", "user_timezone", "client_ip", "client_user_agent", "client_device_id", "client_session_id",
	"client_access_method", "geo_country", "geo_region", "geo_city", "geo_lat", "geo_lon", "geo_enriched",
	"object_type", "object_id", "object_name", "object_owner_id",
	"change_field", "change_old", "change_new", "records", "comment", "related_type", "related_id",
	"target_user_id", "target_user_name", "permission_name", "permission_scope", "label_keys", "label_values",
	"dir_role", "dir_department", "dir_manager",
	"ingested_at", "kafka_partition", "kafka_offset", "row_fp", "chain_gap", "rollup_skip",
}

// wireTypes are the types a Columns batch sends audit_events' columns
// as: the table's own, except that LowCardinality columns go as their
// plain type and the engine builds the dictionaries (Native input
// converts types to the table's). clickhouse-go's LowCardinality column
// appends row by row through reflection and a map keyed by interface
// values; it cost more than the rest of the batch's columns together
// (docs/PERFORMANCE.md). Giving the types also spares a DESCRIBE TABLE
// per insert. TestWireTypes holds them to the migrated table.
var wireTypes = []string{
	"String", "DateTime64(3, 'UTC')", "Int16", "String", "String", "String", "String",
	"String", "String", "String", "String",
	"String", "String", "String", "String", "String", "String", "String",
	"String", "String", "Nullable(IPv6)", "String", "String", "String",
	"String", "String", "String", "String", "Nullable(Float64)", "Nullable(Float64)", "Bool",
	"String", "String", "String", "String",
	"Array(String)", "Array(String)", "Array(String)", "Nullable(UInt64)", "String", "Array(String)", "Array(String)",
	"String", "String", "String", "String", "Array(String)", "Array(String)",
	"String", "String", "String",
	"DateTime64(3, 'UTC')", "Int32", "Int64", "UInt64", "UInt64", "Bool",
}

var wireColumns = func() []clickhouse.ColumnNameAndType {
	cs := make([]clickhouse.ColumnNameAndType, len(columnNames))
	for i, n := range columnNames {
		cs[i] = clickhouse.ColumnNameAndType{Name: n, Type: wireTypes[i]}
	}
	return cs
}()

// InsertContext is ctx with what PrepareBatch(ctx, Insert) needs to
// build a Columns batch: the column types it sends.
func InsertContext(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithColumnNamesAndTypes(wireColumns))
}

// Insert is the INSERT statement for a Columns batch.
var Insert = "INSERT INTO audit_events (" + strings.Join(columnNames, ", ") + ")"

// SelectList is the column list that Scan reads, for SELECT statements.
var SelectList = strings.Join(columnNames, ", ")

// Columns accumulates rows column by column, so a batch is appended to
// clickhouse-go with one typed slice per column rather than by reflection
// over each row. Reset reuses its memory.
type Columns struct {
	n    int
	strs [nStrCols][]string
	arrs [nArrCols][][]string
	// arena holds the elements of the array columns; rows' slices point
	// into it, so a batch allocates per batch, not per row.
	arena       []string
	ts, ingest  []int64
	tz          []int16
	partition   []int32
	offset      []int64
	fp, gap     []uint64
	enriched    []bool
	skip        []bool
	ip          []*netip.Addr
	ipVals      []netip.Addr
	lat, lon    []*float64
	latV, lonV  []float64
	records     []*uint64
	recordsVals []uint64
	has         []uint8 // presence bits of the nullable values
}

// The string columns, in the order of strCol.
const (
	cID = iota
	cTenant
	cSourceSystem
	cSourceID
	cSourceCollector
	cCategory
	cAction
	cOutcome
	cReason
	cUserID
	cUserName
	cPersonID
	cPersonKey
	cEmployeeID
	cUserRole
	cUserDepartment
	cUserType
	cUserTimezone
	cUserAgent
	cDeviceID
	cSessionID
	cAccessMethod
	cGeoCountry
	cGeoRegion
	cGeoCity
	cObjectType
	cObjectID
	cObjectName
	cObjectOwnerID
	cComment
	cTargetUserID
	cTargetUserName
	cPermissionName
	cPermissionScope
	cDirRole
	cDirDepartment
	cDirManager
	nStrCols
)

const (
	aChangeField = iota
	aChangeOld
	aChangeNew
	aRelatedType
	aRelatedID
	aLabelKeys
	aLabelValues
	nArrCols
)

// Len is the number of rows appended since the last Reset.
func (c *Columns) Len() int { return c.n }

// Reset empties c, keeping its memory.
func (c *Columns) Reset() {
	c.n = 0
	for i := range c.strs {
		clear(c.strs[i])
		c.strs[i] = c.strs[i][:0]
	}
	for i := range c.arrs {
		clear(c.arrs[i])
		c.arrs[i] = c.arrs[i][:0]
	}
	clear(c.arena)
	c.arena = c.arena[:0]
	c.ts, c.ingest, c.tz = c.ts[:0], c.ingest[:0], c.tz[:0]
	c.partition, c.offset, c.fp, c.gap = c.partition[:0], c.offset[:0], c.fp[:0], c.gap[:0]
	c.enriched, c.skip = c.enriched[:0], c.skip[:0]
	c.ip, c.ipVals = c.ip[:0], c.ipVals[:0]
	c.lat, c.lon, c.latV, c.lonV = c.lat[:0], c.lon[:0], c.latV[:0], c.lonV[:0]
	c.records, c.recordsVals = c.records[:0], c.recordsVals[:0]
	c.has = c.has[:0]
}

// Append adds r. The strings are kept, not copied.
func (c *Columns) Append(r *Row) {
	c.n++
	for i, s := range [nStrCols]string{
		r.ID, r.Tenant, r.SourceSystem, r.SourceID, r.SourceCollector, r.Category, r.Action, r.Outcome, r.Reason,
		r.UserID, r.UserName, r.PersonID, r.PersonKey, r.EmployeeID, r.UserRole, r.UserDepartment, r.UserType, r.UserTimezone,
		r.UserAgent, r.DeviceID, r.SessionID, r.AccessMethod, r.GeoCountry, r.GeoRegion, r.GeoCity,
		r.ObjectType, r.ObjectID, r.ObjectName, r.ObjectOwnerID, r.Comment, r.TargetUserID, r.TargetUserName,
		r.PermissionName, r.PermissionScope, r.DirRole, r.DirDepartment, r.DirManager,
	} {
		c.strs[i] = append(c.strs[i], s)
	}
	for i, a := range [nArrCols][]string{r.ChangeField, r.ChangeOld, r.ChangeNew, r.RelatedType, r.RelatedID, r.LabelKeys, r.LabelValues} {
		var v []string
		if len(a) > 0 {
			start := len(c.arena)
			c.arena = append(c.arena, a...)
			v = c.arena[start:len(c.arena):len(c.arena)]
		}
		c.arrs[i] = append(c.arrs[i], v)
	}
	c.ts = append(c.ts, r.TimestampMs)
	c.ingest = append(c.ingest, r.IngestedAtMs)
	c.tz = append(c.tz, r.TZOffsetMinutes)
	c.partition = append(c.partition, r.Partition)
	c.offset = append(c.offset, r.Offset)
	c.fp = append(c.fp, r.RowFP)
	c.gap = append(c.gap, r.ChainGap)
	c.enriched = append(c.enriched, r.GeoEnriched)
	c.skip = append(c.skip, r.RollupSkip)
	c.ipVals = append(c.ipVals, r.ClientIP)
	c.latV = append(c.latV, r.GeoLat)
	c.lonV = append(c.lonV, r.GeoLon)
	c.recordsVals = append(c.recordsVals, r.Records)
	c.has = append(c.has, presence(r))
}

// presence packs which nullable values r has.
func presence(r *Row) uint8 {
	var p uint8
	if r.ClientIP.IsValid() {
		p |= hasIP
	}
	if r.HasCoords {
		p |= hasCoords
	}
	if r.HasRecords {
		p |= hasRecords
	}
	return p
}

const (
	hasIP = 1 << iota
	hasCoords
	hasRecords
)

// Send appends every column to b (from PrepareBatch(InsertContext(ctx), Insert)).
func (c *Columns) Send(b driver.Batch) error {
	// Nullable columns take pointers, made here once the value slices
	// no longer grow.
	c.ip, c.lat, c.lon, c.records = c.ip[:0], c.lat[:0], c.lon[:0], c.records[:0]
	for i, p := range c.has {
		var ip *netip.Addr
		var lat, lon *float64
		var rec *uint64
		if p&hasIP != 0 {
			ip = &c.ipVals[i]
		}
		if p&hasCoords != 0 {
			lat, lon = &c.latV[i], &c.lonV[i]
		}
		if p&hasRecords != 0 {
			rec = &c.recordsVals[i]
		}
		c.ip, c.lat, c.lon, c.records = append(c.ip, ip), append(c.lat, lat), append(c.lon, lon), append(c.records, rec)
	}
	s, a := c.strs, c.arrs
	cols := []any{
		s[cID], c.ts, c.tz, s[cTenant], s[cSourceSystem], s[cSourceID], s[cSourceCollector],
		s[cCategory], s[cAction], s[cOutcome], s[cReason],
		s[cUserID], s[cUserName], s[cPersonID], s[cPersonKey], s[cEmployeeID], s[cUserRole], s[cUserDepartment],
		s[cUserType], s[cUserTimezone], c.ip, s[cUserAgent], s[cDeviceID], s[cSessionID],
		s[cAccessMethod], s[cGeoCountry], s[cGeoRegion], s[cGeoCity], c.lat, c.lon, c.enriched,
		s[cObjectType], s[cObjectID], s[cObjectName], s[cObjectOwnerID],
		a[aChangeField], a[aChangeOld], a[aChangeNew], c.records, s[cComment], a[aRelatedType], a[aRelatedID],
		s[cTargetUserID], s[cTargetUserName], s[cPermissionName], s[cPermissionScope], a[aLabelKeys], a[aLabelValues],
		s[cDirRole], s[cDirDepartment], s[cDirManager],
		c.ingest, c.partition, c.offset, c.fp, c.gap, c.skip,
	}
	for i, col := range cols {
		var err error
		if arr, ok := col.([][]string); ok {
			// clickhouse-go appends an array column's rows through
			// reflection, boxing each; row by row it takes a typed path
			// that boxes nothing for an empty array, which most are.
			bc := b.Column(i)
			for _, v := range arr {
				if err = bc.AppendRow(v); err != nil {
					break
				}
			}
		} else {
			err = b.Column(i).Append(col)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", columnNames[i], err)
		}
	}
	return nil
}
