package salesforce

import (
	"testing"

	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestReportEventChunksCountRowsOnce(t *testing.T) {
	// Lines 1 and 2 are two chunks of one execution (same
	// ExecutionIdentifier, Sequence 1 and 2, RowsProcessed repeated):
	// only the first carries records.
	first := runJSON(t, ReportEvent, "reportevent.ndjson", 0)
	recordtest.Equal(t, first, event.Event{
		ID: "sf-0a4779b0-0da1-4619-a373-0a36991dff90", Timestamp: ts("2020-01-20T19:12:26.965Z"), Tenant: "acme",
		Source:  src("0a4779b0-0da1-4619-a373-0a36991dff90"),
		Event:   event.Activity{Category: "data_access", Action: "report_run", Outcome: "success"},
		User:    event.User{ID: "005B0000001vURvIAM", Name: "user@company.com"},
		Client:  event.Client{IP: "126.7.4.2", SessionID: "vMASKIU6AxEr+Op5", AccessMethod: "web"},
		Object:  event.Object{Type: "report", ID: "00OB00000032FHdMAM", Name: "All Opportunities", OwnerID: "005B0000001vURvIAM"},
		Records: 10000, HasRecords: true,
		Labels: map[string]string{
			"sf.login_key": "lUqjLPQTWRdvRG4", "sf.session_level": "STANDARD", "sf.login_history_id": "0YaB000002knVQLKA2",
			"sf.policy_outcome": "NoAction", "sf.operation": "ReportRunFromLightning", "sf.event_source": "Lightning",
			"sf.execution_id": "a50a4025-84f2-425d-8af9-2c780869f3b5", "sf.queried_entities": "Opportunity",
			"sf.dashboard_id": "01ZB0000000PmoQ", "sf.scope": "organization", "sf.report_format": "Tabular",
			"sf.is_scheduled": "false", "sf.number_of_columns": "3", "sf.sequence": "1", "sf.rows_processed": "10000",
		},
	})
	second := runJSON(t, ReportEvent, "reportevent.ndjson", 1)
	if second.HasRecords || second.Records != 0 {
		t.Errorf("second chunk: records = %d (has %v), want none: RowsProcessed repeats on every chunk", second.Records, second.HasRecords)
	}
	if second.Labels["sf.rows_processed"] != "10000" || second.Labels["sf.sequence"] != "2" {
		t.Errorf("second chunk labels = %v, want rows_processed 10000 and sequence 2 kept", second.Labels)
	}
	if second.ID == first.ID {
		t.Errorf("two chunks share id %s", first.ID)
	}
	if _, copied := first.Labels["sf.extra.Records"]; copied {
		t.Error("the report's data (Records) must never be copied into labels")
	}
}

func TestReportEventExportBlocked(t *testing.T) {
	got := runJSON(t, ReportEvent, "reportevent.ndjson", 2)
	recordtest.Equal(t, got, event.Event{
		ID: "sf-9d3e7f10-44b2-4a8e-a1c3-5f6e7d8c9b0a", Timestamp: ts("2020-01-20T19:20:00Z"), Tenant: "acme",
		Source:  src("9d3e7f10-44b2-4a8e-a1c3-5f6e7d8c9b0a"),
		Event:   event.Activity{Category: "export", Action: "export", Outcome: "failure", Reason: "blocked_by_policy"},
		User:    event.User{ID: "005B0000001vURvIAM", Name: "user@company.com"},
		Client:  event.Client{IP: "126.7.4.2", AccessMethod: "web"},
		Object:  event.Object{Type: "report", ID: "00OB00000032FHdMAM", Name: "All Contacts"},
		Records: 5000, HasRecords: true, // no Sequence: an unchunked event
		Labels: map[string]string{
			"sf.policy_outcome": "Block", "sf.operation": "ReportExported", "sf.event_source": "Classic",
			"sf.export_file_format": "CSV", "sf.rows_processed": "5000",
		},
	})
}

func TestListViewEvent(t *testing.T) {
	got := runJSON(t, ListViewEvent, "listviewevent.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "sf-0a4779b0-0da1-4619-a373-0a36991dff90", Timestamp: ts("2020-01-20T19:12:26.965Z"), Tenant: "acme",
		Source:  src("0a4779b0-0da1-4619-a373-0a36991dff90"),
		Event:   event.Activity{Category: "data_access", Action: "view", Outcome: "success"},
		User:    event.User{ID: "005B0000001vURvIAM", Name: "user@company.com"},
		Client:  event.Client{IP: "126.7.4.2", SessionID: "vMASKIU6AxEr+Op5", AccessMethod: "web"},
		Object:  event.Object{Type: "list_view", ID: "00BB0000001c73kMAA", Name: "All Accounts", OwnerID: "005B0000001vURvIAM"},
		Records: 25, HasRecords: true,
		Labels: map[string]string{
			"sf.login_key": "lUqjLPQTWRdvRG4", "sf.session_level": "STANDARD", "sf.event_source": "Lightning",
			"sf.queried_entities": "Account", "sf.developer_name": "AllAccounts",
			"sf.execution_id": "a50a4025-84f2-425d-8af9-2c780869f3b5", "sf.scope": "Everything", "sf.app_name": "one:one",
			"sf.sequence": "1", "sf.rows_processed": "25",
		},
	})
}

