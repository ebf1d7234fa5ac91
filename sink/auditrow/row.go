package auditrow

import (
	"net/netip"
	"slices"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Row is one audit_events row with the values as stored: times in UTC
// milliseconds, the address as an IPv6 value, labels sorted by key.
type Row struct {
	ID              string
	TimestampMs     int64 // event time, UTC milliseconds
	TZOffsetMinutes int16 // the UTC offset the source gave
	Tenant          string
	SourceSystem    string
	SourceID        string
	SourceCollector string
	Category        string
	Action          string
	Outcome         string
	Reason          string
	UserID          string
	UserName        string
	PersonID        string
	PersonKey       string
	EmployeeID      string
	UserRole        string
	UserDepartment  string
	UserType        string
	UserTimezone    string
	ClientIP        netip.Addr // IPv6 (IPv4 mapped); the zero Addr when absent
	UserAgent       string
	DeviceID        string
	SessionID       string
	AccessMethod    string
	GeoCountry      string
	GeoRegion       string
	GeoCity         string
	GeoLat          float64
	GeoLon          float64
	HasCoords       bool
	GeoEnriched     bool // geo came from enrichment, not from the source
	ObjectType      string
	ObjectID        string
	ObjectName      string
	ObjectOwnerID   string
	ChangeField     []string
	ChangeOld       []string
	ChangeNew       []string
	Records         uint64
	HasRecords      bool
	Comment         string
	RelatedType     []string
	RelatedID       []string
	TargetUserID    string
	TargetUserName  string
	PermissionName  string
	PermissionScope string
	LabelKeys       []string
	LabelValues     []string
	DirRole         string
	DirDepartment   string
	DirManager      string
	IngestedAtMs    int64
	Partition       int32
	Offset          int64
	RowFP           uint64 // first 8 bytes of Hash, as stored
	ChainGap        uint64 // Offset minus the previous chained row's offset
	// RollupSkip marks a row whose event id the sink had stored already:
	// the roll-up views do not count it (sink/once.go). Not hashed.
	RollupSkip bool
}

// FromEvent fills r from e as it sat at partition/offset, published at
// ingested. r's slices are reused. The strings are e's: e must not be
// decoded into again while r is in use.
func FromEvent(r *Row, e *event.Event, partition int32, offset int64, ingested time.Time) {
	_, zoneOffset := e.Timestamp.Zone()
	*r = Row{
		ChangeField: r.ChangeField[:0], ChangeOld: r.ChangeOld[:0], ChangeNew: r.ChangeNew[:0],
		RelatedType: r.RelatedType[:0], RelatedID: r.RelatedID[:0],
		LabelKeys: r.LabelKeys[:0], LabelValues: r.LabelValues[:0],

		ID:              e.ID,
		TimestampMs:     e.Timestamp.UnixMilli(),
		TZOffsetMinutes: int16(zoneOffset / 60),
		Tenant:          e.Tenant,
		SourceSystem:    e.Source.System,
		SourceID:        e.Source.ID,
		SourceCollector: e.Source.Collector,
		Category:        e.Event.Category,
		Action:          e.Event.Action,
		Outcome:         e.Event.Outcome,
		Reason:          e.Event.Reason,
		UserID:          e.User.ID,
		UserName:        e.User.Name,
		PersonID:        e.User.PersonID,
		PersonKey:       e.PersonKey(),
		EmployeeID:      e.User.EmployeeID,
		UserRole:        e.User.Role,
		UserDepartment:  e.User.Department,
		UserType:        e.User.Type,
		UserTimezone:    e.User.Timezone,
		UserAgent:       e.Client.UserAgent,
		DeviceID:        e.Client.DeviceID,
		SessionID:       e.Client.SessionID,
		AccessMethod:    e.Client.AccessMethod,
		GeoCountry:      e.Client.Geo.Country,
		GeoRegion:       e.Client.Geo.Region,
		GeoCity:         e.Client.Geo.City,
		GeoLat:          e.Client.Geo.Lat,
		GeoLon:          e.Client.Geo.Lon,
		HasCoords:       e.Client.Geo.HasCoords,
		ObjectType:      e.Object.Type,
		ObjectID:        e.Object.ID,
		ObjectName:      e.Object.Name,
		ObjectOwnerID:   e.Object.OwnerID,
		Comment:         e.Comment,
		TargetUserID:    e.TargetUser.ID,
		TargetUserName:  e.TargetUser.Name,
		PermissionName:  e.Permission.Name,
		PermissionScope: e.Permission.Scope,
		IngestedAtMs:    ingested.UnixMilli(),
		Partition:       partition,
		Offset:          offset,
	}
	if r.UserType == "" {
		r.UserType = "human"
	}
	if !r.HasCoords {
		r.GeoLat, r.GeoLon = 0, 0
	}
	if a, err := netip.ParseAddr(e.Client.IP); err == nil {
		r.ClientIP = netip.AddrFrom16(a.As16())
	}
	if e.HasRecords && e.Records >= 0 {
		r.Records, r.HasRecords = uint64(e.Records), true
	}
	for _, c := range e.Changes {
		r.ChangeField = append(r.ChangeField, c.Field)
		r.ChangeOld = append(r.ChangeOld, c.Old)
		r.ChangeNew = append(r.ChangeNew, c.New)
	}
	for _, x := range e.Related {
		r.RelatedType = append(r.RelatedType, x.Type)
		r.RelatedID = append(r.RelatedID, x.ID)
	}
	for k := range e.Labels {
		r.LabelKeys = append(r.LabelKeys, k)
	}
	slices.Sort(r.LabelKeys)
	for _, k := range r.LabelKeys {
		r.LabelValues = append(r.LabelValues, e.Labels[k])
	}
}

// ToEvent rebuilds the canonical event the row holds: as the source gave
// it, without enrichment (geo the source did not give is left out).
func (r *Row) ToEvent() event.Event {
	ts := time.UnixMilli(r.TimestampMs).In(time.FixedZone("", int(r.TZOffsetMinutes)*60))
	e := event.Event{
		ID: r.ID, Timestamp: ts, Tenant: r.Tenant,
		Source: event.Source{System: r.SourceSystem, ID: r.SourceID, Collector: r.SourceCollector},
		Event:  event.Activity{Category: r.Category, Action: r.Action, Outcome: r.Outcome, Reason: r.Reason},
		User: event.User{ID: r.UserID, Name: r.UserName, PersonID: r.PersonID, EmployeeID: r.EmployeeID,
			Role: r.UserRole, Department: r.UserDepartment, Type: r.UserType, Timezone: r.UserTimezone},
		Client:  event.Client{UserAgent: r.UserAgent, DeviceID: r.DeviceID, SessionID: r.SessionID, AccessMethod: r.AccessMethod},
		Object:  event.Object{Type: r.ObjectType, ID: r.ObjectID, Name: r.ObjectName, OwnerID: r.ObjectOwnerID},
		Records: int64(r.Records), HasRecords: r.HasRecords,
		Comment:    r.Comment,
		TargetUser: event.TargetUser{ID: r.TargetUserID, Name: r.TargetUserName},
		Permission: event.Permission{Name: r.PermissionName, Scope: r.PermissionScope},
	}
	if r.ClientIP.IsValid() {
		e.Client.IP = r.ClientIP.Unmap().String()
	}
	if !r.GeoEnriched {
		e.Client.Geo = event.Geo{Country: r.GeoCountry, Region: r.GeoRegion, City: r.GeoCity, Lat: r.GeoLat, Lon: r.GeoLon, HasCoords: r.HasCoords}
	}
	for i := range r.ChangeField {
		e.Changes = append(e.Changes, event.Change{Field: r.ChangeField[i], Old: at(r.ChangeOld, i), New: at(r.ChangeNew, i)})
	}
	for i := range r.RelatedType {
		e.Related = append(e.Related, event.Related{Type: r.RelatedType[i], ID: at(r.RelatedID, i)})
	}
	if len(r.LabelKeys) > 0 {
		e.Labels = make(map[string]string, len(r.LabelKeys))
		for i, k := range r.LabelKeys {
			e.Labels[k] = at(r.LabelValues, i)
		}
	}
	return e
}

// at is s[i], or "" past its end: arrays of one row may have been
// shortened out of band, which verify reports rather than panics on.
func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
