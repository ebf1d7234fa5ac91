package sink

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func migratedStore(t *testing.T) *chstore.Store {
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

func sampleRecord(id string, off int64) Record {
	ts := time.Date(2026, 11, 3, 2, 14, 7, 412e6, time.FixedZone("", -5*3600))
	return Record{
		Event: event.Event{
			ID: id, Timestamp: ts, Tenant: "acme",
			Source:  event.Source{System: "salesforce", ID: "0AT1"},
			Event:   event.Activity{Category: "export", Action: "export", Outcome: "success"},
			User:    event.User{ID: "005A", Name: "jdoe@acme.example", Role: "sales_rep", Type: "human"},
			Client:  event.Client{IP: "198.51.100.23", Geo: event.Geo{Country: "US", City: "Boston", Lat: 42.36, Lon: -71.06, HasCoords: true}},
			Object:  event.Object{Type: "report", ID: "00O1", Name: "All contacts"},
			Changes: []event.Change{{Field: "email", Old: "a@x", New: "b@x"}},
			Records: 5000, HasRecords: true,
			Related: []event.Related{{Type: "account", ID: "001"}},
			Labels:  map[string]string{"policy": "none"},
		},
		Partition: 2, Offset: off, IngestedAt: ts.Add(time.Second),
	}
}

func TestEventStoreRoundTrip(t *testing.T) {
	st := migratedStore(t)
	w := NewEventStore(st)
	recs := []Record{sampleRecord("e1", 10), sampleRecord("e2", 11)}
	recs[1].Event.Client.IP = "2001:db8::1"
	recs[1].Event.HasRecords = false
	recs[1].Event.Client.Geo.HasCoords = false
	tok := BatchToken("crm.activity", map[int32][2]int64{2: {10, 11}})
	if err := w.Write(t.Context(), recs, tok); err != nil {
		t.Fatal(err)
	}
	// The same batch again (a retry after a lost acknowledgement) is dropped.
	if err := w.Write(t.Context(), recs, tok); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := st.Conn().QueryRow(t.Context(), "SELECT count() FROM audit_events").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows = %d (%v), want 2: the retried batch was stored twice", n, err)
	}
	var (
		ts       time.Time
		off      int16
		ip       string
		lat      *float64
		records  *uint64
		changes  string
		labels   map[string]string
		personKy string
	)
	row := st.Conn().QueryRow(t.Context(), `SELECT timestamp, tz_offset_minutes, IPv6NumToString(client_ip), geo_lat, records,
		toJSONString(changes), labels, person_key FROM audit_events WHERE id = 'e1'`)
	if err := row.Scan(&ts, &off, &ip, &lat, &records, &changes, &labels, &personKy); err != nil {
		t.Fatal(err)
	}
	if !ts.Equal(recs[0].Event.Timestamp) || off != -300 || ip != "::ffff:198.51.100.23" || lat == nil || *lat != 42.36 ||
		records == nil || *records != 5000 || changes != `[{"field":"email","old":"a@x","new":"b@x"}]` || labels["policy"] != "none" || personKy != "005A" {
		t.Fatalf("got ts=%v off=%d ip=%s lat=%v records=%v changes=%s labels=%v person=%s", ts, off, ip, lat, records, changes, labels, personKy)
	}
	if err := st.Conn().QueryRow(t.Context(), `SELECT IPv6NumToString(client_ip), geo_lat, records FROM audit_events WHERE id = 'e2'`).Scan(&ip, &lat, &records); err != nil {
		t.Fatal(err)
	}
	if ip != "2001:db8::1" || lat != nil || records != nil {
		t.Fatalf("absent values stored as present: ip=%s lat=%v records=%v", ip, lat, records)
	}
}
