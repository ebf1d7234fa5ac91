package chstore

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Capabilities a migration can require.
const (
	// CapAccessStorage is SQL access control: CREATE USER/ROLE, GRANT and
	// row policies need a writable access storage (a ClickHouse server's
	// local_directory or replicated user directory). The embedded engine
	// has only its configuration's users, so such statements cannot run
	// there, by design rather than by accident.
	CapAccessStorage = "access_storage"
)

var (
	directiveLine = regexp.MustCompile(`^--\s*trailwatch:(\w+)\s*(.*)$`)
	varDirective  = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s*=\s*(\S+)$`)
	varUse        = regexp.MustCompile(`\$\{([a-z][a-z0-9_]*)\}`)
	// identifier is what a variable's value may be: it is pasted into SQL
	// as an identifier or inside a string literal, so nothing that could
	// quote, escape or end either is allowed.
	identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// readDirectives reads the "-- trailwatch:" lines of a migration file and
// checks that every ${var} its statements use is declared.
func (m *Migration) readDirectives(text string) error {
	for i, line := range strings.Split(text, "\n") {
		d := directiveLine.FindStringSubmatch(strings.TrimSpace(line))
		if d == nil {
			continue
		}
		arg := strings.TrimSpace(d[2])
		switch d[1] {
		case "requires":
			if arg != CapAccessStorage {
				return fmt.Errorf("line %d: unknown capability %q (known: %s)", i+1, arg, CapAccessStorage)
			}
			m.Requires = arg
		case "reapply":
			m.Reapply = true
		case "var":
			v := varDirective.FindStringSubmatch(arg)
			if v == nil || !identifier.MatchString(v[2]) {
				return fmt.Errorf("line %d: want \"-- trailwatch:var name = default\" with an identifier default, got %q", i+1, arg)
			}
			if m.Vars == nil {
				m.Vars = map[string]string{}
			}
			m.Vars[v[1]] = v[2]
		default:
			return fmt.Errorf("line %d: unknown directive trailwatch:%s", i+1, d[1])
		}
	}
	for _, st := range m.Statements {
		for _, u := range varUse.FindAllStringSubmatch(st, -1) {
			if _, ok := m.Vars[u[1]]; !ok && u[1] != "database" {
				return fmt.Errorf("uses ${%s}, which no \"-- trailwatch:var\" line declares", u[1])
			}
		}
	}
	return nil
}

// statements returns the migration's statements with its variables
// replaced: vars overrides the declared defaults, and ${database} is the
// store's database. Every value must be an identifier.
func (m *Migration) statements(database string, vars map[string]string) ([]string, error) {
	if len(m.Vars) == 0 && !strings.Contains(strings.Join(m.Statements, ""), "${") {
		return m.Statements, nil
	}
	values := map[string]string{"database": database}
	for k, v := range m.Vars {
		values[k] = v
		if o, ok := vars[k]; ok {
			values[k] = o
		}
	}
	var bad []string
	for k, v := range values {
		if !identifier.MatchString(v) {
			bad = append(bad, fmt.Sprintf("%s = %q", k, v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("variables must be plain identifiers (letters, digits, _): %s", strings.Join(bad, ", "))
	}
	out := make([]string, len(m.Statements))
	for i, st := range m.Statements {
		out[i] = varUse.ReplaceAllStringFunc(st, func(u string) string { return values[u[2:len(u)-1]] })
	}
	return out, nil
}

// capabilities reports what the connected engine can do.
func (s *Store) capabilities(ctx context.Context) (map[string]bool, error) {
	var n uint64
	// A server lists local_directory (or replicated) among its user
	// directories; the embedded engine lists users_xml alone.
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM system.user_directories
		WHERE type IN ('local_directory', 'replicated', 'memory')`).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading system.user_directories: %w", err)
	}
	return map[string]bool{CapAccessStorage: n > 0}, nil
}
