package rulelint

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Conditions that can never be true. Each boolean expression is turned
// into a disjunction of conjunctions of comparisons between one side (a
// field, lower(field), an aggregate, an elapsed time) and constants
// (literals, parameters at their defaults, lists); what it cannot read
// counts as "may be true", so only definite contradictions are reported:
// two different values required of one field, a value required and
// excluded, an empty numeric range, a value outside a closed set
// (event.outcome == "failed"), lower(x) compared with capitals, a count
// above what a window keeps, a distinct count above the values that exist,
// an elapsed time longer than the state kept.

// closedSets are the fields whose values the contract fixes.
var closedSets = map[string][]string{
	"event.category":       event.Categories,
	"event.outcome":        event.Outcomes,
	"user.type":            append([]string{""}, event.UserTypes...),
	"client.access_method": append([]string{""}, event.AccessMethods...),
}

// countries is how many ISO 3166-1 alpha-2 codes there are.
const countries = 249

type constant struct {
	s     string
	num   float64
	isNum bool
}

// atom is one comparison: key op value(s).
type atom struct {
	key  string
	op   string // == != < <= > >= in
	vals []constant
	fold bool   // compared ignoring case (a list with ignore_case)
	text string // the comparison as written
}

type analyzer struct {
	r      *detect.Rule
	rs     *detect.RuleSet
	params map[string]any
	aggs   map[string]string // aggregate name → its expression's text
}

const maxTerms = 256

// always is a disjunction with one empty (always satisfiable) term.
var always = [][]atom{{}}

func (a *analyzer) dnf(n ast.Node, neg bool) [][]atom {
	switch x := n.(type) {
	case *ast.BoolNode:
		if x.Value != neg {
			return always
		}
		return [][]atom{}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			return a.dnf(x.Node, !neg)
		}
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and", "||", "or":
			and := x.Operator == "&&" || x.Operator == "and"
			if and != neg { // a conjunction
				return cross(a.dnf(x.Left, neg), a.dnf(x.Right, neg))
			}
			return union(a.dnf(x.Left, neg), a.dnf(x.Right, neg))
		case "==", "!=", "<", "<=", ">", ">=", "in", "not in":
			if at, ok := a.atom(x, neg); ok {
				return [][]atom{{at}}
			}
		}
	}
	return always
}

func cross(l, r [][]atom) [][]atom {
	if len(l)*len(r) > maxTerms {
		return always
	}
	out := make([][]atom, 0, len(l)*len(r))
	for _, a := range l {
		for _, b := range r {
			t := make([]atom, 0, len(a)+len(b))
			out = append(out, append(append(t, a...), b...))
		}
	}
	return out
}

func union(l, r [][]atom) [][]atom {
	if len(l)+len(r) > maxTerms {
		return always
	}
	return append(append([][]atom{}, l...), r...)
}

