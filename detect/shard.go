package detect

import (
	"encoding/binary"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"

	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Shard is the state of one partition: per rule, per group key, in event
// time. It is not safe for concurrent use; the runner gives each partition
// its own shard (and one goroutine).
//
// Process evaluates an event eagerly, on arrival: an alert leaves as soon as
// the event that completes a condition arrives, whatever the watermark.
// Window contents, sequence steps and previous events are kept in event-time
// order (ties by arrival), so an out-of-order event within the allowed
// lateness lands in its right place: it is evaluated with the window as of
// its own time, and the later events whose windows it joins are evaluated
// again. An event older than the watermark (newest event time minus the
// lateness) is late: single-event rules still evaluate it, stateful rules
// do not (their state for that time may be gone), and Process reports it in
// an OutputLate so it is never silently dropped.
type Shard struct {
	eng      *Engine
	rules    []*ruleState
	started  bool
	maxTs    int64 // newest event time seen, unix ns
	seq      uint64
	expiry   expiryQueue
	trims    expiryQueue // previous-event groups to trim (prevState.trimSec)
	ctx      evalCtx
	zones    zones
	keyBuf   []byte
	partBuf  []byte
	aggBuf   []aggOut
	vm       vm.VM
	scratch  scratchEvents
	tenants  map[string]string // interned tenant ids
	strs     evStrings         // copies of the current event's strings, and the interner behind them
	evID     string            // the current event's id, copied once (see eventID)
	evTenant string            // the current event's tenant, interned once
	events   uint64
	late     uint64
}

// ruleState is one rule's groups in a shard.
type ruleState struct {
	er        *engineRule
	groups    map[string]*group
	lru       lru
	c         ruleCounters
	scratch   *acc // aggregates of the windows of out-of-order events
	pool      recPool
	snapBytes int // the size of the rule's groups in the last snapshot, to size the next one's buffer
}

type ruleCounters struct {
	evaluated, matched, alerts, suppressed, late, evicted, overflow, evalErrors, fallbacks, reevaluated uint64
	// duplicates is not in snapshots: it counts from the shard's start
	// or restore (the runner's metrics take increments, see Stats).
	duplicates uint64
}

// holds says whether recs (in event-time order) already hold the event with
// this id and time. Ingest is at least once: a produce retried after a
// timeout may store an event twice, and an event counted twice would meet
// a threshold early or become its own previous event. Only recs at the
// event's time are compared, from the newest back, so an event in order
// costs one comparison of times.
func holds(recs []*rec, ts int64, id string) bool {
	for i := len(recs) - 1; i >= 0 && recs[i].ts >= ts; i-- {
		if recs[i].ts == ts && recs[i].id == id {
			return true
		}
	}
	return false
}

// noAlert marks a group that has not alerted.
const noAlert = math.MinInt64

// group is the state of one group key of one rule: what every kind keeps.
// A stateful rule's groups are one allocation each, the kind's state
// following the group (winGroup, prevGroup, seqGroup, nvGroup), so an
// update reaches its state without another pointer; the accessors below
// return it, and check the kind.
type group struct {
	key       string // tenant and group values, length-prefixed
	touched   uint64 // the rule's lru stamp of its last activity
	sched     int64  // expiry bucket (unix seconds); 0 when not queued, -1 when gone
	lastAlert int64
	rule      int32
	kind      groupKind
}

type groupKind uint8

const (
	groupPlain groupKind = iota // single-event rules: suppression only
	groupWindow
	groupPrevious
	groupSequence
	groupNewValue
)

type winGroup struct {
	group
	win winState
}

type prevGroup struct {
	group
	pv prevState
}

type seqGroup struct {
	group
	sq seqState
}

type nvGroup struct {
	group
	nv nvState
}

// newGroup allocates a group of the rule's kind.
func newGroup(k Kind) *group {
	switch k {
	case KindWindow:
		g := &winGroup{}
		g.kind = groupWindow
		return &g.group
	case KindPrevious:
		g := &prevGroup{}
		g.kind = groupPrevious
		return &g.group
	case KindSequence:
		g := &seqGroup{}
		g.kind = groupSequence
		return &g.group
	case KindNewValue:
		g := &nvGroup{}
		g.kind = groupNewValue
		return &g.group
	}
	return &group{}
}

// The state accessors: g is the first field of the kind's struct, which
// newGroup allocated whole.
func (g *group) win() *winState {
	g.must(groupWindow)
	return &(*winGroup)(unsafe.Pointer(g)).win
}

func (g *group) pv() *prevState {
	g.must(groupPrevious)
	return &(*prevGroup)(unsafe.Pointer(g)).pv
}

func (g *group) sq() *seqState {
	g.must(groupSequence)
	return &(*seqGroup)(unsafe.Pointer(g)).sq
}

func (g *group) nv() *nvState {
	g.must(groupNewValue)
	return &(*nvGroup)(unsafe.Pointer(g)).nv
}

func (g *group) must(k groupKind) {
	if g.kind != k {
		panic("detect: group state of the wrong kind")
	}
}

// hasState says whether the group holds kind state (beyond its last alert):
// a window, sequence steps, values or previous events. Expired state is
// emptied, so empty means none.
func (g *group) hasState() bool {
	switch g.kind {
	case groupWindow:
		return len(g.win().entries) > 0
	case groupPrevious:
		return len(g.pv().recs) > 0
	case groupSequence:
		return g.sq().steps != nil
	case groupNewValue:
		return len(g.nv().vals) > 0
	}
	return false
}

// NewShard returns an empty shard for the engine's rules.
func (e *Engine) NewShard() *Shard {
	s := &Shard{eng: e, tenants: map[string]string{}}
	s.rules = make([]*ruleState, len(e.rules))
	for i, er := range e.rules {
		s.rules[i] = &ruleState{er: er, groups: map[string]*group{}}
	}
	s.ctx.zones = &s.zones
	return s
}

// OutputKind says what an Output carries.
type OutputKind uint8

// The output kinds.
const (
	OutputAlert OutputKind = iota + 1
	OutputAction
	OutputLate
)

// Output is one thing Process emits: an alert, an action it requests, or
// the report of a late event.
type Output struct {
	Kind   OutputKind
	Alert  *alert.Alert
	Action *alert.Action
	Late   *Late
}

// Late reports an event that arrived after the watermark had passed its
// time: the stateful rules named did not see it (single-event rules did).
// The runner counts it and may route it to a late-events topic; `trailwatch
// replay` over a time-sorted file evaluates it fully.
type Late struct {
	EventID   string
	Tenant    string
	Timestamp time.Time
	Watermark time.Time
	Rules     []string
}

// Watermark is the newest event time seen minus the allowed lateness: events
// older than it are late. Zero before the first event.
func (s *Shard) Watermark() time.Time {
	if !s.started {
		return time.Time{}
	}
	return time.Unix(0, s.maxTs-s.eng.lateness).UTC()
}

func (s *Shard) watermark() int64 {
	if !s.started {
		return math.MinInt64
	}
	return s.maxTs - s.eng.lateness
}

// Process evaluates one event and appends what it produces to out. It does
// not keep ev or anything that points into it (strings it keeps are
// copied), so the caller may reuse the event and its buffer.
func (s *Shard) Process(ev *event.Event, out []Output) []Output {
	ts := ev.Timestamp.UnixNano()
	s.seq++
	s.events++
	late := s.started && ts < s.maxTs-s.eng.lateness
	if late {
		s.late++
	} else if !s.started || ts > s.maxTs {
		s.maxTs, s.started = ts, true
		s.expire()
	}
	var lateRules []string
	s.evID, s.evTenant = "", ""
	c := &s.ctx
	for _, ri := range s.eng.router.rules(ev) {
		rs := s.rules[ri]
		er := rs.er
		if er.disabled != nil && er.disabled[ev.Tenant] {
			continue
		}
		v := er.variant(ev.Tenant)
		s.resetCtx(ev, v)
		rs.c.evaluated++
		var stepMask uint32
		if er.kind == KindSequence {
			if v.filter != nil && !s.evalBool(v.filter, rs) {
				continue
			}
			for i, st := range v.steps {
				if s.evalBool(st.filter, rs) {
					stepMask |= 1 << i
				}
			}
			if stepMask == 0 {
				continue
			}
		} else if !s.evalBool(v.filter, rs) {
			continue
		}
		rs.c.matched++
		if er.stateful && late {
			rs.c.late++
			lateRules = append(lateRules, er.rule.ID)
			continue
		}
		if !s.groupKey(v, rs) {
			continue
		}
		if s.evTenant == "" {
			s.evTenant = s.intern(ev.Tenant)
		}
		c.tenant = s.evTenant
		switch er.kind {
		case KindEvent:
			out = s.processEvent(rs, v, ev, out)
		case KindWindow:
			out = s.processWindow(rs, v, ev, out)
		case KindSequence:
			out = s.processSequence(rs, v, ev, stepMask, out)
		case KindNewValue:
			out = s.processNewValue(rs, v, ev, out)
		case KindPrevious:
			out = s.processPrevious(rs, v, ev, out)
		}
	}
	if len(lateRules) > 0 {
		out = append(out, Output{Kind: OutputLate, Late: &Late{
			EventID: s.eventID(ev), Tenant: strings.Clone(ev.Tenant), Timestamp: ev.Timestamp, Watermark: s.Watermark(), Rules: lateRules,
		}})
	}
	return out
}

// eventID returns the current event's id, copied on first use: state
// never points into the caller's event.
func (s *Shard) eventID(ev *event.Event) string {
	if s.evID == "" {
		s.evID = strings.Clone(ev.ID)
	}
	return s.evID
}

func (s *Shard) resetCtx(ev *event.Event, v *compiled) {
	c := &s.ctx
	c.ev, c.cur, c.prev, c.steps, c.aggs = ev, nil, nil, nil, nil
	c.tenant = ev.Tenant
	c.item, c.failed = nil, false
	c.cal = s.eng.calendar(ev.Tenant)
	c.proj = v.proj
}

func (s *Shard) intern(t string) string {
	if x, ok := s.tenants[t]; ok {
		return x
	}
	x := string([]byte(t))
	if len(s.tenants) < 1<<16 {
		s.tenants[x] = x
	}
	return x
}

// evalBool evaluates a boolean expression; an evaluation error is false
// (and counted). It is testBool with counting, written out: it is on the
// path of every event.
func (s *Shard) evalBool(ce *cexpr, rs *ruleState) bool {
	c := &s.ctx
	if ce.low != nil {
		c.failed = false
		v := ce.low.b(c)
		if c.failed {
			c.failed = false
			rs.c.evalErrors++
			return false
		}
		return v
	}
	rs.c.fallbacks++
	v, err := s.runProg(ce, nil)
	if err != nil {
		rs.c.evalErrors++
		return false
	}
	b, _ := v.(bool)
	return b
}

// testBool evaluates a boolean expression without counting anything: ok
// is false (and v false) when the evaluation failed.
func (s *Shard) testBool(ce *cexpr) (v, ok bool) {
	c := &s.ctx
	if ce.low != nil {
		c.failed = false
		v := ce.low.b(c)
		if c.failed {
			c.failed = false
			return false, false
		}
		return v, true
	}
	x, err := s.runProg(ce, nil)
	if err != nil {
		return false, false
	}
	b, _ := x.(bool)
	return b, true
}

// Matches reports whether Process would take ev past some rule's filter:
// the rule is routed the event and enabled for its tenant, and the
// filter of the tenant's variant holds (for a sequence, its filter and
// one of its steps'). An evaluation that fails counts as a match, so that
// the shard running the rule meets and counts the failure. Matches reads
// and changes no state and no counter: a runner forwarding events to the
// shards of other partitions uses it on a shard of its own to send only
// what those shards' rules would look at beyond their filters.
func (s *Shard) Matches(ev *event.Event) bool {
	for _, ri := range s.eng.router.rules(ev) {
		er := s.rules[ri].er
		if er.disabled != nil && er.disabled[ev.Tenant] {
			continue
		}
		v := er.variant(ev.Tenant)
		s.resetCtx(ev, v)
		if v.filter != nil {
			if m, ok := s.testBool(v.filter); ok && !m {
				continue
			}
		}
		if er.kind != KindSequence {
			return true
		}
		for _, st := range v.steps {
			if m, ok := s.testBool(st.filter); m || !ok {
				return true
			}
		}
	}
	return false
}

func (s *Shard) runProg(ce *cexpr, out *outputs) (any, error) {
	env := reflect.New(ce.env.typ)
	ce.env.fill(env.Elem(), &s.ctx, out, &s.scratch)
	return s.vm.Run(ce.prog, env.Interface())
}

// evalAny evaluates an expression to a Go value (outputs, keys).
func (s *Shard) evalAny(ce *cexpr, out *outputs) (any, error) {
	c := &s.ctx
	if ce.low != nil {
		c.failed = false
		var v any
		switch ce.low.k {
		case lkBool:
			v = ce.low.b(c)
		case lkStr:
			v = ce.low.s(c)
		case lkNum:
			x := ce.low.n(c)
			switch ce.typ.Kind() {
			case reflect.Int64:
				if ce.typ == reflect.TypeFor[time.Duration]() {
					v = time.Duration(x)
				} else {
					v = int64(x)
				}
			case reflect.Int:
				v = int(x)
			default:
				v = x
			}
		case lkTime:
			v = time.Unix(0, ce.low.t(c)).UTC()
		case lkList:
			v = ce.low.l(c)
		default:
			return s.runProg(ce, out)
		}
		if c.failed {
			c.failed = false
			return nil, errEval
		}
		return v, nil
	}
	return s.runProg(ce, out)
}

type evalError struct{}

func (evalError) Error() string { return "evaluation failed" }

var errEval error = evalError{}

// groupKey writes the group key of the current event into s.keyBuf: the
// tenant, then each group_by value, each length-prefixed. It is false when a
// value cannot be computed (the event is then not grouped, and counted).
func (s *Shard) groupKey(v *compiled, rs *ruleState) bool {
	c := &s.ctx
	s.keyBuf = appendPart(s.keyBuf[:0], c.ev.Tenant)
	for _, g := range v.groupBy {
		if g.low != nil {
			c.failed = false
			switch g.low.k {
			case lkStr:
				s.keyBuf = appendPart(s.keyBuf, g.low.s(c))
			case lkNum:
				s.partBuf = strconv.AppendFloat(s.partBuf[:0], g.low.n(c), 'g', -1, 64)
				s.keyBuf = appendPartBytes(s.keyBuf, s.partBuf)
			case lkBool:
				s.keyBuf = appendPart(s.keyBuf, strconv.FormatBool(g.low.b(c)))
			}
			if c.failed {
				c.failed = false
				rs.c.evalErrors++
				return false
			}
			continue
		}
		x, err := s.evalAny(g, nil)
		if err != nil {
			rs.c.evalErrors++
			return false
		}
		s.keyBuf = appendPart(s.keyBuf, formatValue(x))
	}
	return true
}

func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendPartBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// tenant is the group's tenant: the first part of its key (no copy).
func (g *group) tenant() string {
	var n, shift uint
	for i := 0; i < len(g.key) && i < 10; i++ {
		b := g.key[i]
		n |= uint(b&0x7f) << shift
		if b < 0x80 {
			start := i + 1
			if start+int(n) > len(g.key) {
				return ""
			}
			return g.key[start : start+int(n)]
		}
		shift += 7
	}
	return ""
}

// splitKey decodes a group key into the tenant and the group values.
func splitKey(key string) []string {
	var parts []string
	b := []byte(key)
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			break
		}
		parts = append(parts, string(b[w:w+int(n)]))
		b = b[w+int(n):]
	}
	return parts
}

