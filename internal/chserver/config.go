package chserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Roles a user can have.
const (
	RoleAdmin  = "admin"  // any statement
	RoleWriter = "writer" // INSERT … FORMAT/VALUES with data, nothing else
	RoleReader = "reader" // read-only queries, checked by the engine
	// RoleAuditor is a reader that may read only what the auditor role of
	// a ClickHouse server may (schemas/clickhouse/0006_access_control.sql):
	// the *_masked views, the activity and alert roll-ups and the
	// integrity checkpoints.
	RoleAuditor = "auditor"
)

// Config configures the embedded ClickHouse HTTP server.
type Config struct {
	Listen              string        `yaml:"listen" doc:"Address the ClickHouse HTTP interface listens on (host:port; port 0 picks a free one)."`
	TLSCertFile         string        `yaml:"tls_cert_file" doc:"PEM certificate file; with tls_key_file, serve HTTPS."`
	TLSKeyFile          string        `yaml:"tls_key_file" doc:"PEM private key file for tls_cert_file."`
	Users               []User        `yaml:"users" doc:"Users allowed to connect. The default is one user named default, role admin, no password, allowed only on a loopback listener."`
	QueueSize           int           `yaml:"queue_size" doc:"How many requests may wait for the engine, which runs one statement at a time; more are refused with 503."`
	ReadTimeout         time.Duration `yaml:"read_max_execution_time" doc:"max_execution_time given to read-only statements that do not set their own, and the most a reader's or auditor's statement may set (the engine runs one statement at a time); 0 turns both off."`
	MaxQuerySize        int           `yaml:"max_query_size" doc:"Largest statement text accepted, in bytes (insert data is not counted)."`
	IdleTimeout         time.Duration `yaml:"idle_timeout" doc:"How long an idle keep-alive connection stays open."`
	ShutdownGracePeriod time.Duration `yaml:"shutdown_grace_period" doc:"How long shutdown waits for requests in flight."`
}

// User is one account of the embedded server.
type User struct {
	Name string `yaml:"name" doc:"User name (HTTP basic auth, X-ClickHouse-User or the user parameter)."`
	// PasswordSHA256Hex is the hex SHA-256 of the password, as ClickHouse's
	// users.xml password_sha256_hex. Empty means no password.
	PasswordSHA256Hex string `yaml:"password_sha256_hex" doc:"Hex SHA-256 of the password (echo -n secret | sha256sum). Empty: no password."`
	PasswordFile      string `yaml:"password_file" doc:"File holding the password in clear (its SHA-256 is taken at start); an alternative to password_sha256_hex."`
	Role              string `yaml:"role" doc:"admin (anything), writer (inserts only), reader (read-only queries) or auditor (read-only, the masked views, activity and alert roll-ups and integrity checkpoints only)."`
	// Tenant scopes a reader or auditor to one tenant (scope.go).
	Tenant string `yaml:"tenant" doc:"For a reader or auditor: the one tenant whose rows the user sees. Every table or view with a tenant column is filtered to it; tables without one are refused."`
}

// maxTenantLen bounds a tenant id, as the canonical event's other ids are.
const maxTenantLen = 128

// DefaultConfig is a loopback listener with the password-less admin user
// default, as a fresh ClickHouse server has.
func DefaultConfig() Config {
	return Config{
		Listen:              "127.0.0.1:8123",
		Users:               []User{{Name: "default", Role: RoleAdmin}},
		QueueSize:           64,
		ReadTimeout:         30 * time.Second,
		MaxQuerySize:        256 << 10, // a server's max_query_size default
		IdleTimeout:         90 * time.Second,
		ShutdownGracePeriod: 10 * time.Second,
	}
}

// Validate reports every problem at once, naming the setting.
func (c *Config) Validate() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("clickhouse.listen: %q is not host:port: %w", c.Listen, err))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("clickhouse.tls_cert_file and clickhouse.tls_key_file: set both or neither"))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("clickhouse.queue_size: %d, must be at least 1", c.QueueSize))
	}
	if c.ReadTimeout < 0 {
		errs = append(errs, errors.New("clickhouse.read_max_execution_time: must not be negative"))
	}
	if c.MaxQuerySize < 1024 {
		errs = append(errs, fmt.Errorf("clickhouse.max_query_size: %d, must be at least 1024", c.MaxQuerySize))
	}
	if len(c.Users) == 0 {
		errs = append(errs, errors.New("clickhouse.users: at least one user is required"))
	}
	seen := map[string]bool{}
	loopback := isLoopback(host)
	for i, u := range c.Users {
		where := fmt.Sprintf("clickhouse.users[%d]", i)
		if u.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", where))
		}
		if seen[u.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is listed twice", where, u.Name))
		}
		seen[u.Name] = true
		switch u.Role {
		case RoleAdmin, RoleWriter, RoleReader, RoleAuditor:
		default:
			errs = append(errs, fmt.Errorf("%s.role: %q, want admin, writer, reader or auditor", where, u.Role))
		}
		if u.Tenant != "" {
			if u.Role != RoleReader && u.Role != RoleAuditor {
				errs = append(errs, fmt.Errorf("%s.tenant: only a reader or an auditor can be scoped to a tenant (role is %q)", where, u.Role))
			}
			if len(u.Tenant) > maxTenantLen || strings.IndexFunc(u.Tenant, unicode.IsControl) >= 0 || !utf8.ValidString(u.Tenant) {
				errs = append(errs, fmt.Errorf("%s.tenant: must be valid UTF-8 of at most %d bytes without control characters", where, maxTenantLen))
			}
		}
		if u.PasswordSHA256Hex != "" && u.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("%s: set password_sha256_hex or password_file, not both", where))
		}
		if h := u.PasswordSHA256Hex; h != "" {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("%s.password_sha256_hex: not 64 hex digits", where))
			}
		}
		if u.PasswordFile != "" {
			if _, err := os.Stat(u.PasswordFile); err != nil {
				errs = append(errs, fmt.Errorf("%s.password_file: %w", where, err))
			}
		}
		if u.PasswordSHA256Hex == "" && u.PasswordFile == "" && !loopback && err == nil {
			errs = append(errs, fmt.Errorf("%s: user %q has no password and clickhouse.listen %s is not a loopback address; anyone who can reach it could read or change the audit trail, so give every user a password or listen on 127.0.0.1", where, u.Name, c.Listen))
		}
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// principal is an authenticated user with the password hash resolved.
type principal struct {
	name   string
	role   string
	tenant string // the one tenant a scoped reader sees; empty: all
	hash   []byte // sha256 of the password; nil when there is none
}

// readOnly says whether the user may only read (reader or auditor).
func (p *principal) readOnly() bool { return p.role == RoleReader || p.role == RoleAuditor }

// scoped says whether the user's reads are limited to some tables or
// rows, which the guard enforces (scope.go).
func (p *principal) scoped() bool { return p.role == RoleAuditor || p.tenant != "" }

func loadUsers(users []User) (map[string]*principal, error) {
	out := make(map[string]*principal, len(users))
	for _, u := range users {
		p := &principal{name: u.Name, role: u.Role, tenant: u.Tenant}
		switch {
		case u.PasswordSHA256Hex != "":
			p.hash, _ = hex.DecodeString(u.PasswordSHA256Hex)
		case u.PasswordFile != "":
			b, err := os.ReadFile(u.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("reading password of user %s: %w", u.Name, err)
			}
			sum := sha256.Sum256([]byte(strings.TrimRight(string(b), "\r\n")))
			p.hash = sum[:]
		}
		out[u.Name] = p
	}
	return out, nil
}
