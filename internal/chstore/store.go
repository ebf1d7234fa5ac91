package chstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/rs/zerolog"
)

// ErrUnreachable is wrapped by errors that mean nothing answered at the
// configured address.
var ErrUnreachable = errors.New("ClickHouse is not reachable")

// Store is a connection pool to one ClickHouse database.
type Store struct {
	cfg  Config
	log  zerolog.Logger
	conn driver.Conn
}

// Open connects to cfg.URL and checks that the server answers. The
// database need not exist yet (Migrate creates it).
func Open(ctx context.Context, cfg Config, log zerolog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.readPassword(); err != nil {
		return nil, err
	}
	opts, err := cfg.options(cfg.Database)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening ClickHouse at %s: %w", cfg.URL, err)
	}
	s := &Store{cfg: cfg, log: log.With().Str("component", "chstore").Logger(), conn: conn}
	if err := s.ping(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) ping(ctx context.Context, conn driver.Conn) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := conn.Ping(ctx)
	if err == nil {
		return nil
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && ex.Code == 81 { // UNKNOWN_DATABASE: Migrate will create it
		return nil
	}
	if isUnreachable(err) {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return fmt.Errorf("%w at %s (%v): start `trailwatch run` (the whole pipeline on the embedded engines) or `trailwatch clickhouse serve`, or point clickhouse.url (TRAILWATCH_CLICKHOUSE_URL) at your ClickHouse server", ErrUnreachable, s.cfg.URL, err)
	}
	return fmt.Errorf("connecting to ClickHouse at %s: %w", s.cfg.URL, err)
}

func isUnreachable(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &op) && op.Op == "dial")
}

// timeout gives ctx the default statement time limit when it has none.
func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

// Conn is the underlying clickhouse-go connection, for batches and queries
// the helpers below do not cover.
func (s *Store) Conn() driver.Conn { return s.conn }

// Database is the store's database name.
func (s *Store) Database() string { return s.cfg.Database }

// URL is the address the store connects to.
func (s *Store) URL() string { return s.cfg.URL }

// Close closes the pool.
func (s *Store) Close() error { return s.conn.Close() }

// Exec runs one statement.
func (s *Store) Exec(ctx context.Context, query string, args ...any) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.conn.Exec(ctx, query, args...)
}

// Query runs a query. Parameters bind to {name:Type} placeholders
// (clickhouse.Named) or ? positions; SQL is never built from user input.
func (s *Store) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return s.conn.Query(ctx, query, args...)
}

// PrepareBatch starts a batch insert (`INSERT INTO t (cols)`); Append rows
// or columns, then Send.
func (s *Store) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	return s.conn.PrepareBatch(ctx, query, opts...)
}

// options builds clickhouse-go options for database db.
func (c *Config) options(db string) (*clickhouse.Options, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Addr:         []string{u.Host},
		Auth:         clickhouse.Auth{Database: db, Username: c.User, Password: c.password},
		DialTimeout:  c.DialTimeout,
		MaxOpenConns: c.MaxOpenConns,
		MaxIdleConns: c.MaxOpenConns,
	}
	switch u.Scheme {
	case "http", "https":
		opts.Protocol = clickhouse.HTTP
		opts.HttpUrlPath = u.Path
	default:
		opts.Protocol = clickhouse.Native
	}
	if u.Port() == "" {
		port := map[string]string{"http": "8123", "https": "8443", "clickhouse": "9000", "clickhouses": "9440"}[u.Scheme]
		opts.Addr = []string{net.JoinHostPort(u.Hostname(), port)}
	}
	if u.Scheme == "https" || u.Scheme == "clickhouses" {
		tc := &tls.Config{InsecureSkipVerify: c.TLSInsecure, MinVersion: tls.VersionTLS12} //nolint:gosec // documented as dangerous
		if c.TLSCAFile != "" {
			pem, err := os.ReadFile(c.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("clickhouse.tls_ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("clickhouse.tls_ca_file: %s holds no PEM certificate", c.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		opts.TLS = tc
	}
	method := map[string]clickhouse.CompressionMethod{
		"none": clickhouse.CompressionNone, "lz4": clickhouse.CompressionLZ4,
		"zstd": clickhouse.CompressionZSTD, "gzip": clickhouse.CompressionGZIP,
	}[c.Compression]
	opts.Compression = &clickhouse.Compression{Method: method}
	return opts, nil
}

// paramEscaper escapes a value for ClickHouse's query-parameter text
// format (TSV-style "Escaped"), which the server unescapes before use.
var paramEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

// StringParam is the value to pass for a {name:String} query parameter
// so that the server sees s exactly: clickhouse-go sends values as they
// are, and the server would otherwise read `\n` in a value as a newline
// and `\'` as a quote.
func StringParam(s string) string { return paramEscaper.Replace(s) }

// ArrayParam is the value for a {name:Array(String)} query parameter.
func ArrayParam(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		// The value is read as the array's text form, in which each
		// string is quoted and escaped.
		b.WriteString(quotedEscaper.Replace(s))
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}

var quotedEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)
