package compliance

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// BenchmarkAsOf10kChanges reconstructs a record that has 10,000 stored
// changes (one field change per event over 20 fields), among 10,000
// changes of other records, as of the middle of its history.
func BenchmarkAsOf10kChanges(b *testing.B) {
	st := openStore(b)
	const n = 10000
	obj := recordID(7)
	evs := make([]*event.Event, 0, 2*n)
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		f := fmt.Sprint("Field", i%20)
		evs = append(evs,
			update(fmt.Sprint("e", i), at, "005u1", "opportunity", obj, chg(f, fmt.Sprint(i-1), fmt.Sprint(i))),
			update(fmt.Sprint("o", i), at, "005u1", "opportunity", recordID(8+i%100), chg(f, "a", "b")))
	}
	history.Store(b, st, evs, 0, nil)
	rec := RecordRef{Tenant: "acme", ObjectType: "opportunity", ObjectID: obj}
	asOf := t0.Add(n / 2 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		fv, err := AsOf(b.Context(), st, rec, asOf)
		if err != nil {
			b.Fatal(err)
		}
		if len(fv) != 20 {
			b.Fatalf("%d fields, want 20", len(fv))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/reconstruction")
}
