package chserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

func chOptions(comp clickhouse.CompressionMethod) *clickhouse.Options {
	return &clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{strings.TrimPrefix(testURL, "http://")},
		Compression: &clickhouse.Compression{Method: comp},
		DialTimeout: 5 * time.Second,
	}
}

func openCH(t testing.TB, comp clickhouse.CompressionMethod) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(chOptions(comp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var compressions = []struct {
	name string
	m    clickhouse.CompressionMethod
}{{"none", clickhouse.CompressionNone}, {"lz4", clickhouse.CompressionLZ4}, {"zstd", clickhouse.CompressionZSTD}, {"gzip", clickhouse.CompressionGZIP}}

func TestClickHouseGoSmoke(t *testing.T) {
	for _, c := range compressions {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			conn := openCH(t, c.m)
			if err := conn.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			v, err := conn.ServerVersion()
			if err != nil {
				t.Fatal(err)
			}
			if v.Version.Major < 24 {
				t.Fatalf("version %v", v)
			}
			table := "smoke_" + c.name
			if err := conn.Exec(ctx, "CREATE TABLE "+table+" (id UInt64, s String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id"); err != nil {
				t.Fatal(err)
			}
			b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
			if err != nil {
				t.Fatal(err)
			}
			base := time.Date(2026, 11, 3, 2, 14, 7, 412e6, time.UTC)
			for i := range 1000 {
				if err := b.Append(uint64(i), "row", base.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Send(); err != nil {
				t.Fatalf("send: %v", err)
			}
			var n uint64
			var maxTS time.Time
			if err := conn.QueryRow(ctx, "SELECT count(), max(ts) FROM "+table+" WHERE s = {s:String}", clickhouse.Named("s", "row")).Scan(&n, &maxTS); err != nil {
				t.Fatal(err)
			}
			if n != 1000 || !maxTS.Equal(base.Add(999*time.Second)) {
				t.Fatalf("count %d max %v", n, maxTS)
			}
			_, err = conn.Query(ctx, "SELECT * FROM no_such_table_x")
			var ex *clickhouse.Exception
			if !errorsAs(err, &ex) || ex.Code != 60 {
				t.Fatalf("want exception 60, got %v", err)
			}
		})
	}
}
