package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// compiled is one variant of a rule, ready to run: every expression
// type-checked and lowered, durations resolved, and the projection its recs
// keep.
type compiled struct {
	rule     *Rule
	kind     Kind
	params   map[string]any
	filter   *cexpr // nil: every event (sequences without a shared filter)
	groupBy  []*cexpr
	group    []string // the group_by items as written, the keys of alert.group
	window   int64
	aggs     []*aggSpec
	accNums  int // numbers and distinct sets in the window's accumulators
	accSets  int
	named    []*cexpr
	namedIdx []string
	cond     *cexpr // nil: always
	steps    []*cstep
	within   int64
	nvField  *cexpr
	nvAlso   *cexpr // new_value.also_new: must be new too
	history  int64
	minHist  int64
	previous int64
	suppress int64
	summary  *template
	values   []*cexpr
	valueIdx []string
	actions  []*caction
	proj     *projection
	route    []routePair
	used     map[string]bool // lists used
	// stateKey identifies the shape of the state the variant keeps; state
	// carries over a reload only between variants with the same stateKey.
	stateKey string
	// fingerprint identifies everything that decides the variant's outputs.
	fingerprint string
}

type cstep struct {
	name   string
	filter *cexpr
	where  *cexpr
}

type caction struct {
	typ    string
	mode   string
	target *cexpr
	// targetName and targetType read the target account's login name and
	// user type when the target is an account of an event the rule sees
	// (user.id, target_user.id, prev.user.id, steps.x.user.id); nil when
	// the event does not say.
	targetName, targetType *cexpr
}

// accountTarget matches action targets that name an event's account: an
// optional prev. or steps.NAME. prefix, then user.id or target_user.id.
var accountTarget = regexp.MustCompile(`^((?:prev|steps\.[A-Za-z_][A-Za-z0-9_]*)\.)?(user|target_user)\.id$`)

// Limits on durations, so one rule cannot ask for unbounded state.
const (
	maxWindow  = 31 * Day
	maxHistory = 400 * Day
)