// lookup returns the group of the current key, or nil.
func (s *Shard) lookup(rs *ruleState) *group {
	return rs.groups[string(s.keyBuf)]
}

// obtain returns the group of the current key, creating it (and evicting
// the least recently active group when the rule is at its cap).
func (s *Shard) obtain(rs *ruleState) *group {
	if g, ok := rs.groups[string(s.keyBuf)]; ok {
		rs.lru.touch(g)
		return g
	}
	if len(rs.groups) >= s.eng.cfg.MaxKeysPerRule {
		if victim := rs.lru.oldest(rs.groups); victim != nil {
			s.drop(rs, victim)
			rs.c.evicted++
		}
	}
	g := newGroup(rs.er.kind)
	g.key, g.lastAlert, g.rule = s.sharedKey(rs), noAlert, int32(rs.er.idx)
	rs.groups[g.key] = g
	rs.lru.touch(g)
	rs.lru.compact(len(rs.groups))
	return g
}

// sharedKey returns the current key as a string, shared with another
// rule's group of the same key when there is one: most rules group by the
// person or the account, and a key string per rule per account adds up.
func (s *Shard) sharedKey(rs *ruleState) string {
	for _, i := range rs.er.keySiblings {
		if g, ok := s.rules[i].groups[string(s.keyBuf)]; ok {
			return g.key
		}
	}
	return string(s.keyBuf)
}

