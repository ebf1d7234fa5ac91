package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds every format arbitrary bytes: the parsers never panic,
// and they either return a snapshot whose people are valid and unique or
// an error (an *InvalidError with at least one problem, when readable).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"people.csv", "people.json", "users.scim.json", "bad.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("person_id\n\"\n"))
	f.Add([]byte(`[{"id":"a","accounts":["x:1"]},{"id":"b","accounts":["x:1"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatCSV, FormatJSON, FormatSCIM, ""} {
			s, err := Parse(data, "fuzz", format)
			if err != nil {
				var inv *InvalidError
				if errors.As(err, &inv) && len(inv.Problems) == 0 {
					t.Fatalf("%s: InvalidError with no problem", format)
				}
				continue
			}
			seen := map[string]bool{}
			accounts := map[Account]string{}
			for _, p := range s.People {
				if p.ID == "" || seen[p.ID] {
					t.Fatalf("%s: empty or repeated id %q", format, p.ID)
				}
				seen[p.ID] = true
				for _, a := range p.Accounts {
					if owner, ok := accounts[a]; ok && owner != p.ID {
						t.Fatalf("%s: account %s claimed twice", format, a)
					}
					accounts[a] = p.ID
				}
			}
			x := NewIndex(s)
			for a, id := range accounts {
				if got, ok := x.Account(a.System, a.ID); !ok || got != id {
					t.Fatalf("%s: index lost %s", format, a)
				}
			}
		}
	})
}
