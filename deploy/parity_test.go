package deploy

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// namedIn finds the named query a panel says it shows ("as the named
// query user-timeline"): such a panel carries its own copy of the
// library's SQL, with Grafana's variables and time macros.
var namedIn = regexp.MustCompile(`named query ([a-z0-9-]+)`)

// checkNamedParity holds a panel to the named query it copies: on the
// columns the two share, the panel's rows (as Grafana would get them) are
// the named query's rows for the same tenant, subject and time range; for
// a panel over several tenants, each of its rows is among those of the
// named query for the row's tenant. A copy that drifts fails here.
func checkNamedParity(t *testing.T, conn driver.Conn, st *chstore.Store, title, name, panelSQL string, vars map[string][]string, r macroRange) {
	t.Helper()
	q, err := queries.Get(name)
	if err != nil {
		t.Errorf("panel %q names %v", title, err)
		return
	}
	pcols, prows, err := textRows(t.Context(), func(ctx context.Context) (driver.Rows, error) { return conn.Query(ctx, panelSQL) })
	if err != nil {
		t.Errorf("panel %q: %v", title, err)
		return
	}
	tenants := vars["tenant"]
	perTenant := slices.Contains(pcols, "tenant")
	var ncols []string
	named := map[string]int{}
	for _, tenant := range tenants {
		values := map[string]string{}
		for _, p := range q.Params {
			switch {
			case p.Name == "tenant":
				values[p.Name] = tenant
			case p.Name == "from":
				values[p.Name] = r.From.UTC().Format(time.RFC3339Nano)
			case p.Name == "to":
				values[p.Name] = r.To.UTC().Format(time.RFC3339Nano)
			case len(vars[p.Name]) > 0:
				values[p.Name] = vars[p.Name][0]
			}
		}
		cols, rows, err := textRows(t.Context(), func(ctx context.Context) (driver.Rows, error) { return q.Run(ctx, st, values) })
		if err != nil {
			t.Errorf("named query %s (%v): %v", name, values, err)
			return
		}
		ncols = cols
		shared := sharedColumns(pcols, cols)
		for _, row := range rows {
			key := project(cols, row, shared)
			if perTenant {
				key = tenant + "\x00" + key
			}
			named[key]++
		}
	}
	shared := sharedColumns(pcols, ncols)
	if len(shared) < 4 {
		t.Errorf("panel %q shares only %v with named query %s: too little to compare", title, shared, name)
		return
	}
	if len(prows) == 0 {
		t.Errorf("panel %q has no rows to compare with named query %s", title, name)
		return
	}
	total := 0
	for _, n := range named {
		total += n
	}
	if !perTenant && len(prows) != total {
		t.Errorf("panel %q has %d rows, named query %s %d", title, len(prows), name, total)
	}
	for _, row := range prows {
		key := project(pcols, row, shared)
		if perTenant {
			key = row[slices.Index(pcols, "tenant")] + "\x00" + key
		}
		if named[key] == 0 {
			t.Errorf("panel %q row not in named query %s (on %v): %q", title, name, shared, key)
			return
		}
		named[key]--
	}
}

func sharedColumns(a, b []string) []string {
	var out []string
	for _, c := range a {
		if c != "tenant" && slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}

// project renders row's values of the named columns, in their order.
func project(cols, row, names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = row[slices.Index(cols, n)]
	}
	return strings.Join(parts, "\x1f")
}

// textRows runs a query and renders every value as text.
func textRows(ctx context.Context, run func(context.Context) (driver.Rows, error)) ([]string, [][]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rows, err := run(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols := rows.Columns()
	types := rows.ColumnTypes()
	dest := make([]any, len(cols))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	var out [][]string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		row := make([]string, len(cols))
		for i := range dest {
			v := reflect.ValueOf(dest[i]).Elem()
			for v.Kind() == reflect.Pointer && !v.IsNil() {
				v = v.Elem()
			}
			if tm, ok := v.Interface().(time.Time); ok {
				row[i] = tm.UTC().Format(time.RFC3339Nano)
				continue
			}
			row[i] = fmt.Sprint(v.Interface())
		}
		out = append(out, row)
	}
	return cols, out, rows.Err()
}
