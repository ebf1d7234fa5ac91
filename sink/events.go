package sink

import (
	"net"
	"net/netip"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Record is one event as it arrived from Kafka.
type Record struct {
	Event      event.Event
	Partition  int32
	Offset     int64
	IngestedAt time.Time // Kafka's timestamp of the message: when ingest published it
}

// eventInsert is the INSERT the sink sends for audit_events; the order of
// its columns is the order of eventValues.
const eventInsert = `INSERT INTO audit_events (id, timestamp, tz_offset_minutes, tenant,
	source_system, source_id, source_collector, category, action, outcome, reason,
	user_id, user_name, person_id, person_key, user_employee_id, user_role, user_department,
	user_type, user_timezone, client_ip, client_user_agent, client_device_id,
	client_session_id, client_access_method, geo_country, geo_region, geo_city, geo_lat,
	geo_lon, object_type, object_id, object_name, object_owner_id, changes, records,
	comment, related, target_user_id, target_user_name, permission_name,
	permission_scope, labels, ingested_at, kafka_partition, kafka_offset)`

// eventValues maps a record to the audit_events columns.
func eventValues(r *Record) []any {
	e := &r.Event
	_, offset := e.Timestamp.Zone()
	var ip *net.IP
	if a, err := netip.ParseAddr(e.Client.IP); err == nil {
		b := a.As16()
		v := net.IP(b[:])
		ip = &v
	}
	var lat, lon *float64
	if e.Client.Geo.HasCoords {
		lat, lon = &e.Client.Geo.Lat, &e.Client.Geo.Lon
	}
	var records *uint64
	if e.HasRecords && e.Records >= 0 {
		n := uint64(e.Records)
		records = &n
	}
	changes := make([][]any, len(e.Changes))
	for i, c := range e.Changes {
		changes[i] = []any{c.Field, c.Old, c.New}
	}
	related := make([][]any, len(e.Related))
	for i, r := range e.Related {
		related[i] = []any{r.Type, r.ID}
	}
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	userType := e.User.Type
	if userType == "" {
		userType = "human"
	}
	return []any{
		e.ID, e.Timestamp.UTC(), int16(offset / 60), e.Tenant,
		e.Source.System, e.Source.ID, e.Source.Collector, e.Event.Category, e.Event.Action, e.Event.Outcome, e.Event.Reason,
		e.User.ID, e.User.Name, e.User.PersonID, e.PersonKey(), e.User.EmployeeID, e.User.Role, e.User.Department,
		userType, e.User.Timezone, ip, e.Client.UserAgent, e.Client.DeviceID,
		e.Client.SessionID, e.Client.AccessMethod, e.Client.Geo.Country, e.Client.Geo.Region, e.Client.Geo.City, lat,
		lon, e.Object.Type, e.Object.ID, e.Object.Name, e.Object.OwnerID, changes, records,
		e.Comment, related, e.TargetUser.ID, e.TargetUser.Name, e.Permission.Name,
		e.Permission.Scope, labels, r.IngestedAt.UTC(), r.Partition, r.Offset,
	}
}