func TestApiEvent(t *testing.T) {
	got := runJSON(t, ApiEvent, "apievent.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "sf-0a4779b0-0da1-4619-a373-0a36991dff90", Timestamp: ts("2020-01-20T19:12:26.965Z"), Tenant: "acme",
		Source: src("0a4779b0-0da1-4619-a373-0a36991dff90"),
		Event:  event.Activity{Category: "data_access", Action: "query", Outcome: "success"},
		User:   event.User{ID: "005B0000001vURvIAM", Name: "user@company.com"},
		// "Salesforce.com IP" is not an address: no client.ip, the value kept as a label.
		Client: event.Client{SessionID: "vMASKIU6AxEr+Op5", AccessMethod: "api",
			UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 13_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"},
		Object:  event.Object{Type: "lead"},
		Records: 3, HasRecords: true,
		Labels: map[string]string{
			"sf.source_ip": "Salesforce.com IP", "sf.login_key": "lUqjLPQTWRdvRG4", "sf.session_level": "STANDARD",
			"sf.policy_outcome": "NoAction", "sf.operation": "Query", "sf.api_type": "SOAP Partner",
			"sf.queried_entities": "Lead", "sf.query": "SELECT id FROM Lead", "sf.rows_processed": "3.0",
			"sf.api_version": "62.0", "sf.client": "Unknown", "sf.connected_app_id": "0H4RM00000000Kr0AI", "sf.elapsed_ms": "41",
		},
	})
	del := runJSON(t, ApiEvent, "apievent.ndjson", 1)
	if del.Event.Category != "data_change" || del.Event.Action != "delete" || del.Client.AccessMethod != "bulk_api" {
		t.Errorf("DeleteHard through Bulk: event %+v access %q, want data_change/delete over bulk_api", del.Event, del.Client.AccessMethod)
	}
	if del.HasRecords {
		t.Errorf("RowsProcessed -1 (big object) and no RowsReturned: records = %d, want none", del.Records)
	}
	if del.Object.Type != "" || del.Labels["sf.queried_entities"] != "Account, Contact" {
		t.Errorf("two entities: object.type %q, label %q; want no type and the list as a label", del.Object.Type, del.Labels["sf.queried_entities"])
	}
}

func TestBulkApiResultEventFromCometD(t *testing.T) {
	got := runJSON(t, BulkApiResultEvent, "bulkapiresultevent.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "sf-0a4779b0-0da1-4619-a373-0a36991dff90", Timestamp: ts("2020-01-20T19:12:26.965Z"), Tenant: "acme",
		Source:  src("0a4779b0-0da1-4619-a373-0a36991dff90"),
		Event:   event.Activity{Category: "export", Action: "export", Outcome: "success"},
		User:    event.User{ID: "005B0000001vURvIAM", Name: "user@company.com"},
		Client:  event.Client{IP: "126.7.4.2", SessionID: "vMASKIU6AxEr+Op5", AccessMethod: "bulk_api"},
		Object:  event.Object{Type: "bulk_job", ID: "750xx000004UeCCAA0"},
		Related: []event.Related{{Type: "bulk_batch", ID: "751xx000000AbCdAAK"}},
		// No records: BulkApiResultEvent carries no row count.
		Labels: map[string]string{
			"sf.login_key": "lUqjLPQTWRdvRG4", "sf.session_level": "STANDARD",
			"sf.query": "SELECT Id, Name, Email FROM Contact", "sf.schema_id": "pRh2Ql2Oc2bS6e0mcSgZwQ", "sf.replay_id": "4117",
		},
	})
}

