package dynamics365

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// System is the canonical source.system of every Dataverse event.
const System = "dynamics365"

const labelPrefix = "d365."

// Normalizers returns the Dataverse input formats.
func Normalizers() []record.Normalizer {
	return []record.Normalizer{record.NewJSON("dynamics365-audit", Audit)}
}

var auditFields = map[string]bool{
	"auditid": true, "createdon": true, "action": true, "operation": true, "objecttypecode": true,
	"_objectid_value": true, "_userid_value": true, "_callinguserid_value": true,
	"_regardingobjectid_value": true, "transactionid": true, "attributemask": true,
	"useradditionalinfo": true, "AuditDetail": true,
}

const zeroGUID = "00000000-0000-0000-0000-000000000000"

// Audit maps one audit row.
//
// action and operation are integer choices mapped through the audit table's
// documented values; a string there (a FormattedValue pasted in its place) is
// refused. Every `…@OData.Community.Display.V1.FormattedValue` annotation is
// ignored: it is rendered in the calling user's locale and time zone and is
// never parsed. createdon is UTC. Field-level changes come from an attached
// AttributeAuditDetail's OldValue and NewValue.
func Audit(obj record.Object, meta record.Meta) (event.Event, error) {
	auditID, err := guidField(obj, "auditid", true)
	if err != nil {
		return event.Event{}, err
	}
	id, err := record.SourceID("d365-", auditID, obj.Path("auditid"))
	if err != nil {
		return event.Event{}, err
	}
	createdOn, err := obj.RequiredString("createdon")
	if err != nil {
		return event.Event{}, err
	}
	ts, err := time.Parse(time.RFC3339Nano, createdOn)
	if err != nil || ts.UTC().Year() < 1970 || ts.UTC().Year() > 9999 {
		return event.Event{}, fmt.Errorf("%s: %s is not a Dataverse date-time (want ISO 8601 in UTC, e.g. 2022-05-12T22:19:12Z)", obj.Path("createdon"), record.Quote(createdOn))
	}
	ev := event.Event{
		ID:        id,
		Timestamp: ts.UTC().Truncate(time.Millisecond),
		Tenant:    meta.Tenant,
		Source:    event.Source{System: System, ID: auditID, Collector: meta.Collector},
		Event:     event.Activity{Outcome: "success"},
	}
	labels := record.Labels{}
	action, hasAction, err := choiceField(obj, "action")
	if err != nil {
		return event.Event{}, err
	}
	operation, hasOperation, err := choiceField(obj, "operation")
	if err != nil {
		return event.Event{}, err
	}
	c, err := classify(obj, action, hasAction, operation, hasOperation, labels)
	if err != nil {
		return event.Event{}, err
	}
	ev.Event.Category, ev.Event.Action = c.category, c.action
	switch action {
	case 64:
		ev.Client.AccessMethod = "web" // a model-driven app
	case 65:
		ev.Client.AccessMethod = "api" // web services, any client but a model-driven app
	}
	if ev.User.ID, err = guidField(obj, "_userid_value", true); err != nil {
		return event.Event{}, err
	}
	if ev.Object.Type, err = obj.String("objecttypecode"); err != nil {
		return event.Event{}, err
	}
	if ev.Object.ID, err = guidField(obj, "_objectid_value", false); err != nil {
		return event.Event{}, err
	}
	if regarding, err := guidField(obj, "_regardingobjectid_value", false); err != nil {
		return event.Event{}, err
	} else if regarding != "" {
		ev.Related = append(ev.Related, event.Related{Type: "regarding", ID: regarding})
	}
	// callinguserid is set when the operation used impersonation: userid is
	// the user the change is attributed to, callinguserid who really called.
	caller, err := guidField(obj, "_callinguserid_value", false)
	if err != nil {
		return event.Event{}, err
	}
	labels.Set(labelPrefix+"calling_user_id", caller)
	tx, err := guidField(obj, "transactionid", false)
	if err != nil {
		return event.Event{}, err
	}
	if tx != zeroGUID {
		labels.Set(labelPrefix+"transaction_id", tx)
	}
	for _, k := range []string{"attributemask", "useradditionalinfo"} {
		v, err := obj.String(k)
		if err != nil {
			return event.Event{}, err
		}
		labels.Set(labelPrefix+k, v)
	}
	if detail, ok, err := obj.Object("AuditDetail"); err != nil {
		return event.Event{}, err
	} else if ok {
		if err := applyDetail(detail, &ev, labels); err != nil {
			return event.Event{}, err
		}
	}
	addExtras(obj, labels)
	ev.Labels = labels.Map()
	return ev, nil
}

// classify maps action (or, for an action value not in the table, operation).
func classify(obj record.Object, action int64, hasAction bool, operation int64, hasOperation bool, labels record.Labels) (choice, error) {
	if hasAction {
		labels.Set(labelPrefix+"action", strconv.FormatInt(action, 10))
	}
	if hasOperation {
		labels.Set(labelPrefix+"operation", strconv.FormatInt(operation, 10))
	}
	a, knownAction := actions[action]
	if hasAction && knownAction {
		labels.Set(labelPrefix+"action_label", a.label)
		if a.category != "" {
			return a, nil
		}
	}
	if o, ok := operations[operation]; hasOperation && ok {
		labels.Set(labelPrefix+"operation_label", o.label)
		return o, nil
	}
	switch {
	case !hasAction && !hasOperation:
		return choice{}, fmt.Errorf("%s: missing, and so is operation: nothing says what happened", obj.Path("action"))
	case hasAction && !knownAction && hasOperation:
		return choice{}, fmt.Errorf("%s: %d is not a documented audit action, and operation: %d is not a documented audit operation", obj.Path("action"), action, operation)
	case hasAction && !knownAction:
		return choice{}, fmt.Errorf("%s: %d is not a documented audit action, and operation is missing", obj.Path("action"), action)
	case !hasOperation:
		return choice{}, fmt.Errorf("%s: %d (Unknown) needs an operation to say what happened, and operation is missing", obj.Path("action"), action)
	}
	return choice{}, fmt.Errorf("%s: %d is not a documented audit operation", obj.Path("operation"), operation)
}

