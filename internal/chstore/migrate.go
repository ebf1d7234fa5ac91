package chstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Migration is one ordered SQL file of schemas/clickhouse.
type Migration struct {
	Version    int
	Name       string // file name
	Statements []string
	Checksum   string // sha256 of the file
	// Requires names an engine capability the migration needs
	// (CapAccessStorage); on an engine without it the migration is skipped
	// with a log line and applied once the database is served by an engine
	// that has it. Set by a "-- trailwatch:requires CAP" line.
	Requires string
	// Reapply marks a migration whose statements are idempotent and depend
	// on configuration (variables): it runs on every Migrate, so a changed
	// setting takes effect. Set by a "-- trailwatch:reapply" line.
	Reapply bool
	// Vars are the variables the statements use as ${name}, with their
	// defaults ("-- trailwatch:var name = default" lines).
	Vars map[string]string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// LoadMigrations reads NNNN_name.sql files from fsys in version order. A
// file holds one or more statements, each ending with a semicolon at the
// end of a line (the HTTP interface runs one statement per request).
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_lower_snake.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		stmts, err := splitStatements(string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		mig := Migration{Version: v, Name: e.Name(), Statements: stmts, Checksum: hex.EncodeToString(sum[:])}
		if err := mig.readDirectives(string(b)); err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		out = append(out, mig)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// splitStatements splits on lines ending with ";". Comment-only chunks are
// dropped.
func splitStatements(text string) ([]string, error) {
	var out []string
	var cur []string
	flush := func() {
		stmt := strings.TrimSpace(strings.Join(cur, "\n"))
		cur = cur[:0]
		meaningful := false
		for _, l := range strings.Split(stmt, "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "--") {
				meaningful = true
			}
		}
		if meaningful {
			out = append(out, strings.TrimSuffix(stmt, ";"))
		}
	}
	for _, line := range strings.Split(text, "\n") {
		cur = append(cur, line)
		t := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(t, ";") && !strings.HasPrefix(strings.TrimSpace(t), "--") {
			flush()
		}
	}
	if rest := strings.TrimSpace(strings.Join(cur, "\n")); rest != "" && !allComments(rest) {
		return nil, fmt.Errorf("last statement does not end with ';'")
	}
	return out, nil
}

func allComments(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

const migrationsTable = "trailwatch_migrations"

// MigrateOptions are the settings a migration run takes from the
// configuration.
type MigrateOptions struct {
	// Vars override the defaults of the migrations' variables (role names
	// and the like; see Migration.Vars).
	Vars map[string]string
}

// MigrateResult says what a migration run did, by file name.
type MigrateResult struct {
	Applied   []string // applied for the first time
	Reapplied []string // reapply migrations run again
	Skipped   []string // need a capability the engine lacks; applied on a later run on an engine that has it
}

// Migrate is MigrateWith without options: variables take their defaults.
// It returns the migrations applied for the first time.
func (s *Store) Migrate(ctx context.Context, ms []Migration) ([]string, error) {
	r, err := s.MigrateWith(ctx, ms, MigrateOptions{})
	return r.Applied, err
}

// MigrateWith creates the database if needed and applies, in order, every
// migration not yet recorded as applied. It is idempotent and safe to run
// on every start: statements use IF NOT EXISTS, so a migration cut short
// by a crash is simply applied again. A recorded migration whose file
// changed since is an error: edit the schema with a new migration.
//
// A migration that requires a capability the engine lacks (SQL access
// control on the embedded engine) is skipped with a log line, not
// recorded, so it is applied when the same database is next migrated on a
// server. A reapply migration runs on every call.
func (s *Store) MigrateWith(ctx context.Context, ms []Migration, opts MigrateOptions) (MigrateResult, error) {
	var res MigrateResult
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// The database may not exist yet: create it on a connection to default.
	bootOpts, err := s.cfg.options("default")
	if err != nil {
		return res, err
	}
	boot, err := clickhouse.Open(bootOpts)
	if err != nil {
		return res, err
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.cfg.Database)
	boot.Close()
	if err != nil {
		return res, fmt.Errorf("creating database %s: %w", s.cfg.Database, err)
	}
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`); err != nil {
		return res, fmt.Errorf("creating %s: %w", migrationsTable, err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return res, err
	}
	var caps map[string]bool
	for _, m := range ms {
		sum, done := applied[m.Version]
		if done && !m.Reapply {
			if sum != m.Checksum {
				return res, fmt.Errorf("migration %s was applied with different contents (checksum %s, now %s): never edit an applied migration, add a new one", m.Name, sum[:12], m.Checksum[:12])
			}
			continue
		}
		if m.Requires != "" {
			if caps == nil {
				if caps, err = s.capabilities(ctx); err != nil {
					return res, err
				}
			}
			if !caps[m.Requires] {
				s.log.Info().Str("migration", m.Name).Str("requires", m.Requires).
					Msg("skipping migration: the engine cannot do this (SQL access control needs a ClickHouse server with a writable access storage; the embedded engine authenticates its configured users instead)")
				res.Skipped = append(res.Skipped, m.Name)
				continue
			}
		}
		stmts, err := m.statements(s.cfg.Database, opts.Vars)
		if err != nil {
			return res, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		for i, stmt := range stmts {
			if err := s.conn.Exec(ctx, stmt); err != nil {
				return res, fmt.Errorf("migration %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if done && sum == m.Checksum {
			res.Reapplied = append(res.Reapplied, m.Name)
			continue
		}
		if err := s.conn.Exec(ctx, "INSERT INTO "+migrationsTable+" (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
			uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return res, fmt.Errorf("recording migration %s: %w", m.Name, err)
		}
		s.log.Info().Str("migration", m.Name).Msg("applied migration")
		if done {
			res.Reapplied = append(res.Reapplied, m.Name)
		} else {
			res.Applied = append(res.Applied, m.Name)
		}
	}
	return res, nil
}

func (s *Store) appliedMigrations(ctx context.Context) (map[int]string, error) {
	applied := map[int]string{}
	rows, err := s.conn.Query(ctx, "SELECT version, argMax(checksum, applied_at) FROM "+migrationsTable+" GROUP BY version")
	if err != nil {
		return nil, fmt.Errorf("reading applied migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, err
		}
		applied[int(v)] = sum
	}
	return applied, rows.Err()
}

// Pending lists the migrations of ms not recorded as applied (reapply
// migrations and those needing a capability the engine lacks are not
// counted). It only reads, so a user without DDL rights can call it.
func (s *Store) Pending(ctx context.Context, ms []Migration) ([]string, error) {
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var caps map[string]bool
	var out []string
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if m.Requires != "" {
			if caps == nil {
				if caps, err = s.capabilities(ctx); err != nil {
					return nil, err
				}
			}
			if !caps[m.Requires] {
				continue
			}
		}
		out = append(out, m.Name)
	}
	return out, nil
}
