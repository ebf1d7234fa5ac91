package detect

import (
	"sort"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// winState is a group's sliding window: its events in event-time order,
// and the aggregates of the tail window (the one ending at the newest
// event), kept up to date as events arrive and leave.
type winState struct {
	entries   []*rec
	tail      acc
	tailStart int // first entry of the tail window
}

// maxReevalWork bounds the work of re-evaluating the windows an
// out-of-order event joins (the entries added to and removed from the
// accumulator that slides over them); beyond it only the event's own
// window and the tail window are evaluated. With windows capped at
// max_window_events it binds only when that cap is set in the hundreds of
// thousands.
const maxReevalWork = 1 << 20

func (s *Shard) processWindow(rs *ruleState, v *compiled, ev *event.Event, out []Output) []Output {
	g := s.obtain(rs)
	w := g.win()
	if holds(w.entries, ev.Timestamp.UnixNano(), ev.ID) {
		rs.c.duplicates++
		return out
	}
	if len(w.entries) == 0 && !w.tail.fits(v) {
		w.tail = newAcc(v) // a new window (an emptied one keeps its reset accumulator)
	}
	var like *rec
	if n := len(w.entries); n > 0 {
		like = w.entries[n-1]
	}
	r := v.proj.capture(ev, s.eventID(ev), s.seq, &rs.pool, &s.strs, like)
	s.fillAggArgs(v, r, rs, like)

	n := len(w.entries)
	p := n
	if n > 0 && r.before(w.entries[n-1]) {
		p = sort.Search(n, func(i int) bool { return r.before(w.entries[i]) })
	}
	w.entries = append(w.entries, nil)
	copy(w.entries[p+1:], w.entries[p:])
	w.entries[p] = r
	inOrder := p == n
	last := w.entries[len(w.entries)-1]
	if inOrder {
		w.tail.add(v.aggs, r)
		lo := r.ts - v.window
		for w.tailStart < len(w.entries) && w.entries[w.tailStart].ts <= lo {
			w.tail.remove(v.aggs, w.entries[w.tailStart])
			w.tailStart++
		}
	} else if r.ts > last.ts-v.window {
		w.tail.add(v.aggs, r)
	} else {
		w.tailStart++
	}

	if inOrder {
		out = s.evalWindowAt(rs, v, g, len(w.entries)-1, true, out)
	} else {
		// The event's own window, then the later windows it joined.
		later := 0
		for j := p + 1; j < len(w.entries) && w.entries[j].ts-v.window < r.ts; j++ {
			later++
		}
		if lo := s.windowStart(w, v, p); (p+1-lo)+2*later <= maxReevalWork {
			out = s.slide(rs, v, g, p, p+later, out)
		} else {
			out = s.evalWindowAt(rs, v, g, p, true, out)
			if later > 0 && p+later == len(w.entries)-1 {
				rs.c.reevaluated++
				out = s.evalWindowAt(rs, v, g, len(w.entries)-1, false, out)
			}
		}
	}

	// Bound the window, oldest first.
	if k := len(w.entries) - s.eng.cfg.MaxWindowEvents; k > 0 {
		w.dropFront(v, k, &rs.pool)
		rs.c.overflow += uint64(k)
	}
	w.trim(v, s.watermark(), &rs.pool)
	if len(w.entries) > 0 {
		s.schedule(g, w.entries[len(w.entries)-1].ts+v.window)
	} else {
		s.schedule(g, r.ts+v.window)
	}
	return out
}

// windowStart is the index of the first entry in the window ending at
// entry j: (ts_j - window, ts_j].
func (s *Shard) windowStart(w *winState, v *compiled, j int) int {
	lo := w.entries[j].ts - v.window
	return sort.Search(j+1, func(i int) bool { return w.entries[i].ts > lo })
}

// slide evaluates the windows ending at entries from..to in order: the
// first is the live event's own (an out-of-order one), the others the
// later windows it joined, evaluated again. From the first window that is
// evaluated at all (not fired, not suppressed), one accumulator slides over
// the rest, each entry added and removed once, so the work is the entries
// of the windows, not their sum (an event a hundred places back in a
// window of thousands cost tens of milliseconds with each window built
// anew).
func (s *Shard) slide(rs *ruleState, v *compiled, g *group, from, to int, out []Output) []Output {
	w := g.win()
	var a *acc
	lo := 0
	for j := from; j <= to; j++ {
		e := w.entries[j]
		live := j == from
		if !live {
			rs.c.reevaluated++
		}
		if a != nil {
			a.add(v.aggs, e)
			for w.entries[lo].ts <= e.ts-v.window {
				a.remove(v.aggs, w.entries[lo])
				lo++
			}
		}
		if e.fired {
			continue
		}
		if suppressed(g, v, e.ts) {
			rs.c.suppressed++
			continue
		}
		if a == nil {
			lo = s.windowStart(w, v, j)
			a = s.scratchAcc(rs, v)
			for _, x := range w.entries[lo : j+1] {
				a.add(v.aggs, x)
			}
		}
		out = s.evalWindow(rs, v, g, lo, j, a, live, out)
	}
	return out
}

// evalWindowAt evaluates the condition for the window ending at entry j,
// with entry j as the triggering event (live: it is the event being
// processed).
func (s *Shard) evalWindowAt(rs *ruleState, v *compiled, g *group, j int, live bool, out []Output) []Output {
	w := g.win()
	e := w.entries[j]
	if e.fired {
		return out
	}
	if suppressed(g, v, e.ts) {
		rs.c.suppressed++
		return out
	}
	a := &w.tail
	lo := w.tailStart
	if j != len(w.entries)-1 {
		lo = s.windowStart(w, v, j)
		a = s.scratchAcc(rs, v)
		for _, x := range w.entries[lo : j+1] {
			a.add(v.aggs, x)
		}
	}
	return s.evalWindow(rs, v, g, lo, j, a, live, out)
}

// evalWindow evaluates the condition for the window entries[lo..j], whose
// aggregates a holds, with entry j as the triggering event.
func (s *Shard) evalWindow(rs *ruleState, v *compiled, g *group, lo, j int, a *acc, live bool, out []Output) []Output {
	w := g.win()
	e := w.entries[j]
	c := &s.ctx
	if cap(s.aggBuf) < len(v.aggs) {
		s.aggBuf = make([]aggOut, len(v.aggs))
	}
	c.aggs = s.aggBuf[:len(v.aggs)]
	a.results(v.aggs, w.entries[lo:j+1], c.aggs, false)
	c.cur = nil
	if !live {
		c.cur = e
	}
	if v.cond != nil && !s.evalBool(v.cond, rs) {
		c.cur = nil
		return out
	}
	a.results(v.aggs, w.entries[lo:j+1], c.aggs, true)
	vals := map[string]any{}
	for i, ag := range v.aggs {
		if ag.kind == aggDistinct {
			vals[ag.text] = c.aggs[i].l
		} else {
			vals[ag.text] = c.aggs[i].n
		}
	}
	out = s.emit(rs, v, g, firing{trigger: e, evidence: w.entries[lo : j+1], values: vals, span: v.window}, out)
	c.cur = nil
	return out
}

func (s *Shard) scratchAcc(rs *ruleState, v *compiled) *acc {
	a := rs.scratch
	if a == nil || !a.fits(v) {
		na := newAcc(v)
		a = &na
		rs.scratch = a
	}
	a.resetReusing(v.aggs)
	return a
}

// fillAggArgs evaluates the aggregates' arguments on the live event into
// the rec's aggregate slots.
func (s *Shard) fillAggArgs(v *compiled, r *rec, rs *ruleState, like *rec) {
	c := &s.ctx
	for _, ag := range v.aggs {
		if ag.arg == nil || ag.shared {
			continue
		}
		if ag.kind.usesStr() {
			var str string
			if low := ag.arg.low; low != nil && low.k == lkStr {
				c.failed = false
				str = low.s(c)
				if c.failed {
					rs.c.evalErrors++
				}
			} else {
				x, err := s.evalAny(ag.arg, nil)
				if err != nil {
					rs.c.evalErrors++
				}
				switch t := x.(type) {
				case string:
					str = t
				case float64:
					str = numKey(t)
				case nil:
				default:
					str = formatValue(t)
				}
			}
			if like != nil && like.str(ag.slot) == str {
				str = like.str(ag.slot)
			} else {
				str = s.strs.in.str(str)
			}
			r.setStr(ag.slot, str)
			continue
		}
		if low := ag.arg.low; low != nil && (low.k == lkNum || low.k == lkBool) {
			c.failed = false
			if low.k == lkNum {
				r.setNum(ag.slot, low.n(c))
			} else if low.b(c) {
				r.setNum(ag.slot, 1)
			}
			if c.failed {
				rs.c.evalErrors++
				r.setNum(ag.slot, 0)
			}
			continue
		}
		x, err := s.evalAny(ag.arg, nil)
		if err != nil {
			rs.c.evalErrors++
		}
		switch t := x.(type) {
		case bool:
			if t {
				r.setNum(ag.slot, 1)
			}
		case float64:
			r.setNum(ag.slot, t)
		case int:
			r.setNum(ag.slot, float64(t))
		case int64:
			r.setNum(ag.slot, float64(t))
		}
	}
	c.failed = false
}

// dropFront removes the k oldest entries, returning them to the pool. The
// rest move down, so the array keeps its capacity for the entries to come.
func (w *winState) dropFront(v *compiled, k int, pool *recPool) {
	for _, r := range w.entries[:k] {
		if w.tailStart == 0 {
			w.tail.remove(v.aggs, r)
		} else {
			w.tailStart--
		}
		pool.put(r)
	}
	n := copy(w.entries, w.entries[k:])
	clear(w.entries[n:])
	w.entries = w.entries[:n]
}

// trim drops entries no future window can contain: those at or before
// watermark - window.
func (w *winState) trim(v *compiled, wm int64, pool *recPool) {
	lo := wm - v.window
	k := 0
	for k < len(w.entries) && w.entries[k].ts <= lo {
		k++
	}
	if k > 0 {
		w.dropFront(v, k, pool)
	}
	if len(w.entries) == 0 {
		w.tail.reset(v.aggs)
		w.tailStart = 0
	}
}
