package auditrow

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func migrated(t *testing.T) *chstore.Store {
	t.Helper()
	env := testenv.ClickHouse(t)
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = env.URL, env.Database, env.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ms, err := chstore.LoadMigrations(chschema.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context(), ms); err != nil {
		t.Fatal(err)
	}
	return st
}

func fullEvent() event.Event {
	return event.Event{
		ID: "sf-1", Timestamp: time.Date(2026, 11, 3, 2, 14, 7, 412e6, time.FixedZone("", -5*3600)), Tenant: "acme",
		Source:  event.Source{System: "salesforce", ID: "0AT1", Collector: "c1"},
		Event:   event.Activity{Category: "data_change", Action: "update", Outcome: "failure", Reason: "locked"},
		User:    event.User{ID: "005A", Name: "jdoe@acme.example", PersonID: "p-1", EmployeeID: "E7", Role: "sales_rep", Department: "sales", Type: "integration", Timezone: "America/New_York"},
		Client:  event.Client{IP: "198.51.100.23", UserAgent: "Mozilla/5.0", DeviceID: "d1", SessionID: "s1", AccessMethod: "web", Geo: event.Geo{Country: "US", Region: "MA", City: "Boston", Lat: 42.36, Lon: -71.06, HasCoords: true}},
		Object:  event.Object{Type: "contact", ID: "003X", Name: "Ann Smith", OwnerID: "005B"},
		Changes: []event.Change{{Field: "Email", Old: "a@x", New: "b@x"}, {Field: "Phone", Old: "", New: "123"}},
		Records: 7, HasRecords: true, Comment: "fix",
		Related:    []event.Related{{Type: "account", ID: "001"}},
		TargetUser: event.TargetUser{ID: "005C", Name: "bob"},
		Permission: event.Permission{Name: "Admin", Scope: "org"},
		Labels:     map[string]string{"z": "1", "a": "2"},
	}
}

