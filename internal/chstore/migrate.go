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
		out = append(out, Migration{Version: v, Name: e.Name(), Statements: stmts, Checksum: hex.EncodeToString(sum[:])})
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

// Migrate creates the database if needed and applies, in order, every
// migration not yet recorded as applied. It is idempotent and safe to run
// on every start: statements use IF NOT EXISTS, so a migration cut short
// by a crash is simply applied again. A recorded migration whose file
// changed since is an error: edit the schema with a new migration.
func (s *Store) Migrate(ctx context.Context, ms []Migration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// The database may not exist yet: create it on a connection to default.
	opts, err := s.cfg.options("default")
	if err != nil {
		return nil, err
	}
	boot, err := clickhouse.Open(opts)
	if err != nil {
		return nil, err
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.cfg.Database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("creating database %s: %w", s.cfg.Database, err)
	}
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`); err != nil {
		return nil, fmt.Errorf("creating %s: %w", migrationsTable, err)
	}
	applied := map[int]string{}
	rows, err := s.conn.Query(ctx, "SELECT version, argMax(checksum, applied_at) FROM "+migrationsTable+" GROUP BY version")
	if err != nil {
		return nil, fmt.Errorf("reading applied migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		applied[int(v)] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var done []string
	for _, m := range ms {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return done, fmt.Errorf("migration %s was applied with different contents (checksum %s, now %s): never edit an applied migration, add a new one", m.Name, sum[:12], m.Checksum[:12])
			}
			continue
		}
		for i, stmt := range m.Statements {
			if err := s.conn.Exec(ctx, stmt); err != nil {
				return done, fmt.Errorf("migration %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if err := s.conn.Exec(ctx, "INSERT INTO "+migrationsTable+" (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
			uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return done, fmt.Errorf("recording migration %s: %w", m.Name, err)
		}
		s.log.Info().Str("migration", m.Name).Msg("applied migration")
		done = append(done, m.Name)
	}
	return done, nil
}
