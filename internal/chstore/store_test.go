package chstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/testenv"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func testStore(t *testing.T) *Store {
	t.Helper()
	env := testenv.ClickHouse(t)
	cfg := DefaultConfig()
	cfg.URL = env.URL
	cfg.Database = env.Database + "_tw" // Migrate must create it
	cfg.User = env.User
	if env.Password != "" {
		t.Setenv(PasswordEnv, env.Password)
	}
	s, err := Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
		s.Close()
	})
	return s
}

func TestMigrateProjectSchemaTwice(t *testing.T) {
	s := testStore(t)
	ms, err := LoadMigrations(chschema.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	done, err := s.Migrate(t.Context(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(ms) {
		t.Fatalf("applied %v, want all %d", done, len(ms))
	}
	again, err := s.Migrate(t.Context(), ms)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v, err %v; want nothing", again, err)
	}
	var n uint64
	if err := s.Conn().QueryRow(t.Context(), "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'audit_events'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit_events: n=%d err=%v", n, err)
	}
}

func TestMigrateRefusesEditedMigration(t *testing.T) {
	s := testStore(t)
	v1 := fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Memory;\n")}}
	ms, _ := LoadMigrations(v1)
	if _, err := s.Migrate(t.Context(), ms); err != nil {
		t.Fatal(err)
	}
	v2 := fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS t (x UInt16) ENGINE = Memory;\n")}}
	ms, _ = LoadMigrations(v2)
	if _, err := s.Migrate(t.Context(), ms); err == nil || !strings.Contains(err.Error(), "never edit an applied migration") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadMigrationsErrors(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":     {"1_x.sql": {Data: []byte("SELECT 1;\n")}},
		"dup version":  {"0001_a.sql": {Data: []byte("SELECT 1;\n")}, "0001_b.sql": {Data: []byte("SELECT 1;\n")}},
		"no semicolon": {"0001_a.sql": {Data: []byte("SELECT 1\n")}},
	} {
		if _, err := LoadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ms, err := LoadMigrations(fstest.MapFS{"0002_b.sql": {Data: []byte("-- c\nSELECT 1;\nSELECT\n  2;\n-- end\n")}, "0001_a.sql": {Data: []byte("SELECT 0;")}})
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || len(ms[1].Statements) != 2 || ms[1].Statements[1] != "SELECT\n  2" {
		t.Fatalf("got %+v, %v", ms, err)
	}
}

func TestOpenUnreachableSaysWhatToStart(t *testing.T) {
	cfg := DefaultConfig()
	cfg.URL = "http://127.0.0.1:1"
	_, err := Open(t.Context(), cfg, zerolog.Nop())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "trailwatch run") {
		t.Fatalf("got %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.URL = "ftp://user:pw@x"
	cfg.Database = "a;b"
	cfg.Compression = "snappy"
	err := cfg.Validate()
	for _, want := range []string{"clickhouse.url: scheme", "clickhouse.url: put the user", "clickhouse.database", "clickhouse.compression"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}
