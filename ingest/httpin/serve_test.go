package httpin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "trailwatch-test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLSAndTelemetry runs the collector as the role does: over TLS,
// with /healthz and /readyz handed to the telemetry server's probe handler
// (metrics stay on the metrics port), and a graceful stop when the context
// ends.
func TestServeTLSAndTelemetry(t *testing.T) {
	env := testenv.Kafka(t)
	certFile, keyFile, pool := selfSigned(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(crmToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Listen, cfg.TLSCertFile, cfg.TLSKeyFile = "127.0.0.1:0", certFile, keyFile
	cfg.Sources = []SourceConfig{{Source: ingest.Source{Name: "crm", Tenant: "acme"}, TokenFile: tokenFile}}
	reg := telemetry.NewRegistry()
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pub, err := ingest.NewPublisher(p, env.Config.Topics, reg)
	if err != nil {
		t.Fatal(err)
	}
	health := telemetry.NewServer("127.0.0.1:0", reg, zerolog.Nop())
	health.AddCheck("kafka", p.Ready)
	srv, err := New(cfg, pub, ingest.DefaultLimits(), zerolog.Nop(), reg, health.ProbeHandler())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + srv.Addr()
	req, _ := http.NewRequest(http.MethodPost, base+EventsPath, bytes.NewReader(ingesttest.NDJSON(0, 20, time.Now())))
	req.Header.Set("Authorization", "Bearer "+crmToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST over TLS: %d", resp.StatusCode)
	}
	// The probes answer on the collector's port, as the role's handler
	// gives them (ProbeHandler: no metrics, no check details).
	for path, want := range map[string]struct {
		code int
		body string
	}{"/healthz": {200, "ok\n"}, "/readyz": {200, "ok\n"}, "/metrics": {404, ""}} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || want.body != "" && string(b) != want.body {
			t.Errorf("GET %s: %d %.200s, want %d %q", path, resp.StatusCode, b, want.code, want.body)
		}
	}
	// Nothing is taken in the clear: a plain-HTTP request, token and all,
	// is refused by the TLS listener.
	plain := post(t, "http://"+srv.Addr(), EventsPath, bearer(crmToken), ingesttest.NDJSON(100, 5, time.Now()))
	if plain.status != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: %d %s", plain.status, plain.body)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if n := len(ingesttest.Published(t, env)); n != 20 {
		t.Fatalf("published %d", n)
	}
}
