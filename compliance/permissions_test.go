package compliance

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const permissionsExample = `{"type":"account","system":"salesforce","user_id":"005A","name":"jdoe@acme.example","active":true,"mfa_enabled":false,"mfa_enforced":false,"rights":["Export Reports","API Enabled"],"last_login":"2026-11-02T08:14:00Z"}

{"type":"account","system":"hubspot","user_id":"77","active":false}
{"type":"app","system":"salesforce","app_id":"0H4A","name":"Data Loader","scopes":["api","refresh_token"],"users":3,"last_used":"2026-07-01T00:00:00Z"}
{"type":"app","system":"hubspot","app_id":"12","scopes":[]}
`

func TestParsePermissions(t *testing.T) {
	p, err := ParsePermissions(strings.NewReader(permissionsExample), "perms.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Accounts) != 2 || len(p.Apps) != 2 {
		t.Fatalf("%d accounts, %d apps", len(p.Accounts), len(p.Apps))
	}
	a := p.Accounts[0]
	if a.Account() != "salesforce:005A" || !a.Active || a.MFAEnabled == nil || *a.MFAEnabled || len(a.Rights) != 2 ||
		a.LastLogin == nil || !a.LastLogin.Equal(time.Date(2026, 11, 2, 8, 14, 0, 0, time.UTC)) || a.Line != 1 {
		t.Errorf("account: %+v", a)
	}
	if b := p.Accounts[1]; b.Active || b.MFAEnabled != nil || b.Line != 3 {
		t.Errorf("second account: %+v", b)
	}
	app := p.Apps[0]
	if app.AppID != "0H4A" || app.Users == nil || *app.Users != 3 || app.LastUsed == nil || len(app.Scopes) != 2 {
		t.Errorf("app: %+v", app)
	}
	if p.Apps[1].Users != nil || p.Apps[1].LastUsed != nil {
		t.Errorf("unknowns must stay unknown: %+v", p.Apps[1])
	}
	if bom, err := ParsePermissions(strings.NewReader("\ufeff"+permissionsExample), "bom.ndjson"); err != nil || len(bom.Accounts) != 2 {
		t.Errorf("a leading byte-order mark: %v", err)
	}
}

// TestParsePermissionsRefuses: every malformed line is refused with the
// file, the line and the field.
func TestParsePermissionsRefuses(t *testing.T) {
	ok := `{"type":"account","system":"salesforce","user_id":"005A","active":true}`
	for _, c := range []struct{ in, want string }{
		{``, "no account and no app"},
		{`{"type":"account","system":"salesforce","user_id":"005A"}`, "p:1: active: required"},
		{`{"type":"account","system":"salesforce","active":true}`, "p:1: user_id: required"},
		{`{"type":"account","system":"Sales Force","user_id":"1","active":true}`, "p:1: system: \"Sales Force\""},
		{`{"type":"account","system":"salesforce","user_id":"1","active":"yes"}`, "p:1: active: want true or false, got a JSON string"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"mfa_enabled":1}`, "p:1: mfa_enabled: want true or false"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"rights":"Export"}`, "p:1: rights: want a list of strings"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"rights":["a",""]}`, "p:1: rights[1]: empty"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"rights":["a","a"]}`, "p:1: rights[1]: \"a\" listed twice"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"last_login":"yesterday"}`, "p:1: last_login: \"yesterday\" is not an RFC 3339 time"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"scopes":[]}`, "p:1: scopes: not a field of an account"},
		{`{"type":"account","system":"salesforce","user_id":"1","active":true,"mfa":true}`, "p:1: mfa: unknown field"},
		{`{"type":"app","system":"salesforce","app_id":"x"}`, "p:1: scopes: required"},
		{`{"type":"app","system":"salesforce","app_id":"x","scopes":[],"users":-1}`, "p:1: users: -1 is not a whole number"},
		{`{"type":"app","system":"salesforce","app_id":"x","scopes":[],"last_used":"2026-13-01T00:00:00Z"}`, "p:1: last_used:"},
		{`{"type":"app","system":"salesforce","app_id":"x","scopes":[],"active":true}`, "p:1: active: not a field of an app"},
		{`{"type":"user","system":"salesforce"}`, "p:1: type: \"user\", want account or app"},
		{`{"system":"salesforce"}`, "p:1: type: required"},
		{ok + "\n" + `{"type":"account",`, "p:2: the JSON object is cut short"},
		{ok + "\n" + `[1,2]`, "p:2: want a JSON object"},
		{ok + "\n" + `{"type":"account"} {}`, "p:2: more than one JSON value"},
		{ok + "\n\n" + ok, "p:3: user_id: salesforce:005A is already listed on line 1"},
		{ok + "\n" + `not json`, "p:2: not valid JSON"},
		{ok + "\n" + strings.Repeat("x", maxPermissionLine+10) + "\n" + ok, "p:2: line longer than"},
		{ok + "\n" + `{"type":"account","system":"salesforce","user_id":"1` + "\xff" + `","active":true}`, "p:2: not valid UTF-8"},
	} {
		_, err := ParsePermissions(strings.NewReader(c.in), "p")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.80s:\n got %v\nwant %q", c.in, err, c.want)
		}
	}
	// Every problem at once.
	_, err := ParsePermissions(strings.NewReader(`{"type":"account","system":"salesforce","active":true}`+"\n"+`{"type":"app","system":"x","app_id":"1"}`), "p")
	if err == nil || !strings.Contains(err.Error(), "p:1: user_id") || !strings.Contains(err.Error(), "p:2: scopes") {
		t.Errorf("all problems: %v", err)
	}
}

func FuzzParsePermissions(f *testing.F) {
	f.Add(permissionsExample)
	f.Add(`{"type":"app","system":"s","app_id":"1","scopes":["full"],"users":1e3}`)
	f.Add(`{"type":"account","system":"s","user_id":"1","active":true,"rights":null,"mfa_enabled":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePermissions(strings.NewReader(in), "fuzz")
		if err != nil {
			if p != nil {
				t.Fatal("a result with an error")
			}
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(p.Accounts)+len(p.Apps) == 0 {
			t.Fatal("an empty snapshot accepted")
		}
		seen := map[string]bool{}
		for _, a := range p.Accounts {
			if a.System == "" || a.UserID == "" || a.Line < 1 || seen["a"+a.Account()] || !utf8.ValidString(a.UserID+a.Name) {
				t.Fatalf("bad account accepted: %+v", a)
			}
			seen["a"+a.Account()] = true
		}
		for _, a := range p.Apps {
			if a.System == "" || a.AppID == "" || a.Scopes == nil || seen["p"+a.System+":"+a.AppID] {
				t.Fatalf("bad app accepted: %+v", a)
			}
			seen["p"+a.System+":"+a.AppID] = true
		}
	})
}
