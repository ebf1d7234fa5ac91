package detect

import (
	"math"
	"math/bits"
	"sort"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// seqState holds, per step of a sequence, the group's events that matched
// the step and may still start or continue a sequence, in event-time order.
// An event may stand for several steps; a completed sequence consumes its
// events, so one event completes at most one sequence. A consumed event
// stays in its lists, marked (rec.fired), until the watermark trims it or
// a full list makes room (consumed events go first): a copy of it (ingest
// is at least once) is then recognised and skipped, where it would
// otherwise start or continue another sequence.
type seqState struct {
	steps [][]*rec
}

// maxChainSearch bounds the candidate chains examined per event (steps
// with `where` conditions may need backtracking).
const maxChainSearch = 10000

func (s *Shard) processSequence(rs *ruleState, v *compiled, ev *event.Event, mask uint32, out []Output) []Output {
	g := s.obtain(rs)
	sq := g.sq()
	if sq.steps == nil {
		sq.steps = make([][]*rec, len(v.steps))
	}
	// A copy matches the steps its first arrival did, so the list of the
	// first of them holds the first arrival if anything does.
	if holds(sq.steps[bits.TrailingZeros32(mask)], ev.Timestamp.UnixNano(), ev.ID) {
		rs.c.duplicates++
		return out
	}
	r := v.proj.capture(ev, s.eventID(ev), s.seq, &rs.pool, &s.strs, nil) // never put back: steps share recs
	for k := range v.steps {
		if mask&(1<<k) == 0 {
			continue
		}
		list := sq.steps[k]
		n := len(list)
		p := n
		if n > 0 && r.before(list[n-1]) {
			p = sort.Search(n, func(i int) bool { return r.before(list[i]) })
		}
		list = append(list, nil)
		copy(list[p+1:], list[p:])
		list[p] = r
		if len(list) > s.eng.cfg.MaxWindowEvents {
			list = dropConsumed(list) // first what only recognises copies
		}
		for len(list) > s.eng.cfg.MaxWindowEvents {
			list[0] = nil
			list = list[1:]
			rs.c.overflow++
		}
		sq.steps[k] = list
	}
	for k := range v.steps {
		if mask&(1<<k) == 0 {
			continue
		}
		chain := s.findChain(rs, v, sq, r, k)
		if chain == nil {
			continue
		}
		trig := chain[len(chain)-1]
		if suppressed(g, v, trig.ts) {
			rs.c.suppressed++
		} else {
			c := &s.ctx
			c.steps = chain
			c.cur = nil
			if trig != r {
				c.cur = trig
			}
			out = s.emit(rs, v, g, firing{trigger: trig, evidence: chain, span: v.within}, out)
			c.steps, c.cur = nil, nil
		}
		consume(chain)
		break
	}
	if d, ok := sq.trim(v, s.watermark()); ok {
		s.schedule(g, d)
	} else {
		s.schedule(g, r.ts+v.within)
	}
	return out
}

// findChain looks for a complete sequence with r at step k: the earlier
// steps as late as possible and the later ones as early as possible (the
// tightest chain), each step's `where` holding, all within the span, and
// the rule's condition holding over the whole chain.
func (s *Shard) findChain(rs *ruleState, v *compiled, sq *seqState, r *rec, k int) []*rec {
	n := len(v.steps)
	chain := make([]*rec, n)
	budget := maxChainSearch
	c := &s.ctx
	whereOK := func(i int) bool {
		w := v.steps[i].where
		if w == nil {
			return true
		}
		c.steps = chain[:i]
		c.cur = nil
		if chain[i] != r {
			c.cur = chain[i]
		}
		ok := s.evalBool(w, rs)
		c.steps, c.cur = nil, nil
		return ok
	}
	var dfs func(i int) bool
	dfs = func(i int) bool {
		budget--
		if budget < 0 {
			return false
		}
		if i == n {
			if chain[n-1].ts-chain[0].ts > v.within {
				return false
			}
			if v.cond != nil {
				c.steps = chain
				c.cur = nil
				if chain[n-1] != r {
					c.cur = chain[n-1]
				}
				ok := s.evalBool(v.cond, rs)
				c.steps, c.cur = nil, nil
				return ok
			}
			return true
		}
		if i == k {
			if i > 0 && (!chain[i-1].before(r) || r.ts-chain[0].ts > v.within) {
				return false
			}
			chain[i] = r
			return whereOK(i) && dfs(i+1)
		}
		cands := sq.steps[i]
		if i == 0 {
			for j := len(cands) - 1; j >= 0; j-- {
				x := cands[j]
				if !x.before(r) || x.fired {
					continue
				}
				if r.ts-x.ts > v.within {
					break
				}
				chain[0] = x
				if whereOK(0) && dfs(1) {
					return true
				}
				if budget < 0 {
					return false
				}
			}
			return false
		}
		lower := chain[i-1]
		start := sort.Search(len(cands), func(j int) bool { return lower.before(cands[j]) })
		for j := start; j < len(cands); j++ {
			x := cands[j]
			if i < k && !x.before(r) {
				break
			}
			if x.ts-chain[0].ts > v.within {
				break
			}
			if x.fired {
				continue
			}
			chain[i] = x
			if whereOK(i) && dfs(i+1) {
				return true
			}
			if budget < 0 {
				return false
			}
		}
		return false
	}
	if dfs(0) {
		return chain
	}
	if budget < 0 {
		rs.c.overflow++
	}
	return nil
}

// dropConsumed removes the events a sequence consumed from list, keeping
// the order.
func dropConsumed(list []*rec) []*rec {
	keep := list[:0]
	for _, x := range list {
		if !x.fired {
			keep = append(keep, x)
		}
	}
	clear(list[len(keep):])
	return keep
}

// consume marks a completed chain's events used: no other sequence takes
// them (they stay in the step lists until trimmed; see seqState).
func consume(chain []*rec) {
	for _, x := range chain {
		x.fired = true
	}
}

// trim drops step events too old to be in any sequence still to complete.
func (sq *seqState) trim(v *compiled, wm int64) (int64, bool) {
	lo := wm - v.within
	deadline := int64(math.MinInt64)
	alive := false
	for k, list := range sq.steps {
		i := 0
		for i < len(list) && list[i].ts <= lo {
			list[i] = nil
			i++
		}
		list = list[i:]
		if len(list) == 0 {
			list = nil
		} else {
			alive = true
			deadline = max(deadline, list[len(list)-1].ts+v.within)
		}
		sq.steps[k] = list
	}
	return deadline, alive
}
