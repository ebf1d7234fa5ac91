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
//
// A rec is sized to its rule: the header below is followed, in the same
// allocation, by ns strings, nn numbers and no objects (see recShape). The
// accessors reach them by offset; nothing but recShape allocates a rec
// with values.
type rec struct {
	id    string
	ts    int64  // unix nanoseconds
	seq   uint64 // arrival order in the shard, the tie-break between equal times
	off   int32  // the timestamp's UTC offset, seconds
	fired bool   // an alert was raised with this event as its trigger; in a sequence, a completed sequence consumed it
	ns    uint8  // strings kept
	nn    uint8  // numbers kept
	no    uint8  // objects kept (slices and maps: changes, related, labels)
}

const recHeaderSize = unsafe.Sizeof(rec{})

// recShape is the memory layout of recs with ns strings, nn numbers and no
// objects: a struct type made once per shape, so the collector knows where
// the strings and objects are.
type recShape struct {
	ns, nn, no uint8
	typ        reflect.Type
	size       uintptr
}

// maxRecValues bounds each kind of value a rec holds (a uint8 count).
const maxRecValues = 255

func newRecShape(ns, nn, no int) *recShape {
	if ns > maxRecValues || nn > maxRecValues || no > maxRecValues {
		panic("detect: a projection wider than 255 values")
	}
	// Empty arrays are left out: a struct ending in a zero-size field is
	// padded by a word (so a pointer to that field stays inside the
	// object), which made every rec without objects 8 bytes larger, and
	// often a size class larger.
	fields := []reflect.StructField{{Name: "H", Type: reflect.TypeFor[rec]()}}
	for _, f := range []struct {
		name string
		n    int
		typ  reflect.Type
	}{{"S", ns, reflect.TypeFor[string]()}, {"N", nn, reflect.TypeFor[float64]()}, {"O", no, reflect.TypeFor[any]()}} {
		if f.n > 0 {
			fields = append(fields, reflect.StructField{Name: f.name, Type: reflect.ArrayOf(f.n, f.typ)})
		}
	}
	typ := reflect.StructOf(fields)
	// The accessors compute these offsets from the counts; check that the
	// type agrees.
	want := map[string]uintptr{"S": recHeaderSize, "N": recHeaderSize + uintptr(ns)*16, "O": recHeaderSize + uintptr(ns)*16 + uintptr(nn)*8}
	for i := 1; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.Offset != want[f.Name] {
			panic("detect: unexpected rec layout")
		}
	}
	if typ.Size() != recHeaderSize+uintptr(ns)*16+uintptr(nn)*8+uintptr(no)*16 {
		panic("detect: unexpected rec size")
	}
	return &recShape{ns: uint8(ns), nn: uint8(nn), no: uint8(no), typ: typ, size: typ.Size()}
}

// new allocates an empty rec of the shape.
func (sh *recShape) new() *rec {
	r := (*rec)(reflect.New(sh.typ).UnsafePointer())
	r.ns, r.nn, r.no = sh.ns, sh.nn, sh.no
	return r
}

// fits says whether r has the shape.
func (sh *recShape) fits(r *rec) bool {
	return r.ns == sh.ns && r.nn == sh.nn && r.no == sh.no
}

// strs, nums and objs are the rec's values, in its own allocation.
func (r *rec) strs() []string {
	if r.ns == 0 {
		return nil
	}
	return unsafe.Slice((*string)(unsafe.Add(unsafe.Pointer(r), recHeaderSize)), r.ns)
}

func (r *rec) nums() []float64 {
	if r.nn == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Add(unsafe.Pointer(r), recHeaderSize+uintptr(r.ns)*16)), r.nn)
}

func (r *rec) objs() []any {
	if r.no == 0 {
		return nil
	}
	return unsafe.Slice((*any)(unsafe.Add(unsafe.Pointer(r), recHeaderSize+uintptr(r.ns)*16+uintptr(r.nn)*8)), r.no)
}

