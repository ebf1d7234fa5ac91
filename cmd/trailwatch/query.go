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

	"github.com/trailwatch/trailwatch/internal/chstore"
)

func newQueryCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run SQL on the configured ClickHouse and print the result",
		Long: `Runs one statement over the network on the configured ClickHouse (by default
the embedded server of a running trailwatch run, http://127.0.0.1:8123) and
prints the result as a table, JSON lines or CSV.`,
		Example: `  trailwatch query "SELECT tenant, count() FROM audit_events FINAL GROUP BY tenant"
  trailwatch query --format json "SELECT * FROM audit_events LIMIT 5"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "json", "csv":
			default:
				return fmt.Errorf("--format: %q, want table, json or csv", format)
			}
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := chstore.Open(ctx, cfg.ClickHouse, logger(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := st.Query(ctx, args[0])
			if err != nil {
				return err
			}
			defer rows.Close()
			return printRows(cmd.OutOrStdout(), rows, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table, json (one object per line) or csv")
	return cmd
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
