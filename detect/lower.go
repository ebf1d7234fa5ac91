package detect

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/expr-lang/expr/ast"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Lowering turns a checked expression tree into Go closures over evalCtx:
// field reads become loads at precomputed offsets, constant lists become
// sets, regular expressions are compiled once. The hot path (filters,
// conditions) then runs without reflection or allocation. Anything outside
// the lowered subset returns errNoLower and runs on expr's VM instead; the
// differential test checks that both give the same answers.

type lkind uint8

const (
	lkBool lkind = iota + 1
	lkStr
	lkNum
	lkTime
	lkList  // []string (distinct aggregates, string params)
	lkRef   // a whole event: self, prev, steps.x
	lkNil   // the nil literal
	lkItems // changes or related: a slice of structs, for predicates
	lkMap   // labels
)

type refBase uint8

const (
	refCur refBase = iota
	refPrev
	refStep
)

// lval is a lowered value of one kind.
type lval struct {
	k     lkind
	b     func(*evalCtx) bool
	s     func(*evalCtx) string
	n     func(*evalCtx) float64
	t     func(*evalCtx) int64
	l     func(*evalCtx) []string
	m     func(*evalCtx) map[string]string
	items func(*evalCtx) (unsafe.Pointer, int)
	itemT *fieldTable
	itemZ uintptr
	ref   refBase
	step  int

	konst bool // a constant: cs, cn or cb holds it
	cs    string
	cn    float64
	cb    bool
	set   map[string]struct{} // a constant string set (lists, literal arrays)
	fold  bool                // compare the set ignoring case
	cidr  *cidrList
	nums  map[float64]struct{}
}

// lowerer lowers the expressions of one rule variant.
type lowerer struct {
	proj      *projection
	curMayRec bool
	steps     map[string]int
	named     map[string]*cexpr
	aggs      []*aggSpec
	itemTab   *fieldTable
}

func noLower(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNoLower, fmt.Sprintf(format, args...))
}

func kindOfType(t reflect.Type) lkind {
	if t == nil {
		return 0
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return lkTime
	case t == reflect.TypeFor[[]string]():
		return lkList
	case t == eventPtr:
		return lkRef
	}
	switch t.Kind() {
	case reflect.Bool:
		return lkBool
	case reflect.String:
		return lkStr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return lkNum
	}
	return 0
}

func (lw *lowerer) lower(n ast.Node) (lval, error) {
	switch x := n.(type) {
	case *ast.NilNode:
		return lval{k: lkNil}, nil
	case *ast.BoolNode:
		v := x.Value
		return lval{k: lkBool, konst: true, cb: v, b: func(*evalCtx) bool { return v }}, nil
	case *ast.StringNode:
		return constStr(x.Value), nil
	case *ast.IntegerNode:
		return constNum(float64(x.Value)), nil
	case *ast.FloatNode:
		return constNum(x.Value), nil
	case *ast.ConstantNode:
		return lowerConst(x.Value)
	case *ast.IdentifierNode:
		return lw.ident(x.Value)
	case *ast.MemberNode:
		return lw.member(x)
	case *ast.UnaryNode:
		return lw.unary(x)
	case *ast.BinaryNode:
		return lw.binary(x)
	case *ast.ConditionalNode:
		return lw.conditional(x)
	case *ast.BuiltinNode:
		return lw.builtin(x)
	case *ast.CallNode:
		return lw.call(x)
	}
	return lval{}, noLower("%T", n)
}

func constStr(s string) lval {
	return lval{k: lkStr, konst: true, cs: s, s: func(*evalCtx) string { return s }}
}

func constNum(f float64) lval {
	return lval{k: lkNum, konst: true, cn: f, n: func(*evalCtx) float64 { return f }}
}

func lowerConst(v any) (lval, error) {
	switch c := v.(type) {
	case string:
		return constStr(c), nil
	case int:
		return constNum(float64(c)), nil
	case int64:
		return constNum(float64(c)), nil
	case float64:
		return constNum(c), nil
	case time.Duration:
		return constNum(float64(c)), nil
	case bool:
		return lval{k: lkBool, konst: true, cb: c, b: func(*evalCtx) bool { return c }}, nil
	case strSet:
		return lval{k: lkList, set: c, l: func(*evalCtx) []string { return setKeys(c) }}, nil
	case foldSet:
		return lval{k: lkList, set: c, fold: true, l: func(*evalCtx) []string { return setKeys(c) }}, nil
	case []string:
		s := make(map[string]struct{}, len(c))
		for _, x := range c {
			s[x] = struct{}{}
		}
		return lval{k: lkList, set: s, l: func(*evalCtx) []string { return c }}, nil
	case *cidrList:
		return lval{cidr: c}, nil
	}
	return lval{}, noLower("constant %T", v)
}

func setKeys(s map[string]struct{}) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

