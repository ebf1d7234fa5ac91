package salesforce

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
)

func TestMalformedRecords(t *testing.T) {
	login := func(extra string) string {
		return `{"EventIdentifier":"e1","EventDate":"2020-01-20T19:12:26.965+0000","UserId":"005B0000001vURvIAM","Status":"Success"` + extra + `}`
	}
	tests := []struct {
		name, format, input, wantErr string
	}{
		{"bad time", "salesforce-loginevent", `{"EventIdentifier":"e1","EventDate":"yesterday","UserId":"005B0000001vURvIAM"}`, `EventDate: "yesterday" is not a Salesforce date-time`},
		{"time of wrong type", "salesforce-loginevent", `{"EventIdentifier":"e1","EventDate":true,"UserId":"005B0000001vURvIAM"}`, `EventDate: true is not a Salesforce date-time`},
		{"missing EventIdentifier (Id is a placeholder, not used)", "salesforce-loginevent", `{"Id":"000000000000000AAA","EventDate":"2020-01-20T19:12:26.965Z","UserId":"005B0000001vURvIAM"}`, "EventIdentifier: missing"},
		{"missing user", "salesforce-loginevent", `{"EventIdentifier":"e1","EventDate":"2020-01-20T19:12:26.965Z"}`, "UserId: missing"},
		{"user id not an id", "salesforce-loginevent", `{"EventIdentifier":"e1","EventDate":"2020-01-20T19:12:26.965Z","UserId":"bob"}`, `UserId: "bob" is not a Salesforce id`},
		{"number where a string belongs", "salesforce-loginevent", login(`,"Username":42`), "Username: want a string, got number 42"},
		{"latitude out of range", "salesforce-loginevent", login(`,"LoginLatitude":123.0,"LoginLongitude":1.0`), "LoginLatitude: 123 is not a latitude"},
		{"wrong object for the format", "salesforce-loginevent", `{"attributes":{"type":"ReportEvent"},"EventIdentifier":"e1"}`, `attributes.type: the record is a "ReportEvent", this format reads LoginEvent`},
		{"array, not object", "salesforce-loginevent", `[1,2]`, "record is a JSON array, want an object"},
		{"truncated JSON", "salesforce-loginevent", `{"EventIdentifier":"e1"`, "record is not valid JSON"},
		{"invalid UTF-8", "salesforce-loginevent", "{\"EventIdentifier\":\"e\xff\"}", "not valid UTF-8 (first bad byte at offset 21)"},
		{"admin unknown in LoginAsEvent", "salesforce-loginasevent", `{"EventIdentifier":"e1","EventDate":"2020-01-20T19:12:26.965Z","UserId":"005B0000001vURvIAM"}`, "DelegatedUsername: missing (required): it names the administrator"},
		{"RowsProcessed fractional", "salesforce-reportevent", `{"EventIdentifier":"e1","EventDate":"2020-01-20T19:12:26.965Z","UserId":"005B0000001vURvIAM","RowsProcessed":1.5}`, `RowsProcessed: "1.5" is not an integer`},
		{"CometD message on another channel", "salesforce-bulkapiresultevent", `{"channel":"/event/LoginEventStream","data":{"payload":{}}}`, "this format reads /event/BulkApiResultEvent"},
		{"CometD without payload", "salesforce-bulkapiresultevent", `{"data":{"event":{"replayId":1}}}`, "data.payload: missing"},
		{"Pub/Sub payload time wrong", "salesforce-permissionsetevent", `{"event":{"payload":{"EventIdentifier":"e1","EventDate":"soon","UserId":"005B0000001vURvIAM"}}}`, `event.payload.EventDate: "soon" is not a Salesforce date-time`},
		{"Pub/Sub epoch out of range", "salesforce-permissionsetevent", `{"event":{"payload":{"EventIdentifier":"e1","EventDate":99999999999999999,"UserId":"005B0000001vURvIAM"}}}`, "out of range"},
		{"id too long", "salesforce-loginevent", `{"EventIdentifier":"` + strings.Repeat("x", 130) + `","EventDate":"2020-01-20T19:12:26.965Z","UserId":"005B0000001vURvIAM"}`, "too long for an event id"},
		{"SetupAuditTrail without Action", "salesforce-setupaudittrail", `{"Id":"0Ym5e00000AbCdECAV","CreatedDate":"2026-11-03T13:02:11.204+0000","CreatedById":"005B0000001vURvIAM"}`, "Action: missing"},
	}
	formats := map[string]record.Normalizer{}
	for _, n := range Normalizers() {
		formats[n.Format()] = n
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := formats[tt.format].Normalize(record.Record{Data: []byte(tt.input)}, recordtest.Meta)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNoTenantIsRefused(t *testing.T) {
	n := Normalizers()[0]
	_, err := n.Normalize(record.Record{Data: []byte(`{}`)}, record.Meta{})
	if err != record.ErrNoTenant {
		t.Fatalf("error = %v, want ErrNoTenant", err)
	}
}

func TestMalformedRows(t *testing.T) {
	tests := []struct{ name, csv, wantErr string }{
		{"no user columns", "EVENT_TYPE,TIMESTAMP\nLogin,20130715233322.670\n", "missing column USER_ID_DERIVED (or USER_ID)"},
		{"no time columns", "EVENT_TYPE,USER_ID\nLogin,005B0000001vURv\n", "missing column TIMESTAMP (or TIMESTAMP_DERIVED)"},
		{"ISO time in TIMESTAMP", "TIMESTAMP,USER_ID\n2013-07-15T23:33:22.670Z,005B0000001vURv\n", "column TIMESTAMP: \"2013-07-15T23:33:22.670Z\" is not an Event Log File TIMESTAMP"},
		{"ids disagree", "TIMESTAMP,USER_ID,USER_ID_DERIVED\n20130715233322.670,005B0000001vURv,00530000009M943AAC\n", "name different users"},
		{"wrong event type", "EVENT_TYPE,TIMESTAMP,USER_ID\nURI,20130715233322.670,005B0000001vURv\n", `column EVENT_TYPE is "URI", this format reads Login rows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := record.NewCSVReader(strings.NewReader(tt.csv))
			if err != nil {
				t.Fatal(err)
			}
			row, err := cr.Next()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ELFLogin(row, recordtest.Meta)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
