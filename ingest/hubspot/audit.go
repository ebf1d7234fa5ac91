package hubspot

import (
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

var auditFields = record.KnownSet("id", "category", "subCategory", "action", "targetObjectId", "occurredAt", "actingUser")

// auditCategories maps the audit log's category to a canonical category.
// HubSpot documents category, subCategory and action as strings with
// examples (LOGIN/LOGIN_SUCCEEDED/PERFORM, PIPELINE/DEAL/UPDATE,
// PROPERTY_VALUE, CRM_OBJECT/CONTACT/UPDATED); categories not listed are
// configuration changes. The raw values are always kept as labels.
var auditCategories = map[string]string{
	"LOGIN":          "authentication",
	"CRM_OBJECT":     "data_change",
	"PROPERTY_VALUE": "data_change",
	"EXPORT":         "export",
	"IMPORT":         "data_change",
	"USER":           "permission",
	"USERS":          "permission",
	"PERMISSION":     "permission",
	"PERMISSIONS":    "permission",
	"TEAM":           "permission",
}

// dataVerbs maps audit actions on records to canonical actions.
var dataVerbs = map[string]string{
	"CREATE": "create", "CREATED": "create",
	"UPDATE": "update", "UPDATED": "update",
	"DELETE": "delete", "DELETED": "delete",
	"RESTORE": "restore", "RESTORED": "restore",
	"MERGE": "merge", "MERGED": "merge",
	"IMPORT": "import", "EXPORT": "export",
}

// permissionVerbs maps audit actions on users and permissions.
var permissionVerbs = map[string]string{
	"CREATE": "grant", "CREATED": "grant", "ADD": "grant", "ASSIGN": "grant",
	"DELETE": "revoke", "DELETED": "revoke", "REMOVE": "revoke", "UNASSIGN": "revoke",
	"UPDATE": "role_change", "UPDATED": "role_change",
}

// AuditLog maps one result of GET /account-info/v3/activity/audit-logs
// (Enterprise accounts). actingUser.userId is a JSON number in HubSpot's
// responses; it becomes the string user.id.
//
// Note: the example in HubSpot's own guide shows "userId": 089274502, which
// is not valid JSON (a leading zero); such a record is rejected with the
// decoder's error, as any JSON parser would.
func AuditLog(obj record.Object, meta record.Meta) (event.Event, error) {
	ev, labels, err := start(obj, meta, "audit", "occurredAt")
	if err != nil {
		return event.Event{}, err
	}
	actor, err := obj.RequiredObject("actingUser")
	if err != nil {
		return event.Event{}, err
	}
	uid, ok, err := userID(actor, "userId")
	if err != nil {
		return event.Event{}, err
	}
	if !ok {
		return event.Event{}, actor.Missing("userId")
	}
	ev.User.ID = uid
	if ev.User.Name, err = actor.String("userEmail"); err != nil {
		return event.Event{}, err
	}
	category, err := obj.RequiredString("category")
	if err != nil {
		return event.Event{}, err
	}
	action, err := obj.RequiredString("action")
	if err != nil {
		return event.Event{}, err
	}
	sub, err := obj.String("subCategory")
	if err != nil {
		return event.Event{}, err
	}
	target, _, err := obj.Scalar("targetObjectId")
	if err != nil {
		return event.Event{}, err
	}
	cat, act, sb := strings.ToUpper(category), strings.ToUpper(action), strings.ToUpper(sub)
	ev.Event.Category = auditCategories[cat]
	switch ev.Event.Category {
	case "authentication":
		ev.Event.Action = "login"
		switch {
		case strings.Contains(sb, "FAIL"):
			ev.Event.Outcome = "failure"
		case strings.Contains(sb, "SUCCE"):
			ev.Event.Outcome = "success"
		default:
			ev.Event.Outcome = "unknown"
		}
	case "data_change", "export":
		ev.Event.Action = verb(dataVerbs, act)
		if cat == "EXPORT" {
			ev.Event.Action = "export"
		}
		ev.Object = event.Object{Type: strings.ToLower(sub), ID: target}
	case "permission":
		ev.Event.Action = verb(permissionVerbs, act)
		ev.Object.ID = target
	default:
		ev.Event.Category, ev.Event.Action = "configuration", "config_change"
		ev.Object.ID = target
	}
	labels.Set(labelPrefix+"category", category)
	labels.Set(labelPrefix+"sub_category", sub)
	labels.Set(labelPrefix+"action", action)
	actorExtras := record.Labels{}
	actorExtras.AddExtras(actor, record.KnownSet("userId", "userEmail"), labelPrefix+"extra.actingUser.")
	for k, v := range actorExtras {
		labels.Set(k, v)
	}
	return finish(obj, &ev, labels, auditFields), nil
}

func verb(table map[string]string, action string) string {
	if v, ok := table[action]; ok {
		return v
	}
	return strings.ToLower(action)
}