func (lw *lowerer) ident(name string) (lval, error) {
	switch {
	case strings.HasPrefix(name, "__agg"):
		i, err := strconv.Atoi(name[len("__agg"):])
		if err != nil || i >= len(lw.aggs) {
			return lval{}, noLower("aggregate %s", name)
		}
		if lw.aggs[i].kind == aggDistinct {
			return lval{k: lkList, l: func(c *evalCtx) []string { return c.aggs[i].l }}, nil
		}
		return lval{k: lkNum, n: func(c *evalCtx) float64 { return c.aggs[i].n }}, nil
	case name == "self":
		return lval{k: lkRef, ref: refCur}, nil
	case name == "prev":
		return lval{k: lkRef, ref: refPrev}, nil
	case name == "person":
		return lw.person()
	}
	if ne, ok := lw.named[name]; ok {
		if ne.low == nil {
			return lval{}, noLower("named aggregate %s", name)
		}
		return *ne.low, nil
	}
	if eventFields().byPath[name] != nil {
		return lw.field(refCur, 0, name)
	}
	return lval{}, noLower("name %s", name)
}

func (lw *lowerer) person() (lval, error) {
	if !lw.curMayRec {
		return lval{k: lkStr, s: func(c *evalCtx) string { return c.ev.PersonKey() }}, nil
	}
	ps, ok1 := lw.proj.slots["user.person_id"]
	us, ok2 := lw.proj.slots["user.id"]
	if !ok1 || !ok2 {
		return lval{}, noLower("person not projected")
	}
	return lval{k: lkStr, s: func(c *evalCtx) string {
		if c.cur != nil {
			if p := c.cur.str(ps.i); p != "" {
				return p
			}
			return c.cur.str(us.i)
		}
		return c.ev.PersonKey()
	}}, nil
}

// recOf returns the rec a reference reads (nil when the current event is
// live). A missing prev or step marks the evaluation failed, as expr's VM
// errors on a field of nil.
func recOf(base refBase, step int) func(*evalCtx) *rec {
	switch base {
	case refPrev:
		return func(c *evalCtx) *rec {
			if c.prev == nil {
				c.failed = true
			}
			return c.prev
		}
	case refStep:
		return func(c *evalCtx) *rec {
			if step >= len(c.steps) || c.steps[step] == nil {
				c.failed = true
				return nil
			}
			return c.steps[step]
		}
	}
	return nil
}

