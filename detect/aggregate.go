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
// over the event), where recs keep the argument's value and where the
// window's accumulator keeps its state.
type aggSpec struct {
	kind aggKind
	text string // as written, the key under which it appears in alert values
	arg  *cexpr // nil for count()
	slot int    // index of the rec's string (distinct kinds) or number, past the projection
	// num is the aggregate's first number in acc.nums (count-if, sum and avg
	// keep one; min and max keep the extreme and a dirty flag), set its
	// distinct set in acc.sets; -1 when it keeps none.
	num, set int
	// shared: an earlier distinct aggregate has the same argument, so this
	// one reads its slot and set (count_distinct(x) and distinct(x) keep x
	// once).
	shared bool
	// inCond: the condition reads it, so distinct() must build its list on
	// every evaluation (otherwise only when an alert is raised).
	inCond bool
}

// accLayout places each aggregate's state in an accumulator, and its
// argument in the rule's recs (after the projection's own values). Distinct
// aggregates of the same argument share a slot and a set.
func accLayout(aggs []*aggSpec, p *projection) (nums, sets int) {
	for i, a := range aggs {
		a.num, a.set, a.shared = -1, -1, false
		switch {
		case a.kind == aggCount:
		case a.kind.usesStr():
			for _, b := range aggs[:i] {
				if b.kind.usesStr() && !b.shared && b.arg.text == a.arg.text {
					a.slot, a.set, a.shared = b.slot, b.set, true
					break
				}
			}
			if !a.shared {
				a.slot = len(p.strs) + p.aggStrs
				p.aggStrs++
				a.set = sets
				sets++
			}
		default:
			a.slot = len(p.nums) + p.aggNums
			p.aggNums++
			a.num = nums
			nums++
			if a.kind == aggMin || a.kind == aggMax {
				nums++ // the dirty flag: the extreme left the window
			}
		}
	}
	return nums, sets
}

// acc accumulates a rule's aggregates over a set of window entries. The
// window keeps one for its tail (updated as events arrive and leave) and
// builds throw-away ones for the windows of out-of-order events.
type acc struct {
	n    int
	nums []float64
	sets []distinctSet
}

func newAcc(c *compiled) acc {
	a := acc{}
	if c.accNums > 0 {
		a.nums = make([]float64, c.accNums)
	}
	if c.accSets > 0 {
		a.sets = make([]distinctSet, c.accSets)
	}
	a.reset(c.aggs)
	return a
}

// fits says whether a has the layout of c's accumulators.
func (a *acc) fits(c *compiled) bool { return len(a.nums) == c.accNums && len(a.sets) == c.accSets }

func (a *acc) reset(aggs []*aggSpec) {
	a.resetNums(aggs)
	for i := range a.sets {
		a.sets[i].clear()
	}
}

// resetReusing is reset keeping the distinct sets' maps, emptied, for the
// next use: for the shard's scratch accumulator, refilled for every
// out-of-order event (a window of thousands of distinct values was a new
// map each time).
func (a *acc) resetReusing(aggs []*aggSpec) {
	a.resetNums(aggs)
	for i := range a.sets {
		a.sets[i].empty()
	}
}

func (a *acc) resetNums(aggs []*aggSpec) {
	a.n = 0
	clear(a.nums)
	for _, g := range aggs {
		switch g.kind {
		case aggMin:
			a.nums[g.num] = math.Inf(1)
		case aggMax:
			a.nums[g.num] = math.Inf(-1)
		}
	}
}

func (a *acc) add(aggs []*aggSpec, r *rec) {
	a.n++
	for _, g := range aggs {
		switch g.kind {
		case aggCountIf, aggSum, aggAvg:
			a.nums[g.num] += r.num(g.slot)
		case aggMin:
			if v := r.num(g.slot); v < a.nums[g.num] {
				a.nums[g.num] = v
			}
		case aggMax:
			if v := r.num(g.slot); v > a.nums[g.num] {
				a.nums[g.num] = v
			}
		case aggCountDistinct, aggDistinct:
			if !g.shared {
				a.sets[g.set].add(r.str(g.slot))
			}
		}
	}
}

func (a *acc) remove(aggs []*aggSpec, r *rec) {
	a.n--
	for _, g := range aggs {
		switch g.kind {
		case aggCountIf, aggSum, aggAvg:
			a.nums[g.num] -= r.num(g.slot)
		case aggMin, aggMax:
			if r.num(g.slot) == a.nums[g.num] {
				a.nums[g.num+1] = 1
			}
		case aggCountDistinct, aggDistinct:
			if !g.shared {
				a.sets[g.set].remove(r.str(g.slot))
			}
		}
	}
}

// results writes the aggregates' values into out. entries is the window the
// accumulator covers, for recomputing an extreme that left it. Unless full,
// distinct() builds its list only when the condition reads it.
func (a *acc) results(aggs []*aggSpec, entries []*rec, out []aggOut, full bool) {
	for i, g := range aggs {
		var o aggOut
		switch g.kind {
		case aggCount:
			o.n = float64(a.n)
		case aggCountIf, aggSum:
			o.n = a.nums[g.num]
		case aggAvg:
			if a.n > 0 {
				o.n = a.nums[g.num] / float64(a.n)
			}
		case aggMin, aggMax:
			if a.nums[g.num+1] != 0 {
				a.recomputeExt(g, entries)
			}
			o.n = a.nums[g.num]
			if math.IsInf(o.n, 0) {
				o.n = 0
			}
		case aggCountDistinct:
			o.n = float64(a.sets[g.set].len())
		case aggDistinct:
			if full || g.inCond {
				o.l = a.sets[g.set].values()
			}
			o.n = float64(a.sets[g.set].len())
		}
		out[i] = o
	}
}

func (a *acc) recomputeExt(g *aggSpec, entries []*rec) {
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
	a.nums[g.num] = v
	a.nums[g.num+1] = 0
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

// empty is clear keeping the map, if there is one, for reuse.
func (d *distinctSet) empty() {
	d.small = d.small[:0]
	clear(d.big)
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
