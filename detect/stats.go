package detect

import (
	"time"
	"unsafe"
)

// Stats are a shard's counters and state size, for the runner to export as
// metrics (per rule: bounded label set).
type Stats struct {
	Events     uint64    // events processed
	LateEvents uint64    // events older than the watermark on arrival
	Watermark  time.Time // zero before the first event
	Keys       int       // group keys held, all rules
	StateBytes int64     // estimated heap bytes of the state
	Rules      []RuleStats
}

// RuleStats are one rule's counters in a shard.
type RuleStats struct {
	Rule        string
	Keys        int    // group keys held
	Evaluated   uint64 // events routed to the rule
	Matched     uint64 // events its filter matched
	Alerts      uint64
	Suppressed  uint64 // alerts withheld by suppression
	Late        uint64 // matching events too late for its state
	Evicted     uint64 // groups evicted at the key cap
	Overflow    uint64 // events dropped from a full window, sequence step or value list
	EvalErrors  uint64 // evaluations that failed (counted as false)
	Fallbacks   uint64 // evaluations on expr's VM rather than lowered closures
	Reevaluated uint64 // windows evaluated again for out-of-order events
	Duplicates  uint64 // events a window, previous-event or sequence rule already held (same id and time), skipped; since the shard's start or restore
	StateBytes  int64
}

// Stats walks the shard's state (cost proportional to the number of groups:
// seconds for millions; the runner uses StatsSampled).
func (s *Shard) Stats() Stats { return s.stats(-1) }

// StatsSampled is Stats with each rule's state size extrapolated from at
// most sample of its groups, so its cost is bounded whatever the state
// holds. Go's map iteration starts at a random place, so the groups
// measured are a run at a random place in hash order: a random sample.
// With sample at or above a rule's group count, it is Stats.
func (s *Shard) StatsSampled(sample int) Stats { return s.stats(max(sample, 1)) }

// Counters is Stats without the state's size (StateBytes zero): the
// counters and key counts alone, without a walk over the state.
func (s *Shard) Counters() Stats { return s.stats(0) }

// stats measures the state's size over up to sample groups per rule (all
// of them when sample < 0, none when 0).
func (s *Shard) stats(sample int) Stats {
	st := Stats{Events: s.events, LateEvents: s.late, Watermark: s.Watermark()}
	for _, rs := range s.rules {
		c := rs.c
		r := RuleStats{
			Rule: rs.er.rule.ID, Keys: len(rs.groups),
			Evaluated: c.evaluated, Matched: c.matched, Alerts: c.alerts, Suppressed: c.suppressed,
			Late: c.late, Evicted: c.evicted, Overflow: c.overflow, EvalErrors: c.evalErrors,
			Fallbacks: c.fallbacks, Reevaluated: c.reevaluated, Duplicates: c.duplicates,
		}
		if sample != 0 {
			n := 0
			for _, g := range rs.groups {
				if n == sample {
					break
				}
				r.StateBytes += groupBytes(g)
				n++
			}
			if n > 0 && n < len(rs.groups) {
				r.StateBytes = r.StateBytes * int64(len(rs.groups)) / int64(n)
			}
		}
		st.Keys += r.Keys
		st.StateBytes += r.StateBytes
		st.Rules = append(st.Rules, r)
	}
	return st
}

// mapEntryBytes approximates a Go map entry's overhead (key header, value
// pointer, control bytes, load factor).
const mapEntryBytes = 40

// groupBytes estimates the heap bytes one group holds.
func groupBytes(g *group) int64 {
	n := int64(len(g.key)) + mapEntryBytes
	switch g.kind {
	case groupWindow:
		w := g.win()
		n += int64(unsafe.Sizeof(winGroup{})) + int64(cap(w.entries))*8
		for _, r := range w.entries {
			n += recBytes(r)
		}
		a := &w.tail
		n += int64(cap(a.nums))*8 + int64(cap(a.sets))*int64(unsafe.Sizeof(distinctSet{}))
		for i := range a.sets {
			d := &a.sets[i]
			n += int64(cap(d.small))*int64(unsafe.Sizeof(distinctItem{})) + int64(len(d.big))*48
		}
	case groupSequence:
		n += int64(unsafe.Sizeof(seqGroup{}))
		seen := map[*rec]bool{}
		for _, l := range g.sq().steps {
			n += 24 + int64(cap(l))*8
			for _, r := range l {
				if !seen[r] {
					seen[r] = true
					n += recBytes(r)
				}
			}
		}
	case groupNewValue:
		nv := g.nv()
		n += int64(unsafe.Sizeof(nvGroup{})) + int64(cap(nv.vals))*int64(unsafe.Sizeof(nvItem{}))
		for _, it := range nv.vals {
			n += int64(len(it.v))
		}
	case groupPrevious:
		pv := g.pv()
		n += int64(unsafe.Sizeof(prevGroup{})) + int64(cap(pv.recs))*8
		for _, r := range pv.recs {
			n += recBytes(r)
		}
	default:
		n += int64(unsafe.Sizeof(group{}))
	}
	return n
}