// field lowers a read of path from the current event, prev or a step.
func (lw *lowerer) field(base refBase, step int, path string) (lval, error) {
	ft := eventFields()
	f := ft.byPath[path]
	if f == nil {
		return lval{}, noLower("field %s", path)
	}
	live := base == refCur
	mayRec := base != refCur || lw.curMayRec
	getRec := recOf(base, step)
	var sl slot
	if mayRec && path != "id" && path != "timestamp" && path != "tenant" {
		var ok bool
		sl, ok = lw.proj.slots[path]
		if !ok {
			return lval{}, noLower("field %s not projected", path)
		}
	}
	off := f.offset
	switch path {
	case "id":
		return lval{k: lkStr, s: func(c *evalCtx) string {
			if live {
				if c.cur == nil || !mayRec {
					return c.ev.ID
				}
				return c.cur.id
			}
			if r := getRec(c); r != nil {
				return r.id
			}
			return ""
		}}, nil
	case "tenant":
		return lval{k: lkStr, s: func(c *evalCtx) string {
			if live && (c.cur == nil || !mayRec) {
				return c.ev.Tenant
			}
			if !live {
				getRec(c)
			}
			return c.tenant
		}}, nil
	case "timestamp":
		return lval{k: lkTime, t: func(c *evalCtx) int64 {
			if live {
				if c.cur == nil || !mayRec {
					return c.ev.Timestamp.UnixNano()
				}
				return c.cur.ts
			}
			if r := getRec(c); r != nil {
				return r.ts
			}
			return 0
		}}, nil
	}
	recGet := func(c *evalCtx) *rec {
		if live {
			if !mayRec {
				return nil
			}
			return c.cur
		}
		return getRec(c)
	}
	switch f.kind {
	case kindString:
		if !mayRec {
			return lval{k: lkStr, s: func(c *evalCtx) string { return *(*string)(unsafe.Add(unsafe.Pointer(c.ev), off)) }}, nil
		}
		i := sl.i
		return lval{k: lkStr, s: func(c *evalCtx) string {
			if r := recGet(c); r != nil {
				return r.str(i)
			}
			if !live {
				return ""
			}
			return *(*string)(unsafe.Add(unsafe.Pointer(c.ev), off))
		}}, nil
	case kindNumber:
		isInt := f.isInt
		read := func(c *evalCtx) float64 {
			if isInt {
				return float64(*(*int64)(unsafe.Add(unsafe.Pointer(c.ev), off)))
			}
			return *(*float64)(unsafe.Add(unsafe.Pointer(c.ev), off))
		}
		if !mayRec {
			return lval{k: lkNum, n: read}, nil
		}
		i := sl.i
		return lval{k: lkNum, n: func(c *evalCtx) float64 {
			if r := recGet(c); r != nil {
				return r.num(i)
			}
			if !live {
				return 0
			}
			return read(c)
		}}, nil
	case kindBool:
		if !mayRec {
			return lval{k: lkBool, b: func(c *evalCtx) bool { return *(*bool)(unsafe.Add(unsafe.Pointer(c.ev), off)) }}, nil
		}
		i := sl.i
		return lval{k: lkBool, b: func(c *evalCtx) bool {
			if r := recGet(c); r != nil {
				return r.num(i) != 0
			}
			if !live {
				return false
			}
			return *(*bool)(unsafe.Add(unsafe.Pointer(c.ev), off))
		}}, nil
	case kindMap:
		i := sl.i
		return lval{k: lkMap, m: func(c *evalCtx) map[string]string {
			if mayRec {
				if r := recGet(c); r != nil {
					m, _ := r.obj(i).(map[string]string)
					return m
				}
				if !live {
					return nil
				}
			}
			return *(*map[string]string)(unsafe.Add(unsafe.Pointer(c.ev), off))
		}}, nil
	case kindSlice:
		i := sl.i
		var tab *fieldTable
		var size uintptr
		switch f.typ {
		case reflect.TypeFor[[]event.Change]():
			tab, size = changeFields(), unsafe.Sizeof(event.Change{})
			return lval{k: lkItems, itemT: tab, itemZ: size, items: func(c *evalCtx) (unsafe.Pointer, int) {
				var s []event.Change
				if r := recGet(c); mayRec && r != nil {
					s, _ = r.obj(i).([]event.Change)
				} else if live {
					s = *(*[]event.Change)(unsafe.Add(unsafe.Pointer(c.ev), off))
				}
				return unsafe.Pointer(unsafe.SliceData(s)), len(s)
			}}, nil
		case reflect.TypeFor[[]event.Related]():
			tab, size = relatedFields(), unsafe.Sizeof(event.Related{})
			return lval{k: lkItems, itemT: tab, itemZ: size, items: func(c *evalCtx) (unsafe.Pointer, int) {
				var s []event.Related
				if r := recGet(c); mayRec && r != nil {
					s, _ = r.obj(i).([]event.Related)
				} else if live {
					s = *(*[]event.Related)(unsafe.Add(unsafe.Pointer(c.ev), off))
				}
				return unsafe.Pointer(unsafe.SliceData(s)), len(s)
			}}, nil
		}
	}
	return lval{}, noLower("field %s of kind %d", path, f.kind)
}

func (lw *lowerer) member(x *ast.MemberNode) (lval, error) {
	if root, path, ok := chain(x); ok {
		switch root {
		case "prev", "self":
			base := refPrev
			if root == "self" {
				base = refCur
			}
			return lw.field(base, 0, strings.Join(path, "."))
		case "steps":
			i, ok := lw.steps[path[0]]
			if !ok {
				return lval{}, noLower("step %s", path[0])
			}
			if len(path) == 1 {
				return lval{k: lkRef, ref: refStep, step: i}, nil
			}
			return lw.field(refStep, i, strings.Join(path[1:], "."))
		}
		full := strings.Join(append([]string{root}, path...), ".")
		if eventFields().byPath[full] != nil {
			return lw.field(refCur, 0, full)
		}
		// labels.key
		if len(path) >= 1 {
			base := strings.Join(append([]string{root}, path[:len(path)-1]...), ".")
			if f := eventFields().byPath[base]; f != nil && f.kind == kindMap {
				m, err := lw.lowerChainTo(root, path[:len(path)-1])
				if err != nil {
					return lval{}, err
				}
				key := path[len(path)-1]
				return lval{k: lkStr, s: func(c *evalCtx) string { return m.m(c)[key] }}, nil
			}
		}
		return lval{}, noLower("member %s", full)
	}
	// .field inside a predicate
	if _, ok := x.Node.(*ast.PointerNode); ok && lw.itemTab != nil {
		prop, ok := x.Property.(*ast.StringNode)
		if !ok {
			return lval{}, noLower("item index")
		}
		f := lw.itemTab.byPath[prop.Value]
		if f == nil || f.kind != kindString {
			return lval{}, noLower("item field %s", prop.Value)
		}
		off := f.offset
		return lval{k: lkStr, s: func(c *evalCtx) string { return *(*string)(unsafe.Add(c.item, off)) }}, nil
	}
	base, err := lw.lower(x.Node)
	if err != nil {
		return lval{}, err
	}
	switch base.k {
	case lkMap:
		key, err := lw.lower(x.Property)
		if err != nil || key.k != lkStr {
			return lval{}, noLower("map key")
		}
		return lval{k: lkStr, s: func(c *evalCtx) string { return base.m(c)[key.s(c)] }}, nil
	}
	// changes[0].field: the element access is lowered by elementField.
	return lval{}, noLower("member of %T", x.Node)
}

