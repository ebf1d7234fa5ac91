package detect

import (
	"math"
	"reflect"
	"sort"
	"strconv"
)

// aggKind is an aggregate function of window conditions.
type aggKind uint8

const (
	aggCount         aggKind = iota // count(): events in the window
	aggCountIf                      // count(predicate): events for which it holds
	aggCountDistinct                // count_distinct(x)
	aggDistinct                     // distinct(x): the distinct values, sorted
	aggSum
	aggMin
	aggMax
	aggAvg
)

var aggKindNames = map[aggKind]string{aggCount: "count", aggCountIf: "count", aggCountDistinct: "count_distinct", aggDistinct: "distinct", aggSum: "sum", aggMin: "min", aggMax: "max", aggAvg: "avg"}

func (k aggKind) resultType() reflect.Type {
	if k == aggDistinct {
		return reflect.TypeFor[[]string]()
	}
	return reflect.TypeFor[float64]()
}

// usesStr says whether the aggregate keeps a string per event (distinct
// values); the others keep a number (count-if keeps 0 or 1).
func (k aggKind) usesStr() bool { return k == aggCountDistinct || k == aggDistinct }

// aggSpec is one aggregate of a rule: its function, its argument (compiled
// over the event) and where recs keep the argument's value.
type aggSpec struct {
	kind aggKind
	text string // as written, the key under which it appears in alert values
	arg  *cexpr // nil for count()
	slot int    // index of the rec's string (distinct kinds) or number, past the projection
	// inCond: the condition reads it, so distinct() must build its list on
	// every evaluation (otherwise only when an alert is raised).
	inCond bool
}

// acc accumulates a rule's aggregates over a set of window entries. The
// window keeps one for its tail (updated as events arrive and leave) and
// builds throw-away ones for the windows of out-of-order events.
type acc struct {
	n     int
	slots []accSlot // one per aggregate
}

type accSlot struct {
	num      float64      // count-if count, sum
	ext      float64      // min or max
	distinct *distinctSet // count_distinct and distinct only
	extDirty bool         // the extreme left the window: recompute before use
}

func newAcc(aggs []*aggSpec) acc {
	a := acc{slots: make([]accSlot, len(aggs))}
	for i, g := range aggs {
		if g.kind.usesStr() {
			a.slots[i].distinct = &distinctSet{}
		}
	}
	a.reset(aggs)
	return a
}

func (a *acc) reset(aggs []*aggSpec) {
	a.n = 0
	for i, g := range aggs {
		sl := &a.slots[i]
		sl.num = 0
		sl.extDirty = false
		switch g.kind {
		case aggMin:
			sl.ext = math.Inf(1)
		case aggMax:
			sl.ext = math.Inf(-1)
		}
		if sl.distinct != nil {
			sl.distinct.clear()
		}
	}
}

func (a *acc) add(aggs []*aggSpec, r *rec) {
	a.n++
	for i, g := range aggs {
		sl := &a.slots[i]
		switch g.kind {
		case aggCountIf, aggSum, aggAvg:
			sl.num += r.num(g.slot)
		case aggMin:
			if v := r.num(g.slot); v < sl.ext {
				sl.ext = v
			}
		case aggMax:
			if v := r.num(g.slot); v > sl.ext {
				sl.ext = v
			}
		case aggCountDistinct, aggDistinct:
			sl.distinct.add(r.str(g.slot))
		}
	}
}

func (a *acc) remove(aggs []*aggSpec, r *rec) {
	a.n--
	for i, g := range aggs {
		sl := &a.slots[i]
		switch g.kind {
		case aggCountIf, aggSum, aggAvg:
			sl.num -= r.num(g.slot)
		case aggMin, aggMax:
			if r.num(g.slot) == sl.ext {
				sl.extDirty = true
			}
		case aggCountDistinct, aggDistinct:
			sl.distinct.remove(r.str(g.slot))
		}
	}
}

// results writes the aggregates' values into out. entries is the window the
// accumulator covers, for recomputing an extreme that left it. Unless full,
// distinct() builds its list only when the condition reads it.
func (a *acc) results(aggs []*aggSpec, entries []*rec, out []aggOut, full bool) {
	for i, g := range aggs {
		sl := &a.slots[i]
		var o aggOut
		switch g.kind {
		case aggCount:
			o.n = float64(a.n)
		case aggCountIf, aggSum:
			o.n = sl.num
		case aggAvg:
			if a.n > 0 {
				o.n = sl.num / float64(a.n)
			}
		case aggMin, aggMax:
			if sl.extDirty {
				a.recomputeExt(sl, g, entries)
			}
			o.n = sl.ext
			if math.IsInf(o.n, 0) {
				o.n = 0
			}
		case aggCountDistinct:
			o.n = float64(sl.distinct.len())
		case aggDistinct:
			if full || g.inCond {
				o.l = sl.distinct.values()
			}
			o.n = float64(sl.distinct.len())
		}
		out[i] = o
	}
}

func (a *acc) recomputeExt(sl *accSlot, g *aggSpec, entries []*rec) {
	v := math.Inf(1)
	if g.kind == aggMax {
		v = math.Inf(-1)
	}
	for _, r := range entries {
		x := r.num(g.slot)
		if g.kind == aggMin && x < v || g.kind == aggMax && x > v {
			v = x
		}
	}
	sl.ext = v
	sl.extDirty = false
}

// distinctSet counts occurrences of values: a short slice while small (most
// windows see a handful of countries or IPs), a map beyond.
type distinctSet struct {
	small []distinctItem
	big   map[string]int32
}

type distinctItem struct {
	v string
	n int32
}

const distinctSmall = 16

func (d *distinctSet) clear() {
	d.small = d.small[:0]
	d.big = nil
}

func (d *distinctSet) add(v string) {
	if d.big != nil {
		d.big[v]++
		return
	}
	for i := range d.small {
		if d.small[i].v == v {
			d.small[i].n++
			return
		}
	}
	if len(d.small) < distinctSmall {
		d.small = append(d.small, distinctItem{v, 1})
		return
	}
	d.big = make(map[string]int32, 2*distinctSmall)
	for _, it := range d.small {
		d.big[it.v] = it.n
	}
	d.small = d.small[:0]
	d.big[v]++
}

func (d *distinctSet) remove(v string) {
	if d.big != nil {
		if d.big[v] <= 1 {
			delete(d.big, v)
		} else {
			d.big[v]--
		}
		return
	}
	for i := range d.small {
		if d.small[i].v == v {
			d.small[i].n--
			if d.small[i].n <= 0 {
				d.small = append(d.small[:i], d.small[i+1:]...)
			}
			return
		}
	}
}

func (d *distinctSet) len() int {
	if d.big != nil {
		return len(d.big)
	}
	return len(d.small)
}

// values returns the distinct values, sorted (so alerts are deterministic).
func (d *distinctSet) values() []string {
	var out []string
	if d.big != nil {
		out = make([]string, 0, len(d.big))
		for v := range d.big {
			out = append(out, v)
		}
	} else {
		out = make([]string, 0, len(d.small))
		for _, it := range d.small {
			out = append(out, it.v)
		}
	}
	sort.Strings(out)
	return out
}

// numKey formats a number as a distinct value.
func numKey(x float64) string {
	return strconv.FormatFloat(x, 'g', -1, 64)
}
