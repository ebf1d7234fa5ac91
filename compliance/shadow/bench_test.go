package shadow

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// BenchmarkMaskEvent is the cost the scan adds to the sink for an update
// event with changes: three typical changes (a stage, an amount, a
// sentence of free text with a date and an order id), none personal.
func BenchmarkMaskEvent(b *testing.B) {
	src := event.Event{ID: "e", Timestamp: time.Now(), Tenant: "acme",
		Event:  event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		Object: event.Object{Type: "opportunity", ID: "006000000000001"},
		Changes: []event.Change{
			{Field: "StageName", Old: "Prospecting", New: "Negotiation/Review"},
			{Field: "Amount", Old: "125000", New: "150000.50"},
			{Field: "Description", Old: "", New: "Customer asked on 2026-11-03 to move order ORD-2026-000123 to next quarter; see notes."},
		}}
	changes := make([]event.Change, len(src.Changes))
	b.ReportAllocs()
	for b.Loop() {
		e := src
		copy(changes, src.Changes)
		e.Changes = changes
		if h := MaskEvent(&e); h != nil {
			b.Fatal(h)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkMaskEventWithFinding: the same event with a card number in the
// free text (masked, one hit).
func BenchmarkMaskEventWithFinding(b *testing.B) {
	src := []event.Change{
		{Field: "StageName", Old: "Prospecting", New: "Negotiation/Review"},
		{Field: "Description", Old: "", New: "Customer paid with 4111 1111 1111 1111 on 2026-11-03."},
	}
	changes := make([]event.Change, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(changes, src)
		e := event.Event{Event: event.Activity{Category: "data_change", Action: "update"}, Changes: changes}
		if h := MaskEvent(&e); len(h) != 1 {
			b.Fatal(h)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}
