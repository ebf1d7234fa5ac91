package kafka_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// produceOne produces a message with a fresh producer and returns its error.
func produceOne(t *testing.T, cfg kafka.Config) error {
	t.Helper()
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Produce(t.Context(), kafka.Message{Topic: "t", Value: []byte("x")})
}

func clientConfig(brokers []string) kafka.Config {
	c := kafka.DefaultConfig()
	c.Brokers = brokers
	c.Producer.MaxAttempts = 1
	c.DialTimeout, c.ReadTimeout, c.WriteTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	return c
}

func TestSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plain-user", "plain-pass"),
		kfake.Superuser("SCRAM-SHA-256", "scram256-user", "scram256-pass"),
		kfake.Superuser("SCRAM-SHA-512", "scram512-user", "scram512-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	secret := filepath.Join(t.TempDir(), "password")

	for _, tc := range []struct {
		mech, user, pass string
		ok               bool
	}{
		{kafka.SASLPlain, "plain-user", "plain-pass", true},
		{kafka.SASLScramSHA256, "scram256-user", "scram256-pass", true},
		{kafka.SASLScramSHA512, "scram512-user", "scram512-pass", true},
		{kafka.SASLScramSHA512, "scram512-user", "wrong", false},
		{kafka.SASLScramSHA256, "scram512-user", "scram512-pass", false}, // wrong mechanism for the user
	} {
		t.Run(tc.mech+"/"+tc.pass, func(t *testing.T) {
			if err := os.WriteFile(secret, []byte(tc.pass+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := clientConfig(c.ListenAddrs())
			cfg.SASL = kafka.SASLConfig{Mechanism: tc.mech, Username: tc.user, PasswordFile: secret}
			err := produceOne(t, cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("produce: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), tc.pass) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}

	t.Run("password from the environment", func(t *testing.T) {
		t.Setenv("TEST_KAFKA_PASSWORD", "scram256-pass")
		cfg := clientConfig(c.ListenAddrs())
		cfg.SASL = kafka.SASLConfig{Mechanism: kafka.SASLScramSHA256, Username: "scram256-user", PasswordEnv: "TEST_KAFKA_PASSWORD"}
		if err := produceOne(t, cfg); err != nil {
			t.Fatal(err)
		}
		cfg.SASL.PasswordEnv = "TEST_KAFKA_PASSWORD_UNSET"
		if _, err := kafka.NewProducer(cfg, zerolog.Nop(), nil); err == nil || !strings.Contains(err.Error(), "kafka.sasl.password_env: environment variable TEST_KAFKA_PASSWORD_UNSET") {
			t.Fatalf("unset password variable: %v", err)
		}
	})
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caPEM, serverCert := testCertificates(t)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	cfg := clientConfig(c.ListenAddrs())
	cfg.TLS = kafka.TLSConfig{Enabled: true, CAFile: caFile}
	if err := produceOne(t, cfg); err != nil {
		t.Fatalf("TLS with the broker's CA: %v", err)
	}

	cfg.TLS = kafka.TLSConfig{Enabled: true} // system roots do not know the test CA
	if err := produceOne(t, cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("TLS without the broker's CA: %v, want a certificate error", err)
	}

	cfg.TLS = kafka.TLSConfig{Enabled: true, CAFile: filepath.Join(dir, "missing.pem")}
	if _, err := kafka.NewProducer(cfg, zerolog.Nop(), nil); err == nil || !strings.Contains(err.Error(), "kafka.tls.ca_file") {
		t.Fatalf("missing CA file: %v", err)
	}
}

// testCertificates makes a CA and a certificate for 127.0.0.1 signed by it.
func testCertificates(t *testing.T) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trailwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
