package report

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// Result is a report's output.
type Result struct {
	Name        string
	Title       string
	Description string
	Tenant      string
	From, To    time.Time // the period; zero From without one
	GeneratedAt time.Time
	Sections    []SectionResult
}

// SectionResult is one section's rows, as text.
type SectionResult struct {
	Title   string
	Query   string
	Columns []string
	Rows    [][]string
	Chart   *Chart
}

// Run runs every section of d for tenant at now; values are the caller's
// parameters (those the report lists in params, or any a query declares).
func Run(ctx context.Context, st *chstore.Store, d *Definition, tenant string, values map[string]string, now time.Time) (*Result, error) {
	for _, p := range d.Params {
		if _, ok := values[p]; !ok {
			return nil, fmt.Errorf("report %s: parameter %s is required (--param %s=…)", d.Name, p, p)
		}
	}
	res := &Result{Name: d.Name, Title: d.Title, Description: d.Description, Tenant: tenant, To: now.UTC(), GeneratedAt: now.UTC()}
	if d.Period > 0 {
		res.From = now.Add(-d.Period).UTC()
	}
	for _, s := range d.Sections {
		q, err := queries.Get(s.Query)
		if err != nil {
			return nil, err
		}
		params := map[string]string{}
		for _, p := range q.Params {
			v, ok := s.Params[p.Name]
			switch {
			case ok:
			case p.Name == "tenant":
				v, ok = tenant, true
			case values[p.Name] != "":
				v, ok = values[p.Name], true
			case d.Period > 0 && p.Name == "from":
				v, ok = res.From.Format(time.RFC3339Nano), true
			case d.Period > 0 && (p.Name == "to" || p.Name == "at" || p.Name == "as_of"):
				v, ok = res.To.Format(time.RFC3339Nano), true
			}
			if ok {
				params[p.Name] = v
			}
		}
		rows, err := queries.Run(ctx, st, s.Query, params)
		if err != nil {
			return nil, fmt.Errorf("report %s, section %q: %w", d.Name, s.Title, err)
		}
		sr := SectionResult{Title: s.Title, Query: s.Query, Columns: rows.Columns(), Chart: s.Chart}
		types := rows.ColumnTypes()
		dest := make([]any, len(types))
		for i, t := range types {
			dest[i] = reflect.New(t.ScanType()).Interface()
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("report %s, section %q: %w", d.Name, s.Title, err)
			}
			row := make([]string, len(dest))
			for i, x := range dest {
				row[i] = text(reflect.ValueOf(x).Elem().Interface())
			}
			sr.Rows = append(sr.Rows, row)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("report %s, section %q: %w", d.Name, s.Title, err)
		}
		if len(sr.Columns) == 0 && len(sr.Rows) == 0 {
			sr.Columns = nil // the engine sends no header for an empty result
		}
		res.Sections = append(res.Sections, sr)
	}
	return res, nil
}

// text renders one value for CSV and HTML.
func text(v any) string {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return ""
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		return text(rv.Elem().Interface())
	}
	switch x := v.(type) {
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	switch rv.Kind() {
	case reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = text(rv.Index(i).Interface())
		}
		return strings.Join(parts, " ")
	case reflect.Map:
		keys := rv.MapKeys()
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, text(k.Interface())+"="+text(rv.MapIndex(k).Interface()))
		}
		sort.Strings(parts)
		return strings.Join(parts, " ")
	}
	return fmt.Sprint(v)
}
