package detect

import (
	"math"
	"testing"
)

// TestStatsSampled: the sampled state size is the whole walk's when the
// sample covers every group, and close to it when it covers a thousand of
// several thousand (0.92-1.07 of it over 100 tries); keys and counters are
// exact either way.
func TestStatsSampled(t *testing.T) {
	sh := packEngine(t, nil).NewShard()
	for _, ev := range genEvents(3, 30_000, 5_000, 0.01) {
		sh.Process(ev, nil)
	}
	whole := sh.Stats()
	if whole.StateBytes == 0 || whole.Keys < 5_000 {
		t.Fatalf("too little state to sample: %d keys, %d bytes", whole.Keys, whole.StateBytes)
	}
	all := sh.StatsSampled(math.MaxInt)
	if all.StateBytes != whole.StateBytes {
		t.Errorf("a sample of everything: %d bytes, the walk %d", all.StateBytes, whole.StateBytes)
	}
	for range 5 {
		got := sh.StatsSampled(1000)
		if got.Keys != whole.Keys || got.Events != whole.Events {
			t.Fatalf("keys or events differ: %+v against %+v", got, whole)
		}
		if r := float64(got.StateBytes) / float64(whole.StateBytes); r < 0.8 || r > 1.25 {
			t.Errorf("sampled 1000 groups per rule: %d bytes, the walk %d (ratio %.2f)", got.StateBytes, whole.StateBytes, r)
		}
		for i, r := range got.Rules {
			w := whole.Rules[i]
			if r.Keys <= 1000 && r.StateBytes != w.StateBytes {
				t.Errorf("%s: %d keys, all in the sample, yet %d bytes against %d", r.Rule, r.Keys, r.StateBytes, w.StateBytes)
			}
			if r.Keys > 0 && r.StateBytes == 0 {
				t.Errorf("%s: %d keys and no bytes", r.Rule, r.Keys)
			}
		}
	}
	if c := sh.Counters(); c.StateBytes != 0 || c.Keys != whole.Keys {
		t.Errorf("Counters: %d bytes (want 0), %d keys (want %d)", c.StateBytes, c.Keys, whole.Keys)
	}
}