// lowerChainTo lowers root.path (a map or slice field of the current event).
func (lw *lowerer) lowerChainTo(root string, path []string) (lval, error) {
	switch root {
	case "prev":
		return lw.field(refPrev, 0, strings.Join(path, "."))
	case "self":
		return lw.field(refCur, 0, strings.Join(path, "."))
	case "steps":
		if len(path) == 0 {
			return lval{}, noLower("steps")
		}
		i, ok := lw.steps[path[0]]
		if !ok {
			return lval{}, noLower("step")
		}
		return lw.field(refStep, i, strings.Join(path[1:], "."))
	}
	return lw.field(refCur, 0, strings.Join(append([]string{root}, path...), "."))
}

func (lw *lowerer) unary(x *ast.UnaryNode) (lval, error) {
	v, err := lw.lower(x.Node)
	if err != nil {
		return lval{}, err
	}
	switch x.Operator {
	case "!", "not":
		if v.k != lkBool {
			return lval{}, noLower("not of %d", v.k)
		}
		f := v.b
		return lval{k: lkBool, b: func(c *evalCtx) bool { return !f(c) }}, nil
	case "-":
		if v.k != lkNum {
			return lval{}, noLower("negate")
		}
		f := v.n
		return lval{k: lkNum, n: func(c *evalCtx) float64 { return -f(c) }}, nil
	case "+":
		if v.k == lkNum {
			return v, nil
		}
	}
	return lval{}, noLower("unary %s", x.Operator)
}

func (lw *lowerer) conditional(x *ast.ConditionalNode) (lval, error) {
	cond, err := lw.lower(x.Cond)
	if err != nil || cond.k != lkBool {
		return lval{}, noLower("conditional")
	}
	a, err1 := lw.lower(x.Exp1)
	b, err2 := lw.lower(x.Exp2)
	if err1 != nil || err2 != nil || a.k != b.k {
		return lval{}, noLower("conditional branches")
	}
	cf := cond.b
	switch a.k {
	case lkBool:
		return lval{k: lkBool, b: func(c *evalCtx) bool {
			if cf(c) {
				return a.b(c)
			}
			return b.b(c)
		}}, nil
	case lkStr:
		return lval{k: lkStr, s: func(c *evalCtx) string {
			if cf(c) {
				return a.s(c)
			}
			return b.s(c)
		}}, nil
	case lkNum:
		return lval{k: lkNum, n: func(c *evalCtx) float64 {
			if cf(c) {
				return a.n(c)
			}
			return b.n(c)
		}}, nil
	}
	return lval{}, noLower("conditional of kind %d", a.k)
}

func (lw *lowerer) binary(x *ast.BinaryNode) (lval, error) {
	op := x.Operator
	if op == "in" || op == "not in" {
		v, err := lw.in(x)
		if err != nil {
			return lval{}, err
		}
		if op == "not in" {
			f := v.b
			return lval{k: lkBool, b: func(c *evalCtx) bool { return !f(c) }}, nil
		}
		return v, nil
	}
	if op == "matches" {
		return lw.matches(x)
	}
	l, err := lw.lower(x.Left)
	if err != nil {
		return lval{}, err
	}
	r, err := lw.lower(x.Right)
	if err != nil {
		return lval{}, err
	}
	switch op {
	case "&&", "and":
		if l.k != lkBool || r.k != lkBool {
			return lval{}, noLower("and")
		}
		a, b := l.b, r.b
		return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) && b(c) }}, nil
	case "||", "or":
		if l.k != lkBool || r.k != lkBool {
			return lval{}, noLower("or")
		}
		a, b := l.b, r.b
		return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) || b(c) }}, nil
	case "==", "!=":
		eq, err := lw.equal(l, r)
		if err != nil {
			return lval{}, err
		}
		if op == "!=" {
			f := eq
			eq = func(c *evalCtx) bool { return !f(c) }
		}
		return lval{k: lkBool, b: eq}, nil
	case "<", "<=", ">", ">=":
		return compare(op, l, r)
	case "contains", "startsWith", "endsWith":
		if l.k != lkStr || r.k != lkStr {
			return lval{}, noLower("%s", op)
		}
		a, b := l.s, r.s
		switch op {
		case "contains":
			if r.konst {
				k := r.cs
				return lval{k: lkBool, b: func(c *evalCtx) bool { return strings.Contains(a(c), k) }}, nil
			}
			return lval{k: lkBool, b: func(c *evalCtx) bool { return strings.Contains(a(c), b(c)) }}, nil
		case "startsWith":
			return lval{k: lkBool, b: func(c *evalCtx) bool { return strings.HasPrefix(a(c), b(c)) }}, nil
		default:
			return lval{k: lkBool, b: func(c *evalCtx) bool { return strings.HasSuffix(a(c), b(c)) }}, nil
		}
	case "+":
		if l.k == lkNum && r.k == lkNum {
			a, b := l.n, r.n
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return a(c) + b(c) }}, nil
		}
		if l.k == lkStr && r.k == lkStr {
			a, b := l.s, r.s
			return lval{k: lkStr, s: func(c *evalCtx) string { return a(c) + b(c) }}, nil
		}
	case "-":
		if l.k == lkNum && r.k == lkNum {
			a, b := l.n, r.n
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return a(c) - b(c) }}, nil
		}
		if l.k == lkTime && r.k == lkTime {
			a, b := l.t, r.t
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return float64(a(c) - b(c)) }}, nil
		}
	case "*":
		if l.k == lkNum && r.k == lkNum {
			a, b := l.n, r.n
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return a(c) * b(c) }}, nil
		}
	case "/":
		if l.k == lkNum && r.k == lkNum {
			a, b := l.n, r.n
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return a(c) / b(c) }}, nil
		}
	}
	return lval{}, noLower("operator %s on %d, %d", op, l.k, r.k)
}