// TestRoundTrip stores rows through Columns and reads them back with
// Scanner: the hash of what was read equals the hash of what was written,
// and ToEvent gives back the event.
func TestRoundTrip(t *testing.T) {
	st := migrated(t)
	e1 := fullEvent()
	e2 := event.Event{ID: "min", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Tenant: "acme",
		Source: event.Source{System: "generic"}, Event: event.Activity{Category: "authentication", Action: "login", Outcome: "success"},
		User: event.User{ID: "u2"}, Client: event.Client{IP: "2001:DB8::1"}}
	ingested := time.Date(2026, 11, 3, 7, 14, 8, 0, time.UTC)
	var rows [2]Row
	var h Hasher
	var cols Columns
	for i, e := range []*event.Event{&e1, &e2} {
		FromEvent(&rows[i], e, 3, int64(40+i), ingested)
		rows[i].DirRole, rows[i].DirManager = "rep", "005M"
		sum := h.Hash(&rows[i])
		rows[i].RowFP, rows[i].ChainGap = Fingerprint(sum), 1
		cols.Append(&rows[i])
	}
	b, err := st.PrepareBatch(InsertContext(t.Context()), Insert)
	if err != nil {
		t.Fatal(err)
	}
	if err := cols.Send(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	rs, err := st.Query(t.Context(), "SELECT "+SelectList+" FROM audit_events ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var sc Scanner
	var got []Row
	for rs.Next() {
		var r Row
		if err := sc.Scan(rs, &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rs.Err(); err != nil || len(got) != 2 {
		t.Fatalf("read %d rows, err %v", len(got), err)
	}
	for i := range got {
		if h.Hash(&got[i]) != h.Hash(&rows[i]) || got[i].RowFP != rows[i].RowFP {
			t.Errorf("row %d: hash of the stored row differs from the hash written\nwrote %+v\nread  %+v", i, rows[i], got[i])
		}
		if got[i].DirRole != "rep" || got[i].DirManager != "005M" || got[i].PersonKey != rows[i].PersonKey {
			t.Errorf("row %d: derived columns lost: %+v", i, got[i])
		}
	}
	back := got[0].ToEvent()
	if !back.Equal(&e1) {
		t.Errorf("ToEvent differs:\n got %+v\nwant %+v", back, e1)
	}
	back2 := got[1].ToEvent()
	if back2.Client.IP != "2001:db8::1" || back2.User.Type != "human" || back2.HasRecords || back2.Client.Geo.HasCoords {
		t.Errorf("minimal event read back as %+v", back2)
	}
}

// TestHashCoversEveryField changes one field at a time: each change must
// change the hash, except the derived fields, which must not.
func TestHashCoversEveryField(t *testing.T) {
	e := fullEvent()
	var base Row
	FromEvent(&base, &e, 1, 2, time.Unix(1000, 0))
	var h Hasher
	want := h.Hash(&base)
	derived := map[string]bool{"PersonKey": true, "DirRole": true, "DirDepartment": true, "DirManager": true, "RowFP": true, "ChainGap": true, "GeoEnriched": true, "RollupSkip": true}
	rt := reflect.TypeOf(base)
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		r := base
		r.ChangeField = append([]string(nil), base.ChangeField...)
		r.LabelKeys = append([]string(nil), base.LabelKeys...)
		r.RelatedID = append([]string(nil), base.RelatedID...)
		r.ChangeOld = append([]string(nil), base.ChangeOld...)
		r.ChangeNew = append([]string(nil), base.ChangeNew...)
		r.RelatedType = append([]string(nil), base.RelatedType...)
		r.LabelValues = append([]string(nil), base.LabelValues...)
		f := reflect.ValueOf(&r).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Uint64:
			f.SetUint(f.Uint() + 1)
		case reflect.Float64:
			f.SetFloat(f.Float() + 0.5)
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Slice:
			f.Index(0).SetString(f.Index(0).String() + "x")
		case reflect.Struct: // netip.Addr
			r.ClientIP = r.ClientIP.Next()
		default:
			t.Fatalf("field %s of kind %s not covered by this test", name, f.Kind())
		}
		changed := h.Hash(&r) != want
		if name == "GeoEnriched" {
			// Marking the source's geo as enriched removes it from the hash.
			if !changed {
				t.Errorf("flipping GeoEnriched did not change the hash")
			}
			continue
		}
		if derived[name] && changed {
			t.Errorf("derived field %s changes the hash", name)
		}
		if !derived[name] && !changed {
			t.Errorf("field %s is not covered by the hash", name)
		}
	}
	// Length prefixes: moving a character between two fields changes it.
	a, b := base, base
	a.UserName, a.PersonID = "ab", "c"
	b.UserName, b.PersonID = "a", "bc"
	if h.Hash(&a) == h.Hash(&b) {
		t.Error("fields are not length-prefixed")
	}
}

// TestWireTypes holds the types a batch sends to the migrated table's:
// the same column for column, LowCardinality aside.
func TestWireTypes(t *testing.T) {
	st := migrated(t)
	rs, err := st.Query(t.Context(), "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'audit_events' AND default_kind != 'ALIAS'")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	table := map[string]string{}
	for rs.Next() {
		var name, typ string
		if err := rs.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		table[name] = lowCardinality.ReplaceAllString(typ, "$1")
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if len(table) != len(columnNames) || len(wireTypes) != len(columnNames) {
		t.Errorf("audit_events has %d stored columns; the batch names %d and types %d", len(table), len(columnNames), len(wireTypes))
	}
	for i, n := range columnNames {
		if got, ok := table[n]; !ok || got != wireTypes[i] {
			t.Errorf("column %s: the batch sends %s, the table holds %q (LowCardinality aside)", n, wireTypes[i], got)
		}
	}
}

var lowCardinality = regexp.MustCompile(`LowCardinality\(([^()]*)\)`)