var negated = map[string]string{"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "in": "not in", "not in": "in"}
var mirrored = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// atom reads a comparison of a key with constants.
func (a *analyzer) atom(x *ast.BinaryNode, neg bool) (atom, bool) {
	op := x.Operator
	left, right := x.Left, x.Right
	vals, fold, ok := a.constants(right)
	if !ok && op != "in" && op != "not in" {
		if vals, fold, ok = a.constants(left); ok {
			left, op = right, mirrored[op]
		}
	}
	if !ok {
		return atom{}, false
	}
	key, ok := a.key(left)
	if !ok {
		return atom{}, false
	}
	if op != "in" && op != "not in" && len(vals) != 1 {
		return atom{}, false
	}
	if neg {
		op = negated[op]
	}
	return atom{key: key, op: op, vals: vals, fold: fold, text: x.String()}, true
}

// key names the compared side: a field path, lower/upper of one, an
// aggregate, or an elapsed time; false for anything else.
func (a *analyzer) key(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.MemberNode, *ast.ChainNode:
		if p, ok := memberPath(n); ok && p[0] != "params" && p[0] != "lists" {
			return strings.Join(p, "."), true
		}
	case *ast.IdentifierNode:
		if e, ok := a.aggs[x.Value]; ok {
			return "agg:" + e, true
		}
		switch x.Value {
		case "id", "timestamp", "tenant", "records", "has_records", "comment", "person":
			return x.Value, true
		}
	case *ast.BuiltinNode:
		if (x.Name == "lower" || x.Name == "upper") && len(x.Arguments) == 1 {
			if k, ok := a.key(x.Arguments[0]); ok && !strings.HasPrefix(k, "agg:") {
				return x.Name + "(" + k + ")", true
			}
		}
		if isAggregate(x.Name) {
			return "agg:" + x.String(), true
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && isAggregate(id.Value) {
			return "agg:" + x.String(), true
		}
	case *ast.BinaryNode:
		if x.Operator == "-" {
			l, lok := memberPath(x.Left)
			r, rok := memberPath(x.Right)
			if id, isID := x.Left.(*ast.IdentifierNode); isID && id.Value == "timestamp" {
				l, lok = []string{"timestamp"}, true
			}
			if lok && rok && strings.Join(l, ".") == "timestamp" && strings.Join(r, ".") == "prev.timestamp" {
				return "elapsed", true
			}
		}
	}
	return "", false
}

func isAggregate(name string) bool {
	switch name {
	case "count", "count_distinct", "sum", "min", "max", "avg":
		return true
	}
	return false
}

// memberPath reads a.b.c.
func memberPath(n ast.Node) ([]string, bool) {
	var path []string
	for {
		switch x := n.(type) {
		case *ast.IdentifierNode:
			path = append(path, x.Value)
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return path, true
		case *ast.MemberNode:
			s, ok := x.Property.(*ast.StringNode)
			if !ok {
				return nil, false
			}
			path = append(path, s.Value)
			n = x.Node
		case *ast.ChainNode:
			n = x.Node
		default:
			return nil, false
		}
	}
}

// constants reads literals, parameters (at their defaults), lists and
// duration("…").
func (a *analyzer) constants(n ast.Node) ([]constant, bool, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return []constant{{s: x.Value}}, false, true
	case *ast.IntegerNode:
		return []constant{num(float64(x.Value))}, false, true
	case *ast.FloatNode:
		return []constant{num(x.Value)}, false, true
	case *ast.UnaryNode:
		if x.Operator == "-" {
			if c, f, ok := a.constants(x.Node); ok && len(c) == 1 && c[0].isNum {
				return []constant{num(-c[0].num)}, f, true
			}
		}
	case *ast.ArrayNode:
		var out []constant
		for _, e := range x.Nodes {
			c, _, ok := a.constants(e)
			if !ok || len(c) != 1 {
				return nil, false, false
			}
			out = append(out, c[0])
		}
		return out, false, true
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == "duration" && len(x.Arguments) == 1 {
			if s, ok := x.Arguments[0].(*ast.StringNode); ok {
				if d, err := detect.ParseDuration(s.Value); err == nil {
					return []constant{num(float64(d))}, false, true
				}
			}
		}
	case *ast.MemberNode:
		p, ok := memberPath(x)
		if !ok || len(p) != 2 {
			break
		}
		switch p[0] {
		case "params":
			switch v := a.params[p[1]].(type) {
			case int:
				return []constant{num(float64(v))}, false, true
			case float64:
				return []constant{num(v)}, false, true
			case string:
				return []constant{{s: v}}, false, true
			case time.Duration:
				return []constant{num(float64(v))}, false, true
			case []string:
				out := make([]constant, len(v))
				for i, s := range v {
					out[i] = constant{s: s}
				}
				return out, false, true
			}
		case "lists":
			li := a.rs.Lists[p[1]]
			if li == nil || li.Type == detect.ListCIDRs {
				break
			}
			out := make([]constant, len(li.Items))
			for i, s := range li.Items {
				out[i] = constant{s: s}
			}
			return out, li.IgnoreCase, true
		}
	}
	return nil, false, false
}

func num(f float64) constant {
	return constant{num: f, isNum: true, s: strconv.FormatFloat(f, 'g', -1, 64)}
}

