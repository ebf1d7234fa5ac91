package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/sink/queries"
)

func newQueryCmd(a *app) *cobra.Command {
	var (
		format, named string
		params        []string
		list          bool
	)
	cmd := &cobra.Command{
		Use:   `query "SQL" | query --named NAME [--param k=v]...`,
		Short: "Run SQL or a named query on the configured ClickHouse and print the result",
		Long: `Runs one statement over the network on the configured ClickHouse (by default
the embedded server of a running trailwatch run, http://127.0.0.1:8123) and
prints the result as a table, JSON lines or CSV.

With --named, runs a query of the SOC's library (sink/queries; --list shows
them with their parameters). Parameter values are checked against their
declared types and bound as ClickHouse query parameters, never pasted into
the SQL. Times are RFC 3339, a date, now, or now-<n>d/h/m.`,
		Example: `  trailwatch query "SELECT tenant, uniqExact(id) FROM audit_events GROUP BY tenant"
  trailwatch query --format json "SELECT * FROM audit_events LIMIT 5"
  trailwatch query --named user-timeline --param tenant=acme --param person=005xx000001Sv6d
  trailwatch query --named exports-by-person --param tenant=acme --param from=now-7d --param min_records=1000
  trailwatch query --list`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "json", "csv":
			default:
				return fmt.Errorf("--format: %q, want table, json or csv", format)
			}
			if list {
				return listNamed(cmd.OutOrStdout())
			}
			values, err := paramValues(params)
			if err != nil {
				return err
			}
			switch {
			case named == "" && len(args) != 1:
				return fmt.Errorf("give one SQL statement, or --named NAME (see --list)")
			case named != "" && len(args) != 0:
				return fmt.Errorf("give either SQL or --named, not both")
			case named == "" && len(params) > 0:
				return fmt.Errorf("--param goes with --named")
			}
			if named != "" {
				// Check the name and parameters before connecting.
				q, err := queries.Get(named)
				if err != nil {
					return err
				}
				if _, err := q.Bind(values, time.Now()); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			_, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var rows driver.Rows
			if named != "" {
				rows, err = queries.Run(ctx, st, named, values)
			} else {
				rows, err = st.Query(ctx, args[0])
			}
			if err != nil {
				return err
			}
			defer rows.Close()
			return printRows(cmd.OutOrStdout(), rows, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table, json (one object per line) or csv")
	cmd.Flags().StringVar(&named, "named", "", "run the named query NAME of the library")
	cmd.Flags().StringArrayVar(&params, "param", nil, "parameter of the named query, as name=value (repeat)")
	cmd.Flags().BoolVar(&list, "list", false, "list the named queries and their parameters")
	return cmd
}

// paramValues reads name=value pairs.
func paramValues(params []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want name=value", p)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--param %s is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

func listNamed(w io.Writer) error {
	all, err := queries.All()
	if err != nil {
		return err
	}
	for _, q := range all {
		fmt.Fprintf(w, "%s\n    %s\n", q.Name, q.Description)
		for _, p := range q.Params {
			def := "required"
			if !p.Required() {
				def = "default " + p.Default
			}
			fmt.Fprintf(w, "    --param %s=<%s>  %s (%s)\n", p.Name, p.Type, p.Doc, def)
		}
	}
	return nil
}

// printRows writes rows in the chosen format.
func printRows(w io.Writer, rows driver.Rows, format string) error {
	cols := rows.Columns()
	types := rows.ColumnTypes()
	dest := make([]any, len(types))
	for i, t := range types {
		dest[i] = reflect.New(t.ScanType()).Interface()
	}
	var emit func([]any) error
	var done func() error
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		emit = func(vals []any) error {
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				if b, ok := vals[i].([]uint8); ok { // Array(UInt8), not bytes
					n := make([]int, len(b))
					for j, x := range b {
						n[j] = int(x)
					}
					obj[c] = n
					continue
				}
				obj[c] = vals[i]
			}
			return enc.Encode(obj)
		}
		done = func() error { return nil }
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(cols); err != nil {
			return err
		}
		emit = func(vals []any) error { return cw.Write(texts(vals)) }
		done = func() error { cw.Flush(); return cw.Error() }
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		emit = func(vals []any) error { _, err := fmt.Fprintln(tw, strings.Join(texts(vals), "\t")); return err }
		done = tw.Flush
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		vals := make([]any, len(dest))
		for i, d := range dest {
			vals[i] = reflect.ValueOf(d).Elem().Interface()
		}
		if err := emit(vals); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := done(); err != nil {
		return err
	}
	if format == "table" {
		fmt.Fprintf(w, "(%d rows)\n", n)
	}
	return nil
}

func texts(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = text(v)
	}
	return out
}

func text(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "NULL"
		}
		return text(rv.Elem().Interface())
	}
	switch x := v.(type) {
	case time.Time:
		return x.Format("2006-01-02T15:04:05.000Z07:00")
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map || rv.Kind() == reflect.Struct {
		b, err := json.Marshal(v)
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}
