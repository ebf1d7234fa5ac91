package hubspot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The records in testdata are the response examples of HubSpot's account
// activity API reference (account-info v3): GET /activity/login and GET
// /activity/security (the person3@testdomain.com records), GET
// /activity/audit-logs (the pgibbons@initech.com LOGIN record, and the
// PIPELINE/DEAL record from the "Account activity API" guide, whose userId
// 089274502 is printed with a leading zero there, which is not valid JSON, so
// the file has 89274502). The CRM_OBJECT/CONTACT/UPDATED record and the
// second login are illustrative, in the documented shape.

func run(t *testing.T, fn record.JSONFunc, file string, i int) event.Event {
	t.Helper()
	obj, err := record.ParseObject(recordtest.Lines(t, "testdata/"+file)[i])
	if err != nil {
		t.Fatal(err)
	}
	ev, err := fn(obj, recordtest.Meta)
	if err != nil {
		t.Fatalf("%s line %d: %v", file, i+1, err)
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

func TestLoginActivity(t *testing.T) {
	got := run(t, LoginActivity, "login-activity.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "hs-login-5432653", Timestamp: at("2022-04-01T19:36:24.303Z"), Tenant: "acme",
		Source: event.Source{System: "hubspot", ID: "5432653", Collector: "test"},
		Event:  event.Activity{Category: "authentication", Action: "login", Outcome: "success"},
		// userId is the JSON number 876; user.id is the string "876".
		User: event.User{ID: "876", Name: "person3@testdomain.com"},
		// countryCode "ie" is upper-cased.
		Client: event.Client{IP: "45.56.67.89", UserAgent: "Mozilla/5.0 (Linux; Android 11; M2101K6G)", Geo: event.Geo{Country: "IE", Region: "d"}},
	})
	failed := run(t, LoginActivity, "login-activity.ndjson", 1)
	if failed.Event.Outcome != "failure" || failed.Client.Geo.Country != "US" {
		t.Errorf("loginSucceeded false: %+v country %q", failed.Event, failed.Client.Geo.Country)
	}
	if failed.Labels["hs.location"] != "Boston, Massachusetts, United States" || failed.Labels["hs.device_type"] != "desktop" {
		t.Errorf("labels %v", failed.Labels)
	}
}

func TestSecurityActivity(t *testing.T) {
	got := run(t, SecurityActivity, "security-activity.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "hs-security-5432653", Timestamp: at("2022-04-01T19:36:24.303Z"), Tenant: "acme",
		Source:     event.Source{System: "hubspot", ID: "5432653", Collector: "test"},
		Event:      event.Activity{Category: "permission", Action: "user_create", Outcome: "success"},
		User:       event.User{ID: "876", Name: "person3@testdomain.com"},
		Client:     event.Client{IP: "45.56.67.89", Geo: event.Geo{Country: "IE", Region: "d"}},
		Object:     event.Object{Type: "user", ID: "7654"},
		TargetUser: event.TargetUser{ID: "7654"},
		Labels:     map[string]string{"hs.type": "ADD_USER", "hs.info_url": "app.hubspot.com/settings/123/users"},
	})
	login := run(t, LoginActivity, "login-activity.ndjson", 0)
	if login.ID == got.ID {
		t.Errorf("the documented login and security records share HubSpot id 5432653 but must not share event id %s", got.ID)
	}
}