func (lw *lowerer) equal(l, r lval) (func(*evalCtx) bool, error) {
	if l.k == lkNil && r.k == lkRef {
		l, r = r, l
	}
	switch {
	case l.k == lkStr && r.k == lkStr:
		a, b := l.s, r.s
		if r.konst {
			k := r.cs
			return func(c *evalCtx) bool { return a(c) == k }, nil
		}
		if l.konst {
			k := l.cs
			return func(c *evalCtx) bool { return b(c) == k }, nil
		}
		return func(c *evalCtx) bool { return a(c) == b(c) }, nil
	case l.k == lkNum && r.k == lkNum:
		a, b := l.n, r.n
		if r.konst {
			k := r.cn
			return func(c *evalCtx) bool { return a(c) == k }, nil
		}
		return func(c *evalCtx) bool { return a(c) == b(c) }, nil
	case l.k == lkBool && r.k == lkBool:
		a, b := l.b, r.b
		return func(c *evalCtx) bool { return a(c) == b(c) }, nil
	case l.k == lkTime && r.k == lkTime:
		a, b := l.t, r.t
		return func(c *evalCtx) bool { return a(c) == b(c) }, nil
	case l.k == lkRef && r.k == lkNil:
		switch l.ref {
		case refPrev:
			return func(c *evalCtx) bool { return c.prev == nil }, nil
		case refStep:
			i := l.step
			return func(c *evalCtx) bool { return i >= len(c.steps) || c.steps[i] == nil }, nil
		default:
			return func(*evalCtx) bool { return false }, nil
		}
	}
	return nil, noLower("== on %d, %d", l.k, r.k)
}

func compare(op string, l, r lval) (lval, error) {
	var lt func(c *evalCtx) (less, equal bool)
	switch {
	case l.k == lkNum && r.k == lkNum:
		a, b := l.n, r.n
		if r.konst {
			k := r.cn
			switch op {
			case ">=":
				return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) >= k }}, nil
			case ">":
				return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) > k }}, nil
			case "<":
				return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) < k }}, nil
			case "<=":
				return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) <= k }}, nil
			}
		}
		switch op {
		case ">=":
			return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) >= b(c) }}, nil
		case ">":
			return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) > b(c) }}, nil
		case "<":
			return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) < b(c) }}, nil
		case "<=":
			return lval{k: lkBool, b: func(c *evalCtx) bool { return a(c) <= b(c) }}, nil
		}
	case l.k == lkStr && r.k == lkStr:
		a, b := l.s, r.s
		lt = func(c *evalCtx) (bool, bool) { x, y := a(c), b(c); return x < y, x == y }
	case l.k == lkTime && r.k == lkTime:
		a, b := l.t, r.t
		lt = func(c *evalCtx) (bool, bool) { x, y := a(c), b(c); return x < y, x == y }
	default:
		return lval{}, noLower("compare %d, %d", l.k, r.k)
	}
	switch op {
	case "<":
		return lval{k: lkBool, b: func(c *evalCtx) bool { l, _ := lt(c); return l }}, nil
	case "<=":
		return lval{k: lkBool, b: func(c *evalCtx) bool { l, e := lt(c); return l || e }}, nil
	case ">":
		return lval{k: lkBool, b: func(c *evalCtx) bool { l, e := lt(c); return !l && !e }}, nil
	default:
		return lval{k: lkBool, b: func(c *evalCtx) bool { l, _ := lt(c); return !l }}, nil
	}
}

