package salesforce

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The CSV files in testdata/elf-*.csv use the column lists of the Object
// Reference's EventLogFile event types (Login, Report Export, API, URI) and
// their example values: TIMESTAMP 20130715233322.670, TIMESTAMP_DERIVED
// 2015-07-27T11:32:59.555Z's form, REQUEST_ID 3nWgxWbDKWWDIk0FKfF5DV,
// ORGANIZATION_ID 00D000000000123, USER_ID 00530000009M943, LOGIN_KEY
// GeJCsym5eyvtEK2I, SESSION_KEY d7DEq/ANa7nNZZVD, CLIENT_IP 96.43.144.26,
// SOURCE_IP 126.7.4.2, URI /home/home.jsp, the BROWSER_TYPE user agents, the
// "Salesforce.com IP" marker, ROWS_PROCESSED 150. The login file ends lines
// with CRLF, as Salesforce's downloads do.

func runRow(t *testing.T, fn record.RowFunc, file string, i int) event.Event {
	t.Helper()
	rows := recordtest.Rows(t, "testdata/"+file)
	ev, err := fn(rows[i], recordtest.Meta)
	if err != nil {
		t.Fatalf("%s row %d: %v", file, i+1, err)
	}
	recordtest.CheckContract(t, &ev)
	return ev
}

func elfSrc() event.Source { return event.Source{System: "salesforce", Collector: "test"} }

func TestELFLogin(t *testing.T) {
	rows := recordtest.Rows(t, "testdata/elf-login.csv")
	got := runRow(t, ELFLogin, "elf-login.csv", 0)
	recordtest.Equal(t, got, event.Event{
		ID:        record.HashID("sf-elf-login-", rows[0].CanonicalBytes()),
		Timestamp: ts("2013-07-15T23:33:22.670Z"), Tenant: "acme", Source: elfSrc(),
		Event: event.Activity{Category: "authentication", Action: "login", Outcome: "success"},
		// USER_ID 00530000009M943 and USER_ID_DERIVED agree; the 18-character form joins RTEM.
		User: event.User{ID: "00530000009M943AAC", Name: "user@company.com"},
		Client: event.Client{IP: "126.7.4.2", SessionID: "d7DEq/ANa7nNZZVD", AccessMethod: "web",
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.84 Safari/537.36",
			Geo:       event.Geo{Country: "US"}},
		Labels: map[string]string{
			"sf.login_key": "GeJCsym5eyvtEK2I", "sf.request_id": "3nWgxWbDKWWDIk0FKfF5DV", "sf.organization_id": "00D000000000123",
			"sf.user_type": "Standard", "sf.login_type": "Application", "sf.login_status": "LOGIN_NO_ERROR", "sf.uri": "/home/home.jsp",
			"sf.tls_protocol": "1.2", "sf.cipher_suite": "ECDHE-RSA-AES256-GCM-SHA384",
		},
	})
	if !strings.HasPrefix(got.ID, "sf-elf-login-") || len(got.ID) != len("sf-elf-login-")+32 {
		t.Errorf("id %q: want sf-elf-login- and 32 hex digits", got.ID)
	}
	failed := runRow(t, ELFLogin, "elf-login.csv", 1)
	if failed.Event.Outcome != "failure" || failed.Event.Reason != "bad_password" {
		t.Errorf("LOGIN_ERROR_INVALID_PASSWORD: %+v", failed.Event)
	}
	if failed.Client.IP != "" || failed.Labels["sf.client_ip"] != "Salesforce.com IP" {
		t.Errorf("Salesforce.com IP: client.ip %q labels %v", failed.Client.IP, failed.Labels)
	}
	if failed.Client.AccessMethod != "api" || failed.Labels["sf.api_type"] != "SOAP Enterprise" || failed.Labels["sf.login_type"] != "Remote Access 2.0" {
		t.Errorf("API login: access %q labels %v", failed.Client.AccessMethod, failed.Labels)
	}
}

