package httpin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// Credentials of the test sources.
const (
	crmToken     = "crm-token-0123456789abcdef"
	hsToken      = "hubspot-token-0123456789abcdef"
	bothToken    = "both-token-0123456789abcdef"
	signedSecret = "signed-secret-0123456789abcdef"
	bothSecret   = "both-secret-0123456789abcdef"
)

type fixture struct {
	env  testenv.KafkaEnv
	srv  *Server
	url  string
	reg  *prometheus.Registry
	prod *kafka.Producer
	logs *testenv.Buffer // everything the collector logged, at debug level
}

// newFixture starts the collector over httptest on a fresh embedded broker
// with four sources: crm (canonical, token from a file), signed (HMAC only,
// secret from the environment), both (token and signature), and hs (HubSpot
// audit logs, backfill).
func newFixture(t *testing.T, mutate func(*Config)) fixture {
	t.Helper()
	env := testenv.Kafka(t)
	return newFixtureOn(t, env, mutate)
}

func newFixtureOn(t *testing.T, env testenv.KafkaEnv, mutate func(*Config)) fixture {
	t.Helper()
	dir := t.TempDir()
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("TEST_SIGNED_SECRET", signedSecret)
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Sources = []SourceConfig{
		{Source: ingest.Source{Name: "crm", Tenant: "acme"}, TokenFile: file("crm.token", crmToken)},
		{Source: ingest.Source{Name: "signed", Tenant: "acme"}, HMACSecretEnv: "TEST_SIGNED_SECRET"},
		{Source: ingest.Source{Name: "both", Tenant: "acme"}, TokenFile: file("both.token", bothToken), HMACSecretFile: file("both.secret", bothSecret)},
		{Source: ingest.Source{Name: "hs", Tenant: "acme", Format: "hubspot-audit-logs", Backfill: true}, TokenFile: file("hs.token", hsToken)},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	pub, err := ingest.NewPublisher(p, env.Config.Topics, reg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Buffer{}
	srv, err := New(cfg, pub, ingest.DefaultLimits(), zerolog.New(logs).Level(zerolog.DebugLevel), reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return fixture{env: env, srv: srv, url: ts.URL, reg: reg, prod: p, logs: logs}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) response(t *testing.T) Response {
	t.Helper()
	var resp Response
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("answer %d %s is not a Response: %v", r.status, r.body, err)
	}
	return resp
}

func (r reply) errorResponse(t *testing.T) ErrorResponse {
	t.Helper()
	var resp ErrorResponse
	if err := json.Unmarshal(r.body, &resp); err != nil || resp.Error == "" {
		t.Fatalf("answer %d %s is not an ErrorResponse: %v", r.status, r.body, err)
	}
	return resp
}

// post sends body to target (a path and query) with headers.
func post(t *testing.T, base, target string, headers map[string]string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// signed returns the headers of a request signed at ts.
func signed(source, secret, target string, body []byte, ts time.Time) map[string]string {
	stamp := strconv.FormatInt(ts.UnixMilli(), 10)
	return map[string]string{
		HeaderSource:    source,
		HeaderTimestamp: stamp,
		HeaderSignature: Sign([]byte(secret), stamp, target, body),
	}
}
