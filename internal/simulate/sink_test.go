package simulate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// ingestStandIn behaves as ingest's POST /v1/events is specified: bearer
// token, NDJSON of canonical events, an answer only once the batch is
// stored. It can be told to fail the next requests.
type ingestStandIn struct {
	mu      sync.Mutex
	token   string
	maxBody int
	fail    []int // statuses to answer the next requests with
	ids     map[string]int
	calls   int
	batches []int
}

func (s *ingestStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if s.maxBody > 0 && len(body) > s.maxBody {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	if len(s.fail) > 0 {
		st := s.fail[0]
		s.fail = s.fail[1:]
		if st == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "0")
		}
		http.Error(w, "try later", st)
		return
	}
	n, rejected := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, err := event.Decode(sc.Bytes(), event.Options{MaxAge: 0, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			rejected++
			continue
		}
		s.ids[e.ID]++
		n++
	}
	s.batches = append(s.batches, n)
	fmt.Fprintf(w, `{"accepted":%d,"rejected":%d}`, n, rejected)
}

func testEvents(t testing.TB, n int) []*event.Event {
	t.Helper()
	cfg := small()
	cfg.Days, cfg.History = 1, 0
	evs, _, _ := generate(t, cfg)
	return evs[:n]
}

func TestHTTPSinkPublishes(t *testing.T) {
	in := &ingestStandIn{token: "s3cret", ids: map[string]int{}, fail: []int{http.StatusServiceUnavailable, http.StatusBadGateway}}
	srv := httptest.NewServer(in)
	defer srv.Close()
	sink, err := NewHTTPSink(HTTPConfig{URL: srv.URL, Token: "s3cret", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(sink, nil, 100)
	evs := testEvents(t, 450)
	for _, e := range evs {
		if err := pub.Emit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(in.ids) != 450 || sink.Accepted() != 450 || sink.Rejected() != 0 || pub.Sent() != 450 {
		t.Fatalf("stored %d distinct, accepted %d, rejected %d, sent %d; want 450", len(in.ids), sink.Accepted(), sink.Rejected(), pub.Sent())
	}
	if fmt.Sprint(in.batches) != "[100 100 100 100 50]" || in.calls != 7 {
		t.Errorf("batches %v in %d calls, want five batches after two refusals", in.batches, in.calls)
	}
}

func TestHTTPSinkSplitsTooLargeBatches(t *testing.T) {
	in := &ingestStandIn{token: "t", ids: map[string]int{}, maxBody: 20000}
	srv := httptest.NewServer(in)
	defer srv.Close()
	sink, _ := NewHTTPSink(HTTPConfig{URL: srv.URL + "/v1/events", Token: "t"})
	pub := NewPublisher(sink, nil, 200)
	for _, e := range testEvents(t, 200) {
		if err := pub.Emit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(in.ids) != 200 || len(in.batches) < 2 {
		t.Fatalf("stored %d in batches %v", len(in.ids), in.batches)
	}
}

func TestHTTPSinkErrors(t *testing.T) {
	in := &ingestStandIn{token: "right", ids: map[string]int{}}
	srv := httptest.NewServer(in)
	defer srv.Close()
	sink, _ := NewHTTPSink(HTTPConfig{URL: srv.URL, Token: "wrong"})
	err := sink.Write(t.Context(), [][]byte{[]byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "bad token") {
		t.Fatalf("error %v, want the 401 and ingest's words", err)
	}
	in.fail = []int{500, 500, 500, 500}
	sink, _ = NewHTTPSink(HTTPConfig{URL: srv.URL, Token: "right", Retries: 2, Backoff: time.Millisecond})
	if err := sink.Write(t.Context(), [][]byte{[]byte(`{}`)}); err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("error %v", err)
	}
	for _, bad := range []HTTPConfig{{URL: "ftp://x", Token: "t"}, {URL: "http://x"}, {URL: "http://x", Token: "a\nb"}} {
		if _, err := NewHTTPSink(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// fakeClock is a clock that moves only when slept on.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

type countSink struct{ batches []int }

func (s *countSink) Write(_ context.Context, b [][]byte) error {
	s.batches = append(s.batches, len(b))
	return nil
}
func (s *countSink) Close(context.Context) error { return nil }

func TestPacerRate(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	start := clk.now
	sink := &countSink{}
	pub := NewPublisher(sink, &Pacer{Rate: 100, Now: clk.Now, Sleep: clk.Sleep}, 1000)
	for _, e := range testEvents(t, 300) {
		if err := pub.Emit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// 300 events at 100/s in batches of 20: the last batch leaves 2.8 s in.
	if got := clk.now.Sub(start); got != 2800*time.Millisecond || len(sink.batches) != 15 || sink.batches[0] != 20 {
		t.Fatalf("took %s in %d batches %v", got, len(sink.batches), sink.batches)
	}
}

func TestPacerLive(t *testing.T) {
	evs := testEvents(t, 50)
	clk := &fakeClock{now: evs[10].Timestamp}
	sink := &countSink{}
	pub := NewPublisher(sink, &Pacer{Live: true, Now: clk.Now, Sleep: clk.Sleep}, 1000)
	for _, e := range evs {
		if err := pub.Emit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		if e.Timestamp.After(clk.now) {
			t.Fatalf("event at %s released at %s, before its time", e.Timestamp, clk.now)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sink.batches[0] < 10 || len(clk.slept) == 0 {
		t.Fatalf("past events should leave at once, later ones in their time: batches %v, sleeps %v", sink.batches, clk.slept)
	}
}
