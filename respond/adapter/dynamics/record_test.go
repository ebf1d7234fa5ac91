package dynamics_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

const contactID = "5531d753-95af-e711-a94e-000d3a11e605"

func contactsEnv(t *testing.T) *fakes.Dataverse {
	t.Helper()
	f := fakes.NewDataverse(t, "acme-tenant", "app-id", "s3cret")
	f.AddTable("contact", "contacts",
		fakes.DataverseColumn{Name: "emailaddress1", Type: "String"},
		fakes.DataverseColumn{Name: "creditlimit", Type: "Money"},
		fakes.DataverseColumn{Name: "parentcustomerid", Type: "Customer"},
		fakes.DataverseColumn{Name: "createdon", Type: "DateTime", ReadOnly: true})
	f.SetRow("contact", contactID, map[string]any{"emailaddress1": "a@acme.example", "creditlimit": json.Number("100.0000"),
		"_parentcustomerid_value": "b531d753-95af-e711-a94e-000d3a11e605"})
	return f
}

func TestRecordReadAndUpdate(t *testing.T) {
	f := contactsEnv(t)
	c := newClient(t, f, "s3cret", 2*time.Second)
	tab, err := c.Table(t.Context(), "contact")
	if err != nil {
		t.Fatal(err)
	}
	if tab.EntitySetName != "contacts" || tab.PrimaryID != "contactid" || !tab.Columns["parentcustomerid"].IsLookup() ||
		tab.Columns["parentcustomerid"].Property() != "_parentcustomerid_value" || tab.Columns["createdon"].Updatable || !tab.Columns["emailaddress1"].Updatable {
		t.Fatalf("table %+v", tab)
	}
	if _, err := c.Table(t.Context(), "contact"); err != nil || f.Count(http.MethodGet, "/api/data/v9.2/EntityDefinitions") != 1 {
		t.Fatalf("the definition is read once: %v, %d reads", err, f.Count(http.MethodGet, "/api/data/v9.2/EntityDefinitions"))
	}
	row, err := c.Row(t.Context(), "contacts", strings.ToUpper(contactID), []string{"emailaddress1", "creditlimit", "_parentcustomerid_value"})
	if err != nil {
		t.Fatal(err)
	}
	if string(row.Values["emailaddress1"]) != `"a@acme.example"` || string(row.Values["creditlimit"]) != "100.0000" ||
		string(row.Values["_parentcustomerid_value"]) != `"b531d753-95af-e711-a94e-000d3a11e605"` || row.ETag != `W/"1"` {
		t.Fatalf("row %+v", row)
	}
	if err := c.UpdateRow(t.Context(), "contacts", contactID, row.ETag, map[string]json.RawMessage{"emailaddress1": json.RawMessage("null"), "creditlimit": json.RawMessage("250.5")}); err != nil {
		t.Fatal(err)
	}
	if f.RowValue("contact", contactID, "emailaddress1") != "null" || f.RowValue("contact", contactID, "creditlimit") != "250.5" {
		t.Fatalf("after update: %s %s", f.RowValue("contact", contactID, "emailaddress1"), f.RowValue("contact", contactID, "creditlimit"))
	}
	for _, r := range f.Requests() {
		if r.Path == "/acme-tenant/oauth2/v2.0/token" {
			continue
		}
		if r.Header.Get("OData-MaxVersion") != "4.0" || r.Header.Get("OData-Version") != "4.0" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s %s without the OData headers: %v", r.Method, r.Path, r.Header)
		}
		switch r.Method {
		case http.MethodGet:
			if !strings.Contains(r.RawQuery, "$select=") {
				t.Errorf("GET %s without $select", r.Path)
			}
		case http.MethodPatch:
			if r.Header.Get("If-Match") != `W/"1"` || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("PATCH headers %v", r.Header)
			}
		}
	}
}