// compileRule compiles one variant of r with the given parameter values and
// list items.
func compileRule(r *Rule, params map[string]any, lists map[string]*List, listItems map[string][]string, where string) (*compiled, LoadErrors) {
	ec := &exprCompiler{
		rule: r, params: params, paramDefs: map[string]*Param{}, lists: lists,
		listVals: map[string]any{}, usedLists: map[string]bool{}, named: map[string]*cexpr{},
		paths: map[string]bool{}, where: where,
	}
	for _, p := range r.Params {
		ec.paramDefs[p.Name] = p
	}
	for name, l := range lists {
		items := l.Items
		if it, ok := listItems[name]; ok {
			items = it
		}
		v, err := compileList(l, items)
		if err != nil {
			ec.errs = append(ec.errs, &LoadError{File: l.File, Line: l.Line, Msg: fmt.Sprintf("list %s: %s (%s)", name, err.Error(), where)})
			continue
		}
		ec.listVals[name] = v
	}
	c := &compiled{rule: r, kind: r.Kind(), params: params}
	dur := func(ds *DurationSpec, what string, required bool, max time.Duration) int64 {
		if ds == nil {
			return 0
		}
		d, err := durationOf(ds, params)
		src := &Source{File: r.File, Line: ds.Line, Column: ds.Column}
		if err != nil {
			ec.errAt(src, 0, "%s: %s", what, err.Error())
			return 0
		}
		if required && d <= 0 {
			ec.errAt(src, 0, "%s must be longer than zero", what)
		}
		if d > max {
			ec.errAt(src, 0, "%s of %s is longer than the limit of %s", what, FormatDuration(d), FormatDuration(max))
		}
		return int64(d)
	}
	c.window = dur(r.Window, "window", true, maxWindow)
	if r.Sequence != nil {
		c.within = dur(r.Sequence.Within, "sequence.within", true, maxWindow)
	}
	if r.NewValue != nil {
		c.history = dur(r.NewValue.History, "new_value.history", true, maxHistory)
		c.minHist = dur(r.NewValue.MinHistory, "new_value.min_history", false, maxHistory)
	}
	c.previous = dur(r.Previous, "previous", true, maxHistory)
	c.suppress = dur(r.Suppress, "suppress", false, maxHistory)
	if r.Suppress == nil {
		// Window and sequence rules fire once per span per group unless told
		// otherwise; single-event rules fire on every event.
		switch c.kind {
		case KindWindow:
			c.suppress = c.window
		case KindSequence:
			c.suppress = c.within
		}
	}

	// Phase A: parse, rewrite, type-check, collect the fields recs keep.
	if r.Filter != nil {
		c.filter = ec.compile(r.Filter, r.Filter.Text, 0, &scope{what: "filter", boolean: true})
	}
	for _, g := range r.GroupBy {
		ce := ec.compile(g, g.Text, 0, &scope{what: "group_by"})
		if ce != nil {
			switch kindOfType(ce.typ) {
			case lkStr, lkNum, lkBool:
			default:
				ec.errAt(g, 0, "group_by: %q is a %s; group by strings, numbers or booleans", g.Text, ce.typ)
			}
		}
		c.groupBy = append(c.groupBy, ce)
		c.group = append(c.group, strings.TrimSpace(g.Text))
	}
	stores := c.kind == KindWindow || c.kind == KindSequence || c.kind == KindPrevious
	var stepNames []string
	condScope := &scope{what: "condition", boolean: true, curMayRec: stores}
	outScope := &scope{what: "summary", output: true, curMayRec: stores}
	switch c.kind {
	case KindWindow:
		var names []string
		for _, a := range r.Aggregates {
			sc := &scope{what: "aggregates." + a.Name, aggFuncs: true, aggNames: append([]string(nil), names...), curMayRec: true}
			ce := ec.compile(a.Expr, a.Expr.Text, 0, sc)
			if ce != nil {
				if k := kindOfType(ce.typ); k != lkNum && k != lkList {
					ec.errAt(a.Expr, 0, "aggregates.%s: an aggregate is a number or a list of values, got %s", a.Name, ce.typ)
				}
				ec.named[a.Name] = ce
				c.named = append(c.named, ce)
				c.namedIdx = append(c.namedIdx, a.Name)
				names = append(names, a.Name)
			}
		}
		condScope.aggFuncs, condScope.aggNames = true, names
		outScope.aggFuncs, outScope.aggNames = true, names
	case KindSequence:
		for _, st := range r.Sequence.Steps {
			cs := &cstep{name: st.Name}
			if st.Filter != nil {
				cs.filter = ec.compile(st.Filter, st.Filter.Text, 0, &scope{what: "step " + st.Name + " filter", boolean: true})
			}
			if st.Where != nil {
				cs.where = ec.compile(st.Where, st.Where.Text, 0, &scope{what: "step " + st.Name + " where", boolean: true, steps: append([]string(nil), stepNames...), curMayRec: true})
			}
			c.steps = append(c.steps, cs)
			stepNames = append(stepNames, st.Name)
		}
		condScope.steps = stepNames
		outScope.steps = stepNames
	case KindNewValue:
		outScope.newValue = true
		c.nvField = ec.compile(r.NewValue.Field, r.NewValue.Field.Text, 0, &scope{what: "new_value.field"})
		if c.nvField != nil {
			if k := kindOfType(c.nvField.typ); k != lkStr && k != lkNum {
				ec.errAt(r.NewValue.Field, 0, "new_value.field must be a string or number, got %s", c.nvField.typ)
			}
		}
		if a := r.NewValue.AlsoNew; a != nil {
			c.nvAlso = ec.compile(a, a.Text, 0, &scope{what: "new_value.also_new"})
			if c.nvAlso != nil {
				if k := kindOfType(c.nvAlso.typ); k != lkStr && k != lkNum {
					ec.errAt(a, 0, "new_value.also_new must be a string or number, got %s", c.nvAlso.typ)
				}
			}
		}
	case KindPrevious:
		condScope.prev = true
		outScope.prev = true
	}
	if r.Condition != nil {
		// In window rules, aggregates may be written inline in the
		// condition too.
		c.cond = ec.compile(r.Condition, r.Condition.Text, 0, condScope)
	}
	valScope := *outScope
	valScope.what = "values"
	for _, v := range r.Values {
		sc := valScope
		sc.what = "values." + v.Name
		ce := ec.compile(v.Expr, v.Expr.Text, 0, &sc)
		c.values = append(c.values, ce)
		c.valueIdx = append(c.valueIdx, v.Name)
	}
	outScope.values = c.valueIdx
	if r.Summary != nil {
		c.summary = ec.compileTemplate(r.Summary, outScope)
	}
	for _, a := range r.Actions {
		ca := &caction{typ: a.Type, mode: a.Mode}
		src := a.Target
		if src == nil {
			src = &Source{Text: "user.id", File: r.File, Line: a.Line, Column: a.Column}
		}
		tsc := *outScope
		tsc.what = "action " + a.Type + " target"
		ca.target = ec.compile(src, src.Text, 0, &tsc)
		if ca.target != nil && kindOfType(ca.target.typ) != lkStr {
			ec.errAt(src, 0, "action %s: target must be a string (an account id), got %s", a.Type, ca.target.typ)
		}
		if m := accountTarget.FindStringSubmatch(strings.TrimSpace(src.Text)); ca.target != nil && m != nil {
			// The responder needs the account's login name and type to rule
			// out protected accounts; user.type exists for the acting
			// account only.
			nsc := tsc
			nsc.what = "action " + a.Type + " target name"
			ca.targetName = ec.compile(src, m[1]+m[2]+".name", 0, &nsc)
			if m[2] == "user" {
				ysc := tsc
				ysc.what = "action " + a.Type + " target type"
				ca.targetType = ec.compile(src, m[1]+"user.type", 0, &ysc)
			}
		}
		c.actions = append(c.actions, ca)
	}
	if len(ec.errs) > 0 {
		return nil, ec.errs
	}

	// The projection, with the aggregates' argument slots after it.
	c.aggs = ec.aggs
	c.proj = newProjection(ec.paths)
	c.accNums, c.accSets = accLayout(c.aggs, c.proj)
	c.proj.setShape()

	// Phase B: lower to closures, compile the fallback programs.
	lw := &lowerer{proj: c.proj, steps: map[string]int{}, named: ec.named, aggs: c.aggs}
	for i, n := range stepNames {
		lw.steps[n] = i
	}
	for _, ce := range ec.exprs {
		lw.curMayRec = ce.sc.curMayRec
		ec.finish(ce, lw)
	}
	if len(ec.errs) > 0 {
		return nil, ec.errs
	}

	// Routing: which (event.category, event.action) pairs can match.
	if c.kind == KindSequence {
		var top []routePair
		if c.filter != nil {
			top = c.filter.route
		} else {
			top = anyRoute
		}
		for _, s := range c.steps {
			c.route = unionRoutes(c.route, intersectRoutes(top, s.filter.route))
		}
	} else {
		c.route = c.filter.route
	}
	c.used = ec.usedLists
	c.stateKey, c.fingerprint = fingerprints(c)
	return c, ec.errs
}

