package sink

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// BenchmarkBuildEventsShadow is the sink's row building (masking, row,
// enrichment, hash, chain) for update events with changes, with the
// shadow-data scan off and on: the difference per event is what the scan
// adds to the sink's path.
func BenchmarkBuildEventsShadow(b *testing.B) {
	const n = 1000
	base := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	src := make([]event.Event, n)
	for i := range src {
		src[i] = benchEvent(3, base) // an update of an Email field
		src[i].Changes = []event.Change{
			{Field: "Email", Old: "a@x.example", New: "b@x.example"},
			{Field: "StageName", Old: "Prospecting", New: "Negotiation/Review"},
			{Field: "Description", Old: "", New: "Customer asked on 2026-11-03 to move order ORD-2026-000123 to next quarter; see notes."},
		}
	}
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			m, err := newMetrics(nil)
			if err != nil {
				b.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.ShadowData = on
			s := &Sink{cfg: cfg, m: m, now: time.Now, recent: newRecentIDs(cfg.RollupDedupIDs), inBatch: map[uint64]struct{}{}}
			s.evs = make([]event.Event, n)
			for i := range n {
				s.refs = append(s.refs, eventRef{ev: i, partition: 0, offset: int64(i), ingested: base})
			}
			b.ReportAllocs()
			for b.Loop() {
				copy(s.evs, src) // the changes are shared: masking finds nothing to rewrite here
				bt := s.newBatch()
				clear(s.inBatch)
				s.buildEvents(&bt, map[chainKey]*integrity.State{{src[0].Tenant, 0}: {}})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
		})
	}
}
