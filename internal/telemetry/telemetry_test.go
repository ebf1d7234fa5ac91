package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/telemetry"
)

func TestLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := telemetry.NewLogger(telemetry.LogConfig{Level: "info", Format: telemetry.FormatAuto}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	child := log.With().Str("component", "sink").Logger()
	child.Debug().Msg("hidden")
	child.Info().Int("rows", 3).Msg("batch inserted")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want the info line alone: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON (a buffer is no terminal): %v: %s", err, lines[0])
	}
	if rec["level"] != "info" || rec["component"] != "sink" || rec["message"] != "batch inserted" || rec["rows"] != 3.0 {
		t.Errorf("record %v", rec)
	}
	ts, ok := rec["time"].(string)
	if !ok {
		t.Fatalf("no time in %v", rec)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", ts); err != nil || !strings.HasSuffix(ts, "Z") {
		t.Errorf("time %q is not UTC RFC 3339 with milliseconds", ts)
	}
}

func TestLoggerConsole(t *testing.T) {
	var buf bytes.Buffer
	log, err := telemetry.NewLogger(telemetry.LogConfig{Level: "debug", Format: telemetry.FormatConsole}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Str("group", "sink").Msg("partitions assigned")
	out := buf.String()
	if strings.HasPrefix(out, "{") || !strings.Contains(out, "DBG") || !strings.Contains(out, "partitions assigned") || !strings.Contains(out, "group=sink") {
		t.Errorf("console output %q", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colors written to a non-terminal: %q", out)
	}
}

func TestLogConfigValidate(t *testing.T) {
	err := telemetry.LogConfig{Level: "verbose", Format: "xml"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "log.level") || !strings.Contains(err.Error(), "log.format") {
		t.Errorf("Validate: %v, want both settings named", err)
	}
	if err := telemetry.DefaultLogConfig().Validate(); err != nil {
		t.Error(err)
	}
	if _, err := telemetry.NewLogger(telemetry.LogConfig{Level: "loud", Format: "json"}, io.Discard); err == nil {
		t.Error("NewLogger accepted a bad level")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	reg := telemetry.NewRegistry()
	events := prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_test_events_total", Help: "Test events."})
	reg.MustRegister(events)
	events.Add(7)

	s := telemetry.NewServer("127.0.0.1:0", reg, zerolog.Nop())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()

	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, "trailwatch_test_events_total 7") || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
		t.Errorf("/metrics %d:\n%.500s", code, body)
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "" {
		t.Errorf("/readyz with no checks: %d %q", code, body)
	}

	kafkaErr := errors.New("not a member of consumer group sink yet")
	s.AddCheck("kafka", func(ctx context.Context) error { return kafkaErr })
	s.AddCheck("clickhouse", func(ctx context.Context) error { return nil })
	code, body = get(t, base+"/readyz")
	if code != 503 || body != "[+]clickhouse ok\n[-]kafka: not a member of consumer group sink yet\n" {
		t.Errorf("/readyz with a failing check: %d %q", code, body)
	}
	kafkaErr = nil
	s.AddCheck("kafka", func(ctx context.Context) error { return nil })
	if code, body := get(t, base+"/readyz"); code != 200 || body != "[+]clickhouse ok\n[+]kafka ok\n" {
		t.Errorf("/readyz with passing checks: %d %q", code, body)
	}

	// A check that hangs is cut off by its timeout and fails.
	s.AddCheck("stuck", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "[-]stuck: context deadline exceeded") {
		t.Errorf("/readyz with a hanging check: %d %q", code, body)
	}

	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after Shutdown")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("/readyz during shutdown: %d %q", rec.Code, rec.Body.String())
	}
}

// TestProbeHandler: the probes for a client-facing port answer as the
// telemetry port's do, status and all, but never say which check failed or
// why, and serve nothing else.
func TestProbeHandler(t *testing.T) {
	reg := telemetry.NewRegistry()
	s := telemetry.NewServer("127.0.0.1:0", reg, zerolog.Nop())
	h := s.ProbeHandler()
	serve := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := serve("GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := serve("GET", "/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz with no checks: %d %q", code, body)
	}
	failing := errors.New("dial tcp 10.0.3.7:9092: connection refused")
	s.AddCheck("kafka", func(context.Context) error { return failing })
	s.AddCheck("clickhouse", func(context.Context) error { return nil })
	code, body := serve("GET", "/readyz")
	if code != 503 || body != "not ready\n" {
		t.Errorf("/readyz with a failing check: %d %q", code, body)
	}
	s.AddCheck("kafka", func(context.Context) error { return nil })
	if code, body := serve("GET", "/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz with passing checks: %d %q", code, body)
	}
	for _, path := range []string{"/metrics", "/", "/debug/pprof/"} {
		if code, _ := serve("GET", path); code != 404 {
			t.Errorf("GET %s on the probe handler: %d, want 404", path, code)
		}
	}
	if code, _ := serve("POST", "/readyz"); code != 405 {
		t.Errorf("POST /readyz: %d, want 405", code)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, body := serve("GET", "/readyz"); code != 503 || body != "not ready\n" {
		t.Errorf("/readyz during shutdown: %d %q", code, body)
	}
}

func TestServerListenError(t *testing.T) {
	a := telemetry.NewServer("127.0.0.1:0", prometheus.NewRegistry(), zerolog.Nop())
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	b := telemetry.NewServer(a.Addr(), prometheus.NewRegistry(), zerolog.Nop())
	if err := b.Start(); err == nil || !strings.Contains(err.Error(), a.Addr()) {
		t.Errorf("second server on %s: %v", a.Addr(), err)
	}
}

// TestRegisterSharesIdenticalCollectors: the second of two identical
// collectors gets the first (their series add up), a collector of the
// same name but another shape is an error, and a nil registry registers
// nothing.
func TestRegisterSharesIdenticalCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "trailwatch_test_total", Help: "test"}
	a, err := telemetry.Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := telemetry.Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	if err != nil || a != b {
		t.Fatalf("second registration: %v, same collector %v", err, a == b)
	}
	if _, err := telemetry.Register(reg, prometheus.NewCounterVec(opts, []string{"y"})); err == nil {
		t.Fatal("a collector of the same name with other labels was accepted")
	}
	c := prometheus.NewCounter(opts)
	if got, err := telemetry.Register(nil, c); err != nil || got != c {
		t.Fatalf("nil registry: %v", err)
	}
}
