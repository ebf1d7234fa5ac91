package detect

import (
	"reflect"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// rec is what the engine keeps of an event: its id and time, the fields the
// rule's expressions, templates and functions read (its projection), and
// the values its aggregates take from it. Strings are cloned, so a rec never
// pins the buffer an event was decoded from.
type rec struct {
	id    string
	ts    int64  // unix nanoseconds
	seq   uint64 // arrival order in the shard, the tie-break between equal times
	off   int32  // the timestamp's UTC offset, seconds
	fired bool   // an alert was raised with this event as its trigger
	ns    uint8  // strings kept
	nn    uint8  // numbers kept
	// Most projections are small: their first values live in the rec
	// itself, so a rec is one 160-byte allocation.
	s [recInlineStrs]string
	n [recInlineNums]float64
	x *recExt // the rest: more strings and numbers, slices and maps
}

// recExt holds what does not fit in a rec.
type recExt struct {
	strs []string
	nums []float64
	objs []any // slices and maps (changes, related, labels), deep-copied
}

const (
	recInlineStrs = 5
	recInlineNums = 3
)

func (r *rec) str(i int) string {
	if i < recInlineStrs {
		return r.s[i]
	}
	return r.x.strs[i-recInlineStrs]
}

func (r *rec) setStr(i int, v string) {
	if i < recInlineStrs {
		r.s[i] = v
		return
	}
	r.x.strs[i-recInlineStrs] = v
}

func (r *rec) num(i int) float64 {
	if i < recInlineNums {
		return r.n[i]
	}
	return r.x.nums[i-recInlineNums]
}

func (r *rec) setNum(i int, v float64) {
	if i < recInlineNums {
		r.n[i] = v
		return
	}
	r.x.nums[i-recInlineNums] = v
}

func (r *rec) obj(i int) any { return r.x.objs[i] }

func (r *rec) numObjs() int {
	if r.x == nil {
		return 0
	}
	return len(r.x.objs)
}

// shape sets how many strings, numbers and objects the rec holds, with
// every value zero.
func (r *rec) shape(ns, nn, no int) {
	r.ns, r.nn = uint8(ns), uint8(nn)
	r.s = [recInlineStrs]string{}
	r.n = [recInlineNums]float64{}
	r.x = nil
	if ns > recInlineStrs || nn > recInlineNums || no > 0 {
		r.x = &recExt{}
		if ns > recInlineStrs {
			r.x.strs = make([]string, ns-recInlineStrs)
		}
		if nn > recInlineNums {
			r.x.nums = make([]float64, nn-recInlineNums)
		}
		if no > 0 {
			r.x.objs = make([]any, no)
		}
	}
}

// before orders recs by event time, then arrival.
func (r *rec) before(o *rec) bool {
	return r.ts < o.ts || r.ts == o.ts && r.seq < o.seq
}

// slot locates a projected field in a rec.
type slot struct {
	kind fieldKind
	i    int
}

// projection is the set of event fields a rule keeps in its recs.
type projection struct {
	strs  []*field
	nums  []*field
	objs  []*field
	slots map[string]slot
	// extra slots for aggregate arguments follow the projected ones
	aggStrs, aggNums int
	tzSlot           int // user.timezone, or -1
	changesSlot      int // changes, or -1
}

// newProjection builds a projection of the given paths (struct paths stand
// for every leaf under them). id, timestamp and tenant are never projected:
// a rec carries id and time itself, and the tenant is the group's.
func newProjection(paths map[string]bool) *projection {
	p := &projection{slots: map[string]slot{}, tzSlot: -1, changesSlot: -1}
	ft := eventFields()
	var leaves []string
	for path := range paths {
		f := ft.byPath[path]
		if f == nil {
			continue
		}
		if f.kind == kindStruct {
			for _, l := range ft.leaves {
				if strings.HasPrefix(l.path, path+".") {
					leaves = append(leaves, l.path)
				}
			}
			continue
		}
		leaves = append(leaves, path)
	}
	sort.Strings(leaves)
	for _, path := range leaves {
		if _, dup := p.slots[path]; dup || path == "id" || path == "timestamp" || path == "tenant" {
			continue
		}
		f := ft.byPath[path]
		switch f.kind {
		case kindString:
			p.slots[path] = slot{kindString, len(p.strs)}
			p.strs = append(p.strs, f)
		case kindNumber, kindBool:
			p.slots[path] = slot{f.kind, len(p.nums)}
			p.nums = append(p.nums, f)
		case kindSlice, kindMap:
			p.slots[path] = slot{f.kind, len(p.objs)}
			p.objs = append(p.objs, f)
		}
	}
	if s, ok := p.slots["user.timezone"]; ok {
		p.tzSlot = s.i
	}
	if s, ok := p.slots["changes"]; ok {
		p.changesSlot = s.i
	}
	return p
}

// paths lists the projected paths, for fingerprints.
func (p *projection) paths() []string {
	out := make([]string, 0, len(p.slots))
	for k := range p.slots {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// capture makes a rec of ev, with room for the aggregate arguments, reusing
// a freed rec when the pool has one. Strings go through the shard's
// interner: a rec never points into the event's buffer.
//
// id is the event's id, already copied (one copy per event, shared by every
// rule that keeps it). like is the group's newest rec, if any: a person's
// name, address and country repeat from event to event, so equal strings
// are shared with it before the interner is asked.
func (p *projection) capture(ev *event.Event, id string, seq uint64, pool *recPool, in *interner, like *rec) *rec {
	_, off := ev.Timestamp.Zone()
	r := pool.get()
	r.id, r.ts, r.seq, r.off, r.fired = id, ev.Timestamp.UnixNano(), seq, int32(off), false
	r.shape(len(p.strs)+p.aggStrs, len(p.nums)+p.aggNums, len(p.objs))
	base := unsafe.Pointer(ev)
	for i, f := range p.strs {
		v := f.str(base)
		if like != nil && i < int(like.ns) && like.str(i) == v {
			r.setStr(i, like.str(i))
			continue
		}
		r.setStr(i, in.str(v))
	}
	for i, f := range p.nums {
		if f.kind == kindBool {
			if f.boolean(base) {
				r.setNum(i, 1)
			}
			continue
		}
		r.setNum(i, f.num(base))
	}
	for i, f := range p.objs {
		r.x.objs[i] = deepCopy(f.value(base))
	}
	return r
}

// recPool keeps recs a rule's state has let go of, for reuse: in steady
// state a window or previous-event rule allocates no recs.
type recPool struct {
	free []*rec
}

const maxPooledRecs = 1024

func (p *recPool) get() *rec {
	if p == nil {
		return new(rec)
	}
	if n := len(p.free); n > 0 {
		r := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return r
	}
	return new(rec)
}

// put returns a rec nothing refers to any more. It is not cleared here
// (that would be a write to cold memory): capture sets every field.
func (p *recPool) put(r *rec) {
	if p == nil || len(p.free) >= maxPooledRecs {
		return
	}
	p.free = append(p.free, r)
}

// interner shares copies of the short strings recs keep (actions,
// countries, addresses, names repeat across events). Bounded: when full it
// starts afresh (strings already shared stay valid).
type interner struct {
	m map[string]string
}

const (
	maxInterned    = 1 << 18
	maxInternedLen = 64
)

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxInternedLen || in == nil {
		return strings.Clone(s)
	}
	if x, ok := in.m[s]; ok {
		return x
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	x := strings.Clone(s)
	in.m[x] = x
	return x
}

// deepCopy copies the event's slices and maps (of strings and structs of
// strings) so a rec owns them.
func deepCopy(v any) any {
	switch x := v.(type) {
	case []event.Change:
		if x == nil {
			return x
		}
		out := make([]event.Change, len(x))
		for i, c := range x {
			out[i] = event.Change{Field: strings.Clone(c.Field), Old: strings.Clone(c.Old), New: strings.Clone(c.New)}
		}
		return out
	case []event.Related:
		if x == nil {
			return x
		}
		out := make([]event.Related, len(x))
		for i, c := range x {
			out[i] = event.Related{Type: strings.Clone(c.Type), ID: strings.Clone(c.ID)}
		}
		return out
	case map[string]string:
		if x == nil {
			return x
		}
		out := make(map[string]string, len(x))
		for k, v := range x {
			out[strings.Clone(k)] = strings.Clone(v)
		}
		return out
	}
	return v
}

// materialize writes r back into an event (only the projected fields are
// set), for the slow paths: fallback evaluation and templates.
func (p *projection) materialize(r *rec, tenant string, dst *event.Event, z *zones) {
	*dst = event.Event{ID: r.id, Tenant: tenant, Timestamp: recTime(r, z)}
	base := unsafe.Pointer(dst)
	for i, f := range p.strs {
		f.setStr(base, r.str(i))
	}
	for i, f := range p.nums {
		if f.kind == kindBool {
			f.setBool(base, r.num(i) != 0)
			continue
		}
		f.setNum(base, r.num(i))
	}
	for i, f := range p.objs {
		if o := r.obj(i); o != nil {
			f.set(base, o)
		}
	}
}

// recTime is the rec's timestamp in its own offset.
func recTime(r *rec, z *zones) time.Time {
	t := time.Unix(0, r.ts)
	if r.off == 0 {
		return t.UTC()
	}
	return t.In(z.fixed(r.off))
}

// fixed returns a cached fixed zone for a UTC offset.
func (z *zones) fixed(off int32) *time.Location {
	if z.byOffset == nil {
		z.byOffset = map[int32]*time.Location{}
	}
	if loc, ok := z.byOffset[off]; ok {
		return loc
	}
	loc := time.FixedZone("", int(off))
	if len(z.byOffset) < maxCachedZones {
		z.byOffset[off] = loc
	}
	return loc
}

// recBytes estimates the heap bytes a rec holds.
func recBytes(r *rec) int64 {
	n := int64(unsafe.Sizeof(*r)) + int64(len(r.id))
	for i := range int(r.ns) {
		n += int64(len(r.str(i)))
	}
	if r.x != nil {
		n += int64(unsafe.Sizeof(*r.x)) + int64(cap(r.x.strs))*16 + int64(cap(r.x.nums))*8
		for _, o := range r.x.objs {
			n += 16 + objBytes(o)
		}
	}
	return n
}

func objBytes(o any) int64 {
	v := reflect.ValueOf(o)
	switch v.Kind() {
	case reflect.Slice:
		return int64(v.Len()) * int64(v.Type().Elem().Size()) * 2
	case reflect.Map:
		return int64(v.Len()) * 64
	}
	return 0
}