// unsat says why a conjunction can never hold ("" when it may).
func (a *analyzer) unsat(term []atom, maxWindow int, span time.Duration) string {
	byKey := map[string][]atom{}
	var keys []string
	for _, at := range term {
		if _, ok := byKey[at.key]; !ok {
			keys = append(keys, at.key)
		}
		byKey[at.key] = append(byKey[at.key], at)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if why := a.unsatKey(k, byKey[k], maxWindow, span); why != "" {
			return why
		}
	}
	return ""
}

func (a *analyzer) unsatKey(key string, atoms []atom, maxWindow int, span time.Duration) string {
	fold := false
	for _, at := range atoms {
		fold = fold || at.fold
	}
	canon := func(c constant) string {
		if fold && !c.isNum {
			return strings.ToLower(c.s)
		}
		return c.s
	}
	var allowed map[string]bool // nil: anything
	var allowedFrom string
	excluded := map[string]string{}
	lo, hi := -inf, inf
	loIn, hiIn := true, true
	var loText, hiText string
	for _, at := range atoms {
		switch at.op {
		case "==", "in":
			set := map[string]bool{}
			for _, v := range at.vals {
				set[canon(v)] = true
			}
			if allowed == nil {
				allowed, allowedFrom = set, at.text
			} else {
				for v := range allowed {
					if !set[v] {
						delete(allowed, v)
					}
				}
				if len(allowed) == 0 {
					return fmt.Sprintf("%s contradicts %s", at.text, allowedFrom)
				}
			}
			if at.op == "==" && at.vals[0].isNum {
				if v := at.vals[0].num; v > lo || (v == lo && !loIn) {
					lo, loIn, loText = v, true, at.text
				}
				if v := at.vals[0].num; v < hi || (v == hi && !hiIn) {
					hi, hiIn, hiText = v, true, at.text
				}
			}
		case "!=", "not in":
			for _, v := range at.vals {
				excluded[canon(v)] = at.text
			}
		case "<", "<=", ">", ">=":
			v := at.vals[0]
			if !v.isNum {
				continue
			}
			switch at.op {
			case ">", ">=":
				if v.num > lo || (v.num == lo && at.op == ">") {
					lo, loIn, loText = v.num, at.op == ">=", at.text
				}
			default:
				if v.num < hi || (v.num == hi && at.op == "<") {
					hi, hiIn, hiText = v.num, at.op == "<=", at.text
				}
			}
		}
	}
	if allowed != nil {
		left := 0
		var lastEx string
		for v := range allowed {
			if ex, ok := excluded[v]; ok {
				lastEx = ex
				continue
			}
			left++
		}
		if left == 0 {
			return fmt.Sprintf("%s contradicts %s", lastEx, allowedFrom)
		}
	}
	if lo > hi || (lo == hi && !(loIn && hiIn)) {
		return fmt.Sprintf("%s contradicts %s", loText, hiText)
	}
	// closed sets
	field, fn := key, ""
	if i := strings.Index(key, "("); i > 0 && strings.HasSuffix(key, ")") && !strings.HasPrefix(key, "agg:") {
		fn, field = key[:i], key[i+1:len(key)-1]
	}
	if allowed != nil && (fn == "lower" || fn == "upper") {
		ok := false
		for v := range allowed {
			if (fn == "lower" && v == strings.ToLower(v)) || (fn == "upper" && v == strings.ToUpper(v)) {
				ok = true
			}
		}
		if !ok {
			return fmt.Sprintf("%s(%s) is compared with %s, which it can never equal", fn, field, allowedFrom)
		}
	}
	if set, closed := closedSets[field]; closed && fn == "" && allowed == nil && len(excluded) > 0 {
		left := false
		var ex string
		for _, v := range set {
			if e, ok := excluded[canon(constant{s: v})]; ok {
				ex = e
			} else {
				left = true
			}
		}
		if !left {
			return fmt.Sprintf("%s excludes every value of %s", ex, field)
		}
	}
	if set, closed := closedSets[field]; closed && fn == "" && allowed != nil {
		ok := false
		for v := range allowed {
			ok = ok || containsFold(set, v, fold)
		}
		if !ok {
			return fmt.Sprintf("%s can never hold: %s is one of %s", allowedFrom, field, strings.Join(nonEmpty(set), ", "))
		}
	}
	// aggregates
	if agg := strings.TrimPrefix(key, "agg:"); agg != key && lo > 0 {
		// counts are whole: > 3 means at least 4
		least := lo
		if !loIn {
			least = math.Floor(lo) + 1
		}
		switch {
		case (strings.HasPrefix(agg, "count(") || agg == "count()") && least > float64(maxWindow):
			return fmt.Sprintf("%s: a window keeps at most max_window_events (%d) events per group", loText, maxWindow)
		case strings.HasPrefix(agg, "count_distinct("):
			arg := strings.TrimSuffix(strings.TrimPrefix(agg, "count_distinct("), ")")
			limit := -1
			if set, ok := closedSets[arg]; ok {
				limit = len(nonEmpty(set))
			} else if arg == "client.geo.country" {
				limit = countries
			}
			if limit >= 0 && least > float64(limit) {
				return fmt.Sprintf("%s: %s has only %d values", loText, arg, limit)
			}
			if least > float64(maxWindow) {
				return fmt.Sprintf("%s: a window keeps at most max_window_events (%d) events per group", loText, maxWindow)
			}
		}
	}
	if key == "elapsed" && span > 0 && (lo > float64(span) || (lo == float64(span) && !loIn)) {
		return fmt.Sprintf("%s: prev is at most %s older (previous: %s)", loText, detect.FormatDuration(span), detect.FormatDuration(span))
	}
	return ""
}

