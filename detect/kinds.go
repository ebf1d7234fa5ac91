package detect

import (
	"math"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// liveRec is a minimal rec of the event being processed (id and time), for
// rules that keep no projection of it.
func (s *Shard) liveRec(ev *event.Event) *rec {
	_, off := ev.Timestamp.Zone()
	return &rec{id: s.eventID(ev), ts: ev.Timestamp.UnixNano(), seq: s.seq, off: int32(off)}
}

// processEvent runs a single-event rule: the filter matched; the condition
// (if any) decides. Such rules keep a group only to suppress repeats.
func (s *Shard) processEvent(rs *ruleState, v *compiled, ev *event.Event, out []Output) []Output {
	ts := ev.Timestamp.UnixNano()
	g := s.lookup(rs)
	if suppressed(g, v, ts) {
		rs.c.suppressed++
		return out
	}
	if v.cond != nil && !s.evalBool(v.cond, rs) {
		return out
	}
	if g == nil {
		if v.suppress > 0 {
			g = s.obtain(rs)
		} else {
			g = &group{key: string(s.keyBuf), lastAlert: noAlert}
		}
	}
	out = s.emit(rs, v, g, firing{trigger: s.liveRec(ev)}, out)
	if v.suppress > 0 {
		s.schedule(g, g.lastAlert+v.suppress)
	}
	return out
}

// nvState is what a new_value rule remembers of a group: when it was first
// seen, and each value with the last time it was seen.
type nvState struct {
	first int64
	vals  []nvItem
}

type nvItem struct {
	v    string
	last int64
}

func (s *Shard) processNewValue(rs *ruleState, v *compiled, ev *event.Event, out []Output) []Output {
	val, ok := s.nvValue(rs, v.nvField)
	if !ok {
		return out
	}
	also := ""
	if v.nvAlso != nil {
		a, ok := s.nvValue(rs, v.nvAlso)
		if !ok {
			return out
		}
		// also_new values share the group's list, marked so they never
		// meet the field's values (nor show among known_values).
		also = alsoNewMark + a
	}
	ts := ev.Timestamp.UnixNano()
	g := s.obtain(rs)
	if g.nv == nil {
		g.nv = &nvState{first: ts}
	}
	nv := g.nv
	if ts < nv.first {
		nv.first = ts
	}
	isNew := s.nvSee(rs, v, nv, val, ts)
	if v.nvAlso != nil {
		// An empty value says nothing is familiar: it counts as new.
		alsoNew := s.nvSee(rs, v, nv, also, ts) || also == alsoNewMark
		isNew = isNew && alsoNew
	}
	s.schedule(g, ts+v.history)
	if !isNew || ts-nv.first < v.minHist {
		return out
	}
	if suppressed(g, v, ts) {
		rs.c.suppressed++
		return out
	}
	if v.cond != nil && !s.evalBool(v.cond, rs) {
		return out
	}
	var known []string
	for _, it := range nv.vals {
		if it.v != val && it.last >= ts-v.history && !strings.HasPrefix(it.v, alsoNewMark) {
			known = append(known, it.v)
		}
	}
	sort.Strings(known)
	if known == nil {
		known = []string{}
	}
	return s.emit(rs, v, g, firing{trigger: s.liveRec(ev), span: v.history,
		values: map[string]any{"new_value": val, "known_values": known}}, out)
}

// alsoNewMark prefixes the values of new_value.also_new in a group's list.
const alsoNewMark = "\x00"

// nvValue evaluates a new_value expression to its key.
func (s *Shard) nvValue(rs *ruleState, e *cexpr) (string, bool) {
	x, err := s.evalAny(e, nil)
	if err != nil {
		rs.c.evalErrors++
		return "", false
	}
	val, ok := x.(string)
	if !ok {
		if f, isF := x.(float64); isF {
			val = numKey(f)
		} else {
			val = formatValue(x)
		}
	}
	return val, true
}

// nvSee records val as seen at ts and says whether it was new: never seen,
// or not within the history.
func (s *Shard) nvSee(rs *ruleState, v *compiled, nv *nvState, val string, ts int64) bool {
	idx := -1
	for i := range nv.vals {
		if nv.vals[i].v == val {
			idx = i
			break
		}
	}
	isNew := idx < 0 || nv.vals[idx].last < ts-v.history
	if idx >= 0 {
		if ts > nv.vals[idx].last {
			nv.vals[idx].last = ts
		}
		return isNew
	}
	if len(nv.vals) >= s.eng.cfg.MaxValues {
		// forget the least recently seen value
		oldest := 0
		for i := range nv.vals {
			if nv.vals[i].last < nv.vals[oldest].last {
				oldest = i
			}
		}
		nv.vals = append(nv.vals[:oldest], nv.vals[oldest+1:]...)
		rs.c.overflow++
	}
	nv.vals = append(nv.vals, nvItem{v: s.strs.str(val), last: ts})
	return isNew
}

func (nv *nvState) trim(v *compiled, wm int64) (int64, bool) {
	keep := nv.vals[:0]
	deadline := int64(math.MinInt64)
	for _, it := range nv.vals {
		if it.last+v.history > wm {
			keep = append(keep, it)
			deadline = max(deadline, it.last+v.history)
		}
	}
	for i := len(keep); i < len(nv.vals); i++ {
		nv.vals[i] = nvItem{}
	}
	nv.vals = keep
	return deadline, len(keep) > 0
}

// prevState keeps a group's recent events in event-time order: the newest,
// and any the watermark has not passed (an out-of-order event may still
// land between them).
type prevState struct {
	recs []*rec
}

func (s *Shard) processPrevious(rs *ruleState, v *compiled, ev *event.Event, out []Output) []Output {
	g := s.obtain(rs)
	if g.pv == nil {
		g.pv = &prevState{}
	}
	pv := g.pv
	var like *rec
	if n := len(pv.recs); n > 0 {
		like = pv.recs[n-1]
	}
	r := v.proj.capture(ev, s.eventID(ev), s.seq, &rs.pool, &s.strs, like)
	n := len(pv.recs)
	p := n
	if n > 0 && r.before(pv.recs[n-1]) {
		p = sort.Search(n, func(i int) bool { return r.before(pv.recs[i]) })
	}
	pv.recs = append(pv.recs, nil)
	copy(pv.recs[p+1:], pv.recs[p:])
	pv.recs[p] = r
	out = s.evalPrevious(rs, v, g, p, true, out)
	if p+1 < len(pv.recs) {
		rs.c.reevaluated++
		out = s.evalPrevious(rs, v, g, p+1, false, out)
	}
	pv.trim(v, s.watermark(), &rs.pool)
	s.schedule(g, pv.recs[len(pv.recs)-1].ts+v.previous)
	return out
}

// evalPrevious evaluates the condition for rec i with its predecessor (if
// within the rule's span) as prev.
func (s *Shard) evalPrevious(rs *ruleState, v *compiled, g *group, i int, live bool, out []Output) []Output {
	pv := g.pv
	e := pv.recs[i]
	if e.fired {
		return out
	}
	c := &s.ctx
	c.prev = nil
	if i > 0 && e.ts-pv.recs[i-1].ts <= v.previous {
		c.prev = pv.recs[i-1]
	}
	if suppressed(g, v, e.ts) {
		rs.c.suppressed++
		c.prev = nil
		return out
	}
	c.cur = nil
	if !live {
		c.cur = e
	}
	if v.cond == nil || s.evalBool(v.cond, rs) {
		evidence := []*rec{e}
		if c.prev != nil {
			evidence = []*rec{c.prev, e}
		}
		out = s.emit(rs, v, g, firing{trigger: e, evidence: evidence, span: v.previous}, out)
	}
	c.prev, c.cur = nil, nil
	return out
}

func (pv *prevState) trim(v *compiled, wm int64, pool *recPool) (int64, bool) {
	// Keep the newest rec at or before the watermark (the predecessor of
	// any event still to come) and all after it.
	k := 0
	for k+1 < len(pv.recs) && pv.recs[k+1].ts <= wm {
		k++
	}
	if k > 0 {
		for i := 0; i < k; i++ {
			pool.put(pv.recs[i])
			pv.recs[i] = nil
		}
		pv.recs = pv.recs[k:]
	}
	if len(pv.recs) == 0 {
		return 0, false
	}
	last := pv.recs[len(pv.recs)-1].ts + v.previous
	return last, last > wm
}
