package sink

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// FuzzDecodeRecords feeds arbitrary bytes to the sink's decoding of each
// topic: every record is either accepted (with what a row needs) or
// rejected with a reason, never both, never neither, never a panic.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(`{"id":"e1","timestamp":"2026-11-03T02:14:07.412-05:00","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"005A"}}`)
	f.Add(`{"id":"a1","tenant":"acme","rule":{"id":"r"},"triggered_at":"2026-11-03T02:14:07.412Z","window_start":"2026-11-03T02:14:07.412Z","window_end":"2026-11-03T02:14:07.412Z","detected_at":"2026-11-03T02:14:07.412Z"}`)
	f.Add(`{"id":"x","type":"notify","tenant":"acme","status":"done","requested_at":"2026-11-03T02:14:07.412Z"}`)
	f.Add(`{"id":`)
	f.Add("\xff\xfe")
	s := &Sink{topics: Topics{Activity: "a", Alerts: "b", Actions: "c"}}
	f.Fuzz(func(t *testing.T, value string) {
		for _, topic := range []string{"a", "b", "c"} {
			b := batch{ranges: map[string]map[int32][2]int64{}}
			s.evs, s.refs = s.evs[:0], s.refs[:0]
			m := kafka.Message{Topic: topic, Partition: 1, Offset: 7, Value: []byte(value)}
			switch topic {
			case "a":
				s.decodeEvent(&b, &m)
			case "b":
				s.decodeAlert(&b, &m)
			case "c":
				s.decodeAction(&b, &m)
			}
			accepted := len(s.refs) + len(b.alerts) + len(b.actions)
			if accepted+len(b.rejects) != 1 {
				t.Fatalf("%s: %d accepted and %d rejected, want exactly one outcome", topic, accepted, len(b.rejects))
			}
			for _, r := range b.rejects {
				if r.Reason == "" || r.Origin.Offset == nil || *r.Origin.Offset != 7 {
					t.Fatalf("reject without reason or position: %+v", r)
				}
			}
			for _, a := range b.alerts {
				if a.a.ID == "" || a.a.Tenant == "" || a.a.Rule.ID == "" {
					t.Fatalf("accepted an alert without id, tenant or rule: %+v", a.a)
				}
			}
			for _, a := range b.actions {
				if a.a.ID == "" || a.a.Tenant == "" || a.a.Status == "" {
					t.Fatalf("accepted an action without id, tenant or status: %+v", a.a)
				}
			}
			if len(s.refs) == 1 && s.evs[0].ID == "" {
				t.Fatal("accepted an event without an id")
			}
		}
	})
}

// FuzzDecodeDeadLetter feeds arbitrary bytes to the sink as dead-letter
// topic records: each becomes exactly one row, never a reject (that would
// loop through the topic), with a stage, its position, at most
// dead_letter_raw_bytes of input, and nothing left that masking would
// change (shadow.MaskRaw is idempotent on what it masked).
func FuzzDecodeDeadLetter(f *testing.F) {
	rec := deadletter.NewRecord("ingest", deadletter.Reject{Raw: []byte(`{"tenant":"acme","note":"4111 1111 1111 1111"}`), Reason: `x: "y" bad`}, deadletter.MaxRaw, time.Unix(0, 0))
	b, _ := json.Marshal(rec)
	f.Add(string(b))
	f.Add(`{"v":1,"stage":"sink","reason":"r","raw_base64":"/w==","raw_size":1,"raw_sha256":"x","received_at":"2026-11-03T00:00:00Z"}`)
	f.Add("card 4111 1111 1111 1111")
	f.Add("\xff\xfe")
	cfg := DefaultConfig()
	cfg.DeadLetterRawBytes = 32
	s := &Sink{cfg: cfg, topics: Topics{Activity: "a", DeadLetter: "d"}}
	f.Fuzz(func(t *testing.T, value string) {
		b := batch{ranges: map[string]map[int32][2]int64{}}
		m := kafka.Message{Topic: "d", Partition: 1, Offset: 7, Value: []byte(value)}
		s.decodeDeadLetter(&b, &m)
		if len(b.dead) != 1 || len(b.rejects) != 0 {
			t.Fatalf("%d rows and %d rejects, want one row", len(b.dead), len(b.rejects))
		}
		r := b.dead[0]
		if r.stage == "" || r.kafkaPartition != 1 || r.kafkaOffset != 7 || len(r.raw) > cfg.DeadLetterRawBytes {
			t.Fatalf("row %+v", r)
		}
		if again := shadow.MaskRaw(r.raw); string(again) != string(r.raw) {
			t.Fatalf("stored raw %q still holds shadow data (%q)", r.raw, again)
		}
		if strings.Contains(r.reason, "4111 1111 1111 1111") {
			t.Fatalf("reason quotes the input: %q", r.reason)
		}
	})
}
