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

// TestClickHouseE2EURL runs the TRAILWATCH_E2E_CLICKHOUSE_URL path against
// the embedded server standing in for an external one: the address and
// the user come from the URL.
func TestClickHouseE2EURL(t *testing.T) {
	t.Setenv("CLICKHOUSE_ADDR", "")
	t.Setenv(E2EClickHouseURLEnv, "")
	embedded := ClickHouse(t)
	t.Setenv(E2EClickHouseURLEnv, "http://default@"+embedded.Addr)
	env := ClickHouse(t)
	if env.Addr != embedded.Addr || env.User != "default" || env.Database == embedded.Database {
		t.Fatalf("got %+v, want a fresh database on %s as user default", env, embedded.Addr)
	}
	conn, err := clickhouse.Open(env.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(context.Background(), "CREATE TABLE t (x UInt8) ENGINE = Memory"); err != nil {
		t.Fatalf("the test's database is not usable: %v", err)
	}
}
