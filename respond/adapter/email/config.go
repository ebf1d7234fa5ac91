package email

import (
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS; refuse to send if the server does not offer it
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a relay on loopback
)

// Config is one mail submission server and the recipients.
type Config struct {
	Host     string         `yaml:"host" doc:"Submission server host name (also the name its certificate must carry)."`
	Port     int            `yaml:"port" doc:"Submission port: 587 for starttls, 465 for implicit."`
	TLS      string         `yaml:"tls" doc:"starttls (required, default), implicit, or none (loopback relays only)."`
	CAFile   string         `yaml:"ca_file" doc:"PEM file of CAs to trust instead of the system pool, optional."`
	Username string         `yaml:"username" doc:"AUTH PLAIN user; empty sends without authenticating."`
	Password adapter.Secret `yaml:"password" doc:"AUTH PLAIN password, from a file or the environment."`
	HeloName string         `yaml:"helo_name" doc:"Name sent in EHLO."`
	From     string         `yaml:"from" doc:"Sender address (RFC 5322), e.g. Trailwatch <alerts@acme.example>."`
	To       []string       `yaml:"to" doc:"Recipient addresses."`
	Timeout  time.Duration  `yaml:"timeout" doc:"Bound on one whole delivery: dial, TLS, every command."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{Port: 587, TLS: TLSStartTLS, HeloName: "trailwatch", Timeout: 30 * time.Second}
}

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, fmt.Errorf("%s.host: required", path))
	}
	if c.Port <= 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s.port: must be 1-65535, got %d", path, c.Port))
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if c.Host != "localhost" && c.Host != "127.0.0.1" && c.Host != "::1" {
			errs = append(errs, fmt.Errorf("%s.tls: none is allowed only for a loopback relay, host is %q", path, c.Host))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.tls: want starttls, implicit or none, got %q", path, c.TLS))
	}
	if c.Username != "" {
		if err := c.Password.Validate(path + ".password"); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("%s.from: %q is not an address: %w", path, c.From, err))
	}
	if len(c.To) == 0 {
		errs = append(errs, fmt.Errorf("%s.to: at least one recipient is required", path))
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			errs = append(errs, fmt.Errorf("%s.to[%d]: %q is not an address: %w", path, i, to, err))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
