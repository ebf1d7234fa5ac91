// Package history gives tests a migrated ClickHouse database (Migrated)
// and loads canonical events into its audit_events table (Store), for
// tests that read history (backtests, investigations): the rows
// are built and inserted exactly as the sink builds them, at consecutive
// log positions of partition 0, without the sink's hash chain (row_fp and
// chain_gap stay zero, so `trailwatch verify` would flag them; tests of
// tamper evidence use the sink itself).
package history

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// Store inserts evs at offsets firstOffset, firstOffset+1, … with
// ingested(e) as each row's ingest time (nil: the event's timestamp).
func Store(t testing.TB, st *chstore.Store, evs []*event.Event, firstOffset int64, ingested func(*event.Event) time.Time) {
	t.Helper()
	const batch = 5000
	var cols auditrow.Columns
	var row auditrow.Row
	for i := 0; i < len(evs); i += batch {
		cols.Reset()
		for j, e := range evs[i:min(i+batch, len(evs))] {
			at := e.Timestamp
			if ingested != nil {
				at = ingested(e)
			}
			auditrow.FromEvent(&row, e, 0, firstOffset+int64(i+j), at)
			cols.Append(&row)
		}
		b, err := st.PrepareBatch(t.Context(), auditrow.Insert)
		if err != nil {
			t.Fatal(err)
		}
		if err := cols.Send(b); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatalf("storing %d events: %v", cols.Len(), err)
		}
	}
}

// Migrated opens a fresh database of the embedded ClickHouse server (see
// testenv.ClickHouse; the package's TestMain must be testenv.Main) with
// every migration of schemas/clickhouse applied, closed when t ends.
func Migrated(t testing.TB) *chstore.Store {
	t.Helper()
	return MigratedIn(t, testenv.ClickHouse(t))
}

// MigratedIn is Migrated on the database env names (from
// testenv.ClickHouse), for a test that also hands env to a command's
// configuration.
func MigratedIn(t testing.TB, env testenv.ClickHouseEnv) *chstore.Store {
	t.Helper()
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

// OpenAs opens env's database as another user of the server (a reader,
// an auditor, a tenant-scoped reader), closed when t ends.
func OpenAs(t testing.TB, env testenv.ClickHouseEnv, user, password string) *chstore.Store {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User, cfg.PasswordFile = env.URL, env.Database, user, pw
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
