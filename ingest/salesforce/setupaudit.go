package salesforce

import (
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

type setupAction struct{ category, action string }

// setupActions maps SetupAuditTrail.Action values (compared case-blind) that
// change access or authentication to canonical categories. Salesforce
// documents Action only by example (PermSetCreate); the values below are the
// ones public audit tooling matches on. Every other action is a
// configuration change, and the raw Action, Section and Display are always
// kept as labels.
var setupActions = map[string]setupAction{
	"permsetassign":              {"permission", "grant"},
	"permsetgroupassign":         {"permission", "grant"},
	"permsetlicenseassign":       {"permission", "grant"},
	"permsetenableuserperm":      {"permission", "grant"},
	"permsetunassign":            {"permission", "revoke"},
	"permsetgroupunassign":       {"permission", "revoke"},
	"permsetlicenseunassign":     {"permission", "revoke"},
	"permsetdisableuserperm":     {"permission", "revoke"},
	"changedprofileforuser":      {"permission", "role_change"},
	"createduser":                {"permission", "user_create"},
	"deactivateduser":            {"permission", "user_deactivate"},
	"frozeuser":                  {"permission", "user_freeze"},
	"unfrozeuser":                {"permission", "user_unfreeze"},
	"changedpassword":            {"authentication", "password_reset"},
	"resetpassword":              {"authentication", "password_reset"},
	"inserttwofactorinfo2":       {"authentication", "mfa_enable"},
	"deletetwofactorinfo2":       {"authentication", "mfa_disable"},
	"suorgadminlogin":            {"authentication", "login_as"},
	"suorgadminlogout":           {"session", "logout"},
	"insertconnectedapplication": {"integration", "app_connect"},
}

var setupAuditTrailFields = record.KnownSet("attributes", "Id", "Action", "Section", "CreatedDate", "CreatedById",
	"CreatedBy", "Display", "DelegateUser", "ResponsibleNamespacePrefix", "CreatedByContext", "CreatedByIssuer",
	"SystemModstamp")

// SetupAuditTrail maps one SetupAuditTrail row from a REST query (Object
// Reference, "SetupAuditTrail"). Unlike the big objects of Real-Time Event
// Monitoring, its Id is the record's real id, so the event id is sf-<Id>.
// DelegateUser (the Login-As user who made the change, if any) is kept as a
// label; user is CreatedById, whose name is CreatedBy.Username when the query
// selected it.
func SetupAuditTrail(obj record.Object, meta record.Meta) (event.Event, error) {
	if err := checkObjectType(obj, "SetupAuditTrail"); err != nil {
		return event.Event{}, err
	}
	rawID, err := obj.RequiredString("Id")
	if err != nil {
		return event.Event{}, err
	}
	sid, err := ID18(rawID)
	if err != nil {
		return event.Event{}, err
	}
	id, err := record.SourceID("sf-", sid, obj.Path("Id"))
	if err != nil {
		return event.Event{}, err
	}
	ts, err := RequiredTime(obj, "CreatedDate")
	if err != nil {
		return event.Event{}, err
	}
	ev := newEvent(meta, id, sid, ts)
	if ev.User.ID, err = idField(obj, "CreatedById", true); err != nil {
		return event.Event{}, err
	}
	if by, ok, err := obj.Object("CreatedBy"); err != nil {
		return event.Event{}, err
	} else if ok {
		if ev.User.Name, err = by.String("Username"); err != nil {
			return event.Event{}, err
		}
	}
	action, err := obj.RequiredString("Action")
	if err != nil {
		return event.Event{}, err
	}
	if m, ok := setupActions[strings.ToLower(action)]; ok {
		ev.Event.Category, ev.Event.Action = m.category, m.action
	} else {
		ev.Event.Category, ev.Event.Action = "configuration", "config_change"
	}
	labels := record.Labels{}
	f := fieldReader{obj: obj}
	labels.Set(labelPrefix+"action", action)
	f.labels(labels,
		"Section", "section",
		"Display", "display",
		"DelegateUser", "delegate_user",
		"CreatedByContext", "created_by_context",
		"CreatedByIssuer", "created_by_issuer",
		"ResponsibleNamespacePrefix", "namespace",
	)
	if f.err != nil {
		return event.Event{}, f.err
	}
	labels.AddExtras(obj, setupAuditTrailFields, labelPrefix+"extra.")
	ev.Labels = labels.Map()
	return ev, nil
}
