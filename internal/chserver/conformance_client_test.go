package chserver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

var allCompressions = []struct {
	name string
	m    clickhouse.CompressionMethod
}{
	{"none", clickhouse.CompressionNone}, {"lz4", clickhouse.CompressionLZ4}, {"zstd", clickhouse.CompressionZSTD},
	{"gzip", clickhouse.CompressionGZIP}, {"deflate", clickhouse.CompressionDeflate},
}

// uniqueTable makes a table for one test and drops it at the end.
func uniqueTable(t testing.TB, conn driver.Conn, columns string) string {
	t.Helper()
	name := "t_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	if err := conn.Exec(context.Background(), "CREATE TABLE "+name+" ("+columns+") ENGINE = MergeTree ORDER BY tuple()"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+name) })
	return name
}

func TestParameters(t *testing.T) {
	ctx := t.Context()
	conn := openCH(t, clickhouse.CompressionNone)
	tricky := "it's a \\ 'test'; DROP TABLE x --"
	var s string
	var n uint64
	var ts time.Time
	// Named parameters are bound by the server ({name:Type}).
	err := conn.QueryRow(ctx, "SELECT {s:String}, {n:UInt64} + 1, {ts:DateTime64(3, 'UTC')}",
		clickhouse.Named("s", tricky), clickhouse.Named("n", "41"), clickhouse.Named("ts", "2026-01-02 03:04:05.678")).Scan(&s, &n, &ts)
	if err != nil {
		t.Fatal(err)
	}
	if s != tricky || n != 42 || !ts.Equal(time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)) {
		t.Fatalf("named: %q %d %v", s, n, ts)
	}
	// Positional parameters are bound by the client (? placeholders).
	if err := conn.QueryRow(ctx, "SELECT ?, toUInt64(?) + 1", tricky, 41).Scan(&s, &n); err != nil {
		t.Fatal(err)
	}
	if s != tricky || n != 42 {
		t.Fatalf("positional: %q %d", s, n)
	}
	// A parameter does not outlive its request.
	if err := conn.QueryRow(ctx, "SELECT {s:String}").Scan(&s); err == nil {
		t.Fatal("a parameter leaked into the next request")
	}
}

