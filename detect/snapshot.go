package detect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// A snapshot is a shard's complete state: watermark, arrival counter, every
// group of every rule in LRU order with its expiry slot, windows with their
// running aggregates, sequence steps, remembered values and previous
// events. Restoring it and continuing gives exactly the outputs the
// uninterrupted shard would have given.
//
// Format (version 2): "TWDETECT" | uvarint version | engine fingerprint |
// shard scalars | per rule: id, fingerprint, state key, length-prefixed
// groups | CRC-32 (Castagnoli) of everything before it.
//
// Version 2 writes a window's accumulator as its numbers and distinct sets
// (distinct aggregates of one argument share a set), and a previous-event
// group's pending trim; version 1 wrote a slot per aggregate. Another version is refused (ErrSnapshotIncompatible),
// never misread: the runner rebuilds that state by replay.

const (
	snapshotMagic   = "TWDETECT"
	snapshotVersion = 2
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the shard's state to w, a rule at a time (on an error, w
// may hold part of it).
func (s *Shard) Snapshot(w io.Writer) error {
	// The snapshot goes to w a rule at a time, the checksum computed on
	// the way: building it whole first grew one buffer to the state's size
	// by doubling, most of the encoding's time (BenchmarkSnapshot).
	sum := crc32.New(crcTable)
	out := io.MultiWriter(w, sum)
	var b snapWriter
	flush := func(p []byte) error {
		if _, err := out.Write(p); err != nil {
			return fmt.Errorf("writing detector snapshot: %w", err)
		}
		return nil
	}
	b.raw([]byte(snapshotMagic))
	b.uvarint(snapshotVersion)
	b.str(s.eng.fingerprint)
	b.boolean(s.started)
	b.varint(s.maxTs)
	b.uvarint(s.seq)
	b.uvarint(s.events)
	b.uvarint(s.late)
	b.uvarint(uint64(len(s.rules)))
	var gb snapWriter
	for _, rs := range s.rules {
		er := rs.er
		b.str(er.rule.ID)
		b.str(er.ruleFingerprint())
		b.str(stateKeyOf(er))
		c := rs.c
		for _, x := range []uint64{c.evaluated, c.matched, c.alerts, c.suppressed, c.late, c.evicted, c.overflow, c.evalErrors, c.fallbacks, c.reevaluated} {
			b.uvarint(x)
		}
		gb.reset()
		gb.b = slices.Grow(gb.b, rs.snapBytes+rs.snapBytes/8) // the last snapshot's size: no growth by doubling
		gb.uvarint(uint64(len(rs.groups)))
		for _, g := range rs.lru.ordered(rs.groups) {
			writeGroup(&gb, g)
		}
		rs.snapBytes = len(gb.b)
		b.uvarint(uint64(len(gb.b)))
		if err := flush(b.b); err != nil {
			return err
		}
		b.reset()
		if err := flush(gb.b); err != nil {
			return err
		}
	}
	if err := flush(b.b); err != nil {
		return err
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, sum.Sum32())); err != nil {
		return fmt.Errorf("writing detector snapshot: %w", err)
	}
	return nil
}

// stateKeyOf combines a rule's variants' state keys.
func stateKeyOf(er *engineRule) string {
	var sb strings.Builder
	sb.WriteString(er.def.stateKey)
	for _, t := range sortedKeys(er.byTenant) {
		fmt.Fprintf(&sb, " %s=%s", t, er.byTenant[t].stateKey)
	}
	return sb.String()
}

// RestoreShard reads a snapshot written by Snapshot under an engine with
// the same fingerprint (same rules, variants and configuration). A snapshot
// from other rules, another configuration or another format version is
// refused with ErrSnapshotIncompatible, naming the differences: the runner
// then rebuilds state by replay, or calls RestoreShardMigrating.
func RestoreShard(e *Engine, r io.Reader) (*Shard, error) {
	s, _, err := restore(e, r, false)
	return s, err
}

