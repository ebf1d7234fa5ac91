package detect

import (
	"math"
	"sort"
	"strings"
	"time"

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
			g = &group{key: string(s.keyBuf), lastAlert: noAlert, rule: int32(rs.er.idx)}
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
	nv := g.nv()
	if len(nv.vals) == 0 {
		nv.first = ts // new, or its values all expired
	}
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
	nv.vals = append(nv.vals, nvItem{v: s.strs.in.str(val), last: ts})
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
	// trimSec is the second of the group's pending entry in the shard's
	// trims queue (0: none): a group left with three or more recs (a burst
	// within the lateness) is looked at again once the watermark passes its
	// second rec, so a burst followed by silence keeps at most two recs, not
	// the whole burst, for the rule's span (months, for a dormant-account
	// rule). Two recs (the usual state: the previous event and the newest)
	// are left to the group's next event, which trims them anyway: queueing
	// every group would cost a visit to cold memory per event.
	trimSec int64
}

func (s *Shard) processPrevious(rs *ruleState, v *compiled, ev *event.Event, out []Output) []Output {
	g := s.obtain(rs)
	pv := g.pv()
	if holds(pv.recs, ev.Timestamp.UnixNano(), ev.ID) {
		rs.c.duplicates++
		return out
	}
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
	s.scheduleTrim(g, pv)
	return out
}

// scheduleTrim queues a group holding a burst (three or more recs) to be
// trimmed when the watermark passes its second rec, unless it is queued
// already (it is then re-queued at its turn).
func (s *Shard) scheduleTrim(g *group, pv *prevState) {
	if pv.trimSec != 0 || len(pv.recs) < 3 {
		return
	}
	pv.trimSec = pv.recs[1].ts/int64(time.Second) + 1
	s.trims.push(pv.trimSec, g)
}

// expireTrims trims the previous-event groups whose turn has come.
func (s *Shard) expireTrims(wm int64) {
	for {
		sec, b, ok := s.trims.popUntil(wm / int64(time.Second))
		if !ok {
			return
		}
		for _, g := range *b {
			if g.sched == -1 {
				continue // dropped
			}
			pv := g.pv()
			if pv.trimSec != sec {
				continue
			}
			pv.trimSec = 0
			if len(pv.recs) >= 2 {
				pv.trim(s.rules[g.rule].er.variant(g.tenant()), wm, &s.rules[g.rule].pool)
			}
			s.scheduleTrim(g, pv)
		}
		s.trims.recycle(b)
	}
}

// evalPrevious evaluates the condition for rec i with its predecessor (if
// within the rule's span) as prev.
func (s *Shard) evalPrevious(rs *ruleState, v *compiled, g *group, i int, live bool, out []Output) []Output {
	pv := g.pv()
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
		for _, r := range pv.recs[:k] {
			pool.put(r)
		}
		n := copy(pv.recs, pv.recs[k:])
		clear(pv.recs[n:])
		pv.recs = pv.recs[:n]
	}
	if len(pv.recs) == 0 {
		return 0, false
	}
	last := pv.recs[len(pv.recs)-1].ts + v.previous
	return last, last > wm
}
