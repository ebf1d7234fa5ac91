package salesforce

import (
	"testing"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
)

// BenchmarkLoginEvent measures one LoginEvent REST row (the documented
// example in testdata, 1.1 KB) through parse and mapping, without encoding.
func BenchmarkLoginEvent(b *testing.B) {
	line := recordtest.Lines(b, "testdata/loginevent.ndjson")[0]
	n := record.NewJSON("salesforce-loginevent", LoginEvent)
	rec := record.Record{Data: line}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	cpu0 := recordtest.ProcessCPU()
	for b.Loop() {
		if _, err := n.Normalize(rec, recordtest.Meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(recordtest.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/record")
}
