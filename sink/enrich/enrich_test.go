package enrich

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteTestGeoDB writes a small GeoIP2-City-shaped database: 198.51.100.0/24
// in Boston, US-MA; 203.0.113.0/24 in Lagos, NG; 2001:db8:1::/48 a country
// only (DE).
func writeTestGeoDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	city := func(country, region, name string, lat, lon float64) mmdbtype.Map {
		return mmdbtype.Map{
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(region)}},
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name)}},
			"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
		}
	}
	for cidr, v := range map[string]mmdbtype.Map{
		"198.51.100.0/24": city("US", "MA", "Boston", 42.36, -71.06),
		"203.0.113.0/24":  city("NG", "LA", "Lagos", 6.45, 3.39),
		"2001:db8:1::/48": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}},
	} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGeoLookup(t *testing.T) {
	g, err := OpenGeo(writeTestGeoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, tc := range []struct {
		ip   string
		want Location
		ok   bool
	}{
		{"198.51.100.23", Location{"US", "MA", "Boston", 42.36, -71.06, true}, true},
		{"::ffff:203.0.113.9", Location{"NG", "LA", "Lagos", 6.45, 3.39, true}, true},
		{"2001:db8:1::5", Location{Country: "DE"}, true},
		{"192.0.2.1", Location{}, false},
	} {
		for range 2 { // the second time from the cache
			got, ok := g.Lookup(netip.MustParseAddr(tc.ip))
			if got != tc.want || ok != tc.ok {
				t.Errorf("%s: got %+v %v, want %+v %v", tc.ip, got, ok, tc.want, tc.ok)
			}
		}
	}
	if _, ok := g.Lookup(netip.Addr{}); ok {
		t.Error("the zero address was found")
	}
	if _, err := OpenGeo(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("a missing database opened")
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "people.csv")
	os.WriteFile(csvPath, []byte("\ufeffid,name,role,department,manager\n005A,Jane,sales_rep,sales,005M\np-9,,admin,it,\njdoe@x,,,ops,\n"), 0o600)
	jsonPath := filepath.Join(dir, "people.json")
	os.WriteFile(jsonPath, []byte(`[{"id":"005A","role":"sales_rep","department":"sales","manager":"005M"}]`), 0o600)
	for _, path := range []string{csvPath, jsonPath} {
		d, err := LoadDirectory(path)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := d.Lookup("005A", "", ""); !ok || p != (Person{"sales_rep", "sales", "005M"}) {
			t.Errorf("%s: 005A = %+v %v", path, p, ok)
		}
	}
	d, _ := LoadDirectory(csvPath)
	if p, ok := d.Lookup("005Z", "p-9", "x"); !ok || p.Role != "admin" {
		t.Errorf("person id fallback: %+v %v", p, ok)
	}
	if p, ok := d.Lookup("", "", "jdoe@x"); !ok || p.Department != "ops" {
		t.Errorf("login name fallback: %+v %v", p, ok)
	}
	if _, ok := d.Lookup("nobody", "", ""); ok {
		t.Error("an unknown id was found")
	}
	for name, tc := range map[string]struct{ file, body, want string }{
		"no id column":  {"a.csv", "role\nx\n", "no id column"},
		"empty id":      {"b.csv", "id,role\n,x\n", "line 2: id is empty"},
		"duplicate csv": {"c.csv", "id\na\na\n", "line 3: id \"a\" is listed twice"},
		"bad json":      {"d.json", `{"id":"a"}`, "want an array"},
		"unknown field": {"e.json", `[{"id":"a","boss":"b"}]`, "boss"},
		"json no id":    {"f.json", `[{"role":"a"}]`, "[0].id: required"},
		"extension":     {"g.txt", "id\na\n", "must be .csv or .json"},
	} {
		p := filepath.Join(dir, tc.file)
		os.WriteFile(p, []byte(tc.body), 0o600)
		_, err := LoadDirectory(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming the file and %q", name, err, tc.want)
		}
	}
}

func FuzzDirectoryCSV(f *testing.F) {
	f.Add([]byte("id,role,department,manager\na,b,c,d\n"))
	f.Add([]byte("id\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseCSV(b)
		if err == nil && d == nil {
			t.Fatal("nil directory without an error")
		}
	})
}

func FuzzDirectoryJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"a","role":"r"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseJSON(b)
		if err == nil && d == nil {
			t.Fatal("nil directory without an error")
		}
	})
}
