package identity

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parseTestdata(t testing.TB, name string, f Format) *Snapshot {
	t.Helper()
	s, err := ParseFile(filepath.Join("testdata", name), f)
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return s
}

func TestParseFormatsAgree(t *testing.T) {
	csv := parseTestdata(t, "people.csv", "")
	for _, tc := range []struct {
		file string
		f    Format
	}{{"people.json", ""}, {"people.json", FormatJSON}, {"users.scim.json", ""}, {"users.scim.json", FormatSCIM}} {
		t.Run(tc.file+"/"+string(tc.f), func(t *testing.T) {
			s := parseTestdata(t, tc.file, tc.f)
			if s.Digest != csv.Digest {
				for i := range s.People {
					if i < len(csv.People) && !slices.Equal(s.People[i].fields(), csv.People[i].fields()) {
						t.Errorf("person %d:\n  %q\nCSV:\n  %q", i, s.People[i].fields(), csv.People[i].fields())
					}
				}
				t.Fatalf("digest %s, CSV's %s", s.Digest, csv.Digest)
			}
		})
	}
	kim, ok := csv.Person("p-kim")
	if !ok {
		t.Fatal("p-kim missing")
	}
	if kim.Timezone != "America/New_York" || kim.Department != "sales" || len(kim.Accounts) != 3 || kim.Manager != "p-lee" {
		t.Errorf("p-kim = %+v", kim)
	}
	if ode, _ := csv.Person("p-ode"); ode.Status != StatusLeft || ode.StatusDate != "2026-10-31" {
		t.Errorf("p-ode status = %s %s", ode.Status, ode.StatusDate)
	}
	if svc, _ := csv.Person("svc-sync"); svc.Type != TypeIntegration || svc.Owner != "p-lee" || svc.UserType() != "integration" {
		t.Errorf("svc-sync = %+v", svc)
	}
	if len(csv.Conflicts) != 0 {
		t.Errorf("conflicts = %v", csv.Conflicts)
	}
}

func TestParseListsEveryProblem(t *testing.T) {
	_, err := ParseFile(filepath.Join("testdata", "bad.csv"), "")
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v, want *InvalidError", err)
	}
	want := []string{
		`bad.csv:2: timezone: unknown time zone "Mars/Olympus"`,
		`bad.csv:3: status_date: required when status is left`,
		`bad.csv:3: accounts: account salesforce:0051 is claimed by "p-1" (bad.csv:2) and "p-2"`,
		`bad.csv:4: person_id: duplicate person id "p-1" (first at bad.csv:2)`,
		`bad.csv:5: emails: "not-an-address" is not an e-mail address`,
		`bad.csv:5: status: "retired" is not one of active, on_leave, left`,
		`bad.csv:5: status_date: "31/10/2026" is not a date (YYYY-MM-DD)`,
		`bad.csv:5: accounts: "Salesforce:1" is not system:id`,
		`bad.csv:5: accounts: "nocolon" is not system:id`,
		`bad.csv:6: malformed row: wrong number of fields`,
		`bad.csv:7: person_id: required`,
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.String())
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		f          Format
		want       []string
	}{
		{"empty csv", "", FormatCSV, []string{"x:1: empty file"}},
		{"no id column", "mail\na@b.example\n", FormatCSV, []string{"x:1: mail: unknown column", "x:1: person_id: the header has no person_id column"}},
		{"bad quote", "person_id,role\np-1,\"a\"b\np-2,ok\np-2,dup\n", FormatCSV, []string{"x:2: malformed row", `x:4: person_id: duplicate person id "p-2" (first at x:3)`}},
		{"integration without owner", "person_id,type\nsvc,integration\n", FormatCSV, []string{"x:2: owner: required for an integration"}},
		{"owner unknown", "person_id,type,owner\nsvc,integration,p-9\n", FormatCSV, []string{`x:2: owner: owner "p-9" is not a person`}},
		{"person with owner", "person_id,owner\np-1,p-2\np-2,\n", FormatCSV, []string{"x:2: owner: only integrations have an owner"}},
		{"bad type", "person_id,type\np-1,robot\n", FormatCSV, []string{`x:2: type: "robot" is not one of`}},
		{"json not array", `{"id":"p"}`, FormatJSON, []string{"x: not a JSON array"}},
		{"json unknown field", `[{"id":"p-1","tz":"UTC"},{"id":"p-2","timezone":"Nowhere/Land"}]`, FormatJSON,
			[]string{`x: [0]: tz: malformed entry: unknown field "tz"`, `x: [1]: timezone: unknown time zone "Nowhere/Land"`}},
		{"json wrong type", `[{"id":"p-1","emails":"a@b.example"}]`, FormatJSON, []string{"x: [0]: emails: malformed entry: a JSON string where []string belongs"}},
		{"json truncated", `[{"id":"p-1"},{"id":`, FormatJSON, []string{"x: [1]: malformed JSON"}},
		{"json trailing", `[] []`, FormatJSON, []string{"x: content after the array"}},
		{"scim not a list", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"p"}`, FormatSCIM, []string{"x: schemas: a SCIM ListResponse names"}},
		{"scim bad user", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[{"id":1},{"id":"p","timezone":"Bad/Zone"}]}`, FormatSCIM,
			[]string{"x: Resources: [0]: id: malformed User", `x: Resources: [1]: timezone: unknown time zone "Bad/Zone"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), "x", tc.f)
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error %v, want *InvalidError", err)
			}
			var got []string
			for _, p := range inv.Problems {
				got = append(got, p.String())
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
		})
	}
}

func TestSharedEmailIsAConflictNotAMerge(t *testing.T) {
	s, err := Parse([]byte("person_id,emails,accounts\np-1,Team@acme.example;a@acme.example,hubspot:1\np-2,team@acme.example,hubspot:2\n"), "x", FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.People) != 2 {
		t.Fatalf("%d people, want 2", len(s.People))
	}
	if len(s.Conflicts) != 1 || s.Conflicts[0].Email != "team@acme.example" || !slices.Equal(s.Conflicts[0].People, []string{"p-1", "p-2"}) {
		t.Fatalf("conflicts = %+v", s.Conflicts)
	}
	x := NewIndex(s)
	if id, ok, amb := x.Email("TEAM@acme.example"); ok || !amb || id != "" {
		t.Errorf("Email(team) = %q %v %v, want ambiguous", id, ok, amb)
	}
	if id, ok, _ := x.Email("A@ACME.example"); !ok || id != "p-1" {
		t.Errorf("Email(a) = %q %v", id, ok)
	}
}

func TestParseFileErrors(t *testing.T) {
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.csv"), ""); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("format xml accepted")
	}
}