// RestoreShardMigrating restores a snapshot into an engine whose rules may
// differ, with the reload policy: a rule keeps its state when its state key
// (kind, group_by, durations, aggregates, steps, projection) is unchanged,
// and starts empty otherwise.
func RestoreShardMigrating(e *Engine, r io.Reader) (*Shard, ReloadReport, error) {
	return restore(e, r, true)
}

func restore(e *Engine, r io.Reader, migrate bool) (*Shard, ReloadReport, error) {
	var rep ReloadReport
	data, err := io.ReadAll(bufio.NewReader(r))
	if err != nil {
		return nil, rep, fmt.Errorf("reading detector snapshot: %w", err)
	}
	if len(data) < len(snapshotMagic)+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, rep, fmt.Errorf("%w: not a detector snapshot", ErrSnapshotCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, rep, fmt.Errorf("%w: checksum mismatch (truncated or damaged)", ErrSnapshotCorrupt)
	}
	d := &snapReader{b: body[len(snapshotMagic):]}
	if v := d.uvarint(); v != snapshotVersion {
		return nil, rep, fmt.Errorf("%w: format version %d, this build reads version %d", ErrSnapshotIncompatible, v, snapshotVersion)
	}
	fp := d.str()
	s := e.NewShard()
	s.started = d.boolean()
	s.maxTs = d.varint()
	s.seq = d.uvarint()
	s.events = d.uvarint()
	s.late = d.uvarint()
	n := int(d.uvarint())
	if d.err != nil {
		return nil, rep, d.fail()
	}
	type snapRule struct {
		id, fp, key string
		counters    []uint64
		groups      []byte
	}
	var rules []snapRule
	for i := 0; i < n && d.err == nil; i++ {
		sr := snapRule{id: d.str(), fp: d.str(), key: d.str()}
		for range 10 {
			sr.counters = append(sr.counters, d.uvarint())
		}
		sr.groups = d.bytes()
		rules = append(rules, sr)
	}
	if d.err != nil {
		return nil, rep, d.fail()
	}
	if fp != e.fingerprint && !migrate {
		return nil, rep, fmt.Errorf("%w: %s", ErrSnapshotIncompatible, snapshotDiff(e, rules2map(rules, func(r snapRule) (string, string) { return r.id, r.fp })))
	}
	seen := map[string]bool{}
	for _, sr := range rules {
		seen[sr.id] = true
		idx, ok := e.byID[sr.id]
		if !ok {
			rep.Removed = append(rep.Removed, sr.id)
			continue
		}
		rs := s.rules[idx]
		if sr.key != stateKeyOf(rs.er) {
			rep.Reset = append(rep.Reset, sr.id)
			continue
		}
		rep.Kept = append(rep.Kept, sr.id)
		if sr.fp == rs.er.ruleFingerprint() {
			c := sr.counters
			rs.c = ruleCounters{evaluated: c[0], matched: c[1], alerts: c[2], suppressed: c[3], late: c[4], evicted: c[5], overflow: c[6], evalErrors: c[7], fallbacks: c[8], reevaluated: c[9]}
		}
		gd := &snapReader{b: sr.groups}
		ng := gd.count()
		order := make([]*group, 0, ng)
		for range ng {
			g := readGroup(gd, rs)
			if gd.err != nil {
				return nil, rep, gd.fail()
			}
			if rs.groups[g.key] != nil {
				return nil, rep, fmt.Errorf("%w: rule %s: group listed twice", ErrSnapshotCorrupt, sr.id)
			}
			rs.groups[g.key] = g
			order = append(order, g) // written most recently active first
			if g.sched > 0 {
				s.expiry.push(g.sched, g)
			}
			if g.kind == groupPrevious && g.pv().trimSec > 0 {
				s.trims.push(g.pv().trimSec, g)
			}
		}
		rs.lru.restore(order)
	}
	for _, er := range e.rules {
		if !seen[er.rule.ID] {
			rep.Added = append(rep.Added, er.rule.ID)
		}
	}
	return s, rep, nil
}

func rules2map[T any](rs []T, kv func(T) (string, string)) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		k, v := kv(r)
		m[k] = v
	}
	return m
}

