package sink

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/enrich"
)

func (e *env) engineFull(t *testing.T, table string) string {
	t.Helper()
	var s string
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '"+table+"'").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRetentionFromConfiguration(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	cfg := DefaultStorageConfig().Retention
	if !strings.Contains(e.engineFull(t, "audit_events"), "TTL toDateTime(timestamp) + toIntervalDay(400)") ||
		!strings.Contains(e.engineFull(t, "alerts"), "toIntervalDay(1095)") || !strings.Contains(e.engineFull(t, "integrity_heads"), "toIntervalDay(14)") ||
		!strings.Contains(e.engineFull(t, "dead_letters"), "TTL toDateTime(received_at) + toIntervalDay(400)") {
		t.Fatalf("defaults not applied by Migrate:\n%s\n%s", e.engineFull(t, "audit_events"), e.engineFull(t, "alerts"))
	}
	cfg.Tenants = []TenantRetention{{Tenant: "short'one", EventsDays: 30}, {Tenant: "long", EventsDays: 2000, AlertsDays: 3000}}
	for run := range 2 {
		logs.Reset()
		if err := ApplyRetention(t.Context(), e.st, cfg, log); err != nil {
			t.Fatal(err)
		}
		changes := strings.Count(logs.String(), "retention changed")
		if run == 0 && changes != 4 { // audit_events, alert_event_hits, dead_letters, alerts
			t.Fatalf("first apply changed %d tables, want 4:\n%s", changes, logs.String())
		}
		if run == 1 && changes != 0 {
			t.Fatalf("applying the same retention again altered %d tables: it must be idempotent\n%s", changes, logs.String())
		}
	}
	for _, table := range []string{"audit_events", "dead_letters"} {
		if full := e.engineFull(t, table); !strings.Contains(full, `multiIf(tenant = 'short\'one', 30, tenant = 'long', 2000, 400)`) {
			t.Fatalf("per-tenant TTL of %s missing:\n%s", table, full)
		}
	}
	cfg.EventsDays, cfg.Tenants = 0, nil
	if err := ApplyRetention(t.Context(), e.st, cfg, log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.engineFull(t, "audit_events"), " TTL ") {
		t.Fatalf("events_days 0 should keep events forever:\n%s", e.engineFull(t, "audit_events"))
	}
	cfg.EventsDays, cfg.ColdVolume, cfg.StoragePolicy, cfg.ColdAfterDays = 400, "cold", "tiered", 30
	if err := ApplyRetention(t.Context(), e.st, cfg, log); err == nil || !strings.Contains(err.Error(), `no storage policy "tiered"`) {
		t.Fatalf("a cold volume the engine lacks: %v", err)
	}
	bad := DefaultStorageConfig()
	bad.Retention.CheckpointsDays = 10
	bad.Access.WriterRole = "x y"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "checkpoints_days") || !strings.Contains(err.Error(), "access.writer_role") {
		t.Fatalf("Validate: %v", err)
	}
}

func writeGeoDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("198.51.100.0/24")
	if err := tree.Insert(n, mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("NG")},
		"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Lagos")}},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(6.45), "longitude": mmdbtype.Float64(3.39)},
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "geo.mmdb")
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

// TestEnrichment stores an event without a location and one with the
// source's own: only the first gets the database's, flagged as enriched,
// and both get the directory's attributes; verify accepts both.
func TestEnrichment(t *testing.T) {
	e := newEnv(t)
	geo, err := enrich.OpenGeo(writeGeoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	dirFile := filepath.Join(t.TempDir(), "dir.csv")
	os.WriteFile(dirFile, []byte("id,role,department,manager\n005A,sales_rep,sales,005M\n"), 0o600)
	dir, err := enrich.LoadDirectory(dirFile)
	if err != nil {
		t.Fatal(err)
	}
	s := e.newSink(t, Deps{Geo: geo, Directory: dir})
	tp := e.topics()
	plain := testEvent(1, "acme", "005A")
	located := testEvent(2, "acme", "005A")
	located.Client.Geo = event.Geo{Country: "US", City: "Boston"}
	if err := s.Handle(t.Context(), []kafka.Message{eventMsg(t, tp.Activity, 0, 0, plain), eventMsg(t, tp.Activity, 0, 1, located)}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.st.Query(t.Context(), "SELECT id, geo_country, geo_city, geo_lat, geo_enriched, dir_role, dir_manager FROM audit_events ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, country, city, role, manager string
		var lat *float64
		var enriched bool
		if err := rows.Scan(&id, &country, &city, &lat, &enriched, &role, &manager); err != nil {
			t.Fatal(err)
		}
		l := "-"
		if lat != nil {
			l = "lat"
		}
		got = append(got, strings.Join([]string{id, country, city, l, map[bool]string{true: "enriched", false: "source"}[enriched], role, manager}, " "))
	}
	want := "acme-ev-1 NG Lagos lat enriched sales_rep 005M; acme-ev-2 US Boston - source sales_rep 005M"
	if strings.Join(got, "; ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "; "), want)
	}
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rep := verifyAcme(t, e); len(rep.Problems) != 0 || rep.Rows != 2 {
		t.Fatalf("verify after enrichment: %d rows, %v", rep.Rows, rep.Problems)
	}
}
