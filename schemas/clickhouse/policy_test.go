package clickhouse

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	createTable  = regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS (\w+)\s*\((.*?)\)\s*ENGINE`)
	tenantColumn = regexp.MustCompile(`(?m)^\s*tenant\s`)
	tenantScope  = regexp.MustCompile(`CREATE ROW POLICY OR REPLACE tw_tenant_scope ON \$\{database\}\.(\w+) AS RESTRICTIVE`)
	allRows      = regexp.MustCompile(`CREATE ROW POLICY OR REPLACE tw_all_rows ON \$\{database\}\.(\w+) AS PERMISSIVE`)
)

// TestEveryTenantTableIsScoped: every table with a tenant column has the
// tenant role's restrictive row policy (else a tenant-scoped user reads
// other tenants' rows) and the permissive all-rows policy (else, once the
// restrictive one exists, nobody else sees any row). A table added by a
// later migration without its policies fails here.
func TestEveryTenantTableIsScoped(t *testing.T) {
	files, err := fs.Glob(Migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	tenantTables := map[string]string{}
	scoped, open := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := fs.ReadFile(Migrations, f)
		if err != nil {
			t.Fatal(err)
		}
		sql := string(b)
		for _, m := range createTable.FindAllStringSubmatch(sql, -1) {
			if tenantColumn.MatchString(m[2]) {
				tenantTables[m[1]] = f
			}
		}
		for _, m := range tenantScope.FindAllStringSubmatch(sql, -1) {
			scoped[m[1]] = true
		}
		for _, m := range allRows.FindAllStringSubmatch(sql, -1) {
			open[m[1]] = true
		}
	}
	if len(tenantTables) < 5 {
		t.Fatalf("found only %d tables with a tenant column: the pattern no longer matches the migrations", len(tenantTables))
	}
	var missing []string
	for table, file := range tenantTables {
		if !scoped[table] || !open[table] {
			missing = append(missing, table+" ("+file+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("tables with a tenant column but without both row policies: %s", strings.Join(missing, ", "))
	}
}
