// Package ingesttest holds what the collectors' tests share: canonical
// events to send, and reading back what reached the activity and
// dead-letter topics.
package ingesttest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Event is canonical event i of tenant acme, at ts: about 600 bytes, shaped
// like an export with geo and labels, its user one of 97.
func Event(i int, ts time.Time) []byte {
	return fmt.Appendf(nil, `{"id":"ev-%08d","timestamp":%q,"tenant":"acme",`+
		`"source":{"system":"salesforce","id":"0AT%08d"},`+
		`"event":{"category":"export","action":"export","outcome":"success"},`+
		`"user":{"id":"005xx%06d","name":"user%d@acme.example","role":"sales_rep","department":"sales","type":"human"},`+
		`"client":{"ip":"198.51.100.%d","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","session_id":"s-%d","access_method":"web",`+
		`"geo":{"country":"US","city":"Boston","lat":42.36,"lon":-71.06}},`+
		`"object":{"type":"report","id":"00Oxx%010d","name":"All contacts"},"records":%d,`+
		`"labels":{"sf.report_format":"csv","sf.row_count":"%d"}}`,
		i, ts.UTC().Format("2006-01-02T15:04:05.000Z07:00"), i, i%97, i%97, i%250, i%1000, i, i%5000, i%5000)
}

// NDJSON is events from..from+n-1, one per line, at ts.
func NDJSON(from, n int, ts time.Time) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		b.Write(Event(i, ts))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ID is the id of Event(i, …).
func ID(i int) string { return "ev-" + fmt.Sprintf("%08d", i) }

// Published decodes every event on the activity topic, checking each
// message's key and source header, and returns the ids in topic order
// (partition by partition).
func Published(t testing.TB, env testenv.KafkaEnv) []string {
	t.Helper()
	var ids []string
	for _, m := range env.ReadTopic(t, env.Config.Topics.Activity.Name) {
		ev, err := event.Decode(m.Value, event.Options{})
		if err != nil {
			t.Fatalf("activity message at %d/%d is not a canonical event: %v", m.Partition, m.Offset, err)
		}
		if want := ev.Tenant + "/" + ev.PersonKey(); string(m.Key) != want {
			t.Fatalf("event %s has key %q, want %q", ev.ID, m.Key, want)
		}
		if len(m.Headers) != 1 || m.Headers[0].Key != "source" || len(m.Headers[0].Value) == 0 {
			t.Fatalf("event %s has headers %v, want one source header", ev.ID, m.Headers)
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

// DeadLetters decodes every record on the dead-letter topic.
func DeadLetters(t testing.TB, env testenv.KafkaEnv) []deadletter.Record {
	t.Helper()
	var out []deadletter.Record
	for _, m := range env.ReadTopic(t, env.Config.Topics.DeadLetter.Name) {
		r, err := deadletter.Decode(m.Value)
		if err != nil {
			t.Fatalf("dead letter at %d/%d: %v", m.Partition, m.Offset, err)
		}
		out = append(out, r)
	}
	return out
}

// Distinct counts the distinct values of ids and fails t if any repeats.
func Distinct(t testing.TB, ids []string) map[string]bool {
	t.Helper()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("id %s published twice", id)
		}
		seen[id] = true
	}
	return seen
}

// Metric sums the values of the series of name whose labels include
// labels: counters and gauges by value, histograms by sample count.
func Metric(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}