func TestRecordFailures(t *testing.T) {
	missing := "00000000-0000-0000-0000-0000000000ff"
	set := func(v string) map[string]json.RawMessage {
		return map[string]json.RawMessage{"emailaddress1": json.RawMessage(v)}
	}
	tests := []struct {
		name  string
		fault *fakes.Fault
		call  func(*dynamics.Client, *fakes.Dataverse) error
		kind  adapter.Kind
		text  string
		wait  time.Duration
		sent  bool // whether the PATCH reached the environment
	}{
		{name: "row does not exist: If-Match * is 404, never an upsert", kind: adapter.KindNotFound, text: "Does Not Exist", sent: true,
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", missing, "", set(`"x@acme.example"`))
			}},
		{name: "row changed since the read", kind: adapter.KindPermanent, text: "412 0x80060882: The version of the existing record", sent: true,
			call: func(c *dynamics.Client, f *fakes.Dataverse) error {
				f.SetRow("contact", contactID, map[string]any{"emailaddress1": "someone@else.example"})
				return c.UpdateRow(t.Context(), "contacts", contactID, `W/"1"`, set(`"x@acme.example"`))
			}},
		{name: "service protection limit", fault: ptr(fakes.DataverseThrottled(20)), kind: adapter.KindRetryable, text: "Number of requests exceeded", wait: 20 * time.Second, sent: true,
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", contactID, "", set(`"x@acme.example"`))
			}},
		{name: "unavailable", fault: &fakes.Fault{Status: 503, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":{"code":"0x80040216","message":"Service Unavailable"}}`},
			kind: adapter.KindRetryable, text: "Service Unavailable", wait: 7 * time.Second,
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				_, err := c.Row(t.Context(), "contacts", contactID, []string{"emailaddress1"})
				return err
			}},
		{name: "wrong type", kind: adapter.KindInvalid, text: "0x80048d19: Error identified in Payload", sent: true,
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", contactID, "", set(`42`))
			}},
		{name: "unknown column read", kind: adapter.KindInvalid, text: "Could not find a property named 'nosuch'",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				_, err := c.Row(t.Context(), "contacts", contactID, []string{"nosuch"})
				return err
			}},
		{name: "unknown table", kind: adapter.KindNotFound, text: "Could not find an entity with name nosuch",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				_, err := c.Table(t.Context(), "nosuch")
				return err
			}},
		{name: "lookup property refused", kind: adapter.KindInvalid, text: "@odata.bind",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", contactID, "", map[string]json.RawMessage{"_parentcustomerid_value": json.RawMessage(`"b531d753-95af-e711-a94e-000d3a11e605"`)})
			}},
		{name: "annotation refused", kind: adapter.KindInvalid, text: "@odata.bind",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", contactID, "", map[string]json.RawMessage{"parentcustomerid_account@odata.bind": json.RawMessage(`"/accounts(b531d753-95af-e711-a94e-000d3a11e605)"`)})
			}},
		{name: "not a row id", kind: adapter.KindInvalid, text: "not a Dataverse row id",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				return c.UpdateRow(t.Context(), "contacts", "1)/../systemusers(2", "", set(`"x"`))
			}},
		{name: "not a table name", kind: adapter.KindInvalid, text: "not a table logical name",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				_, err := c.Table(t.Context(), "Contact'")
				return err
			}},
		{name: "not a column name", kind: adapter.KindInvalid, text: "not a column logical name",
			call: func(c *dynamics.Client, _ *fakes.Dataverse) error {
				_, err := c.Row(t.Context(), "contacts", contactID, []string{"a,b"})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := contactsEnv(t)
			c := newClient(t, f, "s3cret", 2*time.Second)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := tt.call(c, f)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v; want kind %v containing %q, wait %v", err, tt.kind, tt.text, tt.wait)
			}
			if sent := f.Count(http.MethodPatch, "/api/data/") > 0; sent != tt.sent {
				t.Errorf("PATCH sent: %v, want %v", sent, tt.sent)
			}
			if f.HasRow("contact", missing) {
				t.Error("an update created a row")
			}
			if tt.name != "row changed since the read" && f.RowValue("contact", contactID, "emailaddress1") != `"a@acme.example"` {
				t.Errorf("a failed update changed the row: %s", f.RowValue("contact", contactID, "emailaddress1"))
			}
		})
	}
}

// TestRecordTokenRefresh: a token that expires between calls is replaced
// once and the call goes through.
func TestRecordTokenRefresh(t *testing.T) {
	f := contactsEnv(t)
	c := newClient(t, f, "s3cret", 2*time.Second)
	if _, err := c.Row(t.Context(), "contacts", contactID, []string{"emailaddress1"}); err != nil {
		t.Fatal(err)
	}
	f.Expire()
	if err := c.UpdateRow(t.Context(), "contacts", contactID, "*", map[string]json.RawMessage{"emailaddress1": json.RawMessage(`"b@acme.example"`)}); err != nil {
		t.Fatal(err)
	}
	if f.TokensIssued() != 2 || f.RowValue("contact", contactID, "emailaddress1") != `"b@acme.example"` {
		t.Errorf("%d tokens, value %s", f.TokensIssued(), f.RowValue("contact", contactID, "emailaddress1"))
	}
}