// snapshotDiff names the rules that differ between a snapshot and an engine.
func snapshotDiff(e *Engine, snap map[string]string) string {
	var parts []string
	for _, er := range e.rules {
		fp, ok := snap[er.rule.ID]
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("rule %s is new", er.rule.ID))
		case fp != er.ruleFingerprint():
			parts = append(parts, fmt.Sprintf("rule %s changed", er.rule.ID))
		}
	}
	for _, id := range sortedKeys(snap) {
		if _, ok := e.byID[id]; !ok {
			parts = append(parts, fmt.Sprintf("rule %s is gone", id))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "the configuration (lateness, limits, calendars) changed")
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func writeGroup(b *snapWriter, g *group) {
	b.str(g.key)
	b.varint(g.sched)
	b.varint(g.lastAlert)
	recs := map[*rec]int{}
	var table []*rec
	ref := func(r *rec) {
		i, ok := recs[r]
		if !ok {
			i = len(table)
			recs[r] = i
			table = append(table, r)
		}
	}
	kind := g.kind
	if !g.hasState() {
		kind = groupPlain
	}
	switch kind {
	case groupWindow:
		for _, r := range g.win().entries {
			ref(r)
		}
	case groupSequence:
		for _, l := range g.sq().steps {
			for _, r := range l {
				ref(r)
			}
		}
	case groupPrevious:
		for _, r := range g.pv().recs {
			ref(r)
		}
	}
	b.uvarint(uint64(len(table)))
	for _, r := range table {
		writeRec(b, r)
	}
	switch kind {
	case groupWindow:
		w := g.win()
		b.byte(1)
		b.uvarint(uint64(len(w.entries)))
		for _, r := range w.entries {
			b.uvarint(uint64(recs[r]))
		}
		b.uvarint(uint64(w.tailStart))
		writeAcc(b, &w.tail)
	case groupSequence:
		sq := g.sq()
		b.byte(2)
		b.uvarint(uint64(len(sq.steps)))
		for _, l := range sq.steps {
			b.uvarint(uint64(len(l)))
			for _, r := range l {
				b.uvarint(uint64(recs[r]))
			}
		}
	case groupNewValue:
		nv := g.nv()
		b.byte(3)
		b.varint(nv.first)
		b.uvarint(uint64(len(nv.vals)))
		for _, it := range nv.vals {
			b.str(it.v)
			b.varint(it.last)
		}
	case groupPrevious:
		pv := g.pv()
		b.byte(4)
		b.uvarint(uint64(len(pv.recs)))
		for _, r := range pv.recs {
			b.uvarint(uint64(recs[r]))
		}
		b.varint(pv.trimSec)
	default:
		b.byte(0)
	}
}

// stateBytes are the kind bytes of a snapshot's group state, by group kind.
var stateBytes = map[groupKind]byte{groupWindow: 1, groupSequence: 2, groupNewValue: 3, groupPrevious: 4}

func readGroup(d *snapReader, rs *ruleState) *group {
	g := newGroup(rs.er.kind)
	g.rule = int32(rs.er.idx)
	g.key = d.str()
	g.sched = d.varint()
	g.lastAlert = d.varint()
	nrec := d.count()
	table := make([]*rec, 0, nrec)
	shape := rs.er.def.proj.shape
	for i := 0; i < nrec && d.err == nil; i++ {
		table = append(table, readRec(d, shape))
	}
	recAt := func() *rec {
		i := d.uvarint()
		if i >= uint64(len(table)) {
			d.err = errors.New("rec index out of range")
			return &rec{}
		}
		return table[i]
	}
	kb := d.byte()
	if kb != 0 && kb != stateBytes[g.kind] {
		if d.err == nil {
			d.err = fmt.Errorf("group state of kind %d for a %s rule", kb, rs.er.kind)
		}
		return g
	}
	switch kb {
	case 1:
		w := g.win()
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			w.entries = append(w.entries, recAt())
		}
		w.tailStart = int(min(d.uvarint(), uint64(len(w.entries)+1)))
		w.tail = *readAcc(d)
		if d.err == nil && (w.tailStart > len(w.entries) || !w.tail.fits(rs.er.def)) {
			d.err = errors.New("window shape")
		}
	case 2:
		sq := g.sq()
		ns := d.count()
		sq.steps = make([][]*rec, 0, ns)
		for k := 0; k < ns && d.err == nil; k++ {
			var l []*rec
			n := d.count()
			for i := 0; i < n && d.err == nil; i++ {
				l = append(l, recAt())
			}
			sq.steps = append(sq.steps, l)
		}
		if len(sq.steps) != len(rs.er.def.steps) {
			d.err = errors.New("sequence shape")
		}
	case 3:
		nv := g.nv()
		nv.first = d.varint()
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			nv.vals = append(nv.vals, nvItem{v: d.str(), last: d.varint()})
		}
	case 4:
		pv := g.pv()
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			pv.recs = append(pv.recs, recAt())
		}
		if pv.trimSec = d.varint(); pv.trimSec < 0 {
			d.err = errors.New("trim schedule")
		}
	}
	return g
}