func TestPermissionSetEventFromPubSub(t *testing.T) {
	assign := runJSON(t, PermissionSetEvent, "permissionsetevent.ndjson", 0)
	recordtest.Equal(t, assign, event.Event{
		ID: "sf-0a4779b0-0da1-4619-a373-0a36991dff90", Timestamp: ts("2020-01-20T19:12:26.965Z"), Tenant: "acme",
		Source:     src("0a4779b0-0da1-4619-a373-0a36991dff90"),
		Event:      event.Activity{Category: "permission", Action: "grant", Outcome: "success"},
		User:       event.User{ID: "005B0000001vURvIAM", Name: "admin@company.com"},
		Client:     event.Client{IP: "126.7.4.2", SessionID: "vMASKIU6AxEr+Op5", AccessMethod: "web"},
		Object:     event.Object{Type: "permission_set", ID: "0PS5e000000AbCdGAK", Name: "Data Export Admins"},
		TargetUser: event.TargetUser{ID: "005B0000002xYzWIAU"},
		Permission: event.Permission{Name: "Data Export Admins"},
		Labels: map[string]string{
			"sf.login_key": "lUqjLPQTWRdvRG4", "sf.session_level": "HIGH_ASSURANCE", "sf.operation": "AssignedToUsers",
			"sf.event_source": "Lightning", "sf.permission_type": "UserPermission", "sf.parent_ids": "0PS5e000000AbCdGAK",
			"sf.parent_names": "Data Export Admins", "sf.permissions": "ModifyAllData,ViewAllData",
			"sf.impacted_user_ids": "005B0000002xYzW", "sf.user_count": "1", "sf.has_external_users": "false",
			"sf.schema_id": "Mbk1KAzCRmeyB4cPaYYVQw", "sf.replay_id": "AAAAAAAAEDUAAA==",
		},
	})
	// The second record wraps nillable fields in Avro union objects and
	// gives lists as JSON arrays.
	perms := runJSON(t, PermissionSetEvent, "permissionsetevent.ndjson", 1)
	if perms.ID != "sf-1e0c2a8f-1d7b-4b4e-8f22-96b1d0e8c3aa" || !perms.Timestamp.Equal(ts("2020-01-20T19:13:20Z")) {
		t.Errorf("Avro-wrapped id/time: got %s at %s", perms.ID, perms.Timestamp)
	}
	if perms.Event.Action != "grant" || perms.Permission != (event.Permission{Name: "ModifyAllData", Scope: "UserPermission"}) {
		t.Errorf("PermsEnabled: action %q permission %+v", perms.Event.Action, perms.Permission)
	}
	if perms.TargetUser.ID != "" || perms.Labels["sf.impacted_user_ids"] != "005B0000002xYzW,005B0000001vURv" {
		t.Errorf("two impacted users: target_user %q labels %v; want no single target and the list kept", perms.TargetUser.ID, perms.Labels)
	}
	if perms.Client.AccessMethod != "api" {
		t.Errorf("EventSource API: access method %q", perms.Client.AccessMethod)
	}
}

func TestSetupAuditTrail(t *testing.T) {
	got := runJSON(t, SetupAuditTrail, "setupaudittrail.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "sf-0Ym5e00000AbCdECAV", Timestamp: ts("2026-11-03T13:02:11.204Z"), Tenant: "acme",
		Source: src("0Ym5e00000AbCdECAV"),
		Event:  event.Activity{Category: "configuration", Action: "config_change", Outcome: "success"},
		User:   event.User{ID: "005B0000001vURvIAM", Name: "admin@company.com"},
		Labels: map[string]string{
			"sf.action": "PermSetCreate", "sf.section": "Manage Users",
			"sf.display": "Created permission set MAD: with user license Salesforce",
		},
	})
	assign := runJSON(t, SetupAuditTrail, "setupaudittrail.ndjson", 1)
	if assign.ID != "sf-0Ym5e00000AbCdFCAV" {
		t.Errorf("15-character Id: event id %s, want its 18-character form", assign.ID)
	}
	if assign.Event.Category != "permission" || assign.Event.Action != "grant" || assign.Labels["sf.delegate_user"] != "admin@company.com" {
		t.Errorf("PermSetAssign by a Login-As user: %+v labels %v", assign.Event, assign.Labels)
	}
}