func TestAuditLogs(t *testing.T) {
	got := run(t, AuditLog, "audit-logs.ndjson", 0)
	recordtest.Equal(t, got, event.Event{
		ID: "hs-audit-5432653", Timestamp: at("2023-11-07T05:31:56Z"), Tenant: "acme",
		Source: event.Source{System: "hubspot", ID: "5432653", Collector: "test"},
		Event:  event.Activity{Category: "authentication", Action: "login", Outcome: "success"},
		User:   event.User{ID: "2931299", Name: "pgibbons@initech.com"},
		Labels: map[string]string{"hs.category": "LOGIN", "hs.sub_category": "LOGIN_SUCCEEDED", "hs.action": "PERFORM"},
	})
	pipeline := run(t, AuditLog, "audit-logs.ndjson", 1)
	if pipeline.Event.Category != "configuration" || pipeline.Event.Action != "config_change" || pipeline.Object.ID != "Sales Pipeline" || pipeline.User.ID != "89274502" {
		t.Errorf("PIPELINE/DEAL/UPDATE: %+v object %+v user %q", pipeline.Event, pipeline.Object, pipeline.User.ID)
	}
	contact := run(t, AuditLog, "audit-logs.ndjson", 2)
	if contact.Event != (event.Activity{Category: "data_change", Action: "update", Outcome: "success"}) || contact.Object != (event.Object{Type: "contact", ID: "987654321"}) {
		t.Errorf("CRM_OBJECT/CONTACT/UPDATED: %+v %+v", contact.Event, contact.Object)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		fn      record.JSONFunc
		input   string
		wantErr string
	}{
		{"guide example with a leading-zero number", AuditLog, `{"id":"x","category":"PIPELINE","action":"UPDATE","occurredAt":"2025-02-07T20:58:49.529Z","actingUser":{"userId":089274502}}`, "not valid JSON"},
		{"fractional user id", LoginActivity, `{"id":"1","loginAt":"2022-04-01T19:36:24.303Z","userId":876.5}`, `userId: "876.5" is not a HubSpot user id`},
		{"boolean user id", LoginActivity, `{"id":"1","loginAt":"2022-04-01T19:36:24.303Z","userId":true}`, "userId: want a user id (integer), got boolean true"},
		{"loginSucceeded as a string", LoginActivity, `{"id":"1","loginAt":"2022-04-01T19:36:24.303Z","userId":1,"loginSucceeded":"yes"}`, `loginSucceeded: want a boolean, got string "yes"`},
		{"bad time", LoginActivity, `{"id":"1","loginAt":"April 1st","userId":1}`, `loginAt: "April 1st" is not a HubSpot date-time`},
		{"missing id", SecurityActivity, `{"createdAt":"2022-04-01T19:36:24.303Z","type":"ADD_USER","userId":1}`, "id: missing"},
		{"missing actor", SecurityActivity, `{"id":"1","createdAt":"2022-04-01T19:36:24.303Z","type":"ADD_USER"}`, "the actor is unknown"},
		{"actingUser not an object", AuditLog, `{"id":"1","category":"LOGIN","action":"PERFORM","occurredAt":"2023-11-07T05:31:56Z","actingUser":"bob"}`, `actingUser: want an object, got string "bob"`},
		{"nested user id missing", AuditLog, `{"id":"1","category":"LOGIN","action":"PERFORM","occurredAt":"2023-11-07T05:31:56Z","actingUser":{}}`, "actingUser.userId: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := record.NewJSON("test", tt.fn)
			_, err := n.Normalize(record.Record{Data: []byte(tt.input)}, recordtest.Meta)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzNormalizers drives the three HubSpot normalisers (the first byte picks
// one) with arbitrary records seeded from testdata: no input panics, every
// accepted record gives a valid, deterministic event.
func FuzzNormalizers(f *testing.F) {
	ns := Normalizers()
	files, _ := filepath.Glob("testdata/*.ndjson")
	for _, file := range files {
		if _, err := os.Stat(file); err != nil {
			f.Fatal(err)
		}
		for _, line := range recordtest.Lines(f, file) {
			for i := range ns {
				f.Add(uint8(i), line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		n := ns[int(which)%len(ns)]
		ev, err := n.Normalize(record.Record{Data: data}, recordtest.Meta)
		if err != nil {
			return
		}
		if err := event.Validate(&ev, recordtest.NoClock); err != nil {
			t.Fatalf("%s accepted %q but its event breaks the contract: %v", n.Format(), data, err)
		}
		again, _ := n.Normalize(record.Record{Data: data}, recordtest.Meta)
		if !reflect.DeepEqual(ev, again) {
			t.Fatal("not deterministic")
		}
	})
}