func TestELFReportExportHasNoRecords(t *testing.T) {
	rows := recordtest.Rows(t, "testdata/elf-reportexport.csv")
	got := runRow(t, ELFReportExport, "elf-reportexport.csv", 0)
	recordtest.Equal(t, got, event.Event{
		ID:        record.HashID("sf-elf-reportexport-", rows[0].CanonicalBytes()),
		Timestamp: ts("2013-07-15T23:33:22.670Z"), Tenant: "acme", Source: elfSrc(),
		Event:  event.Activity{Category: "export", Action: "export", Outcome: "success"},
		User:   event.User{ID: "005B0000001vURvIAM"},
		Client: event.Client{IP: "96.43.144.26", SessionID: "d7DEq/ANa7nNZZVD", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"},
		Object: event.Object{Type: "report", ID: "00OB00000032FHdMAM"},
		Labels: map[string]string{
			"sf.login_key": "GeJCsym5eyvtEK2I", "sf.request_id": "3nWgxWbDKWWDIk0FKfF5DV", "sf.organization_id": "00D000000000123",
			"sf.report_description": `All contacts, "VIP" tier`, "sf.client_info": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
			"sf.uri": "/00OB00000032FHd",
		},
	})
}

func TestELFAPI(t *testing.T) {
	got := runRow(t, ELFAPI, "elf-api.csv", 0)
	if got.Event != (event.Activity{Category: "data_access", Action: "query", Outcome: "success"}) {
		t.Errorf("query: %+v", got.Event)
	}
	if !got.HasRecords || got.Records != 150 || got.Object.Type != "lead" || got.Client.AccessMethod != "api" {
		t.Errorf("query of Lead, 150 rows: records %d (has %v) object %q access %q", got.Records, got.HasRecords, got.Object.Type, got.Client.AccessMethod)
	}
	if got.Labels["sf.method"] != "query" || got.Labels["sf.api_type"] != "SOAP Enterprise" || got.Labels["sf.client_name"] != "DataLoader" {
		t.Errorf("labels %v", got.Labels)
	}
	denied := runRow(t, ELFAPI, "elf-api.csv", 1)
	if denied.Event != (event.Activity{Category: "data_change", Action: "delete", Outcome: "failure", Reason: "not_authorized"}) {
		t.Errorf("delete with REQUEST_STATUS A: %+v", denied.Event)
	}
}

func TestELFURI(t *testing.T) {
	got := runRow(t, ELFURI, "elf-uri.csv", 0)
	if got.Object != (event.Object{Type: "account", ID: "001B000000fewaiIAA"}) {
		t.Errorf("object %+v, want the account from URI_ID_DERIVED", got.Object)
	}
	if got.Event != (event.Activity{Category: "data_access", Action: "view", Outcome: "success"}) || got.Client.AccessMethod != "web" {
		t.Errorf("event %+v access %q", got.Event, got.Client.AccessMethod)
	}
	if got.Labels["sf.referrer_uri"] != "/001/o" || got.Labels["sf.run_time_ms"] != "52" {
		t.Errorf("labels %v", got.Labels)
	}
}

// TestSameLoginTwoChannels: the ELF Login row and the RTEM LoginEvent of one
// login are two records, so two events with different ids, but the same
// user.id once both ids are in their 18-character form.
func TestSameLoginTwoChannels(t *testing.T) {
	rtem := `{"EventIdentifier":"e1","EventDate":"2013-07-15T23:33:22.670+0000","UserId":"00530000009M943AAC","Status":"Success"}`
	obj, err := record.ParseObject([]byte(rtem))
	if err != nil {
		t.Fatal(err)
	}
	a, err := LoginEvent(obj, recordtest.Meta)
	if err != nil {
		t.Fatal(err)
	}
	b := runRow(t, ELFLogin, "elf-login.csv", 0)
	if a.ID == b.ID {
		t.Errorf("both channels gave id %s", a.ID)
	}
	if a.User.ID != b.User.ID || !a.Timestamp.Equal(b.Timestamp) {
		t.Errorf("user %s at %s (RTEM) vs %s at %s (ELF): want the same user and instant", a.User.ID, a.Timestamp, b.User.ID, b.Timestamp)
	}
}