const inf = 1e308

func containsFold(set []string, v string, fold bool) bool {
	for _, s := range set {
		if s == v || (fold && strings.EqualFold(s, v)) {
			return true
		}
	}
	return false
}

func nonEmpty(set []string) []string {
	var out []string
	for _, s := range set {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parse reads an expression as the loader does: the rule language's
// functions (count, sum, min, max, … take the language's arguments, not
// expr's builtins') are declared so the parser accepts them.
func parse(text string) (ast.Node, error) {
	cfg := conf.CreateNew()
	for _, name := range []string{"count", "count_distinct", "distinct", "sum", "min", "max", "avg", "in_cidr", "is_private_ip",
		"changed", "business_hours", "off_hours", "local_hour", "local_weekday", "is_weekend", "is_holiday",
		"distance_km", "speed_kmh", "geo_distance_km", "duration", "shadow_data", "shadow_fields", "shadow_samples"} {
		expr.Function(name, func(...any) (any, error) { return nil, nil })(cfg)
		delete(cfg.Builtins, name)
	}
	t, err := parser.ParseWithConfig(text, cfg)
	if err != nil {
		return nil, err
	}
	return t.Node, nil
}

// never reports filters, conditions and steps that can never be true.
func (l *linter) never(r *detect.Rule, rs *detect.RuleSet) {
	a := &analyzer{r: r, rs: rs, params: map[string]any{}, aggs: map[string]string{}}
	for _, p := range r.Params {
		a.params[p.Name] = p.Default
	}
	for _, ag := range r.Aggregates {
		if n, err := parse(ag.Expr.Text); err == nil {
			a.aggs[ag.Name] = n.String()
		}
	}
	var span time.Duration
	if r.Previous != nil {
		span = r.Previous.D
		if r.Previous.Param != "" {
			span, _ = a.params[r.Previous.Param].(time.Duration)
		}
	}
	check := func(s *detect.Source, what string) {
		if s == nil {
			return
		}
		n, err := parse(s.Text)
		if err != nil {
			return
		}
		terms := a.dnf(n, false)
		if len(terms) == 0 {
			l.srcFinding(r, s, Error, "never-fires", "%s is always false", what)
			return
		}
		first := ""
		for _, term := range terms {
			why := a.unsat(term, l.cfg.MaxWindowEvents, span)
			if why == "" {
				return
			}
			if first == "" {
				first = why
			}
		}
		l.srcFinding(r, s, Error, "never-fires", "%s can never be true: %s", what, first)
	}
	check(r.Filter, "filter")
	check(r.Condition, "condition")
	if r.Sequence != nil {
		for _, st := range r.Sequence.Steps {
			check(st.Filter, "step "+st.Name+" filter")
			check(st.Where, "step "+st.Name+" where")
		}
	}
}
