// Package queries is the SOC's library of named, parameterised queries
// over the stored audit trail: SQL files with a header that names the
// query and declares each parameter with its ClickHouse type, default and
// meaning. The console, `trailwatch query --named` and dashboards run
// them by name; values are bound as ClickHouse query parameters
// ({name:Type}), never pasted into the SQL.
package queries

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/internal/chstore"
)

//go:embed *.sql
var files embed.FS

// Param is one declared parameter.
type Param struct {
	Name    string
	Type    string // String, UInt32, UInt64, Int64, Float64 or DateTime64(3)
	Default string // "" when required; for times: now, now-30d, now-24h, now-90m
	Doc     string
}

// Required says whether the caller must give the parameter.
func (p Param) Required() bool { return p.Default == "" }

// Query is one named query.
type Query struct {
	Name        string
	Description string
	Params      []Param
	SQL         string
}

var (
	headerLine  = regexp.MustCompile(`^--\s*(name|description|param):\s*(.*)$`)
	paramDecl   = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s+(String|UInt32|UInt64|Int64|Float64|DateTime64\(3\))(?:\s*=\s*(\S+))?\s*:\s*(.+)$`)
	placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*):([^}]+)\}`)
	relative    = regexp.MustCompile(`^now(?:-(\d+)([dhm]))?$`)
)