// fingerprints hashes what decides a variant's state shape (stateKey) and
// everything that decides its outputs (fingerprint).
func fingerprints(c *compiled) (string, string) {
	r := c.rule
	var st strings.Builder
	fmt.Fprintf(&st, "kind=%s\ngroup=%q\nwindow=%d\nwithin=%d\nhistory=%d\nprevious=%d\nproj=%q\n", c.kind, c.group, c.window, c.within, c.history, c.previous, c.proj.paths())
	for _, a := range c.aggs {
		fmt.Fprintf(&st, "agg=%d:%s\n", a.kind, a.text)
	}
	for _, s := range c.steps {
		fmt.Fprintf(&st, "step=%s\n", s.name)
	}
	if c.nvField != nil {
		fmt.Fprintf(&st, "nv=%s\n", c.nvField.text)
	}
	if c.nvAlso != nil {
		fmt.Fprintf(&st, "nvalso=%s\n", c.nvAlso.text)
	}
	var all strings.Builder
	all.WriteString(st.String())
	fmt.Fprintf(&all, "id=%s\nversion=%s\ntitle=%s\nseverity=%s\ntags=%q\n", r.ID, r.Version, r.Title, r.Severity, r.Tags)
	srcs := []*Source{r.Filter, r.Condition, r.Summary}
	for _, g := range r.GroupBy {
		srcs = append(srcs, g)
	}
	for _, a := range r.Aggregates {
		srcs = append(srcs, a.Expr)
	}
	for _, v := range r.Values {
		srcs = append(srcs, v.Expr)
	}
	if r.Sequence != nil {
		for _, s := range r.Sequence.Steps {
			srcs = append(srcs, s.Filter, s.Where)
		}
	}
	for _, s := range srcs {
		if s != nil {
			fmt.Fprintf(&all, "src=%q\n", s.Text)
		}
	}
	keys := make([]string, 0, len(c.params))
	for k := range c.params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&all, "param=%s:%v\n", k, c.params[k])
	}
	fmt.Fprintf(&all, "minhist=%d\nsuppress=%d\n", c.minHist, c.suppress)
	for _, a := range c.actions {
		fmt.Fprintf(&all, "action=%s:%s:%s\n", a.typ, a.mode, a.target.text)
	}
	h1 := sha256.Sum256([]byte(st.String()))
	h2 := sha256.Sum256([]byte(all.String()))
	return hex.EncodeToString(h1[:12]), hex.EncodeToString(h2[:12])
}

// defaultParams returns the rule's parameter defaults.
func defaultParams(r *Rule) map[string]any {
	m := make(map[string]any, len(r.Params))
	for _, p := range r.Params {
		m[p.Name] = p.Default
	}
	return m
}