func TestPerQuerySettings(t *testing.T) {
	conn := openCH(t, clickhouse.CompressionNone)
	var v string
	ctx := clickhouse.Context(t.Context(), clickhouse.WithSettings(clickhouse.Settings{"max_block_size": 1234, "max_threads": 1}))
	if err := conn.QueryRow(ctx, "SELECT toString(getSetting('max_block_size'))").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "1234" {
		t.Fatalf("max_block_size = %s", v)
	}
	// The statement's own SETTINGS clause wins over the request's.
	if err := conn.QueryRow(ctx, "SELECT toString(getSetting('max_block_size')) SETTINGS max_block_size = 99").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "99" {
		t.Fatalf("statement setting = %s", v)
	}
	// Settings apply to DDL too and do not outlive the request.
	tctx := clickhouse.Context(t.Context(), clickhouse.WithSettings(clickhouse.Settings{"max_block_size": 777}))
	table := uniqueTable(t, conn, "x UInt8")
	if err := conn.Exec(tctx, "INSERT INTO "+table+" SELECT toUInt8(getSetting('max_block_size') = 777)"); err != nil {
		t.Fatal(err)
	}
	var applied uint8
	if err := conn.QueryRow(t.Context(), "SELECT x FROM "+table).Scan(&applied); err != nil || applied != 1 {
		t.Fatalf("setting on INSERT … SELECT: %d %v", applied, err)
	}
	if err := conn.QueryRow(t.Context(), "SELECT toString(getSetting('max_block_size'))").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v == "777" || v == "1234" {
		t.Fatalf("a request's setting outlived it: max_block_size = %s", v)
	}
	// An unknown setting is an error, as on a server.
	bad := clickhouse.Context(t.Context(), clickhouse.WithSettings(clickhouse.Settings{"no_such_setting_x": 1}))
	err := conn.QueryRow(bad, "SELECT 1").Scan(&v)
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 115 {
		t.Fatalf("unknown setting: %v, want code 115 (UNKNOWN_SETTING)", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := t.Context()
	for _, c := range allCompressions {
		t.Run(c.name, func(t *testing.T) {
			conn := openCH(t, c.m)
			tests := []struct {
				sql  string
				code int32
				text string
			}{
				{"SELECT * FROM no_such_table_e", 60, "no_such_table_e"},
				{"SELEC 1", 62, "Syntax error"},
				{"SELECT no_such_function_e(1)", 46, "no_such_function_e"},
				{"SELECT toUInt8('x')", 6, "Cannot parse"},
				{"SELECT throwIf(1, 'boom from test')", 395, "boom from test"},
			}
			for _, tc := range tests {
				rows, err := conn.Query(ctx, tc.sql)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				var ex *clickhouse.Exception
				if !errors.As(err, &ex) {
					t.Fatalf("%s: %v is not a clickhouse.Exception", tc.sql, err)
				}
				if ex.Code != tc.code || !strings.Contains(ex.Message, tc.text) {
					t.Errorf("%s: code %d message %q, want %d containing %q", tc.sql, ex.Code, ex.Message, tc.code, tc.text)
				}
				if err := conn.Exec(ctx, tc.sql); err == nil {
					t.Errorf("%s: Exec succeeded", tc.sql)
				}
			}
		})
	}
}

// TestLargeResultEveryCompression reads a result of many blocks.
func TestLargeResultEveryCompression(t *testing.T) {
	for _, c := range allCompressions {
		t.Run(c.name, func(t *testing.T) {
			conn := openCH(t, c.m)
			rows, err := conn.Query(t.Context(), "SELECT number, toString(number), toDateTime(number, 'Asia/Kolkata') FROM numbers(300000)")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var n, sum uint64
			kolkata := mustLoc(t, "Asia/Kolkata")
			for rows.Next() {
				var x uint64
				var s string
				var ts time.Time
				if err := rows.Scan(&x, &s, &ts); err != nil {
					t.Fatal(err)
				}
				if s != fmt.Sprint(x) || ts.Unix() != int64(x) || ts.Location().String() != kolkata.String() {
					t.Fatalf("row %d: %q %v", x, s, ts)
				}
				n++
				sum += x
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != 300000 || sum != 300000*299999/2 {
				t.Fatalf("n=%d sum=%d", n, sum)
			}
		})
	}
}

// TestEmptyResultHasColumns: an empty result names and types its columns,
// as a server's header block does.
func TestEmptyResultHasColumns(t *testing.T) {
	ctx := t.Context()
	for _, c := range allCompressions {
		t.Run(c.name, func(t *testing.T) {
			conn := openCH(t, c.m)
			table := uniqueTable(t, conn, "id UInt64, ts DateTime('Europe/Berlin'), tags Array(LowCardinality(String)), m Map(String, Nullable(Int8))")
			if err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES (1, 0, ['a'], {'k': NULL})"); err != nil {
				t.Fatal(err)
			}
			describe := func(where string) ([]string, []string) {
				rows, err := conn.Query(ctx, "SELECT *, id + 1 AS next FROM "+table+" WHERE "+where)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var types []string
				for _, ct := range rows.ColumnTypes() {
					types = append(types, ct.DatabaseTypeName())
				}
				for rows.Next() {
				}
				return rows.Columns(), types
			}
			wantCols, wantTypes := describe("id = 1")
			gotCols, gotTypes := describe("id = 2")
			if !reflect.DeepEqual(gotCols, wantCols) || !reflect.DeepEqual(gotTypes, wantTypes) {
				t.Fatalf("empty result: %v %v, want %v %v", gotCols, gotTypes, wantCols, wantTypes)
			}
			if wantTypes[1] != "DateTime('Europe/Berlin')" {
				t.Fatalf("types %v", wantTypes)
			}
		})
	}
}

// TestCancelStopsQuery: a query whose context ends stops, and the engine
// is free for the next request long before the query would have ended.
func TestCancelStopsQuery(t *testing.T) {
	conn := openCH(t, clickhouse.CompressionNone)
	ctx, cancel := context.WithCancel(t.Context())
	// Billions of rows in blocks: hours to read whole.
	rows, err := conn.Query(ctx, "SELECT number FROM numbers(100000000000) SETTINGS max_execution_time = 3600")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && rows.Next(); i++ {
	}
	cancel()
	rows.Close()
	// Until then, this waits in the queue behind the query.
	other := openCH(t, clickhouse.CompressionNone)
	wctx, wcancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer wcancel()
	var one uint8
	if err := other.QueryRow(wctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("engine still busy with the cancelled query: %v", err)
	}
}

// TestGoneClientNotRun: a request whose client gave up while it waited
// in the queue never runs.
func TestGoneClientNotRun(t *testing.T) {
	conn := openCH(t, clickhouse.CompressionNone)
	table := uniqueTable(t, conn, "x UInt8")
	// Hold the engine with a slow query on its own connection.
	slowCtx, stopSlow := context.WithCancel(t.Context())
	defer stopSlow()
	slow, err := conn.Query(slowCtx, "SELECT number FROM numbers(100000000000) SETTINGS max_execution_time = 3600, max_block_size = 1000")
	if err != nil {
		t.Fatal(err)
	}
	insertCtx, gone := context.WithCancel(t.Context())
	done := make(chan error, 1)
	other := openCH(t, clickhouse.CompressionNone)
	before := testSrv.q.waiting()
	go func() { done <- other.Exec(insertCtx, "INSERT INTO "+table+" VALUES (1)") }()
	for testSrv.q.waiting() == before {
		time.Sleep(time.Millisecond)
	}
	gone()
	if err := <-done; err == nil {
		t.Fatal("insert reported success although its client went away")
	}
	stopSlow()
	slow.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("a request whose client went away ran: %d rows", n)
	}
}

func TestDatabaseSQL(t *testing.T) {
	db := clickhouse.OpenDB(chOptions(clickhouse.CompressionLZ4))
	defer db.Close()
	ctx := t.Context()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	conn := openCH(t, clickhouse.CompressionNone)
	table := uniqueTable(t, conn, "id UInt32, s String, ts DateTime64(3, 'UTC')")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO "+table)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 100 {
		if _, err := stmt.ExecContext(ctx, uint32(i), fmt.Sprint("s", i), base.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	var maxTS time.Time
	if err := db.QueryRowContext(ctx, "SELECT count(), max(ts) FROM "+table+" WHERE s LIKE ?", "s%").Scan(&n, &maxTS); err != nil {
		t.Fatal(err)
	}
	if n != 100 || !maxTS.Equal(base.Add(99*time.Millisecond)) {
		t.Fatalf("count %d max %v", n, maxTS)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1000, 'x', now64())"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT id, s FROM "+table+" WHERE id >= {min:UInt32} ORDER BY id", clickhouse.Named("min", "99"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !reflect.DeepEqual(cols, []string{"id", "s"}) {
		t.Fatalf("columns %v", cols)
	}
	var ids []uint32
	for rows.Next() {
		var id uint32
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if !reflect.DeepEqual(ids, []uint32{99, 1000}) {
		t.Fatalf("ids %v", ids)
	}
	// An empty result still names its columns.
	empty, err := db.QueryContext(ctx, "SELECT id, s FROM "+table+" WHERE id > 5000")
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if cols, _ := empty.Columns(); !reflect.DeepEqual(cols, []string{"id", "s"}) {
		t.Fatalf("empty result columns %v", cols)
	}
	if empty.Next() {
		t.Fatal("rows in an empty result")
	}
}

func TestServerVersion(t *testing.T) {
	conn := openCH(t, clickhouse.CompressionNone)
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.Version.Major < 24 || v.Timezone == nil || v.Timezone.String() != "UTC" || v.DisplayName == "" {
		t.Fatalf("server version %+v", v)
	}
	var version string
	if err := conn.QueryRow(t.Context(), "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, fmt.Sprint(v.Version.Major, ".")) {
		t.Fatalf("version() %q vs handshake %v", version, v.Version)
	}
}