// drop removes a group (evicted or expired), recycling its recs.
func (s *Shard) drop(rs *ruleState, g *group) {
	delete(rs.groups, g.key)
	g.sched = -1 // gone: its expiry and lru entries are skipped
	switch g.kind {
	case groupWindow:
		w := g.win()
		for _, r := range w.entries {
			rs.pool.put(r)
		}
		*w = winState{}
	case groupPrevious:
		pv := g.pv()
		for _, r := range pv.recs {
			rs.pool.put(r)
		}
		*pv = prevState{}
	}
}

// schedule makes sure the group is examined when the watermark passes
// deadline (an event time after which its state may be gone).
func (s *Shard) schedule(g *group, deadline int64) {
	if g.sched != 0 {
		return // already queued; at its turn it is examined and re-queued if still alive
	}
	sec := deadline/int64(time.Second) + 1
	g.sched = sec
	s.expiry.push(sec, g)
}

// expire frees the state the watermark has made useless.
func (s *Shard) expire() {
	wm := s.watermark()
	s.expireGroups(wm)
	s.expireTrims(wm)
}

// expireGroups examines the groups whose expiry is due: it frees what the
// watermark has made useless and drops groups left with nothing.
func (s *Shard) expireGroups(wm int64) {
	limit := wm / int64(time.Second)
	for {
		sec, b, ok := s.expiry.popUntil(limit)
		if !ok {
			return
		}
		for _, g := range *b {
			if g.sched != sec {
				continue // dropped, or re-queued elsewhere
			}
			g.sched = 0
			rs := s.rules[g.rule]
			v := rs.er.variant(g.tenant())
			deadline, alive := s.trim(g, v, wm)
			if !alive {
				s.drop(rs, g)
				continue
			}
			s.schedule(g, deadline)
		}
		s.expiry.recycle(b)
	}
}

