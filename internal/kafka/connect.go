package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// conn holds what kafka-go needs to reach the cluster, built once from a
// Config: the Dialer serves Readers and consumer groups, the Transport
// serves Writers and the admin Client. TLS files and the SASL password are
// read here, when a component starts, not when the configuration is loaded.
type conn struct {
	addr      net.Addr
	dialer    *kafkago.Dialer
	transport *kafkago.Transport
}

func (c Config) connect() (*conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tlsCfg, err := c.TLS.build()
	if err != nil {
		return nil, err
	}
	mech, err := c.SASL.build()
	if err != nil {
		return nil, err
	}
	nd := &net.Dialer{Timeout: c.DialTimeout}
	return &conn{
		addr: kafkago.TCP(c.Brokers...),
		dialer: &kafkago.Dialer{
			ClientID:      c.ClientID,
			Timeout:       c.DialTimeout,
			DualStack:     true,
			TLS:           tlsCfg,
			SASLMechanism: mech,
		},
		transport: &kafkago.Transport{
			Dial:        nd.DialContext,
			DialTimeout: c.DialTimeout,
			ClientID:    c.ClientID,
			TLS:         tlsCfg,
			SASL:        mech,
		},
	}, nil
}

// client is an admin client over the transport. Its timeout bounds each
// request.
func (k *conn) client(c Config) *kafkago.Client {
	return &kafkago.Client{Addr: k.addr, Transport: k.transport, Timeout: c.ReadTimeout + c.WriteTimeout}
}

func (k *conn) close() { k.transport.CloseIdleConnections() }

// Client returns an admin client (metadata, offsets, topics) for the
// cluster c describes, for tools and tests; the stages use the producer
// and consumers.
func (c Config) Client() (*kafkago.Client, error) {
	k, err := c.connect()
	if err != nil {
		return nil, err
	}
	return k.client(c), nil
}

// Dialer returns a kafka-go Dialer with c's TLS, SASL and timeouts, for
// tools and tests that read partitions directly.
func (c Config) Dialer() (*kafkago.Dialer, error) {
	k, err := c.connect()
	if err != nil {
		return nil, err
	}
	return k.dialer, nil
}

func (t TLSConfig) build() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // documented as dangerous, off by default
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file, key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (s SASLConfig) build() (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case SASLPlain:
		return plain.Mechanism{Username: s.Username, Password: pass}, nil
	case SASLScramSHA256:
		m, err := scram.Mechanism(scram.SHA256, s.Username, pass)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		return m, nil
	case SASLScramSHA512:
		m, err := scram.Mechanism(scram.SHA512, s.Username, pass)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not supported", s.Mechanism)
}

// password reads the secret. Errors name the file or variable, never the
// value.
func (s SASLConfig) password() (string, error) {
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", fmt.Errorf("kafka.sasl.password_file: %s is empty", s.PasswordFile)
		}
		return p, nil
	}
	p := os.Getenv(s.PasswordEnv)
	if p == "" {
		return "", fmt.Errorf("kafka.sasl.password_env: environment variable %s is empty or unset", s.PasswordEnv)
	}
	return p, nil
}

func compressionCodec(name string) (kafkago.Compression, error) {
	switch name {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafkago.Gzip, nil
	case "snappy":
		return kafkago.Snappy, nil
	case "lz4":
		return kafkago.Lz4, nil
	case "zstd":
		return kafkago.Zstd, nil
	}
	return 0, fmt.Errorf("%q is not one of none, gzip, snappy, lz4, zstd", name)
}
