package httpin

import (
	"container/heap"
	"crypto/sha256"
	"sync"
)

type replayResult int

const (
	replayNew replayResult = iota
	replaySeen
	replayTooOld
)

// replayCache remembers the signatures of one source's requests within the
// signature tolerance, in bounded memory. It refuses timestamps at or
// before the newest one it has forgotten (the floor): signatures are
// forgotten once older than the tolerance, or, when the cache is full, the
// oldest first. A replay is always refused, and under a flood of signed
// requests the tolerance shrinks instead of the memory growing.
type replayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[[sha256.Size]byte]struct{}
	byAge sigHeap
	floor int64 // Unix ms; timestamps at or before it are refused
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[[sha256.Size]byte]struct{}{}}
}

// add records sig with its timestamp ts; oldest is the earliest timestamp
// still within tolerance (older entries are dropped: their requests are
// refused as stale anyway).
func (c *replayCache) add(sig [sha256.Size]byte, ts, oldest int64) replayResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A forgotten signature raises the floor whatever the reason it was
	// forgotten: oldest comes from the caller's clock reading, which can be
	// earlier than the one that pruned (a concurrent request that read the
	// clock first, or a wall clock stepped back), and by that reading a
	// pruned signature can be within the tolerance again.
	for len(c.byAge) > 0 && c.byAge[0].ts < oldest {
		old := heap.Pop(&c.byAge).(sigAt)
		delete(c.seen, old.sig)
		c.floor = max(c.floor, old.ts)
	}
	if _, ok := c.seen[sig]; ok {
		return replaySeen
	}
	if ts <= c.floor {
		return replayTooOld
	}
	if len(c.byAge) >= c.max {
		old := heap.Pop(&c.byAge).(sigAt)
		delete(c.seen, old.sig)
		c.floor = max(c.floor, old.ts)
		if ts <= c.floor {
			return replayTooOld
		}
	}
	c.seen[sig] = struct{}{}
	heap.Push(&c.byAge, sigAt{sig: sig, ts: ts})
	return replayNew
}

type sigAt struct {
	sig [sha256.Size]byte
	ts  int64
}

// sigHeap is a min-heap of signatures by timestamp.
type sigHeap []sigAt

func (h sigHeap) Len() int           { return len(h) }
func (h sigHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h sigHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sigHeap) Push(x any)        { *h = append(*h, x.(sigAt)) }
func (h *sigHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
