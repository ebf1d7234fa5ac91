package httpin

import (
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
)

// Config configures the HTTP collector.
type Config struct {
	Listen      string `yaml:"listen" doc:"host:port the HTTP collector listens on (POST /v1/events; /healthz and /readyz, status only: metrics and readiness details are on metrics.listen)."`
	TLSCertFile string `yaml:"tls_cert_file" doc:"PEM certificate (chain) to serve HTTPS with; empty serves plain HTTP (put TLS in front of it then)."`
	TLSKeyFile  string `yaml:"tls_key_file" doc:"PEM private key of tls_cert_file."`

	MaxBodyBytes   int64 `yaml:"max_body_bytes" doc:"Largest request body, as sent and after gzip decompression; larger answers 413."`
	MaxEvents      int   `yaml:"max_events" doc:"Most records in one request; more answers 413."`
	MaxEventBytes  int   `yaml:"max_event_bytes" doc:"Largest canonical event record in a request (the contract's 64 KiB); larger answers 413."`
	MaxRecordBytes int   `yaml:"max_record_bytes" doc:"Largest vendor-format record in a request (vendor records carry fields the event drops); larger answers 413."`

	MaxInFlight int `yaml:"max_in_flight" doc:"Requests read, parsed and published at once; memory is bounded by about twice (max_in_flight + max_unverified_in_flight) × max_body_bytes."`
	// MaxUnverifiedInFlight is a separate budget for requests of
	// signature-only sources, which cannot be verified before their body
	// has arrived: a client that knows such a source's name and sends a
	// body slowly holds one of these places for up to read_timeout, never
	// one of a token-authenticated request's.
	MaxUnverifiedInFlight int           `yaml:"max_unverified_in_flight" doc:"Requests of signature-only sources at once (a separate budget: their sender is known only once the body has arrived, so a slow unauthenticated body can hold only these places, never those of token-authenticated requests)."`
	QueueTimeout          time.Duration `yaml:"queue_timeout" doc:"How long a request waits for one of max_in_flight before it is answered 429 with Retry-After."`
	ProduceTimeout        time.Duration `yaml:"produce_timeout" doc:"How long a request waits for Kafka to acknowledge its events before it is answered 503 with Retry-After."`
	RetryAfter            time.Duration `yaml:"retry_after" doc:"The Retry-After given with 429 and 503 answers (rounded up to whole seconds)."`
	ReadTimeout           time.Duration `yaml:"read_timeout" doc:"Time allowed to read a request, body included."`

	SignatureTolerance time.Duration `yaml:"signature_tolerance" doc:"How far a signed request's X-Trailwatch-Timestamp may be from the server's clock, either way."`
	ReplayCacheSize    int           `yaml:"replay_cache_size" doc:"Signatures remembered per source to refuse replays within signature_tolerance; when full the oldest are dropped and older timestamps refused."`

	Sources []SourceConfig `yaml:"sources" doc:"The sources allowed to send, each with its name, tenant, format and credentials (docs/INGEST.md)."`
}

// SourceConfig is one source allowed to send: its name, tenant and format
// (ingest.Source) and its credentials, read from files or the environment,
// never from the configuration file itself nor from flags.
type SourceConfig struct {
	ingest.Source  `yaml:",inline"`
	TokenFile      string `yaml:"token_file" doc:"File holding the source's bearer token."`
	TokenEnv       string `yaml:"token_env" doc:"Environment variable holding the source's bearer token."`
	HMACSecretFile string `yaml:"hmac_secret_file" doc:"File holding the source's HMAC-SHA256 signing secret; requests must then be signed."`
	HMACSecretEnv  string `yaml:"hmac_secret_env" doc:"Environment variable holding the source's signing secret."`
}

// DefaultConfig listens on 127.0.0.1:8088 with no source: every request is
// refused until sources are configured.
func DefaultConfig() Config {
	return Config{
		Listen:                "127.0.0.1:8088",
		MaxBodyBytes:          8 << 20,
		MaxEvents:             10000,
		MaxEventBytes:         64 << 10,
		MaxRecordBytes:        256 << 10,
		MaxInFlight:           32,
		MaxUnverifiedInFlight: 8,
		QueueTimeout:          100 * time.Millisecond,
		ProduceTimeout:        10 * time.Second,
		RetryAfter:            5 * time.Second,
		ReadTimeout:           30 * time.Second,
		SignatureTolerance:    5 * time.Minute,
		ReplayCacheSize:       100000,
	}
}

// Validate reports every problem at once, naming the setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ingest.http.%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	if c.Listen == "" {
		bad("listen", "required")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	if c.MaxBodyBytes < 1024 {
		bad("max_body_bytes", "must be at least 1024, got %d", c.MaxBodyBytes)
	}
	if c.MaxEvents < 1 {
		bad("max_events", "must be at least 1, got %d", c.MaxEvents)
	}
	if c.MaxEventBytes < 1024 || c.MaxEventBytes > 64<<10 {
		bad("max_event_bytes", "must be between 1024 and the contract's 65536, got %d", c.MaxEventBytes)
	}
	if c.MaxRecordBytes < 1024 {
		bad("max_record_bytes", "must be at least 1024, got %d", c.MaxRecordBytes)
	}
	if c.MaxInFlight < 1 {
		bad("max_in_flight", "must be at least 1, got %d", c.MaxInFlight)
	}
	if c.MaxUnverifiedInFlight < 1 {
		bad("max_unverified_in_flight", "must be at least 1, got %d", c.MaxUnverifiedInFlight)
	}
	for name, d := range map[string]time.Duration{"queue_timeout": c.QueueTimeout, "produce_timeout": c.ProduceTimeout,
		"retry_after": c.RetryAfter, "read_timeout": c.ReadTimeout, "signature_tolerance": c.SignatureTolerance} {
		if d <= 0 {
			bad(name, "must be positive, got %s", d)
		}
	}
	if c.ReplayCacheSize < 1 {
		bad("replay_cache_size", "must be at least 1, got %d", c.ReplayCacheSize)
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("ingest.http.sources[%d]", i)
		if err := s.Source.Validate(where); err != nil {
			errs = append(errs, err)
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", where, s.Name))
		}
		seen[s.Name] = true
		if s.TokenFile != "" && s.TokenEnv != "" || s.HMACSecretFile != "" && s.HMACSecretEnv != "" {
			errs = append(errs, fmt.Errorf("%s: set a credential from a file or from the environment, not both", where))
		}
		if s.TokenFile == "" && s.TokenEnv == "" && s.HMACSecretFile == "" && s.HMACSecretEnv == "" {
			errs = append(errs, fmt.Errorf("%s: a bearer token or an HMAC secret is required (authentication cannot be turned off)", where))
		}
	}
	return errors.Join(errs...)
}
