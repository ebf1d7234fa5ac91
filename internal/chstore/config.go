package chstore

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config says how to reach ClickHouse.
type Config struct {
	URL             string        `yaml:"url" doc:"ClickHouse address: http://host:8123 or https://host:8443 (HTTP interface), clickhouse://host:9000 or clickhouses://host:9440 (native protocol). The embedded server of trailwatch run listens on http://127.0.0.1:8123."`
	Database        string        `yaml:"database" doc:"Database holding Trailwatch's tables; created by migrations if missing."`
	User            string        `yaml:"user" doc:"User name; empty means the server's default user."`
	PasswordFile    string        `yaml:"password_file" doc:"File holding the password. The environment variable TRAILWATCH_CLICKHOUSE_PASSWORD is read when no file is given."`
	TLSCAFile       string        `yaml:"tls_ca_file" doc:"PEM file of the CA that signed the server's certificate (https and clickhouses URLs); empty uses the system roots."`
	TLSInsecure     bool          `yaml:"tls_insecure_skip_verify" doc:"Do not verify the server's certificate. Dangerous: only for testing."`
	Compression     string        `yaml:"compression" doc:"Compression of data in both directions: none, lz4, zstd or gzip."`
	DialTimeout     time.Duration `yaml:"dial_timeout" doc:"How long to wait to connect."`
	QueryTimeout    time.Duration `yaml:"query_timeout" doc:"Default time limit of one statement when the caller's context has none."`
	MaxOpenConns    int           `yaml:"max_open_conns" doc:"Connections kept to the server."`
	password        string
	passwordFromEnv bool
}

// DefaultConfig points at the embedded server of trailwatch run.
func DefaultConfig() Config {
	return Config{
		URL:          "http://127.0.0.1:8123",
		Database:     "trailwatch",
		Compression:  "lz4",
		DialTimeout:  5 * time.Second,
		QueryTimeout: 60 * time.Second,
		MaxOpenConns: 8,
	}
}

// PasswordEnv is the environment variable the password is read from when
// no password file is configured.
const PasswordEnv = "TRAILWATCH_CLICKHOUSE_PASSWORD"

// Validate reports every problem at once, naming the setting.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("clickhouse.url: required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("clickhouse.url: %w", err))
	default:
		switch u.Scheme {
		case "http", "https", "clickhouse", "clickhouses":
		default:
			errs = append(errs, fmt.Errorf("clickhouse.url: scheme %q, want http, https, clickhouse or clickhouses", u.Scheme))
		}
		if u.Host == "" {
			errs = append(errs, fmt.Errorf("clickhouse.url: %q has no host", c.URL))
		}
		if u.User != nil {
			errs = append(errs, errors.New("clickhouse.url: put the user in clickhouse.user and the password in clickhouse.password_file or "+PasswordEnv+", not in the URL"))
		}
	}
	if c.Database == "" || strings.ContainsAny(c.Database, "`\"'.; \t\n") {
		errs = append(errs, fmt.Errorf("clickhouse.database: %q is not a plain database name", c.Database))
	}
	switch c.Compression {
	case "none", "lz4", "zstd", "gzip":
	default:
		errs = append(errs, fmt.Errorf("clickhouse.compression: %q, want none, lz4, zstd or gzip", c.Compression))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, errors.New("clickhouse.dial_timeout: must be positive"))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, errors.New("clickhouse.query_timeout: must be positive"))
	}
	if c.MaxOpenConns < 1 {
		errs = append(errs, errors.New("clickhouse.max_open_conns: must be at least 1"))
	}
	if c.PasswordFile != "" {
		if _, err := os.Stat(c.PasswordFile); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse.password_file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// readPassword loads the password from the file or the environment.
func (c *Config) readPassword() error {
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return fmt.Errorf("clickhouse.password_file: %w", err)
		}
		c.password = strings.TrimRight(string(b), "\r\n")
		return nil
	}
	c.password, c.passwordFromEnv = os.LookupEnv(PasswordEnv)
	return nil
}
