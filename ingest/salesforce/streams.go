package salesforce

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

const bulkChannel = "/event/BulkApiResultEvent"

var bulkApiResultEventFields = known("BatchId", "JobId", "Query")

// BulkApiResultEvent maps one Streaming API (CometD) message on
// /event/BulkApiResultEvent: a user downloading the results of a Bulk API
// job. The envelope is {"data":{"schema":…,"payload":{…},"event":{"replayId":…}},
// "channel":…}; CometD writes date-times with Z.
//
// The event carries no row count (the job's size is not in it), so records
// is never set.
func BulkApiResultEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	channel, err := obj.String("channel")
	if err != nil {
		return event.Event{}, err
	}
	if channel != "" && channel != bulkChannel {
		return event.Event{}, fmt.Errorf("channel: the message came on %s, this format reads %s", record.Quote(channel), bulkChannel)
	}
	data, err := obj.RequiredObject("data")
	if err != nil {
		return event.Event{}, err
	}
	payload, err := data.RequiredObject("payload")
	if err != nil {
		return event.Event{}, err
	}
	r, err := startRTEM(payload, meta, "BulkApiResultEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	ev.Event.Category, ev.Event.Action = "export", "export"
	ev.Client.AccessMethod = "bulk_api"
	ev.Object = event.Object{Type: "bulk_job", ID: f.id("JobId")}
	if batch := f.id("BatchId"); batch != "" {
		ev.Related = []event.Related{{Type: "bulk_batch", ID: batch}}
	}
	f.labels(r.labels, "Query", "query")
	schema, err := data.String("schema")
	if err != nil {
		return event.Event{}, err
	}
	r.labels.Set(labelPrefix+"schema_id", schema)
	if env, ok, err := data.Object("event"); err != nil {
		return event.Event{}, err
	} else if ok {
		replay, _, err := env.Scalar("replayId")
		if err != nil {
			return event.Event{}, err
		}
		r.labels.Set(labelPrefix+"replay_id", replay)
	}
	return r.finish(bulkApiResultEventFields)
}

var permissionSetEventFields = known("EventSource", "HasExternalUsers", "ImpactedUserIds", "Operation",
	"ParentIdList", "ParentNameList", "PermissionExpirationList", "PermissionList", "PermissionType", "UserCount")

// permissionSetActions maps PermissionSetEvent.Operation to the canonical action.
var permissionSetActions = map[string]string{
	"AssignedToUsers":     "grant",  // a permission set (group) assigned to users
	"UnassignedFromUsers": "revoke", // and unassigned
	"PermsEnabled":        "grant",  // permissions added to a permission set
	"PermsDisabled":       "revoke", // and removed
	"CriticalPerms":       "grant",  // deprecated: critical permissions enabled
}

// PermissionSetEvent maps one Pub/Sub API event rendered as JSON:
// {"event":{"id":…,"schema_id":…,"payload":{…decoded Avro…}},"replay_id":…}.
// Pub/Sub gives date-times as epoch milliseconds; Avro union wrappers
// ({"string": "…"}) in the payload are unwrapped.
//
// user is the administrator who made the change (UserId); target_user is set
// when exactly one user is impacted (ImpactedUserIds); permission.name is the
// permission set names for assignments and the permission names for
// enable/disable operations. All lists are kept as labels.
func PermissionSetEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	env, err := obj.RequiredObject("event")
	if err != nil {
		return event.Event{}, err
	}
	payload, err := env.RequiredObject("payload")
	if err != nil {
		return event.Event{}, err
	}
	payload = payload.UnwrapAvroUnions()
	r, err := startRTEM(payload, meta, "PermissionSetEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	op := f.str("Operation")
	action, ok := permissionSetActions[op]
	if !ok {
		action = "permission_change"
	}
	ev.Event.Category, ev.Event.Action = "permission", action
	source := f.str("EventSource")
	ev.Client.AccessMethod = accessFromEventSource(source)
	parentIDs, parentNames := f.list("ParentIdList"), f.list("ParentNameList")
	perms, impacted := f.list("PermissionList"), f.list("ImpactedUserIds")
	permType := f.str("PermissionType")
	if strings.HasPrefix(op, "Perms") || op == "CriticalPerms" {
		ev.Permission = event.Permission{Name: strings.Join(perms, ","), Scope: permType}
	} else {
		ev.Permission = event.Permission{Name: strings.Join(parentNames, ",")}
	}
	if len(parentIDs) == 1 {
		id, err := ID18(parentIDs[0])
		if err != nil {
			return event.Event{}, fmt.Errorf("%s: %w", payload.Path("ParentIdList"), err)
		}
		ev.Object = event.Object{Type: "permission_set", ID: id}
		if len(parentNames) == 1 {
			ev.Object.Name = parentNames[0]
		}
	}
	if len(impacted) == 1 {
		id, err := ID18(impacted[0])
		if err != nil {
			return event.Event{}, fmt.Errorf("%s: %w", payload.Path("ImpactedUserIds"), err)
		}
		ev.TargetUser.ID = id
	}
	r.labels.Set(labelPrefix+"operation", op)
	r.labels.Set(labelPrefix+"event_source", source)
	r.labels.Set(labelPrefix+"permission_type", permType)
	r.labels.Set(labelPrefix+"parent_ids", strings.Join(parentIDs, ","))
	r.labels.Set(labelPrefix+"parent_names", strings.Join(parentNames, ","))
	r.labels.Set(labelPrefix+"permissions", strings.Join(perms, ","))
	r.labels.Set(labelPrefix+"impacted_user_ids", strings.Join(impacted, ","))
	f.labels(r.labels,
		"UserCount", "user_count",
		"HasExternalUsers", "has_external_users",
		"PermissionExpirationList", "permission_expirations",
	)
	schema, err := env.String("schema_id")
	if err != nil {
		return event.Event{}, err
	}
	r.labels.Set(labelPrefix+"schema_id", schema)
	replay, _, err := obj.Scalar("replay_id")
	if err != nil {
		return event.Event{}, err
	}
	r.labels.Set(labelPrefix+"replay_id", replay)
	return r.finish(permissionSetEventFields)
}

// list reads a list field given as a JSON array of strings or as text (see splitList).
func (f *fieldReader) list(key string) []string {
	if f.err != nil {
		return nil
	}
	raw, ok := f.obj.Raw(key)
	if !ok {
		return nil
	}
	if len(raw) > 0 && raw[0] == '[' {
		var arr []string
		if err := json.Unmarshal(raw, &arr); err != nil {
			f.err = f.obj.TypeError(key, "an array of strings", raw)
			return nil
		}
		return compact(arr)
	}
	return splitList(f.scalar(key))
}

// splitList reads a Salesforce "json" list field, which arrives as a JSON
// array of strings, as a string holding one, or as comma-separated text
// (optionally in brackets).
func splitList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var arr []string
		if json.Unmarshal([]byte(s), &arr) == nil {
			return compact(arr)
		}
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	return compact(strings.Split(s, ","))
}

func compact(in []string) []string {
	out := in[:0]
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
