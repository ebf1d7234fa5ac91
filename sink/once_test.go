package sink

import (
	"slices"
	"testing"
)

// TestIDRingForgetsTheOldest: the memory keeps the last keys it was
// given, a key given again does not count twice, and a partition's
// memory is its own.
func TestIDRingForgetsTheOldest(t *testing.T) {
	r := newIDRing(3)
	for _, k := range []uint64{1, 2, 3, 3, 4, 5} {
		r.add(k)
	}
	var kept []uint64
	for k := range r.set {
		kept = append(kept, k)
	}
	slices.Sort(kept)
	if !slices.Equal(kept, []uint64{3, 4, 5}) || len(r.ring) != 3 {
		t.Fatalf("kept %v (ring %v), want the last three: 3 4 5", kept, r.ring)
	}

	ids := newRecentIDs(2)
	a, b := partKey{"t", 0}, partKey{"t", 1}
	ka := ids.key("acme", "e1")
	ids.adopt(a, []uint64{ka}, 10)
	if !ids.has(a, ka) || ids.has(b, ka) {
		t.Fatal("an id adopted in one partition must be known there and only there")
	}
	if ids.key("acme", "e1") != ka || ids.key("globex", "e1") == ka {
		t.Fatal("keys must depend on tenant and id")
	}
	if !ids.continues(a, 10) || ids.continues(a, 11) || ids.continues(b, 0) {
		t.Fatal("continues must hold only for the offset after the last adopted batch")
	}
	ids.reset(a, nil)
	if ids.has(a, ka) || ids.continues(a, 10) {
		t.Fatal("reset must replace the memory and forget the position")
	}
}
