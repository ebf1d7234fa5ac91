package dynamics365

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// testdata/audit.ndjson follows Microsoft's "Retrieve the history of audited
// data changes" (Dataverse developer guide): line 1 is the documented
// response for deleted contacts (ids, createdon, FormattedValue and
// lookuplogicalname annotations, the all-zero transactionid, attributemask);
// line 2 carries the documented RetrieveAuditDetails response for audit
// 12869c65-… (parentaccountid set on an account) with the description change
// of the RetrieveAttributeChangeHistory example and two illustrative columns
// (a number and a boolean); line 3 is user access auditing (action 65,
// operation 4, UserAccessAuditDetail); line 4 an audit log deletion
// (action 111). Choice values are the audit table reference's.

func run(t *testing.T, i int) event.Event {
	t.Helper()
	obj, err := record.ParseObject(recordtest.Lines(t, "testdata/audit.ndjson")[i])
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Audit(obj, recordtest.Meta)
	if err != nil {
		t.Fatalf("line %d: %v", i+1, err)
	}
	recordtest.CheckContract(t, &ev)
	return ev
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func src(id string) event.Source {
	return event.Source{System: "dynamics365", ID: id, Collector: "test"}
}

func TestDeleteWithAnnotations(t *testing.T) {
	recordtest.Equal(t, run(t, 0), event.Event{
		ID: "d365-7b6e1c4a-41b5-ec11-983f-0022482bf046", Timestamp: at("2022-05-12T22:19:12Z"), Tenant: "acme",
		Source: src("7b6e1c4a-41b5-ec11-983f-0022482bf046"),
		Event:  event.Activity{Category: "data_change", Action: "delete", Outcome: "success"},
		User:   event.User{ID: "4026be43-6b69-e111-8f65-78e7d1620f5e"},
		Object: event.Object{Type: "contact", ID: "0e76dc8a-41b5-ec11-983f-0022482bf046"},
		// No label comes from a FormattedValue ("5/12/2022 3:19 PM",
		// "FirstName LastName"): they are locale-formatted and never read.
		Labels: map[string]string{
			"d365.action": "3", "d365.operation": "3", "d365.action_label": "Delete",
			"d365.attributemask": "47,45,42,298,96",
		},
	})
}

func TestUpdateWithAttributeAuditDetail(t *testing.T) {
	recordtest.Equal(t, run(t, 1), event.Event{
		ID: "d365-12869c65-d7d3-ec11-b656-281878f0eba9", Timestamp: at("2022-06-03T16:12:44Z"), Tenant: "acme",
		Source: src("12869c65-d7d3-ec11-b656-281878f0eba9"),
		Event:  event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User:   event.User{ID: "4026be43-6b69-e111-8f65-78e7d1620f5e"},
		Object: event.Object{Type: "account", ID: "611e7713-68d7-4622-b552-85060af450bc"},
		Changes: []event.Change{
			{Field: "creditlimit", Old: "", New: "25000.5"},
			{Field: "description", Old: "Added using Flow because the account name changed to: Updated Account Name", New: "deleting phone number"},
			{Field: "donotemail", Old: "", New: "true"},
			{Field: "parentaccountid", Old: "", New: "d249d106-38b5-ec11-983f-002248296cd0"},
		},
		Labels: map[string]string{
			"d365.action": "2", "d365.operation": "2", "d365.action_label": "Update",
			"d365.calling_user_id":   "9d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
			"d365.transaction_id":    "3f0b4a2e-d7d3-ec11-b656-281878f0eba9",
			"d365.audit_detail_type": "AttributeAuditDetail",
		},
	})
}

func TestUserAccessIsNotALogin(t *testing.T) {
	got := run(t, 2)
	if got.Event != (event.Activity{Category: "session", Action: "access", Outcome: "success"}) || got.Client.AccessMethod != "api" {
		t.Errorf("action 65: %+v access %q; want session/access over api (not a sign-in)", got.Event, got.Client.AccessMethod)
	}
	if got.Labels["d365.accesstime"] != "2022-06-03T16:20:00Z" || got.Labels["d365.interval"] != "4" {
		t.Errorf("labels %v", got.Labels)
	}
}

func TestAuditLogDeletion(t *testing.T) {
	got := run(t, 3)
	if got.Event.Category != "configuration" || got.Event.Action != "audit_settings_change" {
		t.Errorf("action 111: %+v", got.Event)
	}
}

func TestActionFallsBackToOperation(t *testing.T) {
	obj, _ := record.ParseObject([]byte(`{"auditid":"b2d3f405-1c2e-4f30-8b4c-5d6e7f809102","createdon":"2022-06-03T17:00:00Z","action":999,"operation":1,"_userid_value":"4026be43-6b69-e111-8f65-78e7d1620f5e"}`))
	got, err := Audit(obj, recordtest.Meta)
	if err != nil || got.Event.Action != "create" || got.Labels["d365.action"] != "999" {
		t.Fatalf("undocumented action 999 with operation 1: %+v, %v", got.Event, err)
	}
}

func TestMalformed(t *testing.T) {
	base := `"auditid":"b2d3f405-1c2e-4f30-8b4c-5d6e7f809102","createdon":"2022-06-03T17:00:00Z","_userid_value":"4026be43-6b69-e111-8f65-78e7d1620f5e"`
	tests := []struct{ name, input, wantErr string }{
		{"action as its formatted label", `{` + base + `,"action":"Update"}`, `action: want an integer choice value, got string "Update"`},
		{"action as a numeric string", `{` + base + `,"action":"2"}`, `action: want an integer choice value, got string "2"`},
		{"nothing says what happened", `{` + base + `}`, "action: missing, and so is operation"},
		{"unknown action and operation", `{` + base + `,"action":999,"operation":77}`, "operation: 77 is not a documented audit operation"},
		{"createdon in the formatted form", `{"auditid":"b2d3f405-1c2e-4f30-8b4c-5d6e7f809102","createdon":"5/12/2022 3:19 PM","action":1,"_userid_value":"4026be43-6b69-e111-8f65-78e7d1620f5e"}`, `createdon: "5/12/2022 3:19 PM" is not a Dataverse date-time`},
		{"auditid not a GUID", `{"auditid":"42","createdon":"2022-06-03T17:00:00Z","action":1,"_userid_value":"4026be43-6b69-e111-8f65-78e7d1620f5e"}`, `auditid: "42" is not a GUID`},
		{"no user", `{"auditid":"b2d3f405-1c2e-4f30-8b4c-5d6e7f809102","createdon":"2022-06-03T17:00:00Z","action":1}`, "_userid_value: missing"},
		{"AuditDetail values not an object", `{` + base + `,"action":2,"AuditDetail":{"@odata.type":"#Microsoft.Dynamics.CRM.AttributeAuditDetail","NewValue":[1]}}`, "AuditDetail.NewValue: want an object, got array [1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalizers()[0].Normalize(record.Record{Data: []byte(tt.input)}, recordtest.Meta)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzAudit: no input panics; every accepted record gives a valid,
// deterministic event.
func FuzzAudit(f *testing.F) {
	for _, line := range recordtest.Lines(f, "testdata/audit.ndjson") {
		f.Add(line)
	}
	n := Normalizers()[0]
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := n.Normalize(record.Record{Data: data}, recordtest.Meta)
		if err != nil {
			return
		}
		if err := event.Validate(&ev, recordtest.NoClock); err != nil {
			t.Fatalf("accepted %q but the event breaks the contract: %v", data, err)
		}
		again, _ := n.Normalize(record.Record{Data: data}, recordtest.Meta)
		if !reflect.DeepEqual(ev, again) {
			t.Fatal("not deterministic")
		}
	})
}

// BenchmarkAudit measures the update row with its AttributeAuditDetail
// (testdata line 2, 1.3 KB), parse and mapping.
func BenchmarkAudit(b *testing.B) {
	line := recordtest.Lines(b, "testdata/audit.ndjson")[1]
	n := Normalizers()[0]
	rec := record.Record{Data: line}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	cpu0 := recordtest.ProcessCPU()
	for b.Loop() {
		if _, err := n.Normalize(rec, recordtest.Meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(recordtest.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/record")
}