// trim frees the parts of a group's state the watermark has passed, and
// returns the event time until which the rest may matter.
func (s *Shard) trim(g *group, v *compiled, wm int64) (deadline int64, alive bool) {
	deadline = math.MinInt64
	if g.lastAlert != noAlert && v.suppress > 0 {
		deadline = g.lastAlert + v.suppress
	}
	rs := s.rules[g.rule]
	switch g.kind {
	case groupWindow:
		if w := g.win(); len(w.entries) > 0 {
			w.trim(v, wm, &rs.pool)
			if n := len(w.entries); n > 0 {
				deadline = max(deadline, w.entries[n-1].ts+v.window)
			}
		}
	case groupSequence:
		if sq := g.sq(); sq.steps != nil {
			if d, ok := sq.trim(v, wm); ok {
				deadline = max(deadline, d)
			} else {
				sq.steps = nil
			}
		}
	case groupNewValue:
		if nv := g.nv(); len(nv.vals) > 0 {
			if d, ok := nv.trim(v, wm); ok {
				deadline = max(deadline, d)
			} else {
				*nv = nvState{}
			}
		}
	case groupPrevious:
		if pv := g.pv(); len(pv.recs) > 0 {
			if d, ok := pv.trim(v, wm, &rs.pool); ok {
				deadline = max(deadline, d)
				s.scheduleTrim(g, pv)
			} else {
				for _, r := range pv.recs {
					rs.pool.put(r)
				}
				*pv = prevState{}
			}
		}
	}
	return deadline, deadline > wm
}