func (lw *lowerer) in(x *ast.BinaryNode) (lval, error) {
	l, err := lw.lower(x.Left)
	if err != nil {
		return lval{}, err
	}
	// A literal array of constants.
	if arr, ok := x.Right.(*ast.ArrayNode); ok {
		strs := map[string]struct{}{}
		nums := map[float64]struct{}{}
		for _, el := range arr.Nodes {
			v, err := lw.lower(el)
			if err != nil || !v.konst {
				return lval{}, noLower("in non-constant array")
			}
			switch v.k {
			case lkStr:
				strs[v.cs] = struct{}{}
			case lkNum:
				nums[v.cn] = struct{}{}
			default:
				return lval{}, noLower("in array of %d", v.k)
			}
		}
		switch {
		case l.k == lkStr && len(nums) == 0:
			f := l.s
			return lval{k: lkBool, b: func(c *evalCtx) bool { _, ok := strs[f(c)]; return ok }}, nil
		case l.k == lkNum && len(strs) == 0:
			f := l.n
			return lval{k: lkBool, b: func(c *evalCtx) bool { _, ok := nums[f(c)]; return ok }}, nil
		}
		return lval{}, noLower("in mixed array")
	}
	r, err := lw.lower(x.Right)
	if err != nil {
		return lval{}, err
	}
	switch {
	case l.k == lkStr && r.set != nil:
		f, set := l.s, r.set
		return lval{k: lkBool, b: func(c *evalCtx) bool { _, ok := set[f(c)]; return ok }}, nil
	case l.k == lkStr && r.k == lkMap:
		f, m := l.s, r.m
		return lval{k: lkBool, b: func(c *evalCtx) bool { _, ok := m(c)[f(c)]; return ok }}, nil
	case l.k == lkStr && r.k == lkList:
		f, lst := l.s, r.l
		return lval{k: lkBool, b: func(c *evalCtx) bool {
			v := f(c)
			for _, s := range lst(c) {
				if s == v {
					return true
				}
			}
			return false
		}}, nil
	}
	return lval{}, noLower("in on %d, %d", l.k, r.k)
}

func (lw *lowerer) matches(x *ast.BinaryNode) (lval, error) {
	l, err := lw.lower(x.Left)
	if err != nil || l.k != lkStr {
		return lval{}, noLower("matches")
	}
	var pat string
	switch r := x.Right.(type) {
	case *ast.StringNode:
		pat = r.Value
	case *ast.ConstantNode:
		s, ok := r.Value.(string)
		if !ok {
			return lval{}, noLower("matches non-string")
		}
		pat = s
	default:
		return lval{}, noLower("matches non-constant")
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return lval{}, err
	}
	f := l.s
	if lits, fold, ok := literalAlternation(pat); ok {
		// "(?i)(python|curl|wget)": an unanchored match of literals is a
		// substring search, without the regexp machine.
		return lval{k: lkBool, b: func(c *evalCtx) bool {
			s := f(c)
			if fold && !isASCII(s) {
				return re.MatchString(s) // Unicode case folding: let regexp decide
			}
			for _, lit := range lits {
				if fold && indexFoldASCII(s, lit) || !fold && strings.Contains(s, lit) {
					return true
				}
			}
			return false
		}}, nil
	}
	return lval{k: lkBool, b: func(c *evalCtx) bool { return re.MatchString(f(c)) }}, nil
}

// literalAlternation recognises patterns made of literal alternatives, with
// an optional (?i) and one optional group: "(?i)(python|curl)", "a|b\\.c".
func literalAlternation(pat string) (lits []string, fold bool, ok bool) {
	p := pat
	if rest, cut := strings.CutPrefix(p, "(?i)"); cut {
		p, fold = rest, true
	}
	if strings.HasPrefix(p, "(?:") && strings.HasSuffix(p, ")") {
		p = p[3 : len(p)-1]
	} else if strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")") {
		p = p[1 : len(p)-1]
	}
	if p == "" {
		return nil, false, false
	}
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '|':
			if cur.Len() == 0 {
				return nil, false, false
			}
			lits = append(lits, cur.String())
			cur.Reset()
		case ch == '\\':
			if i+1 >= len(p) || !strings.ContainsRune(".-/+*?()[]{}|^$\\ ", rune(p[i+1])) {
				return nil, false, false
			}
			i++
			cur.WriteByte(p[i])
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-' || ch == '/' || ch == ' ' || ch == '@' || ch == ':' || ch == '=' || ch == ',':
			cur.WriteByte(ch)
		default:
			return nil, false, false
		}
	}
	if cur.Len() == 0 {
		return nil, false, false
	}
	lits = append(lits, cur.String())
	if fold {
		for i, l := range lits {
			lits[i] = strings.ToLower(l)
		}
	}
	return lits, fold, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// indexFoldASCII says whether s contains lit (lower-case ASCII), ignoring