// choiceField reads an integer choice value. Dataverse sends choices as JSON
// numbers; anything else is refused.
func choiceField(obj record.Object, key string) (int64, bool, error) {
	raw, ok := obj.Raw(key)
	if !ok {
		return 0, false, nil
	}
	if raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
		return 0, false, obj.TypeError(key, "an integer choice value", raw)
	}
	n, ok, err := obj.Int(key)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %s is not an integer choice value", obj.Path(key), record.Quote(string(raw)))
	}
	return n, ok, nil
}

// guidField reads a GUID and returns it in lower case.
func guidField(obj record.Object, key string, required bool) (string, error) {
	v, err := obj.String(key)
	if err != nil {
		return "", err
	}
	if v == "" {
		if required {
			return "", obj.Missing(key)
		}
		return "", nil
	}
	if !isGUID(v) {
		return "", fmt.Errorf("%s: %s is not a GUID (want 8-4-4-4-12 hexadecimal digits)", obj.Path(key), record.Quote(v))
	}
	return strings.ToLower(v), nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// addExtras keeps unknown plain fields; annotations (keys with "@") are
// skipped, FormattedValue above all.
func addExtras(obj record.Object, labels record.Labels) {
	known := make(map[string]bool, len(auditFields)+obj.Len())
	for k := range auditFields {
		known[k] = true
	}
	for _, k := range obj.Keys() {
		if strings.Contains(k, "@") {
			known[k] = true
		}
	}
	labels.AddExtras(obj, known, labelPrefix+"extra.")
}

// applyDetail maps the AuditDetail RetrieveAuditDetails returned.
func applyDetail(detail record.Object, ev *event.Event, labels record.Labels) error {
	typ, err := detail.String("@odata.type")
	if err != nil {
		return err
	}
	typ = strings.TrimPrefix(strings.TrimPrefix(typ, "#"), "Microsoft.Dynamics.CRM.")
	labels.Set(labelPrefix+"audit_detail_type", typ)
	switch typ {
	case "AttributeAuditDetail":
		return attributeChanges(detail, ev, labels)
	case "UserAccessAuditDetail":
		for _, k := range []string{"AccessTime", "Interval"} {
			v, _, err := detail.Scalar(k)
			if err != nil {
				return err
			}
			labels.Set(labelPrefix+strings.ToLower(k), v)
		}
	case "RelationshipAuditDetail":
		v, err := detail.String("RelationshipName")
		if err != nil {
			return err
		}
		labels.Set(labelPrefix+"relationship", v)
	case "ShareAuditDetail":
		for _, k := range []string{"OldPrivileges", "NewPrivileges"} {
			v, _, err := detail.Scalar(k)
			if err != nil {
				return err
			}
			labels.Set(labelPrefix+strings.ToLower(k), v)
		}
	}
	return nil
}

// attributeChanges turns OldValue and NewValue (two partial records of the
// audited table) into changes: one per column in either, sorted by column,
// annotations left out. Lookup columns (_parentaccountid_value) are named by
// their logical name (parentaccountid). A column only in OldValue was
// cleared (new ""); only in NewValue, set (old "").
func attributeChanges(detail record.Object, ev *event.Event, labels record.Labels) error {
	oldV, _, err := detail.Object("OldValue")
	if err != nil {
		return err
	}
	newV, _, err := detail.Object("NewValue")
	if err != nil {
		return err
	}
	fields := map[string]bool{}
	for _, o := range []record.Object{oldV, newV} {
		for _, k := range o.Keys() {
			if k != "" && !strings.Contains(k, "@") {
				fields[k] = true
			}
		}
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := columnName(names[i]), columnName(names[j])
		return a < b || a == b && names[i] < names[j]
	})
	if len(names) > 1000 {
		labels.Set(labelPrefix+"changes_total", strconv.Itoa(len(names)))
		names = names[:1000]
	}
	for _, k := range names {
		o, err := valueText(oldV, k)
		if err != nil {
			return err
		}
		n, err := valueText(newV, k)
		if err != nil {
			return err
		}
		ev.Changes = append(ev.Changes, event.Change{Field: columnName(k), Old: o, New: n})
	}
	return nil
}

// valueText renders a column value: scalars as text, objects and arrays
// (money, option sets returned as structures) as compact JSON.
func valueText(obj record.Object, key string) (string, error) {
	raw, ok := obj.Raw(key)
	if !ok {
		return "", nil
	}
	if raw[0] == '{' || raw[0] == '[' {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", fmt.Errorf("%s: %w", obj.Path(key), err)
		}
		return b.String(), nil
	}
	v, _, err := obj.Scalar(key)
	return v, err
}

// columnName turns a lookup property (_parentaccountid_value) into the
// column's logical name (parentaccountid).
func columnName(k string) string {
	if strings.HasPrefix(k, "_") && strings.HasSuffix(k, "_value") && len(k) > len("__value") {
		return k[1 : len(k)-len("_value")]
	}
	return k
}
