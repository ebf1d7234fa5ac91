package httpin

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBodyShapes: one event, a JSON array, NDJSON (with and without its
// content type, with CRLF and blank lines), a pretty-printed event, and
// gzip: every event is published once, 200.
func TestBodyShapes(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	pretty := strings.ReplaceAll(string(ingesttest.Event(3, now)), ",", ",\n  ")
	cases := []struct {
		name    string
		body    []byte
		headers map[string]string
		n       int
	}{
		{"single", ingesttest.Event(0, now), map[string]string{"Content-Type": "application/json"}, 1},
		{"single without type", ingesttest.Event(1, now), nil, 1},
		{"array", []byte("[" + string(ingesttest.Event(10, now)) + ",\n" + string(ingesttest.Event(11, now)) + "]"), nil, 2},
		{"pretty", []byte(pretty), nil, 1},
		{"ndjson", ingesttest.NDJSON(20, 500, now), map[string]string{"Content-Type": "application/x-ndjson"}, 500},
		{"ndjson sniffed, crlf, blank lines", []byte(strings.ReplaceAll(string(ingesttest.NDJSON(600, 3, now)), "\n", "\r\n\r\n")), nil, 3},
		{"gzip ndjson", gzipped(t, ingesttest.NDJSON(700, 300, now)), map[string]string{"Content-Encoding": "gzip"}, 300},
	}
	want := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(crmToken)
			for k, v := range tc.headers {
				h[k] = v
			}
			r := post(t, fx.url, EventsPath, h, tc.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if resp := r.response(t); resp.Accepted != tc.n || resp.Rejected != 0 {
				t.Fatalf("answer %+v, want %d accepted", resp, tc.n)
			}
		})
		want += tc.n
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != want {
		t.Fatalf("published %d events, want %d", len(ids), want)
	}
}