// All returns the library, by name.
func All() ([]Query, error) {
	entries, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, name := range entries {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		q, err := Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if q.Name+".sql" != name {
			return nil, fmt.Errorf("%s: declares the name %q; the file must be named after it", name, q.Name)
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the query called name.
func Get(name string) (Query, error) {
	all, err := All()
	if err != nil {
		return Query{}, err
	}
	var names []string
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
		names = append(names, q.Name)
	}
	return Query{}, fmt.Errorf("no named query %q; there are: %s", name, strings.Join(names, ", "))
}

// Parse reads a query file and checks that its placeholders and declared
// parameters agree, name for name and type for type.
func Parse(text string) (Query, error) {
	var q Query
	var body []string
	inHeader := true
	for i, line := range strings.Split(text, "\n") {
		m := headerLine.FindStringSubmatch(strings.TrimSpace(line))
		if inHeader && m != nil {
			switch m[1] {
			case "name":
				q.Name = m[2]
			case "description":
				q.Description = m[2]
			case "param":
				d := paramDecl.FindStringSubmatch(m[2])
				if d == nil {
					return q, fmt.Errorf("line %d: want \"-- param: name Type [= default]: meaning\", got %q", i+1, m[2])
				}
				p := Param{Name: d[1], Type: d[2], Default: d[3], Doc: d[4]}
				if p.Default != "" {
					if _, err := p.bind(p.Default, time.Now()); err != nil {
						return q, fmt.Errorf("line %d: default of %s: %w", i+1, p.Name, err)
					}
				}
				q.Params = append(q.Params, p)
			}
			continue
		}
		inHeader = false
		body = append(body, line)
	}
	q.SQL = strings.TrimSpace(strings.Join(body, "\n"))
	if q.Name == "" || q.SQL == "" {
		return q, errors.New("a query needs a \"-- name:\" line and SQL")
	}
	declared := map[string]string{}
	for _, p := range q.Params {
		if _, dup := declared[p.Name]; dup {
			return q, fmt.Errorf("parameter %s is declared twice", p.Name)
		}
		declared[p.Name] = p.Type
	}
	used := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(q.SQL, -1) {
		typ, ok := declared[m[1]]
		if !ok {
			return q, fmt.Errorf("{%s:%s} is used but not declared", m[1], m[2])
		}
		if typ != m[2] {
			return q, fmt.Errorf("{%s:%s} is declared as %s", m[1], m[2], typ)
		}
		used[m[1]] = true
	}
	for name := range declared {
		if !used[name] {
			return q, fmt.Errorf("parameter %s is declared but not used", name)
		}
	}
	return q, nil
}

// Bind checks values against the declarations (every value parsed as its
// type; required ones present; no unknown names) and returns the
// ClickHouse parameters, defaults filled in. now anchors relative times.
func (q Query) Bind(values map[string]string, now time.Time) (clickhouse.Parameters, error) {
	out := clickhouse.Parameters{}
	var errs []error
	known := map[string]bool{}
	for _, p := range q.Params {
		known[p.Name] = true
		v, ok := values[p.Name]
		if !ok {
			if p.Required() {
				errs = append(errs, fmt.Errorf("%s: required (%s)", p.Name, p.Doc))
				continue
			}
			v = p.Default
		}
		b, err := p.bind(v, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
			continue
		}
		out[p.Name] = b
	}
	var unknown []string
	for name := range values {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("%s: %s takes no such parameter", name, q.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Name, err)
	}
	return out, nil
}

// bind parses v as p's type and returns the text ClickHouse reads it from.
func (p Param) bind(v string, now time.Time) (string, error) {
	switch p.Type {
	case "String":
		// Sent so that the server reads exactly v (see chstore.StringParam).
		return chstore.StringParam(v), nil
	case "UInt32", "UInt64":
		bits := 64
		if p.Type == "UInt32" {
			bits = 32
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return "", fmt.Errorf("%q is not a %s", v, p.Type)
		}
		return strconv.FormatUint(n, 10), nil
	case "Int64":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not an Int64", v)
		}
		return strconv.FormatInt(n, 10), nil
	case "Float64":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%q is not a finite number", v)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case "DateTime64(3)":
		t, err := parseTime(v, now)
		if err != nil {
			return "", err
		}
		return t.UTC().Format("2006-01-02 15:04:05.000"), nil
	}
	return "", fmt.Errorf("unsupported type %s", p.Type)
}

// parseTime reads RFC 3339, a date (UTC midnight), or now, now-30d,
// now-24h, now-90m.
func parseTime(v string, now time.Time) (time.Time, error) {
	if m := relative.FindStringSubmatch(v); m != nil {
		if m[1] == "" {
			return now, nil
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[m[2]]
		return now.Add(-time.Duration(n) * unit), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2026-11-03T09:00:00Z), a date (2026-11-03), now, or now-<n>d/h/m", v)
}

// Run binds values and runs the named query on st, read-only (see
// Query.Run).
func Run(ctx context.Context, st *chstore.Store, name string, values map[string]string) (driver.Rows, error) {
	q, err := Get(name)
	if err != nil {
		return nil, err
	}
	return q.Run(ctx, st, values)
}

// ReadOnlySQL returns sql with a statement-level SETTINGS readonly = 1:
// the server then refuses, for that statement alone, anything that writes
// or changes a setting (a statement's own SETTINGS clause before it is
// refused too). The setting is part of the statement rather than of the
// request because the embedded server checks a request-level readonly by
// parsing the statement without its parameters.
func ReadOnlySQL(sql string) string {
	return strings.TrimRight(strings.TrimSpace(sql), ";") + "\nSETTINGS readonly = 1"
}

// Run binds values and runs q on st read-only, so a query that writes
// fails: the statement carries SETTINGS readonly = 1 (ReadOnlySQL). A
// read-only user's session may not set readonly at all (not even from 2
// to 1); when the server refuses the setting for that reason the session
// is read-only already, and the statement runs again as it is, still
// read-only. Reads are bounded by the store's query timeout.
func (q Query) Run(ctx context.Context, st *chstore.Store, values map[string]string) (driver.Rows, error) {
	params, err := q.Bind(values, time.Now())
	if err != nil {
		return nil, err
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(params))
	rows, err := st.Query(ctx, ReadOnlySQL(q.SQL))
	if err != nil && strings.Contains(err.Error(), "Cannot modify 'readonly' setting in readonly mode") {
		rows, err = st.Query(ctx, q.SQL)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Name, err)
	}
	return rows, nil
}