func writeRec(b *snapWriter, r *rec) {
	b.str(r.id)
	b.varint(r.ts)
	b.uvarint(r.seq)
	b.varint(int64(r.off))
	b.boolean(r.fired)
	b.uvarint(uint64(r.ns))
	for i := range int(r.ns) {
		b.str(r.str(i))
	}
	b.uvarint(uint64(r.nn))
	for i := range int(r.nn) {
		b.float(r.num(i))
	}
	b.uvarint(uint64(r.numObjs()))
	for i := range r.numObjs() {
		switch x := r.obj(i).(type) {
		case []event.Change:
			b.byte(1)
			b.boolean(x == nil)
			b.uvarint(uint64(len(x)))
			for _, c := range x {
				b.str(c.Field)
				b.str(c.Old)
				b.str(c.New)
			}
		case []event.Related:
			b.byte(2)
			b.boolean(x == nil)
			b.uvarint(uint64(len(x)))
			for _, c := range x {
				b.str(c.Type)
				b.str(c.ID)
			}
		case map[string]string:
			b.byte(3)
			b.boolean(x == nil)
			keys := sortedKeys(x)
			b.uvarint(uint64(len(keys)))
			for _, k := range keys {
				b.str(k)
				b.str(x[k])
			}
		default:
			b.byte(0)
		}
	}
}

// readRec reads a rec that must have the rule's shape.
func readRec(d *snapReader, shape *recShape) *rec {
	id, ts, seq, off, fired := d.str(), d.varint(), d.uvarint(), int32(d.varint()), d.boolean()
	ns := d.count()
	strs := make([]string, 0, min(ns, 64))
	for i := 0; i < ns && d.err == nil; i++ {
		strs = append(strs, d.str())
	}
	nn := d.count()
	nums := make([]float64, 0, min(nn, 64))
	for i := 0; i < nn && d.err == nil; i++ {
		nums = append(nums, d.float())
	}
	no := d.count()
	if d.err == nil && (ns != int(shape.ns) || nn != int(shape.nn) || no != int(shape.no)) {
		d.err = errors.New("event record shape")
	}
	if d.err != nil {
		return shape.new()
	}
	r := shape.new()
	r.id, r.ts, r.seq, r.off, r.fired = id, ts, seq, off, fired
	copy(r.strs(), strs)
	copy(r.nums(), nums)
	objs := r.objs()
	for i := 0; i < no && d.err == nil; i++ {
		switch d.byte() {
		case 1:
			isNil := d.boolean()
			m := d.count()
			var x []event.Change
			if !isNil {
				x = make([]event.Change, 0, m)
			}
			for j := 0; j < m && d.err == nil; j++ {
				x = append(x, event.Change{Field: d.str(), Old: d.str(), New: d.str()})
			}
			objs[i] = x
		case 2:
			isNil := d.boolean()
			m := d.count()
			var x []event.Related
			if !isNil {
				x = make([]event.Related, 0, m)
			}
			for j := 0; j < m && d.err == nil; j++ {
				x = append(x, event.Related{Type: d.str(), ID: d.str()})
			}
			objs[i] = x
		case 3:
			isNil := d.boolean()
			m := d.count()
			var x map[string]string
			if !isNil {
				x = make(map[string]string, m)
			}
			for j := 0; j < m && d.err == nil; j++ {
				k := d.str()
				x[k] = d.str()
			}
			objs[i] = x
		}
	}
	return r
}

