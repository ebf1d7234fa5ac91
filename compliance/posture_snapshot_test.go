package compliance

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// snapshotFixture is a permissions snapshot with one planted account or
// app of each snapshot finding among clean ones, relative to auditAt.
func snapshotFixture(t *testing.T) string {
	t.Helper()
	day := func(d int) string { return auditAt.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339) }
	return strings.Join([]string{
		// MFA
		`{"type":"account","system":"salesforce","user_id":"005NOMFA","name":"nomfa@acme.example","active":true,"mfa_enabled":false,"mfa_enforced":false,"rights":["API Enabled"],"last_login":"` + day(-1) + `"}`,
		`{"type":"account","system":"salesforce","user_id":"005ENF","active":true,"mfa_enabled":false,"mfa_enforced":true}`,
		`{"type":"account","system":"salesforce","user_id":"005MFA","active":true,"mfa_enabled":true}`,
		`{"type":"account","system":"salesforce","user_id":"005UNK","active":true}`,
		`{"type":"account","system":"salesforce","user_id":"005OFF","active":false,"mfa_enabled":false,"rights":["Export Reports"]}`,
		// rights
		`{"type":"account","system":"salesforce","user_id":"005HOARD","name":"hoard@acme.example","active":true,"mfa_enabled":true,"rights":["Export Reports","Modify All Data","API Enabled"]}`,
		`{"type":"account","system":"salesforce","user_id":"005USER","active":true,"mfa_enabled":true,"rights":["Export Reports","Customize Application"]}`,
		`{"type":"account","system":"salesforce","user_id":"005NEW","active":true,"mfa_enabled":true,"rights":["View All Data"]}`,
		`{"type":"account","system":"salesforce","user_id":"005NOEV","active":true,"mfa_enabled":true,"rights":["Export Reports"]}`,
		`{"type":"account","system":"salesforce","user_id":"005GRANT","active":true,"mfa_enabled":true,"rights":["Export Reports"]}`,
		`{"type":"account","system":"hubspot","user_id":"77","active":true,"mfa_enabled":true,"rights":["super admin"]}`,
		// apps
		`{"type":"app","system":"salesforce","app_id":"0H4OLD","name":"Old sync","scopes":["api"],"users":2,"last_used":"` + day(-120) + `"}`,
		`{"type":"app","system":"salesforce","app_id":"0H4FULL","name":"Everything","scopes":["full","refresh_token"],"users":40,"last_used":"` + day(-1) + `"}`,
		`{"type":"app","system":"salesforce","app_id":"0H4REF","scopes":["refresh_token","api"],"last_used":"` + day(-5) + `"}`,
		`{"type":"app","system":"salesforce","app_id":"0H4OK","scopes":["api","chatter_api"],"last_used":"` + day(-2) + `"}`,
		`{"type":"app","system":"salesforce","app_id":"0H4EDGE","scopes":["web"],"last_used":"` + day(-89) + `"}`,
		`{"type":"app","system":"hubspot","app_id":"12","scopes":["crm.objects.contacts.read"]}`,
	}, "\n")
}

func storeSnapshotActivity(t *testing.T, st *chstore.Store) {
	t.Helper()
	var evs []*event.Event
	n := 0
	add := func(d int, system, user, category, action string, f func(*event.Event)) {
		n++
		e := &event.Event{ID: fmt.Sprint("sn-", n), Timestamp: auditAt.Add(time.Duration(d)*24*time.Hour - 3*time.Hour), Tenant: "acme",
			Source: event.Source{System: system}, Event: event.Activity{Category: category, Action: action, Outcome: "success"},
			User:   event.User{ID: user, Name: strings.ToLower(user) + "@acme.example", Type: "human"},
			Client: event.Client{DeviceID: "dev-" + user, Geo: event.Geo{Country: "US"}}}
		if f != nil {
			f(e)
		}
		evs = append(evs, e)
	}
	for _, u := range []string{"005NOMFA", "005ENF", "005MFA", "005UNK", "005HOARD", "005USER", "005NEW", "005GRANT", "005ADM"} {
		for d := -150; d <= 0; d += 5 {
			add(d, "salesforce", u, "authentication", "login", nil)
		}
	}
	add(-20, "salesforce", "005USER", "export", "export", func(e *event.Event) { e.Records = 10 })
	add(-30, "salesforce", "005USER", "configuration", "config_change", nil)
	add(-10, "salesforce", "005ADM", "permission", "grant", func(e *event.Event) {
		e.TargetUser, e.Permission = event.TargetUser{ID: "005NEW"}, event.Permission{Name: "View All Data"}
	})
	add(-200, "salesforce", "005ADM", "permission", "grant", func(e *event.Event) {
		e.TargetUser, e.Permission = event.TargetUser{ID: "005GRANT"}, event.Permission{Name: "Export Reports"}
	})
	// HubSpot's stored trail starts ten days ago: too short to judge.
	add(-10, "hubspot", "77", "authentication", "login", nil)
	history.Store(t, st, evs, 0, nil)
}

