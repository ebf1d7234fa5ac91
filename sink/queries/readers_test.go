package queries

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
)

// TestEveryQueryRunsForReaders runs every named query of the library as
// the embedded server's reader and as a reader scoped to one tenant: the
// server's read guard (formatQuery, EXPLAIN AST, table names, the tenant
// filter) must let each of them through, since dashboards and reports run
// them as exactly such users.
func TestEveryQueryRunsForReaders(t *testing.T) {
	env := testenv.ClickHouse(t)
	if env.Reader == "" || env.TenantReader == "" {
		t.Skip("an external server has no configured reader users; its roles are SQL (0006_access_control.sql)")
	}
	history.MigratedIn(t, env)
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{env.Reader, env.TenantReader} {
		st := history.OpenAs(t, env, user, env.ReaderPassword)
		for _, q := range all {
			values := map[string]string{}
			for _, p := range q.Params {
				if !p.Required() {
					continue
				}
				switch {
				case p.Name == "tenant":
					values[p.Name] = env.TenantReaderTenant
				case strings.HasPrefix(p.Type, "DateTime"):
					values[p.Name] = "now"
				case p.Type == "String":
					values[p.Name] = "x"
				default:
					values[p.Name] = "1"
				}
			}
			rows, err := q.Run(t.Context(), st, values)
			if err != nil {
				t.Errorf("%s as %s: %v", q.Name, user, err)
				continue
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Errorf("%s as %s: %v", q.Name, user, err)
			}
			rows.Close()
		}
	}
}
