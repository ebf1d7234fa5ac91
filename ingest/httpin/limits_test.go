package httpin

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// TestLimits: over a limit is 413 naming the setting and its value, and
// nothing of the request is published or dead-lettered.
func TestLimits(t *testing.T) {
	fx := newFixture(t, func(c *Config) {
		c.MaxBodyBytes = 64 << 10
		c.MaxEvents = 50
		c.MaxEventBytes = 2048
	})
	now := time.Now()
	big := strings.Replace(string(ingesttest.Event(3, now)), `"name":"All contacts"`, `"name":"`+strings.Repeat("x", 2000)+`"`, 1)
	bomb := gzipped(t, bytes.Repeat([]byte("\n"), 1<<20))
	cases := []struct {
		name    string
		body    io.Reader
		headers map[string]string
		limit   string
		max     int64
		msg     string
	}{
		{"body", bytes.NewReader(ingesttest.NDJSON(0, 120, now)), nil, "max_body_bytes", 64 << 10, "body is over max_body_bytes"},
		{"body without length", io.MultiReader(bytes.NewReader(ingesttest.NDJSON(0, 120, now))), nil, "max_body_bytes", 64 << 10, "body is over"},
		{"decompressed body", bytes.NewReader(bomb), map[string]string{"Content-Encoding": "gzip"}, "max_body_bytes", 64 << 10, "decompressed body"},
		{"events", bytes.NewReader(ingesttest.NDJSON(0, 51, now)), nil, "max_events", 50, "number of records"},
		{"event", strings.NewReader(string(ingesttest.NDJSON(0, 2, now)) + big + "\n"), nil, "max_event_bytes", 2048, "(line 3)"},
		{"array element", strings.NewReader("[" + string(ingesttest.Event(0, now)) + "," + big + "]"), nil, "max_event_bytes", 2048, "(record 1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, fx.url+EventsPath, tc.body)
			req.Header.Set("Authorization", "Bearer "+crmToken)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := reply{status: resp.StatusCode, body: b}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d: %s", r.status, b)
			}
			e := r.errorResponse(t)
			if e.Limit != tc.limit || e.Max != tc.max || !strings.Contains(e.Error, tc.msg) {
				t.Fatalf("answer %+v, want limit %s=%d and %q", e, tc.limit, tc.max, tc.msg)
			}
		})
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 0 {
		t.Errorf("published %d events from refused requests", n)
	}
	if n := len(ingesttest.DeadLetters(t, fx.env)); n != 0 {
		t.Errorf("%d dead letters from refused requests", n)
	}
}

// TestKafkaUnavailableMidRequest: when Kafka refuses or stalls, the request
// is answered 503 with Retry-After, never 2xx; sent again once Kafka is
// back, every event is there (some perhaps twice: ids deduplicate them
// downstream), none lost.
func TestKafkaUnavailableMidRequest(t *testing.T) {
	env := ingestEnv(t)
	fx := newFixtureOn(t, env, func(c *Config) {
		c.ProduceTimeout = 2 * time.Second
		c.RetryAfter = 1500 * time.Millisecond
	})
	cluster := env.Cluster(t)
	body := ingesttest.NDJSON(0, 500, time.Now())

	// Refused: every produce fails with a retriable error until removed.
	fault := cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	r := post(t, fx.url, EventsPath, bearer(crmToken), body)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" {
		t.Fatalf("Kafka refusing: status %d Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	fault.Remove()

	// Stalled: produce requests are held past produce_timeout.
	release := make(chan struct{})
	var once sync.Once
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		cluster.SleepControl(func() { <-release })
		return nil, nil, false
	})
	r = post(t, fx.url, EventsPath, bearer(crmToken), body)
	once.Do(func() { close(release) })
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("Kafka stalled: status %d: %s", r.status, r.body)
	}

	// Back: the sender's retry is acknowledged.
	r = post(t, fx.url, EventsPath, bearer(crmToken), body)
	if r.status != http.StatusOK {
		t.Fatalf("Kafka back: status %d: %s", r.status, r.body)
	}
	seen := map[string]bool{}
	for _, id := range ingesttest.Published(t, env) {
		seen[id] = true
	}
	for i := range 500 {
		if !seen[ingesttest.ID(i)] {
			t.Fatalf("event %d lost", i)
		}
	}
	if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_requests_total", map[string]string{"source": "crm", "code": "503"}); got != 2 {
		t.Errorf("503 answers counted %v, want 2", got)
	}
}