// TestPostureAuditPermissions: with a permissions snapshot the audit finds
// exactly the planted accounts without MFA, unused privileged rights,
// unused apps and apps with broad scopes; clean accounts and apps (MFA
// enforced or unknown, inactive, rights in use or granted recently, a
// source whose trail is too short, narrow scopes, an app used 89 days ago
// or with no last use given) are not flagged.
func TestPostureAuditPermissions(t *testing.T) {
	st := openStore(t)
	storeSnapshotActivity(t, st)
	perms, err := ParsePermissions(strings.NewReader(snapshotFixture(t)), "perms.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultAuditOptions(auditAt)
	opt.TopExporters = 0
	opt.Permissions = perms
	fs, err := Audit(t.Context(), st, "acme", opt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		k := f.Kind + " " + f.Account + " " + f.Severity
		if f.Kind == FindingOverPrivileged {
			k += " " + strings.TrimPrefix(strings.SplitN(f.Fix, " (", 2)[0], "Revoke ")
		}
		got = append(got, k)
		if f.Evidence == "" || f.Fix == "" || f.Target == "" {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	sort.Strings(got)
	want := []string{
		"account_without_mfa salesforce:005NOMFA medium",
		"app_broad_scopes salesforce:app:0H4FULL high",
		"app_broad_scopes salesforce:app:0H4REF high",
		"app_unused salesforce:app:0H4OLD medium",
		"over_privileged_account 005GRANT medium Export Reports",
		"over_privileged_account salesforce:005HOARD medium Export Reports",
		"over_privileged_account salesforce:005HOARD medium Modify All Data",
		"over_privileged_account salesforce:005NOEV medium Export Reports",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := 1; i < len(fs); i++ {
		if severityRank(fs[i-1].Severity) > severityRank(fs[i].Severity) {
			t.Errorf("not most severe first: %s before %s", fs[i-1].Severity, fs[i].Severity)
		}
	}
	var b strings.Builder
	if err := WriteFindings(&b, "acme", auditAt, fs, "table"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"18 successful logins stored in the last 90 days", "full (full access", "full + refresh_token", "api + refresh_token", "last used 2026-07-13", "120 days before the audit", "per the permissions snapshot"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}

	// Without the snapshot none of these findings appear but the
	// grant-event rule's.
	opt.Permissions = nil
	fs, err = Audit(t.Context(), st, "acme", opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Account != "005GRANT" {
		t.Errorf("without a snapshot: %+v", fs)
	}
}

func TestBroadScopes(t *testing.T) {
	for _, c := range []struct {
		scopes []string
		broad  int
	}{
		{[]string{"full"}, 1},
		{[]string{"*"}, 1},
		{[]string{"crm.objects.*"}, 1},
		{[]string{"api", "refresh_token"}, 1},
		{[]string{"api", "offline_access"}, 1},
		{[]string{"full", "refresh_token"}, 2},
		{[]string{"user_impersonation"}, 1},
		{[]string{"settings.users.write", "crm.export"}, 2},
		{[]string{"Admin.Read"}, 1},
		{[]string{"api"}, 0},
		{[]string{"refresh_token", "web"}, 0},
		{[]string{"crm.objects.contacts.read", "chatter_api", "openid"}, 0},
		{nil, 0},
	} {
		if got := BroadScopes(c.scopes); len(got) != c.broad {
			t.Errorf("%v: %v, want %d broad", c.scopes, got, c.broad)
		}
	}
}
