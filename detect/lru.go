package detect

import "slices"

// lru orders a rule's groups by their last activity, for evicting the
// least recently active group when the rule is at its key cap. It is
// event-driven, so eviction is deterministic.
//
// A touch only stamps the group (a write to memory the event already
// touches); an intrusive list would also write to the two neighbours, two
// more cache misses per event. The order is kept only once the rule has
// reached its cap: a queue of (group, stamp) in touch order, where an entry
// whose stamp is no longer the group's is stale and skipped, compacted when
// stale entries outnumber live ones.
type lru struct {
	clock uint64     // the last stamp given
	on    bool       // the queue is kept (the rule has been at its cap)
	queue []lruEntry // oldest first; may hold stale entries
	head  int        // queue[:head] are consumed
}

type lruEntry struct {
	g     *group
	stamp uint64
}

// touch marks g as the most recently active group.
func (l *lru) touch(g *group) {
	l.clock++
	g.touched = l.clock
	if l.on {
		l.queue = append(l.queue, lruEntry{g, g.touched})
	}
}

// live says whether an entry still stands for its group's last touch.
func (e lruEntry) live() bool { return e.g.sched != -1 && e.g.touched == e.stamp }

// oldest returns the least recently active of groups (the rule's groups,
// all of which have been touched), starting to keep the queue on first use.
func (l *lru) oldest(groups map[string]*group) *group {
	if !l.on {
		l.on = true
		l.queue = l.queue[:0]
		for _, g := range groups {
			l.queue = append(l.queue, lruEntry{g, g.touched})
		}
		slices.SortFunc(l.queue, func(a, b lruEntry) int { return cmpUint64(a.stamp, b.stamp) })
		l.head = 0
	}
	for l.head < len(l.queue) {
		if e := l.queue[l.head]; e.live() {
			return e.g
		}
		l.queue[l.head] = lruEntry{}
		l.head++
	}
	return nil
}

// compact drops stale and consumed entries when they outnumber the live
// groups, keeping the order.
func (l *lru) compact(live int) {
	if !l.on || len(l.queue) <= 2*live+64 {
		return
	}
	keep := l.queue[:0]
	for _, e := range l.queue[l.head:] {
		if e.live() {
			keep = append(keep, e)
		}
	}
	clear(l.queue[len(keep):])
	l.queue = keep
	l.head = 0
}

// ordered returns groups most recently active first (for snapshots).
func (l *lru) ordered(groups map[string]*group) []*group {
	out := make([]*group, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return cmpUint64(b.touched, a.touched) })
	return out
}

// restore stamps groups given most recently active first, as a snapshot
// lists them: only their order matters.
func (l *lru) restore(gs []*group) {
	n := uint64(len(gs))
	for i, g := range gs {
		g.touched = n - uint64(i)
	}
	l.clock = n
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