// TestPartialBatch sends the bad input in one NDJSON batch: the
// good lines are published, the bad ones dead-lettered, and the answer (207)
// says line by line which failed and why.
func TestPartialBatch(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	ev := func(i int) string { return string(ingesttest.Event(i, now)) }
	set := func(i int, from, to string) string { return strings.Replace(ev(i), from, to, 1) }
	lines := []string{
		ev(1),                                  // 1 ok
		`{"id":"ev-x", "timestamp": `,          // 2 malformed JSON
		set(3, `"records":3`, `"records":"3"`), // 3 wrong type
		set(4, `"records":4`, `"records":4,"colour":"red"`),               // 4 unknown field
		set(5, `"name":"All contacts"`, "\"name\":\"All \xff contacts\""), // 5 invalid UTF-8
		string(ingesttest.Event(6, now.Add(time.Hour))),                   // 6 far in the future
		string(ingesttest.Event(7, now.Add(-30*24*time.Hour))),            // 7 far in the past
		set(8, `"tenant":"acme"`, `"tenant":"globex"`),                    // 8 another tenant
		ev(1),                                 // 9 duplicate of line 1, same content: published once
		set(1, `"records":1`, `"records":99`), // 10 duplicate id, other content
		ev(11),                                // 11 ok
	}
	r := post(t, fx.url, EventsPath, bearer(crmToken), []byte(strings.Join(lines, "\n")))
	if r.status != http.StatusMultiStatus {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	resp := r.response(t)
	if resp.Accepted != 2 || resp.Duplicates != 1 || resp.Rejected != 8 {
		t.Fatalf("answer %+v", resp)
	}
	wantReasons := map[int]string{2: "syntax", 3: "type", 4: "unknown_field", 5: "utf8", 6: "time_window", 7: "time_window", 8: "tenant", 10: "duplicate_id"}
	var gotLines []int
	for _, e := range resp.Errors {
		gotLines = append(gotLines, e.Line)
		if wantReasons[e.Line] != e.Reason || e.Error == "" || e.Index != e.Line-1 {
			t.Errorf("line %d: %+v, want reason %s", e.Line, e, wantReasons[e.Line])
		}
	}
	if !slices.Equal(gotLines, []int{2, 3, 4, 5, 6, 7, 8, 10}) {
		t.Errorf("error lines %v", gotLines)
	}
	for _, e := range resp.Errors {
		if e.Line == 4 && e.Field != "colour" || e.Line == 3 && e.Field != "records" || e.Line == 5 && e.Field != "object.name" {
			t.Errorf("line %d blames %q", e.Line, e.Field)
		}
	}
	if ids := ingesttest.Published(t, fx.env); !slices.Equal(sorted(ids), []string{ingesttest.ID(1), ingesttest.ID(11)}) {
		t.Errorf("published %v", ids)
	}
	dead := ingesttest.DeadLetters(t, fx.env)
	if len(dead) != 8 {
		t.Fatalf("%d dead letters, want 8", len(dead))
	}
	for _, d := range dead {
		raw, _ := d.Bytes()
		if d.Origin.Source != "crm" || d.Origin.Collector != "http" || d.Origin.Tenant != "acme" || string(raw) != lines[d.Origin.Line-1] {
			t.Errorf("dead letter %+v raw %q", d.Origin, raw)
		}
	}
	for reason, n := range map[string]float64{"syntax": 1, "time_window": 2, "duplicate_id": 1} {
		if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_events_rejected_total", map[string]string{"source": "crm", "reason": reason}); got != n {
			t.Errorf("rejected_total{reason=%s} = %v, want %v", reason, got, n)
		}
	}
	if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_requests_total", map[string]string{"source": "crm", "code": "207"}); got != 1 {
		t.Errorf("requests_total{code=207} = %v", got)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// TestArrayErrorsByIndex: in a JSON array the errors name the element.
func TestArrayErrorsByIndex(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	body := fmt.Sprintf("[%s, 42, %s]", ingesttest.Event(1, now), ingesttest.Event(2, now))
	r := post(t, fx.url, EventsPath, bearer(crmToken), []byte(body))
	resp := r.response(t)
	if r.status != http.StatusMultiStatus || resp.Accepted != 2 || len(resp.Errors) != 1 || resp.Errors[0].Index != 1 || resp.Errors[0].Line != 0 || resp.Errors[0].Reason != "type" {
		t.Fatalf("status %d answer %+v", r.status, resp)
	}
}

// TestUnreadableBodies: a body that cannot be cut into records at all is
// answered 400 and kept whole in the dead-letter topic; an encoding we do
// not speak is 415 and kept nowhere (it was never read as events).
func TestUnreadableBodies(t *testing.T) {
	fx := newFixture(t, nil)
	for _, tc := range []struct {
		name    string
		body    []byte
		headers map[string]string
		status  int
	}{
		{"broken array", []byte(`[{"id":"a"}, {`), nil, http.StatusBadRequest},
		{"not gzip", []byte("plain text"), map[string]string{"Content-Encoding": "gzip"}, http.StatusBadRequest},
		{"json that is ndjson", ingesttest.NDJSON(0, 2, time.Now()), map[string]string{"Content-Type": "application/json"}, http.StatusBadRequest},
		{"empty", nil, nil, http.StatusBadRequest},
		{"brotli", []byte("x"), map[string]string{"Content-Encoding": "br"}, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(crmToken)
			for k, v := range tc.headers {
				h[k] = v
			}
			r := post(t, fx.url, EventsPath, h, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			r.errorResponse(t)
		})
	}
	if ids := ingesttest.Published(t, fx.env); len(ids) != 0 {
		t.Errorf("published %v", ids)
	}
	if dead := ingesttest.DeadLetters(t, fx.env); len(dead) != 4 {
		t.Errorf("%d dead letters, want the 4 bodies answered 400", len(dead))
	}
}

// TestVendorFormats: a source whose format is HubSpot's, and a format
// chosen with ?format= (signed with the query, so it cannot be moved).
func TestVendorFormats(t *testing.T) {
	fx := newFixture(t, nil)
	hs := `{"id":"5432653","occurredAt":"2023-11-07T05:31:56Z","actingUser":{"userId":2931299,"userEmail":"pgibbons@initech.com"},"category":"LOGIN","subCategory":"LOGIN_SUCCEEDED","action":"PERFORM","targetObjectId":"1"}`
	r := post(t, fx.url, EventsPath, bearer(hsToken), []byte(hs))
	if resp := r.response(t); r.status != http.StatusOK || resp.Accepted != 1 {
		t.Fatalf("hubspot source: %d %s", r.status, r.body)
	}
	// crm is a live (not backfill) source: an old record is refused by age.
	r = post(t, fx.url, EventsPath+"?format=hubspot-audit-logs", bearer(crmToken), []byte(hs))
	if resp := r.response(t); r.status != http.StatusMultiStatus || resp.Errors[0].Reason != "time_window" {
		t.Fatalf("?format on a live source: %d %s", r.status, r.body)
	}
	r = post(t, fx.url, EventsPath+"?format=nope", bearer(crmToken), []byte(hs))
	if r.status != http.StatusBadRequest || !strings.Contains(r.errorResponse(t).Error, "unknown format") {
		t.Fatalf("unknown format: %d %s", r.status, r.body)
	}
	ids := ingesttest.Published(t, fx.env)
	if !slices.Equal(ids, []string{"hs-audit-5432653"}) {
		t.Fatalf("published %v", ids)
	}
}

// TestUnicodeBlankLinesAreNotDropped: only JSON whitespace makes a line
// blank. A line of other Unicode spaces (no-break space, NEL, form feed)
// is not an event, but it is input the sender sent and was answered 2xx
// for: it must be refused and dead-lettered, not silently skipped.
func TestUnicodeBlankLinesAreNotDropped(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	var body bytes.Buffer
	body.Write(ingesttest.Event(1, now))
	body.WriteString("\n\u00a0\n\u0085\n\f\n\v\n \t\r\n\n")
	body.Write(ingesttest.Event(2, now))
	body.WriteString("\n")
	r := post(t, fx.url, EventsPath, bearer(crmToken), body.Bytes())
	resp := r.response(t)
	if r.status != http.StatusMultiStatus || resp.Accepted != 2 || resp.Rejected != 4 {
		t.Fatalf("status %d answer %+v", r.status, resp)
	}
	if n := len(ingesttest.DeadLetters(t, fx.env)); n != 4 {
		t.Errorf("%d dead letters, want the 4 lines of non-JSON whitespace", n)
	}
}

// TestDeeplyNestedBodies: nesting far beyond anything an event has is
// refused (400, kept in the dead-letter topic, or a record refused), never
// a crash of the handler.
func TestDeeplyNestedBodies(t *testing.T) {
	fx := newFixture(t, nil)
	// Under the record limits (64 KiB, 256 KiB), past encoding/json's
	// depth limit (10,000).
	deep := strings.Repeat("[", 30000) + strings.Repeat("]", 30000)
	for _, tc := range []struct {
		name, body, target string
		token              string
	}{
		{"array", "[" + deep + "]", EventsPath, crmToken},
		{"field", `{"id":"x","labels":` + deep + `}`, EventsPath, crmToken},
		{"vendor record", `{"id":"1","actingUser":` + strings.Repeat(`{"a":`, 40000) + "1" + strings.Repeat("}", 40000) + "}", EventsPath, hsToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, fx.url, tc.target, bearer(tc.token), []byte(tc.body))
			if r.status != http.StatusBadRequest && r.status != http.StatusMultiStatus {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		})
	}
	if ids := ingesttest.Published(t, fx.env); len(ids) != 0 {
		t.Errorf("published %v", ids)
	}
	if n := len(ingesttest.DeadLetters(t, fx.env)); n != 3 {
		t.Errorf("%d dead letters, want 3", n)
	}
}