// suppressed says whether an alert triggered at ts is within the rule's
// suppression of the group's last alert (in event time, either side, so an
// out-of-order trigger just before an alert is suppressed too).
func suppressed(g *group, v *compiled, ts int64) bool {
	if g == nil || g.lastAlert == noAlert || v.suppress <= 0 {
		return false
	}
	d := ts - g.lastAlert
	if d < 0 {
		d = -d
	}
	return d < v.suppress
}

// expiryQueue holds groups by the second their state may expire: a min-heap
// of seconds, each with the groups due then.
type expiryQueue struct {
	secs    []int64
	buckets map[int64]*[]*group
	spare   []*[]*group // emptied buckets, for reuse
}

func (q *expiryQueue) push(sec int64, g *group) {
	if q.buckets == nil {
		q.buckets = map[int64]*[]*group{}
	}
	b, ok := q.buckets[sec]
	if !ok {
		q.secs = append(q.secs, sec)
		up(q.secs, len(q.secs)-1)
		if n := len(q.spare); n > 0 {
			b = q.spare[n-1]
			q.spare = q.spare[:n-1]
		} else {
			b = new([]*group)
		}
		q.buckets[sec] = b
	}
	*b = append(*b, g)
}

// maxSpareBuckets bounds the emptied buckets kept for reuse.
const maxSpareBuckets = 64

// recycle takes back a bucket popUntil returned, once its groups are seen.
func (q *expiryQueue) recycle(b *[]*group) {
	if len(q.spare) >= maxSpareBuckets {
		return
	}
	clear(*b)
	*b = (*b)[:0]
	q.spare = append(q.spare, b)
}

// popUntil removes and returns the earliest bucket if it is at or before
// limit; hand it back with recycle.
func (q *expiryQueue) popUntil(limit int64) (int64, *[]*group, bool) {
	if len(q.secs) == 0 || q.secs[0] > limit {
		return 0, nil, false
	}
	sec := q.secs[0]
	n := len(q.secs) - 1
	q.secs[0] = q.secs[n]
	q.secs = q.secs[:n]
	down(q.secs, 0)
	b := q.buckets[sec]
	delete(q.buckets, sec)
	return sec, b, true
}

func up(h []int64, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func down(h []int64, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r] < h[l] {
			m = r
		}
		if h[i] <= h[m] {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