// ASCII case. Non-ASCII bytes compare exactly; (?i) regexps also fold
// non-ASCII letters, so the lowered form is only used for ASCII literals,
// where the two agree.
func indexFoldASCII(s, lit string) bool {
	n := len(lit)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lit[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

func (lw *lowerer) builtin(x *ast.BuiltinNode) (lval, error) {
	switch x.Name {
	case "len":
		if len(x.Arguments) != 1 {
			break
		}
		v, err := lw.lower(x.Arguments[0])
		if err != nil {
			return lval{}, err
		}
		switch v.k {
		case lkStr:
			f := v.s
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return float64(utf8.RuneCountInString(f(c))) }}, nil
		case lkItems:
			f := v.items
			return lval{k: lkNum, n: func(c *evalCtx) float64 { _, n := f(c); return float64(n) }}, nil
		case lkList:
			f := v.l
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return float64(len(f(c))) }}, nil
		case lkMap:
			f := v.m
			return lval{k: lkNum, n: func(c *evalCtx) float64 { return float64(len(f(c))) }}, nil
		}
	case "lower", "upper", "trim":
		if len(x.Arguments) != 1 {
			break
		}
		v, err := lw.lower(x.Arguments[0])
		if err != nil || v.k != lkStr {
			break
		}
		f := v.s
		switch x.Name {
		case "lower":
			return lval{k: lkStr, s: func(c *evalCtx) string { return strings.ToLower(f(c)) }}, nil
		case "upper":
			return lval{k: lkStr, s: func(c *evalCtx) string { return strings.ToUpper(f(c)) }}, nil
		default:
			return lval{k: lkStr, s: func(c *evalCtx) string { return strings.TrimSpace(f(c)) }}, nil
		}
	case "any", "all", "none", "one", "count":
		if len(x.Arguments) != 2 {
			break
		}
		coll, err := lw.lower(x.Arguments[0])
		if err != nil || coll.k != lkItems {
			break
		}
		pn, ok := x.Arguments[1].(*ast.PredicateNode)
		if !ok {
			break
		}
		saved := lw.itemTab
		lw.itemTab = coll.itemT
		pred, err := lw.lower(pn.Node)
		lw.itemTab = saved
		if err != nil || pred.k != lkBool {
			break
		}
		return predicateLoop(x.Name, coll, pred.b), nil
	}
	return lval{}, noLower("builtin %s", x.Name)
}

// predicateLoop evaluates a predicate over changes or related.
func predicateLoop(name string, coll lval, pred func(*evalCtx) bool) lval {
	items, size := coll.items, coll.itemZ
	run := func(c *evalCtx) (hits, n int, stopAt int) {
		p, n := items(c)
		saved := c.item
		defer func() { c.item = saved }()
		for i := 0; i < n; i++ {
			c.item = unsafe.Add(p, uintptr(i)*size)
			if pred(c) {
				hits++
				if name == "any" || name == "none" {
					return hits, n, i
				}
				if name == "one" && hits > 1 {
					return hits, n, i
				}
			} else if name == "all" {
				return hits, n, i
			}
		}
		return hits, n, n
	}
	switch name {
	case "any":
		return lval{k: lkBool, b: func(c *evalCtx) bool { h, _, _ := run(c); return h > 0 }}
	case "none":
		return lval{k: lkBool, b: func(c *evalCtx) bool { h, _, _ := run(c); return h == 0 }}
	case "all":
		return lval{k: lkBool, b: func(c *evalCtx) bool { h, n, _ := run(c); return h == n }}
	case "one":
		return lval{k: lkBool, b: func(c *evalCtx) bool { h, _, _ := run(c); return h == 1 }}
	default:
		return lval{k: lkNum, n: func(c *evalCtx) float64 { h, _, _ := run(c); return float64(h) }}
	}
}

