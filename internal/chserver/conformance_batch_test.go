package chserver

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestBatchRowAndColumnar sends the same rows with Append and with
// Column().Append, under every compression, and reads them back.
func TestBatchRowAndColumnar(t *testing.T) {
	for _, c := range allCompressions {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			conn := openCH(t, c.m)
			table := uniqueTable(t, conn, "id UInt64, name LowCardinality(String), ip IPv6, tags Array(String), attrs Map(String, String), note Nullable(String)")
			const n = 5000
			ip := netip.MustParseAddr("2001:db8::7")
			row := func(i int) (uint64, string, netip.Addr, []string, map[string]string, *string) {
				var note *string
				if i%3 == 0 {
					s := fmt.Sprint("note ", i)
					note = &s
				}
				return uint64(i), fmt.Sprint("user", i%7), ip, []string{"t", fmt.Sprint(i)}, map[string]string{"k": fmt.Sprint(i)}, note
			}
			b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				id, name, ip, tags, attrs, note := row(i)
				if err := b.Append(id, name, ip, tags, attrs, note); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Send(); err != nil {
				t.Fatal(err)
			}
			b, err = conn.PrepareBatch(ctx, "INSERT INTO "+table+" (id, name, ip, tags, attrs, note)")
			if err != nil {
				t.Fatal(err)
			}
			cols := make([][]any, 6)
			for i := n; i < 2*n; i++ {
				id, name, ip, tags, attrs, note := row(i)
				for j, v := range []any{id, name, ip, tags, attrs, note} {
					cols[j] = append(cols[j], v)
				}
			}
			ids := make([]uint64, 0, n)
			names := make([]string, 0, n)
			ips := make([]netip.Addr, 0, n)
			tags := make([][]string, 0, n)
			attrs := make([]map[string]string, 0, n)
			notes := make([]*string, 0, n)
			for i := range n {
				ids = append(ids, cols[0][i].(uint64))
				names = append(names, cols[1][i].(string))
				ips = append(ips, cols[2][i].(netip.Addr))
				tags = append(tags, cols[3][i].([]string))
				attrs = append(attrs, cols[4][i].(map[string]string))
				notes = append(notes, cols[5][i].(*string))
			}
			for j, v := range []any{ids, names, ips, tags, attrs, notes} {
				if err := b.Column(j).Append(v); err != nil {
					t.Fatalf("column %d: %v", j, err)
				}
			}
			if err := b.Send(); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, "SELECT id, name, ip, tags, attrs, note FROM "+table+" ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			i := 0
			for rows.Next() {
				var got struct {
					id    uint64
					name  string
					ip    netip.Addr
					tags  []string
					attrs map[string]string
					note  *string
				}
				if err := rows.Scan(&got.id, &got.name, &got.ip, &got.tags, &got.attrs, &got.note); err != nil {
					t.Fatal(err)
				}
				id, name, ip, tg, at, note := row(i)
				if got.id != id || got.name != name || got.ip != ip || !reflect.DeepEqual(got.tags, tg) || !reflect.DeepEqual(got.attrs, at) || !reflect.DeepEqual(got.note, note) {
					t.Fatalf("row %d: got %+v", i, got)
				}
				i++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if i != 2*n {
				t.Fatalf("%d rows, want %d", i, 2*n)
			}
		})
	}
}

// TestNested inserts into a Nested column, which a table stores as one
// array per field.
func TestNested(t *testing.T) {
	ctx := t.Context()
	conn := openCH(t, clickhouse.CompressionLZ4)
	table := uniqueTable(t, conn, "id UInt8, changes Nested(field String, old UInt32)")
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint8(1), []string{"owner", "stage"}, []uint32{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var fields []string
	var olds []uint32
	if err := conn.QueryRow(ctx, "SELECT changes.field, changes.old FROM "+table).Scan(&fields, &olds); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fields, []string{"owner", "stage"}) || !reflect.DeepEqual(olds, []uint32{1, 2}) {
		t.Fatalf("got %v %v", fields, olds)
	}
	var pairs [][]any
	if err := conn.QueryRow(ctx, "SELECT arrayZip(changes.field, changes.old) FROM "+table).Scan(&pairs); err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || pairs[1][0] != "stage" || pairs[1][1] != uint32(2) {
		t.Fatalf("zipped %v", pairs)
	}
}
