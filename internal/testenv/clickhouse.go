package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/embedded"
)

// ClickHouseEnv says where a test's ClickHouse is: a server address and a
// database made for that test alone.
type ClickHouseEnv struct {
	// URL is the HTTP interface, e.g. http://127.0.0.1:41234.
	URL string
	// Addr is URL's host:port.
	Addr     string
	Database string
	User     string
	Password string
	// Reader and ReaderPassword are a read-only user of the embedded
	// server (role reader); empty on an external server.
	Reader         string
	ReaderPassword string
	// Auditor is a user of the embedded server with the auditor role, and
	// TenantReader a reader scoped to the tenant TenantReaderTenant; both
	// have ReaderPassword. Empty on an external server.
	Auditor            string
	TenantReader       string
	TenantReaderTenant string
}

// The embedded server's read-only users.
const (
	readerUser         = "testenv_reader"
	readerPassword     = "testenv-reader-secret"
	auditorUser        = "testenv_auditor"
	tenantReaderUser   = "testenv_acme"
	tenantReaderTenant = "acme"
)

// Options are clickhouse-go options for the test's database over HTTP.
func (e ClickHouseEnv) Options() *clickhouse.Options {
	o := &clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{e.Addr},
		Auth:        clickhouse.Auth{Database: e.Database, Username: e.User, Password: e.Password},
		DialTimeout: 10 * time.Second,
	}
	return o
}

// DSN is the same as a clickhouse-go DSN (http://user:pass@host/db).
func (e ClickHouseEnv) DSN() string {
	u := url.URL{Scheme: "http", Host: e.Addr, Path: "/" + e.Database}
	if e.User != "" {
		u.User = url.UserPassword(e.User, e.Password)
	}
	return u.String()
}

var shared struct {
	once sync.Once
	ch   *embedded.ClickHouse
	dir  string
	err  error
}

// E2EClickHouseURLEnv names the ClickHouse server `make e2e` points the
// tests at: the HTTP interface as http://[user[:password]@]host:port (the
// user must be allowed to create and drop databases). CLICKHOUSE_ADDR (with
// CLICKHOUSE_USER and CLICKHOUSE_PASSWORD) does the same and wins.
const E2EClickHouseURLEnv = "TRAILWATCH_E2E_CLICKHOUSE_URL"

// ClickHouse returns a fresh database on the ClickHouse the tests use: the
// server named by CLICKHOUSE_ADDR (host:port of its HTTP interface, with
// CLICKHOUSE_USER and CLICKHOUSE_PASSWORD) or TRAILWATCH_E2E_CLICKHOUSE_URL
// under `make e2e`, else the embedded server this test process shares
// among its tests. The database
// is dropped when the test ends. A package that calls it must run its
// tests through Main, which closes the embedded engine at the end.
func ClickHouse(t testing.TB) ClickHouseEnv {
	t.Helper()
	env := ClickHouseEnv{}
	if addr := os.Getenv("CLICKHOUSE_ADDR"); addr != "" {
		env.Addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
		env.URL = "http://" + env.Addr
		env.User = os.Getenv("CLICKHOUSE_USER")
		env.Password = os.Getenv("CLICKHOUSE_PASSWORD")
	} else if raw := os.Getenv(E2EClickHouseURLEnv); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			t.Fatalf("%s=%q: want http://[user[:password]@]host:port (the HTTP interface, no database)", E2EClickHouseURLEnv, raw)
		}
		env.Addr = u.Host
		env.URL = "http://" + u.Host
		env.User = u.User.Username()
		env.Password, _ = u.User.Password()
	} else {
		shared.once.Do(startShared)
		if shared.err != nil {
			t.Fatalf("starting the embedded ClickHouse server: %v", shared.err)
		}
		env.URL = shared.ch.URL()
		env.Addr = shared.ch.Addr()
		env.Reader, env.ReaderPassword = readerUser, readerPassword
		env.Auditor, env.TenantReader, env.TenantReaderTenant = auditorUser, tenantReaderUser, tenantReaderTenant
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	env.Database = "test_" + hex.EncodeToString(b[:])

	admin := env
	admin.Database = "default"
	conn, err := clickhouse.Open(admin.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.Exec(ctx, "CREATE DATABASE "+env.Database); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := clickhouse.Open(admin.Options())
		if err != nil {
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+env.Database)
	})
	return env
}

func startShared() {
	dir, err := os.MkdirTemp("", "trailwatch-testenv-ch-")
	if err != nil {
		shared.err = err
		return
	}
	shared.dir = dir
	cfg := chserver.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.QueueSize = 1024
	sum := sha256.Sum256([]byte(readerPassword))
	hash := hex.EncodeToString(sum[:])
	cfg.Users = append(cfg.Users,
		chserver.User{Name: readerUser, PasswordSHA256Hex: hash, Role: chserver.RoleReader},
		chserver.User{Name: auditorUser, PasswordSHA256Hex: hash, Role: chserver.RoleAuditor},
		chserver.User{Name: tenantReaderUser, PasswordSHA256Hex: hash, Role: chserver.RoleReader, Tenant: tenantReaderTenant})
	shared.ch, shared.err = embedded.StartClickHouse(context.Background(), dir, cfg, zerolog.Nop(), nil)
}

// Main runs a package's tests and then closes what they shared. Use it
// from TestMain in every package whose tests call ClickHouse:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.ch != nil {
		if err := shared.ch.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: closing the embedded ClickHouse server:", err)
		}
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