func (lw *lowerer) call(x *ast.CallNode) (lval, error) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok {
		return lval{}, noLower("call")
	}
	args := x.Arguments
	switch id.Value {
	case "in_cidr":
		ip, err := lw.lower(args[0])
		if err != nil || ip.k != lkStr {
			return lval{}, noLower("in_cidr address")
		}
		all := &cidrList{}
		for _, a := range args[1:] {
			c, ok := a.(*ast.ConstantNode)
			if !ok {
				return lval{}, noLower("in_cidr network")
			}
			cl, ok := c.Value.(*cidrList)
			if !ok {
				return lval{}, noLower("in_cidr network")
			}
			all.prefixes = append(all.prefixes, cl.prefixes...)
		}
		f := ip.s
		return lval{k: lkBool, b: func(c *evalCtx) bool { return all.contains(f(c)) }}, nil
	case "is_private_ip":
		ip, err := lw.lower(args[0])
		if err != nil || ip.k != lkStr {
			return lval{}, noLower("is_private_ip")
		}
		f := ip.s
		return lval{k: lkBool, b: func(c *evalCtx) bool { return isPrivateIP(f(c)) }}, nil
	case "geo_distance_km":
		var fs [4]func(*evalCtx) float64
		for i := range 4 {
			v, err := lw.lower(args[i])
			if err != nil || v.k != lkNum {
				return lval{}, noLower("geo_distance_km")
			}
			fs[i] = v.n
		}
		return lval{k: lkNum, n: func(c *evalCtx) float64 { return haversineKm(fs[0](c), fs[1](c), fs[2](c), fs[3](c)) }}, nil
	case "distance_km", "speed_kmh":
		a, err1 := lw.geoOf(args[0])
		b, err2 := lw.geoOf(args[1])
		if err1 != nil || err2 != nil {
			return lval{}, noLower("geo of non-event")
		}
		if id.Value == "distance_km" {
			return lval{k: lkNum, n: func(c *evalCtx) float64 {
				ga, gb := a(c), b(c)
				if !ga.has || !gb.has {
					return 0
				}
				return haversineKm(ga.lat, ga.lon, gb.lat, gb.lon)
			}}, nil
		}
		return lval{k: lkNum, n: func(c *evalCtx) float64 {
			ga, gb := a(c), b(c)
			if !ga.has || !gb.has {
				return 0
			}
			return speedKmh(haversineKm(ga.lat, ga.lon, gb.lat, gb.lon), ga.ts, gb.ts)
		}}, nil
	case "business_hours":
		return lval{k: lkBool, b: func(c *evalCtx) bool { return c.businessHours() }}, nil
	case "off_hours":
		return lval{k: lkBool, b: func(c *evalCtx) bool { return !c.businessHours() }}, nil
	case "is_weekend":
		return lval{k: lkBool, b: func(c *evalCtx) bool { return isWeekend(c.localTime()) }}, nil
	case "is_holiday":
		return lval{k: lkBool, b: func(c *evalCtx) bool { return c.isHoliday() }}, nil
	case "local_hour":
		return lval{k: lkNum, n: func(c *evalCtx) float64 { return float64(c.localTime().Hour()) }}, nil
	case "local_weekday":
		return lval{k: lkStr, s: func(c *evalCtx) string { return weekdayNames[c.localTime().Weekday()] }}, nil
	case "changed":
		names := changedNames(args[1:])
		if names == nil {
			return lval{}, noLower("changed args")
		}
		return lval{k: lkBool, b: func(c *evalCtx) bool { return changedIn(c.changes(), names) }}, nil
	case "shadow_data":
		return lval{k: lkList, l: func(c *evalCtx) []string { return shadow.Kinds(c.shadowHits()) }}, nil
	case "shadow_fields":
		return lval{k: lkList, l: func(c *evalCtx) []string { return shadow.Fields(c.shadowHits()) }}, nil
	case "shadow_samples":
		return lval{k: lkList, l: func(c *evalCtx) []string { return shadow.Samples(c.shadowHits()) }}, nil
	}
	return lval{}, noLower("function %s", id.Value)
}

// changedNames reads changed()'s constant arguments.
func changedNames(args []ast.Node) []string {
	var names []string
	for _, a := range args {
		switch v := a.(type) {
		case *ast.StringNode:
			names = append(names, v.Value)
		case *ast.ConstantNode:
			switch s := v.Value.(type) {
			case strSet:
				names = append(names, setKeys(s)...)
			case foldSet:
				names = append(names, setKeys(s)...)
			case string:
				names = append(names, s)
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return names
}

// changedIn says whether any change is to one of names, ignoring case.
func changedIn(changes []event.Change, names []string) bool {
	for i := range changes {
		for _, n := range names {
			if strings.EqualFold(changes[i].Field, n) {
				return true
			}
		}
	}
	return false
}

type geoPoint struct {
	lat, lon float64
	has      bool
	ts       int64
}

// geoOf lowers an event reference to a reader of its coordinates and time.
func (lw *lowerer) geoOf(n ast.Node) (func(*evalCtx) geoPoint, error) {
	v, err := lw.lower(n)
	if err != nil || v.k != lkRef {
		return nil, noLower("geo reference")
	}
	lat, err1 := lw.field(v.ref, v.step, "client.geo.lat")
	lon, err2 := lw.field(v.ref, v.step, "client.geo.lon")
	has, err3 := lw.field(v.ref, v.step, "client.geo.has_coords")
	ts, err4 := lw.field(v.ref, v.step, "timestamp")
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return nil, noLower("geo fields not projected")
	}
	return func(c *evalCtx) geoPoint {
		return geoPoint{lat: lat.n(c), lon: lon.n(c), has: has.b(c), ts: ts.t(c)}
	}, nil
}
