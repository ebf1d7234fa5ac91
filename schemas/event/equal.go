package event

import (
	"maps"
	"slices"
)

// Equal reports whether two events carry the same information: the same
// instant and UTC offset, the same fields, and the same changes, related
// records and labels, an empty slice or map being equal to a nil one. It is
// the equality the encoder's round trip guarantees (reflect.DeepEqual is not:
// two decodes of one timestamp may hold different *time.Location values).
func (e *Event) Equal(o *Event) bool {
	if !e.Timestamp.Equal(o.Timestamp) {
		return false
	}
	_, a := e.Timestamp.Zone()
	_, b := o.Timestamp.Zone()
	return a == b &&
		e.ID == o.ID &&
		e.Tenant == o.Tenant &&
		e.Source == o.Source &&
		e.Event == o.Event &&
		e.User == o.User &&
		e.Client == o.Client &&
		e.Object == o.Object &&
		slices.Equal(e.Changes, o.Changes) &&
		e.Records == o.Records && e.HasRecords == o.HasRecords &&
		e.Comment == o.Comment &&
		slices.Equal(e.Related, o.Related) &&
		e.TargetUser == o.TargetUser &&
		e.Permission == o.Permission &&
		maps.Equal(e.Labels, o.Labels)
}
