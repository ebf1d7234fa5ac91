package chstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ClickHouse/clickhouse-go/v2"
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
	res, err := s.MigrateWith(t.Context(), ms, MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := s.capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	serverOnly := 0
	for _, m := range ms {
		if m.Requires != "" && !caps[m.Requires] {
			serverOnly++
		}
	}
	if len(res.Applied) != len(ms)-serverOnly || len(res.Skipped) != serverOnly {
		t.Fatalf("applied %v, skipped %v; want %d applied and %d skipped", res.Applied, res.Skipped, len(ms)-serverOnly, serverOnly)
	}
	again, err := s.MigrateWith(t.Context(), ms, MigrateOptions{})
	if err != nil || len(again.Applied) != 0 || len(again.Skipped) != serverOnly {
		t.Fatalf("second run: %+v, err %v; want nothing applied", again, err)
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

func TestMigrateDirectives(t *testing.T) {
	s := testStore(t)
	fsys := fstest.MapFS{
		"0001_t.sql":     {Data: []byte("-- trailwatch:var table_name = t_default\nCREATE TABLE IF NOT EXISTS ${database}.${table_name} (x UInt8) ENGINE = Memory;\n")},
		"0002_acl.sql":   {Data: []byte("-- trailwatch:requires access_storage\n-- trailwatch:var role = tw_role\nCREATE ROLE IF NOT EXISTS ${role};\n")},
		"0003_again.sql": {Data: []byte("-- trailwatch:reapply\nINSERT INTO t_custom VALUES (1);\n")},
	}
	ms, err := LoadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Vars["table_name"] != "t_default" || ms[1].Requires != CapAccessStorage || !ms[2].Reapply {
		t.Fatalf("directives not read: %+v", ms)
	}
	if _, err := s.MigrateWith(t.Context(), nil, MigrateOptions{}); err != nil { // creates the database
		t.Fatal(err)
	}
	caps, err := s.capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if caps[CapAccessStorage] {
		t.Skip("this engine has a writable access storage: the skip path cannot be shown here")
	}
	opts := MigrateOptions{Vars: map[string]string{"table_name": "t_custom"}}
	for run := 1; run <= 2; run++ {
		res, err := s.MigrateWith(t.Context(), ms, opts)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if len(res.Skipped) != 1 || res.Skipped[0] != "0002_acl.sql" {
			t.Fatalf("run %d: skipped %v, want the access-control migration", run, res.Skipped)
		}
		if run == 2 && (len(res.Applied) != 0 || len(res.Reapplied) != 1) {
			t.Fatalf("run 2: %+v, want only the reapply migration run again", res)
		}
	}
	var n uint64
	if err := s.Conn().QueryRow(t.Context(), "SELECT count() FROM t_custom").Scan(&n); err != nil || n != 2 {
		t.Fatalf("t_custom rows = %d (%v): the variable was not substituted or the reapply migration did not run twice", n, err)
	}
	applied, err := s.appliedMigrations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := applied[2]; ok {
		t.Fatal("a skipped migration was recorded as applied: a server would never get it")
	}
	// A value that could escape the identifier or string it lands in is
	// refused before anything runs (a fresh version, as 0001 is recorded).
	m := ms[0]
	m.Version = 9
	bad := MigrateOptions{Vars: map[string]string{"table_name": "x; DROP TABLE y"}}
	if _, err := s.MigrateWith(t.Context(), []Migration{m}, bad); err == nil || !strings.Contains(err.Error(), "plain identifiers") {
		t.Fatalf("an unsafe variable value was accepted: %v", err)
	}
}

func TestLoadMigrationsDirectiveErrors(t *testing.T) {
	for name, text := range map[string]string{
		"unknown directive":  "-- trailwatch:frobnicate\nSELECT 1;\n",
		"unknown capability": "-- trailwatch:requires telepathy\nSELECT 1;\n",
		"undeclared var":     "SELECT '${who}';\n",
		"bad default":        "-- trailwatch:var who = a-b\nSELECT '${who}';\n",
	} {
		if _, err := LoadMigrations(fstest.MapFS{"0001_a.sql": {Data: []byte(text)}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestParams sends awkward values as parameters and reads them back
// unchanged.
func TestParams(t *testing.T) {
	s := testStore(t)
	if _, err := s.MigrateWith(t.Context(), nil, MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`plain`, `a'b`, `back\slash`, `\'`, "tab\there", "line\nbreak", `\n literally`, `{x:String}`} {
		ctx := clickhouse.Context(t.Context(), clickhouse.WithParameters(clickhouse.Parameters{"v": StringParam(v), "a": ArrayParam([]string{v, "x"})}))
		var got string
		var arr []string
		if err := s.Conn().QueryRow(ctx, "SELECT {v:String}, {a:Array(String)}").Scan(&got, &arr); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got != v || len(arr) != 2 || arr[0] != v {
			t.Errorf("sent %q, got %q and %q", v, got, arr)
		}
	}
}