func (r *rec) str(i int) string        { return r.strs()[i] }
func (r *rec) setStr(i int, v string)  { r.strs()[i] = v }
func (r *rec) num(i int) float64       { return r.nums()[i] }
func (r *rec) setNum(i int, v float64) { r.nums()[i] = v }
func (r *rec) obj(i int) any           { return r.objs()[i] }
func (r *rec) numObjs() int            { return int(r.no) }

// clearValues zeroes the rec's values (for reuse).
func (r *rec) clearValues() {
	clear(r.strs())
	clear(r.nums())
	clear(r.objs())
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
	tzSlot           int       // user.timezone, or -1
	changesSlot      int       // changes, or -1
	shape            *recShape // set once the aggregate slots are known (setShape)
}

// setShape fixes the rec layout, after the aggregates' slots are added.
func (p *projection) setShape() {
	p.shape = newRecShape(len(p.strs)+p.aggStrs, len(p.nums)+p.aggNums, len(p.objs))
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
func (p *projection) capture(ev *event.Event, id string, seq uint64, pool *recPool, cp *evStrings, like *rec) *rec {
	_, off := ev.Timestamp.Zone()
	r := pool.get(p.shape)
	r.id, r.ts, r.seq, r.off, r.fired = id, ev.Timestamp.UnixNano(), seq, int32(off), false
	base := unsafe.Pointer(ev)
	strs := r.strs()
	var likeStrs []string
	if like != nil {
		likeStrs = like.strs()
	}
	for i, f := range p.strs {
		if x, ok := cp.get(f.offset, seq); ok {
			strs[i] = x
			continue
		}
		v := f.str(base)
		if i < len(likeStrs) && likeStrs[i] == v {
			strs[i] = likeStrs[i]
		} else {
			strs[i] = cp.in.str(v)
		}
		cp.set(f.offset, seq, strs[i])
	}
	nums := r.nums()
	for i, f := range p.nums {
		if f.kind == kindBool {
			if f.boolean(base) {
				nums[i] = 1
			}
			continue
		}
		nums[i] = f.num(base)
	}
	objs := r.objs()
	for i, f := range p.objs {
		objs[i] = deepCopy(f.value(base))
	}
	return r
}

// recPool keeps recs a rule's state has let go of, for reuse: in steady
// state a window or previous-event rule allocates no recs.
type recPool struct {
	free []*rec
}

// maxPooledRecs bounds a rule's pool: enough to absorb what expiry frees at
// once (a second's worth of groups) so steady state allocates no recs.
const maxPooledRecs = 1 << 14

// get returns an empty rec of the shape, reused when the pool has one.
func (p *recPool) get(sh *recShape) *rec {
	if n := len(p.free); n > 0 && sh.fits(p.free[n-1]) {
		r := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		r.clearValues()
		return r
	}
	return sh.new()
}

// put returns a rec nothing refers to any more.
func (p *recPool) put(r *rec) {
	if len(p.free) >= maxPooledRecs {
		return
	}
	p.free = append(p.free, r)
}

// evStrings holds the copies of the current event's string fields that its
// recs keep, so every rule keeping a field shares one copy and one look-up
// (several rules usually keep user.id and user.name). Entries are valid for
// one event: the shard's arrival counter tags them.
type evStrings struct {
	in   interner
	seq  [eventWords]uint64
	strs [eventWords]string
}

// eventWords indexes string fields by their offset in the event, in words.
const eventWords = unsafe.Sizeof(event.Event{}) / 8

func (e *evStrings) get(offset uintptr, seq uint64) (string, bool) {
	i := offset / 8
	if e.seq[i] != seq {
		return "", false
	}
	return e.strs[i], true
}

func (e *evStrings) set(offset uintptr, seq uint64, v string) {
	i := offset / 8
	e.seq[i], e.strs[i] = seq, v
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
	n := int64(recHeaderSize) + int64(r.ns)*16 + int64(r.nn)*8 + int64(r.no)*16 + int64(len(r.id))
	for _, v := range r.strs() {
		n += int64(len(v))
	}
	for _, o := range r.objs() {
		n += objBytes(o)
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