func writeAcc(b *snapWriter, a *acc) {
	b.varint(int64(a.n))
	b.uvarint(uint64(len(a.nums)))
	for _, x := range a.nums {
		b.float(x)
	}
	b.uvarint(uint64(len(a.sets)))
	for i := range a.sets {
		d := &a.sets[i]
		b.boolean(d.big != nil)
		if d.big != nil {
			keys := make([]string, 0, len(d.big))
			for k := range d.big {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.uvarint(uint64(len(keys)))
			for _, k := range keys {
				b.str(k)
				b.varint(int64(d.big[k]))
			}
		} else {
			b.uvarint(uint64(len(d.small)))
			for _, it := range d.small {
				b.str(it.v)
				b.varint(int64(it.n))
			}
		}
	}
}

func readAcc(d *snapReader) *acc {
	a := &acc{n: int(d.varint())}
	if n := d.count(); n > 0 {
		a.nums = make([]float64, 0, min(n, 64))
		for i := 0; i < n && d.err == nil; i++ {
			a.nums = append(a.nums, d.float())
		}
	}
	if n := d.count(); n > 0 {
		a.sets = make([]distinctSet, n)
	}
	for i := 0; i < len(a.sets) && d.err == nil; i++ {
		set := &a.sets[i]
		big := d.boolean()
		m := d.count()
		if big {
			set.big = make(map[string]int32, m)
		}
		for j := 0; j < m && d.err == nil; j++ {
			v, c := d.str(), int32(d.varint())
			if big {
				set.big[v] = c
			} else {
				set.small = append(set.small, distinctItem{v, c})
			}
		}
	}
	return a
}

// snapWriter appends a snapshot's fields to b.
type snapWriter struct {
	b []byte
}

func (w *snapWriter) raw(b []byte)     { w.b = append(w.b, b...) }
func (w *snapWriter) byte(x byte)      { w.b = append(w.b, x) }
func (w *snapWriter) uvarint(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *snapWriter) varint(x int64)   { w.b = binary.AppendVarint(w.b, x) }
func (w *snapWriter) float(x float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x))
}
func (w *snapWriter) reset() { w.b = w.b[:0] }
func (w *snapWriter) boolean(b bool) {
	if b {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *snapWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *snapWriter) bytes(b []byte) {
	w.uvarint(uint64(len(b)))
	w.b = append(w.b, b...)
}

// snapReader decodes defensively: a bad length or a short buffer sets err
// and every later read returns zero values, so a damaged snapshot is an
// error, never a panic or a huge allocation.
type snapReader struct {
	b   []byte
	err error
}

func (d *snapReader) fail() error {
	return fmt.Errorf("%w: %v", ErrSnapshotCorrupt, d.err)
}

func (d *snapReader) short() {
	if d.err == nil {
		d.err = errors.New("unexpected end of data")
	}
}

func (d *snapReader) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.short()
		return 0
	}
	x := d.b[0]
	d.b = d.b[1:]
	return x
}

func (d *snapReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.short()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *snapReader) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.short()
		return 0
	}
	d.b = d.b[n:]
	return x
}

// count reads a length that must fit in what remains.
func (d *snapReader) count() int {
	x := d.uvarint()
	if x > uint64(len(d.b)) {
		if d.err == nil {
			d.err = fmt.Errorf("length %d exceeds the %d bytes left", x, len(d.b))
		}
		return 0
	}
	return int(x)
}

func (d *snapReader) boolean() bool { return d.byte() != 0 }

func (d *snapReader) float() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.short()
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return x
}

func (d *snapReader) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *snapReader) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}
