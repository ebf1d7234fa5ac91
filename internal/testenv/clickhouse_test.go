package testenv

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestMain(m *testing.M) { Main(m) }

func TestClickHouseDatabasesAreSeparate(t *testing.T) {
	a, b := ClickHouse(t), ClickHouse(t)
	if a.Database == b.Database {
		t.Fatal("two tests share a database")
	}
	ctx := context.Background()
	ca, err := clickhouse.Open(a.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if err := ca.Exec(ctx, "CREATE TABLE t (x UInt8) ENGINE = Memory"); err != nil {
		t.Fatal(err)
	}
	cb, err := clickhouse.Open(b.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if err := cb.Exec(ctx, "SELECT * FROM t"); err == nil {
		t.Fatal("b sees a's table")
	}
}