// TestBusyAnswers429: with every in-flight place taken (a request held by
// a stalled Kafka), the next request waits queue_timeout and is answered
// 429 with Retry-After instead of being buffered.
func TestBusyAnswers429(t *testing.T) {
	env := ingestEnv(t)
	fx := newFixtureOn(t, env, func(c *Config) {
		c.MaxInFlight = 1
		c.QueueTimeout = 20 * time.Millisecond
		c.ProduceTimeout = time.Minute
	})
	cluster := env.Cluster(t)
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		select {
		case held <- struct{}{}:
		default:
		}
		cluster.SleepControl(func() { <-release })
		return nil, nil, false
	})
	first := make(chan reply, 1)
	go func() { first <- post(t, fx.url, EventsPath, bearer(crmToken), ingesttest.NDJSON(0, 10, time.Now())) }()
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatal("the first request never reached Kafka")
	}
	r := post(t, fx.url, EventsPath, bearer(crmToken), ingesttest.NDJSON(10, 10, time.Now()))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "5" {
		t.Fatalf("status %d Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	close(release)
	if r := <-first; r.status != http.StatusOK {
		t.Fatalf("the held request: %d %s", r.status, r.body)
	}
	if n := len(ingesttest.Published(t, env)); n != 10 {
		t.Fatalf("published %d, want the first request's 10", n)
	}
	if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_in_flight_requests", nil); got != 0 {
		t.Errorf("in flight after both answered: %v", got)
	}
}

// ingestEnv is a Kafka for fault injection whose producer gives up soon,
// so a refused produce surfaces within produce_timeout.
func ingestEnv(t *testing.T) testenv.KafkaEnv {
	t.Helper()
	env := testenv.Kafka(t)
	env.Config.Producer.MaxAttempts = 3
	env.Config.Producer.RetryBackoffMin = 10 * time.Millisecond
	env.Config.Producer.RetryBackoffMax = 50 * time.Millisecond
	return env
}

// TestSlowUnverifiedBodyHoldsOnlyItsOwnBudget: a client that knows a
// signature-only source's name passes identification with one header and
// then sends its body slowly; it cannot be refused before the body is
// there. It holds a place of max_unverified_in_flight only: a
// token-authenticated request is still served, and another request of a
// signature-only source waits for that budget and is answered 429.
func TestSlowUnverifiedBodyHoldsOnlyItsOwnBudget(t *testing.T) {
	fx := newFixture(t, func(c *Config) {
		c.MaxInFlight, c.MaxUnverifiedInFlight = 1, 1
		c.QueueTimeout = 20 * time.Millisecond
	})
	host := strings.TrimPrefix(fx.url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers and the first byte of a long body, then nothing.
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\n%s: signed\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{", EventsPath, host, HeaderSource); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_in_flight_requests", nil) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never took a place")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := post(t, fx.url, EventsPath, bearer(crmToken), ingesttest.NDJSON(0, 3, time.Now())); r.status != http.StatusOK {
		t.Fatalf("a token request while a slow unverified body is arriving: %d %s", r.status, r.body)
	}
	body := ingesttest.NDJSON(3, 1, time.Now())
	r := post(t, fx.url, EventsPath, signed("signed", signedSecret, EventsPath, body, time.Now()), body)
	if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), "max_unverified_in_flight") {
		t.Fatalf("a second signed request: %d %s, want 429 naming max_unverified_in_flight", r.status, r.body)
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 3 {
		t.Fatalf("published %d, want the token request's 3", n)
	}
}

// TestInFlightBudgetsValidated: both budgets must be at least 1, and the
// error names each setting.
func TestInFlightBudgetsValidated(t *testing.T) {
	c := DefaultConfig()
	c.MaxInFlight, c.MaxUnverifiedInFlight = 0, 0
	err := c.Validate()
	for _, want := range []string{"ingest.http.max_in_flight: must be at least 1, got 0", "ingest.http.max_unverified_in_flight: must be at least 1, got 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}
