package ingest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

var now = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

func newPublisher(t *testing.T, env testenv.KafkaEnv, reg prometheus.Registerer) *ingest.Publisher {
	t.Helper()
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	pub, err := ingest.NewPublisher(p, env.Config.Topics, reg)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func parser(t *testing.T, s ingest.Source) *ingest.Parser {
	t.Helper()
	p, err := ingest.NewParser(s, "", ingest.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublishEventsAndRejects publishes a batch with good and bad records
// and reads both topics back: events keyed by tenant and person with the
// source header, rejects with reason, field, raw bytes and line, and the
// metrics counting them by source and reason.
func TestPublishEventsAndRejects(t *testing.T) {
	env := testenv.Kafka(t)
	reg := prometheus.NewRegistry()
	pub := newPublisher(t, env, reg)
	p := parser(t, ingest.Source{Name: "crm", Tenant: "acme"})

	person := strings.Replace(string(ingesttest.Event(2, now)), `"user":{"id":"005xx000002"`, `"user":{"id":"005xx000002","person_id":"p-7"`, 1)
	lines := []string{
		string(ingesttest.Event(1, now)),
		person,
		`{"id":"x"`, // syntax
		strings.Replace(string(ingesttest.Event(4, now)), `"tenant":"acme"`, `"tenant":"globex"`, 1), // another tenant
		string(ingesttest.Event(5, now.Add(-8*24*time.Hour))),                                        // too old for the live path
		strings.Replace(string(ingesttest.Event(6, now)), `"outcome":"success"`, `"outcome":"ok"`, 1),
	}
	b := pub.NewBatch("crm", deadletter.Origin{Source: "crm", Collector: "http", Tenant: "acme"})
	for i, l := range lines {
		b.Add(p, record.Record{Data: []byte(l), Line: i + 1}, []byte(l), now, i+1, i)
	}
	if b.Accepted() != 2 || len(b.Rejected()) != 4 {
		t.Fatalf("accepted %d, rejected %+v", b.Accepted(), b.Rejected())
	}
	if err := pub.Publish(t.Context(), b); err != nil {
		t.Fatal(err)
	}

	msgs := env.ReadTopic(t, env.Config.Topics.Activity.Name)
	keys := map[string]string{}
	for _, m := range msgs {
		ev, err := event.Decode(m.Value, event.Options{})
		if err != nil {
			t.Fatal(err)
		}
		keys[ev.ID] = string(m.Key)
		if ev.Source.Collector != "crm" || string(m.Headers[0].Value) != "crm" {
			t.Errorf("event %s: collector %q, header %v", ev.ID, ev.Source.Collector, m.Headers)
		}
	}
	if keys[ingesttest.ID(1)] != "acme/005xx000001" || keys[ingesttest.ID(2)] != "acme/p-7" || len(keys) != 2 {
		t.Errorf("keys %v", keys)
	}

	want := map[int][2]string{ // line -> reason, field
		3: {"syntax", ""}, 4: {"tenant", "tenant"}, 5: {"time_window", "timestamp"}, 6: {"enum", "event.outcome"},
	}
	dead := ingesttest.DeadLetters(t, env)
	if len(dead) != 4 {
		t.Fatalf("%d dead letters, want 4", len(dead))
	}
	for _, d := range dead {
		w, ok := want[d.Origin.Line]
		raw, _ := d.Bytes()
		if !ok || d.Field != w[1] || d.Stage != "ingest" || d.Origin.Source != "crm" || d.Origin.Collector != "http" ||
			string(raw) != lines[d.Origin.Line-1] || d.Reason == "" {
			t.Errorf("dead letter %+v (raw %q)", d, raw)
		}
	}
	for _, r := range b.Rejected() {
		if w := want[r.Line]; r.Reason != w[0] {
			t.Errorf("line %d: reason %s, want %s (%s)", r.Line, r.Reason, w[0], r.Detail)
		}
	}
	if got := ingesttest.Metric(t, reg, "trailwatch_ingest_events_accepted_total", map[string]string{"source": "crm"}); got != 2 {
		t.Errorf("accepted_total = %v", got)
	}
	for _, reason := range []string{"syntax", "tenant", "time_window", "enum"} {
		if got := ingesttest.Metric(t, reg, "trailwatch_ingest_events_rejected_total", map[string]string{"source": "crm", "reason": reason}); got != 1 {
			t.Errorf("rejected_total{reason=%s} = %v, want 1", reason, got)
		}
	}
	// How far behind the source is: one lag sample per acknowledged event,
	// and the newest event time acknowledged.
	if got := ingesttest.Metric(t, reg, "trailwatch_ingest_event_lag_seconds", map[string]string{"source": "crm"}); got != 2 {
		t.Errorf("event_lag_seconds{crm} has %v samples, want 2", got)
	}
	if got := ingesttest.Metric(t, reg, "trailwatch_ingest_newest_event_timestamp_seconds", map[string]string{"source": "crm"}); got != float64(now.Unix()) {
		t.Errorf("newest_event_timestamp_seconds{crm} = %v, want %d", got, now.Unix())
	}
}

// TestBatchDedup: within a deduplicating batch, the same event twice is
// published once, and the same id with other content is refused.
func TestBatchDedup(t *testing.T) {
	env := testenv.Kafka(t)
	pub := newPublisher(t, env, nil)
	p := parser(t, ingest.Source{Name: "crm", Tenant: "acme"})
	b := pub.NewBatch("crm", deadletter.Origin{})
	b.Dedup()
	one := ingesttest.Event(1, now)
	other := []byte(strings.Replace(string(one), `"records":1`, `"records":2`, 1))
	got := []ingest.Outcome{
		b.Add(p, record.Record{Data: one}, one, now, 1, 0),
		b.Add(p, record.Record{Data: one}, one, now, 2, 1),
		b.Add(p, record.Record{Data: other}, other, now, 3, 2),
	}
	if got[0] != ingest.Accepted || got[1] != ingest.Duplicate || got[2] != ingest.Refused {
		t.Fatalf("outcomes %v", got)
	}
	if r := b.Rejected(); len(r) != 1 || r[0].Reason != ingest.ReasonDuplicateID || r[0].Field != "id" || r[0].Line != 3 {
		t.Fatalf("rejected %+v", r)
	}
	if err := pub.Publish(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Published(t, env); len(ids) != 1 {
		t.Fatalf("published %v, want the event once", ids)
	}
}

// TestSizeLimitAfterCollector: an event that fits the limit as sent but not
// once its source is written into source.collector is refused, not cut.
func TestSizeLimitAfterCollector(t *testing.T) {
	env := testenv.Kafka(t)
	pub := newPublisher(t, env, nil)
	p := parser(t, ingest.Source{Name: "crm"})
	ev, err := event.Decode(ingesttest.Event(1, now), event.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ev.Labels["pad"] = ""
	n := len(event.AppendJSON(nil, &ev))
	ev.Labels["pad"] = strings.Repeat("x", event.DefaultMaxBytes-n-5)
	raw := event.AppendJSON(nil, &ev)
	if len(raw) != event.DefaultMaxBytes-5 {
		t.Fatalf("built a %d-byte event", len(raw))
	}
	b := pub.NewBatch("crm", deadletter.Origin{})
	if got := b.Add(p, record.Record{Data: raw}, raw, now, 1, 0); got != ingest.Refused || b.Rejected()[0].Reason != "size" {
		t.Fatalf("outcome %v, rejects %+v", got, b.Rejected())
	}
}

// TestVendorSource: a vendor source maps its records with its tenant and
// name, on the live path or, for a backfill source, at any age.
func TestVendorSource(t *testing.T) {
	p := parser(t, ingest.Source{Name: "sf", Tenant: "acme", Format: "salesforce-loginevent", Backfill: true})
	if p.Format() != "salesforce-loginevent" || p.Kind() != record.JSON {
		t.Fatalf("format %s kind %v", p.Format(), p.Kind())
	}
	var ev event.Event
	rec := record.Record{Data: []byte(`{"EventIdentifier":"a","EventDate":"2020-01-20T19:12:26.965+0000","UserId":"005B0000001vURvIAM","Status":"Success"}`)}
	if err := p.Parse(rec, now, &ev); err != nil || ev.Tenant != "acme" || ev.Source.Collector != "sf" {
		t.Fatalf("parse: %v %+v", err, ev)
	}
	live := parser(t, ingest.Source{Name: "sf", Tenant: "acme", Format: "salesforce-loginevent"})
	if err := live.Parse(rec, now, &ev); ingest.Reason(err) != "time_window" {
		t.Fatalf("live path: %v", err)
	}
	if _, err := ingest.NewParser(ingest.Source{Name: "sf", Format: "salesforce-loginevent"}, "", ingest.DefaultLimits()); !errors.Is(err, record.ErrNoTenant) {
		t.Fatalf("vendor source without tenant: %v", err)
	}
	for _, s := range []ingest.Source{{Name: ""}, {Name: "a b"}, {Name: "x", Format: "nope"}, {Name: "x", Format: "generic", Tenant: "t"}, {Name: "x", Format: "hubspot-audit-logs"}} {
		if err := s.Validate("src"); err == nil {
			t.Errorf("%+v validated", s)
		}
	}
}

// TestPublishFailureCountsNothing: when Kafka refuses, Publish fails, and
// nothing is counted as accepted or rejected.
func TestPublishFailureCountsNothing(t *testing.T) {
	env := testenv.Kafka(t)
	cfg := env.Config
	cfg.Producer.MaxAttempts = 2
	cfg.Producer.RetryBackoffMin, cfg.Producer.RetryBackoffMax = time.Millisecond, 5*time.Millisecond
	env.Config = cfg
	reg := prometheus.NewRegistry()
	pub := newPublisher(t, env, reg)
	p := parser(t, ingest.Source{Name: "crm"})
	fault := env.Cluster(t).Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	b := pub.NewBatch("crm", deadletter.Origin{})
	b.Add(p, record.Record{Data: ingesttest.Event(1, now)}, nil, now, 1, 0)
	b.Add(p, record.Record{Data: []byte("{")}, []byte("{"), now, 2, 1)
	if err := pub.Publish(t.Context(), b); err == nil {
		t.Fatal("Publish succeeded while every produce was refused")
	}
	fault.Remove()
	for _, name := range []string{"trailwatch_ingest_events_accepted_total", "trailwatch_ingest_events_rejected_total"} {
		if n := ingesttest.Metric(t, reg, name, nil); n != 0 {
			t.Errorf("%s = %v after a failed publish", name, n)
		}
	}
	if n := ingesttest.Metric(t, reg, "trailwatch_ingest_publish_failures_total", map[string]string{"source": "crm"}); n != 1 {
		t.Errorf("publish_failures_total = %v", n)
	}
	b.Reset()
	b.Add(p, record.Record{Data: ingesttest.Event(2, now)}, nil, now, 1, 0)
	if err := pub.Publish(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Published(t, env); len(ids) != 1 || ids[0] != ingesttest.ID(2) {
		t.Fatalf("published %v", ids)
	}
}
