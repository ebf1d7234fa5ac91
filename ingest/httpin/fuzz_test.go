package httpin

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// noProducer is never called: the fuzz target parses, it does not publish.
type noProducer struct{}

func (noProducer) Produce(context.Context, ...kafka.Message) error {
	return errors.New("the fuzz target does not publish")
}

var contentTypes = []string{"", "application/json", "application/x-ndjson", "application/jsonl", "text/csv", "application/json; charset=utf-8", "bogus/;;"}

// FuzzBody drives the request body parser (decompression, framing into
// records, and each record's parse into a batch) with arbitrary bodies:
// nothing panics; records come in order, within the limits, each a piece of
// the body; an accepted body yields at least one record or a bodyError.
func FuzzBody(f *testing.F) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	f.Add(ingesttest.NDJSON(0, 3, now), uint8(0), false, false)
	f.Add([]byte("["+string(ingesttest.Event(1, now))+", 42, {}]"), uint8(1), false, false)
	f.Add([]byte("{\"id\":\n\"x\"}\n{"), uint8(2), false, false)
	f.Add([]byte("TIMESTAMP,USER_ID\n20130715233322.670,005B0000001vURv\n\"bad\n"), uint8(4), true, false)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), uint8(0), false, true)
	topics := kafka.DefaultConfig().Topics
	pub, err := ingest.NewPublisher(noProducer{}, topics, nil)
	if err != nil {
		f.Fatal(err)
	}
	canonical, _ := ingest.NewParser(ingest.Source{Name: "f", Tenant: "acme"}, "", ingest.DefaultLimits())
	elf, _ := ingest.NewParser(ingest.Source{Name: "f", Tenant: "acme", Format: "salesforce-elf-login", Backfill: true}, "", ingest.DefaultLimits())
	lim := limits{body: 1 << 20, events: 20, record: 4096, setting: "max_event_bytes"}
	f.Fuzz(func(t *testing.T, data []byte, ct uint8, csv, gz bool) {
		body := data
		if gz {
			var err error
			if body, err = decompress(data, "gzip", lim.body); err != nil {
				return
			}
		}
		p := canonical
		if csv {
			p = elf
		}
		b := pub.NewBatch("f", deadletter.Origin{})
		b.Dedup()
		next := 0
		_, err := eachRecord(body, contentTypes[int(ct)%len(contentTypes)], p.Kind(), lim, func(rec record.Record, raw []byte, line, index int, rerr error) {
			if index != next {
				t.Fatalf("record index %d, want %d", index, next)
			}
			next++
			if len(raw) > lim.record || !bytes.Contains(body, raw) {
				t.Fatalf("record %d (%d bytes) is not a piece of the body within the limit", index, len(raw))
			}
			if rerr != nil {
				b.Reject(raw, line, index, rerr)
				return
			}
			b.Add(p, rec, raw, now, line, index)
		})
		if next > lim.events {
			t.Fatalf("%d records, limit %d", next, lim.events)
		}
		var le *limitError
		var be *bodyError
		switch {
		case err == nil && next == 0:
			t.Fatal("a body accepted with no record")
		case err != nil && !errors.As(err, &le) && !errors.As(err, &be):
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		if err == nil && b.Len() != next {
			t.Fatalf("batch holds %d records of %d", b.Len(), next)
		}
	})
}
