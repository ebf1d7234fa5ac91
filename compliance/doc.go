// Package compliance answers the questions an audit trail is asked on
// ordinary days: a record's versions and its field values as of any
// instant, who viewed or exported it, and the plan of writes that rolls a
// record or a user's bulk change back, with conflicts marked wherever
// someone else changed a field since. It reads ClickHouse only through the
// named query library (sink/queries), so dashboards see the same answers;
// planning is pure, and applying a plan goes through a RecordStore (a CRM
// adapter) with every write recorded as an action.
package compliance
