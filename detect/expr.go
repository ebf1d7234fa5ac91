package detect

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"net/netip"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// cexpr is one compiled expression: its checked tree, the closure the hot
// path runs (low) when the expression is within what the engine lowers,
// and the expr-lang program otherwise (prog).
type cexpr struct {
	src  *Source
	text string
	base int // rune offset of text within src.Text (templates hold several)
	sc   *scope
	tree *parser.Tree
	cfg  *conf.Config
	env  *envLayout
	typ  reflect.Type
	prog *vm.Program
	low  *lval
	// route holds the (category, action) pairs a boolean expression can
	// match, read before the optimizer rewrites the tree.
	route []routePair
}

// foldSet is a string list compared ignoring case (its items are lower-case;
// the loader lower-cases the left side of `in`).
type foldSet map[string]struct{}

// exprCompiler compiles a rule's expressions for one variant (one set of
// parameter and list values).
type exprCompiler struct {
	rule      *Rule
	params    map[string]any
	paramDefs map[string]*Param
	lists     map[string]*List
	listVals  map[string]any
	usedLists map[string]bool
	aggs      []*aggSpec
	named     map[string]*cexpr // named aggregates
	namedList []string
	valueList []string
	exprs     []*cexpr
	paths     map[string]bool // fields recs must keep
	errs      LoadErrors
	where     string // "" for the rule's defaults, else "tenant acme"
}

func (ec *exprCompiler) errAt(src *Source, offset int, format string, args ...any) {
	line, col := src.Line, src.Column
	if src.node != nil {
		line, col = src.at(offset)
	}
	msg := fmt.Sprintf(format, args...)
	if ec.where != "" {
		msg += " (" + ec.where + ")"
	}
	ec.errs = append(ec.errs, &LoadError{File: src.File, Line: line, Column: col, Rule: ec.rule.ID, Msg: msg})
}

// compile parses, rewrites and type-checks text (a part of src starting at
// rune offset base) in scope sc. It returns nil after recording errors.
func (ec *exprCompiler) compile(src *Source, text string, base int, sc *scope) *cexpr {
	ce := &cexpr{src: src, text: text, base: base, sc: sc}
	cfg := conf.CreateNew()
	for _, op := range funcOptions(sc.aggFuncs) {
		op(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	if sc.boolean {
		cfg.Expect = reflect.Bool
		cfg.ExpectAny = true
	}
	cfg.MaxNodes = 2000
	ce.cfg = cfg
	tree, err := parser.ParseWithConfig(text, cfg)
	if err != nil {
		ec.exprErr(ce, err)
		return nil
	}
	ce.tree = tree
	before := len(ec.errs)
	ec.rewrite(&tree.Node, ce)
	if len(ec.errs) > before {
		return nil
	}
	nNew := 0
	if sc.aggFuncs {
		nNew = countAggCalls(tree.Node)
	}
	kinds := make([]aggKind, 0, len(ec.aggs)+nNew)
	for _, a := range ec.aggs {
		kinds = append(kinds, a.kind)
	}
	for range nNew {
		kinds = append(kinds, aggDistinct) // placeholder slots, retyped below
	}
	ce.env = ec.buildEnv(sc, kinds)
	cfg.WithEnv(reflect.New(ce.env.typ).Elem().Interface())
	if _, err := checker.Check(tree, cfg); err != nil {
		ec.exprErr(ce, err)
		return nil
	}
	if sc.aggFuncs && nNew > 0 {
		if !ec.extractAggs(ce) {
			return nil
		}
		kinds = kinds[:0]
		for _, a := range ec.aggs {
			kinds = append(kinds, a.kind)
		}
		ce.env = ec.buildEnv(sc, kinds)
		cfg.WithEnv(reflect.New(ce.env.typ).Elem().Interface())
		if _, err := checker.Check(tree, cfg); err != nil {
			ec.exprErr(ce, err)
			return nil
		}
	}
	ce.typ = tree.Node.Type()
	if sc.boolean {
		var bad []ast.Node
		ce.route = extractRoute(tree.Node, &bad)
		for _, b := range bad {
			ec.errAt(src, base+b.Location().From, "%s: event.category is never that value (categories: %s)", sc.what, strings.Join(event.Categories, ", "))
		}
		if len(bad) > 0 {
			return nil
		}
	}
	ec.collectPaths(tree.Node, sc)
	ec.exprs = append(ec.exprs, ce)
	return ce
}

func (ec *exprCompiler) buildEnv(sc *scope, kinds []aggKind) *envLayout {
	namedTypes := map[string]reflect.Type{}
	for _, n := range sc.aggNames {
		if ce := ec.named[n]; ce != nil {
			namedTypes[n] = ce.typ
		} else {
			namedTypes[n] = reflect.TypeFor[float64]()
		}
	}
	valueTypes := map[string]reflect.Type{}
	return buildEnv(sc, kinds, namedTypes, valueTypes)
}

// finish lowers the expression to closures when it can, and compiles the
// fallback program (after lowering: the optimizer rewrites the tree).
func (ec *exprCompiler) finish(ce *cexpr, lw *lowerer) {
	if lw != nil {
		if l, err := lw.lower(ce.tree.Node); err == nil {
			ce.low = &l
		} else if !errors.Is(err, errNoLower) {
			ec.errAt(ce.src, ce.base+int(ce.tree.Node.Location().From), "%s", err.Error())
			return
		}
	}
	if err := optimizer.Optimize(&ce.tree.Node, ce.cfg); err != nil {
		ec.exprErr(ce, err)
		return
	}
	prog, err := compiler.Compile(ce.tree, ce.cfg)
	if err != nil {
		ec.exprErr(ce, err)
		return
	}
	ce.prog = prog
}

var (
	unknownNameRE  = regexp.MustCompile(`^unknown name (\S+)$`)
	unknownFieldRE = regexp.MustCompile(`^type (.+) has no field (\S+)$`)
)

// exprErr records an expr-lang error at its position, with a suggestion for
// unknown names and fields.
func (ec *exprCompiler) exprErr(ce *cexpr, err error) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		ec.errAt(ce.src, ce.base, "%s: %s", ce.sc.what, err.Error())
		return
	}
	msg, offset := fe.Message, fe.From
	if m := unknownNameRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unknown name %q", m[1])
		if s := suggest(m[1], ec.namesIn(ce)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	} else if m := unknownFieldRE.FindStringSubmatch(msg); m != nil && ce.tree != nil {
		if mn := findMemberAt(ce.tree.Node, fe.From); mn != nil {
			msg, offset = ec.unknownField(mn, m[2], ce)
		}
	}
	ec.errAt(ce.src, ce.base+offset, "%s: %s", ce.sc.what, msg)
}

// namesIn lists the names an expression could have meant.
func (ec *exprCompiler) namesIn(ce *cexpr) []string {
	var out []string
	if ce.env != nil {
		for i := range ce.env.typ.NumField() {
			n := ce.env.typ.Field(i).Tag.Get("expr")
			if !strings.HasPrefix(n, "__") {
				out = append(out, n)
			}
		}
	}
	for n := range ce.cfg.Functions {
		out = append(out, n)
	}
	for n := range ce.cfg.Builtins {
		out = append(out, n)
	}
	out = append(out, "params", "lists")
	return out
}

func findMemberAt(n ast.Node, from int) *ast.MemberNode {
	var found *ast.MemberNode
	walk(n, func(x ast.Node) {
		if m, ok := x.(*ast.MemberNode); ok && found == nil {
			if m.Location().From == from || m.Property.Location().From == from {
				found = m
			}
		}
	})
	return found
}

// unknownField explains a field that does not exist, naming the full path
// and the closest existing one.
func (ec *exprCompiler) unknownField(mn *ast.MemberNode, name string, ce *cexpr) (string, int) {
	offset := mn.Property.Location().From
	root, path, _ := chain(mn.Node)
	ft := eventFields()
	prefix := strings.Join(path, ".")
	display := prefix
	switch root {
	case "steps":
		if len(path) == 0 {
			msg := fmt.Sprintf("unknown step %q", name)
			if len(ce.sc.steps) > 0 {
				msg += fmt.Sprintf(" (steps before this one: %s)", strings.Join(ce.sc.steps, ", "))
			} else {
				msg += " (no earlier step)"
			}
			return msg, offset
		}
		prefix = strings.Join(path[1:], ".")
		display = "steps." + strings.Join(path, ".")
	case "prev", "self":
		display = root
		if prefix != "" {
			display += "." + prefix
		}
	case "":
		return fmt.Sprintf("unknown field %q", name), offset
	default:
		if prefix == "" {
			prefix = root
		} else {
			prefix = root + "." + prefix
		}
		display = prefix
	}
	full := name
	if display != "" {
		full = display + "." + name
	}
	msg := fmt.Sprintf("unknown field %q", full)
	if s := suggest(name, ft.children(prefix)); s != "" {
		fix := s
		if display != "" {
			fix = display + "." + s
		}
		msg += fmt.Sprintf(" (did you mean %q?)", fix)
	}
	return msg, offset
}

// chain reads a member chain a.b.c down to its root identifier; ok is false
// when the chain goes through an index or a call.
func chain(n ast.Node) (root string, path []string, ok bool) {
	for {
		switch x := n.(type) {
		case *ast.IdentifierNode:
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return x.Value, path, true
		case *ast.MemberNode:
			s, isStr := x.Property.(*ast.StringNode)
			if !isStr {
				return "", nil, false
			}
			path = append(path, s.Value)
			n = x.Node
		case *ast.ChainNode:
			n = x.Node
		default:
			return "", nil, false
		}
	}
}

// children lists the child slots of a node (mirrors ast.Walk).
func children(node ast.Node) []*ast.Node {
	switch n := node.(type) {
	case *ast.UnaryNode:
		return []*ast.Node{&n.Node}
	case *ast.BinaryNode:
		return []*ast.Node{&n.Left, &n.Right}
	case *ast.ChainNode:
		return []*ast.Node{&n.Node}
	case *ast.MemberNode:
		return []*ast.Node{&n.Node, &n.Property}
	case *ast.SliceNode:
		out := []*ast.Node{&n.Node}
		if n.From != nil {
			out = append(out, &n.From)
		}
		if n.To != nil {
			out = append(out, &n.To)
		}
		return out
	case *ast.CallNode:
		out := []*ast.Node{&n.Callee}
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.BuiltinNode:
		out := make([]*ast.Node, 0, len(n.Arguments))
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.PredicateNode:
		return []*ast.Node{&n.Node}
	case *ast.VariableDeclaratorNode:
		return []*ast.Node{&n.Value, &n.Expr}
	case *ast.SequenceNode:
		out := make([]*ast.Node, 0, len(n.Nodes))
		for i := range n.Nodes {
			out = append(out, &n.Nodes[i])
		}
		return out
	case *ast.ConditionalNode:
		return []*ast.Node{&n.Cond, &n.Exp1, &n.Exp2}
	case *ast.ArrayNode:
		out := make([]*ast.Node, 0, len(n.Nodes))
		for i := range n.Nodes {
			out = append(out, &n.Nodes[i])
		}
		return out
	case *ast.MapNode:
		out := make([]*ast.Node, 0, len(n.Pairs))
		for i := range n.Pairs {
			out = append(out, &n.Pairs[i])
		}
		return out
	case *ast.PairNode:
		return []*ast.Node{&n.Key, &n.Value}
	}
	return nil
}

// walk visits every node, parents first.
func walk(n ast.Node, fn func(ast.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range children(n) {
		walk(*c, fn)
	}
}

// rewriteCoalesce makes `a ?? b` "first non-empty", as the language
// documents, when a is a text field of the event (absent strings are "",
// which expr's nil-coalescing would keep): `user.name ?? user.id` is the
// id when the name is absent. Elsewhere ?? keeps expr's meaning.
func (ec *exprCompiler) rewriteCoalesce(node *ast.Node, n *ast.BinaryNode) {
	root, path, ok := chain(n.Left)
	if !ok {
		return
	}
	switch root {
	case "prev", "self":
	case "steps":
		if len(path) < 2 {
			return
		}
		path = path[1:]
	default:
		path = append([]string{root}, path...)
	}
	f := eventFields().byPath[strings.Join(path, ".")]
	if f == nil || f.kind != kindString {
		return
	}
	empty := &ast.StringNode{Value: ""}
	empty.SetLocation(n.Left.Location())
	test := &ast.BinaryNode{Operator: "!=", Left: n.Left, Right: empty}
	test.SetLocation(n.Location())
	repl := &ast.ConditionalNode{Cond: test, Exp1: n.Left, Exp2: n.Right}
	ast.Patch(node, repl)
	(*node).SetLocation(n.Location())
}

// rewrite resolves params and lists to constants and makes the language's
// conveniences concrete, before type checking: `x in lists.networks` on a
// CIDR list becomes in_cidr(x, …), context functions get their hidden
// argument, duration("30d") and CIDR strings become constants.
func (ec *exprCompiler) rewrite(node *ast.Node, ce *cexpr) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && (id.Value == "params" || id.Value == "lists") {
			prop, ok := n.Property.(*ast.StringNode)
			if !ok {
				ec.errAt(ce.src, ce.base+n.Location().From, "%s: write %s.NAME", ce.sc.what, id.Value)
				return
			}
			if id.Value == "params" {
				ec.rewriteParam(node, prop, ce)
			} else {
				ec.rewriteList(node, prop, ce)
			}
			return
		}
	case *ast.IdentifierNode:
		switch n.Value {
		case "params", "lists":
			ec.errAt(ce.src, ce.base+n.Location().From, "%s: write %s.NAME", ce.sc.what, n.Value)
			return
		case "__ctx":
			ec.errAt(ce.src, ce.base+n.Location().From, "%s: __ctx is internal", ce.sc.what)
			return
		}
		if strings.HasPrefix(n.Value, "__agg") {
			ec.errAt(ce.src, ce.base+n.Location().From, "%s: unknown name %q", ce.sc.what, n.Value)
			return
		}
	}
	for _, c := range children(*node) {
		ec.rewrite(c, ce)
	}
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator == "??" {
			ec.rewriteCoalesce(node, n)
			return
		}
		if n.Operator != "in" && n.Operator != "not in" {
			return
		}
		c, ok := n.Right.(*ast.ConstantNode)
		if !ok {
			return
		}
		switch v := c.Value.(type) {
		case *cidrList:
			var repl ast.Node = &ast.CallNode{Callee: &ast.IdentifierNode{Value: "in_cidr"}, Arguments: []ast.Node{n.Left, n.Right}}
			repl.SetLocation(n.Location())
			repl.(*ast.CallNode).Callee.SetLocation(n.Location())
			if n.Operator == "not in" {
				repl = &ast.UnaryNode{Operator: "not", Node: repl}
			}
			ast.Patch(node, repl)
		case foldSet:
			_ = v
			low := &ast.BuiltinNode{Name: "lower", Arguments: []ast.Node{n.Left}}
			low.SetLocation(n.Left.Location())
			n.Left = low
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		name := id.Value
		switch {
		case name == "duration":
			if len(n.Arguments) != 1 {
				ec.errAt(ce.src, ce.base+n.Location().From, "%s: duration takes one constant such as \"30d\"", ce.sc.what)
				return
			}
			s, ok := n.Arguments[0].(*ast.StringNode)
			if !ok {
				if c, isC := n.Arguments[0].(*ast.ConstantNode); isC {
					if d, isD := c.Value.(time.Duration); isD {
						ast.Patch(node, &ast.ConstantNode{Value: d})
						return
					}
				}
				ec.errAt(ce.src, ce.base+n.Location().From, "%s: duration takes one constant such as \"30d\"", ce.sc.what)
				return
			}
			d, err := ParseDuration(s.Value)
			if err != nil {
				ec.errAt(ce.src, ce.base+s.Location().From, "%s: %s", ce.sc.what, err.Error())
				return
			}
			ast.Patch(node, &ast.ConstantNode{Value: d})
		case name == "in_cidr":
			if len(n.Arguments) < 2 {
				ec.errAt(ce.src, ce.base+n.Location().From, "%s: in_cidr takes an address and at least one network", ce.sc.what)
				return
			}
			for i := 1; i < len(n.Arguments); i++ {
				switch a := n.Arguments[i].(type) {
				case *ast.StringNode:
					p, err := parseCIDR(a.Value)
					if err != nil {
						ec.errAt(ce.src, ce.base+a.Location().From, "%s: %s", ce.sc.what, err.Error())
						return
					}
					ast.Patch(&n.Arguments[i], &ast.ConstantNode{Value: &cidrList{prefixes: []netip.Prefix{p}}})
				case *ast.ConstantNode:
					if _, ok := a.Value.(*cidrList); !ok {
						ec.errAt(ce.src, ce.base+a.Location().From, "%s: in_cidr takes networks: strings such as \"10.0.0.0/8\" or lists of type cidrs", ce.sc.what)
						return
					}
				default:
					ec.errAt(ce.src, ce.base+a.Location().From, "%s: in_cidr takes constant networks (strings or lists of type cidrs)", ce.sc.what)
					return
				}
			}
		case ctxFuncs[name]:
			if name == "changed" {
				if len(n.Arguments) == 0 {
					ec.errAt(ce.src, ce.base+n.Location().From, "%s: changed takes field names, such as changed(\"BillingStreet\")", ce.sc.what)
					return
				}
				for _, a := range n.Arguments {
					switch v := a.(type) {
					case *ast.StringNode:
					case *ast.ConstantNode:
						if _, ok := v.Value.(strSet); !ok {
							if _, ok := v.Value.(foldSet); !ok {
								ec.errAt(ce.src, ce.base+a.Location().From, "%s: changed takes field names (strings or string lists)", ce.sc.what)
								return
							}
						}
					default:
						ec.errAt(ce.src, ce.base+a.Location().From, "%s: changed takes constant field names", ce.sc.what)
						return
					}
				}
			} else if len(n.Arguments) != 0 {
				ec.errAt(ce.src, ce.base+n.Location().From, "%s: %s() takes no arguments: it reads the current event", ce.sc.what, name)
				return
			}
			ctx := &ast.IdentifierNode{Value: "__ctx"}
			ctx.SetLocation(n.Location())
			n.Arguments = append([]ast.Node{ctx}, n.Arguments...)
		case !ce.sc.aggFuncs && (name == "count_distinct" || name == "distinct" || name == "avg"):
			ec.errAt(ce.src, ce.base+n.Location().From, "%s: %s is an aggregate: use it in the condition or aggregates of a rule with a window", ce.sc.what, name)
		}
	case *ast.BuiltinNode:
		if !ce.sc.aggFuncs && (n.Name == "count" && len(n.Arguments) < 2 || (n.Name == "sum" || n.Name == "min" || n.Name == "max") && len(n.Arguments) == 1 && !isArrayish(n.Arguments[0])) {
			ec.errAt(ce.src, ce.base+n.Location().From, "%s: %s(…) over events is an aggregate: use it in the condition or aggregates of a rule with a window", ce.sc.what, n.Name)
		}
	}
}

func isArrayish(n ast.Node) bool {
	switch n.(type) {
	case *ast.ArrayNode:
		return true
	}
	return false
}

func (ec *exprCompiler) rewriteParam(node *ast.Node, prop *ast.StringNode, ce *cexpr) {
	v, ok := ec.params[prop.Value]
	if !ok {
		names := make([]string, 0, len(ec.params))
		for k := range ec.params {
			names = append(names, k)
		}
		msg := fmt.Sprintf("unknown param %q", prop.Value)
		if s := suggest(prop.Value, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if len(names) == 0 {
			msg += " (the rule declares no params)"
		}
		ec.errAt(ce.src, ce.base+prop.Location().From, "%s: %s", ce.sc.what, msg)
		return
	}
	ast.Patch(node, &ast.ConstantNode{Value: v})
}

func (ec *exprCompiler) rewriteList(node *ast.Node, prop *ast.StringNode, ce *cexpr) {
	l, ok := ec.lists[prop.Value]
	if !ok {
		names := make([]string, 0, len(ec.lists))
		for k := range ec.lists {
			names = append(names, k)
		}
		msg := fmt.Sprintf("unknown list %q", prop.Value)
		if s := suggest(prop.Value, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		ec.errAt(ce.src, ce.base+prop.Location().From, "%s: %s", ce.sc.what, msg)
		return
	}
	ec.usedLists[l.Name] = true
	v := ec.listVals[l.Name]
	if s, ok := v.(strSet); ok && l.IgnoreCase {
		v = foldSet(s)
	}
	ast.Patch(node, &ast.ConstantNode{Value: v})
}

func isAggCall(n ast.Node) (*ast.CallNode, string, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return nil, "", false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || !aggFuncs[id.Value] {
		return nil, "", false
	}
	return c, id.Value, true
}

func countAggCalls(n ast.Node) int {
	k := 0
	walk(n, func(x ast.Node) {
		if _, _, ok := isAggCall(x); ok {
			k++
		}
	})
	return k
}

// extractAggs replaces each aggregate call with a slot of the window's
// aggregates, compiling its argument as an expression over one event.
func (ec *exprCompiler) extractAggs(ce *cexpr) bool {
	ok := true
	var visit func(node *ast.Node)
	visit = func(node *ast.Node) {
		call, name, isAgg := isAggCall(*node)
		if !isAgg {
			for _, c := range children(*node) {
				visit(c)
			}
			return
		}
		for _, a := range call.Arguments {
			if countAggCalls(a) > 0 {
				ec.errAt(ce.src, ce.base+a.Location().From, "%s: aggregates cannot be nested", ce.sc.what)
				ok = false
				return
			}
		}
		spec := &aggSpec{text: printNode(call)}
		switch name {
		case "count":
			spec.kind = aggCount
			if len(call.Arguments) == 1 {
				spec.kind = aggCountIf
			}
		case "count_distinct":
			spec.kind = aggCountDistinct
		case "distinct":
			spec.kind = aggDistinct
		case "sum":
			spec.kind = aggSum
		case "min":
			spec.kind = aggMin
		case "max":
			spec.kind = aggMax
		case "avg":
			spec.kind = aggAvg
		}
		if len(call.Arguments) == 1 {
			arg := call.Arguments[0]
			if refersToState(arg) {
				ec.errAt(ce.src, ce.base+arg.Location().From, "%s: the argument of %s reads one event: it cannot use prev, steps or other aggregates", ce.sc.what, name)
				ok = false
				return
			}
			argText := printNode(arg)
			asc := &scope{what: ce.sc.what + " (argument of " + name + ")"}
			sub := &Source{Text: argText, File: ce.src.File, Line: ce.src.Line, Column: ce.src.Column}
			if ce.src.node != nil {
				l, c := ce.src.at(ce.base + arg.Location().From)
				sub.Line, sub.Column = l, c
			}
			spec.arg = ec.compile(sub, argText, 0, asc)
			if spec.arg == nil {
				ok = false
				return
			}
			if spec.kind == aggCountIf && spec.arg.typ.Kind() != reflect.Bool {
				ec.errAt(ce.src, ce.base+arg.Location().From, "%s: count(…) takes a condition (bool), got %s", ce.sc.what, spec.arg.typ)
				ok = false
				return
			}
		}
		slot := -1
		for i, a := range ec.aggs {
			if a.kind == spec.kind && a.text == spec.text {
				slot = i
			}
		}
		if slot < 0 {
			slot = len(ec.aggs)
			ec.aggs = append(ec.aggs, spec)
		}
		if !ce.sc.output {
			ec.aggs[slot].inCond = true
		}
		id := &ast.IdentifierNode{Value: fmt.Sprintf("__agg%d", slot)}
		ast.Patch(node, id)
	}
	visit(&ce.tree.Node)
	return ok
}

// refersToState says whether n reads anything but the current event.
func refersToState(n ast.Node) bool {
	found := false
	walk(n, func(x ast.Node) {
		if id, ok := x.(*ast.IdentifierNode); ok {
			if id.Value == "prev" || id.Value == "steps" || strings.HasPrefix(id.Value, "__agg") {
				found = true
			}
		}
	})
	return found
}

// printNode writes a node back as expression text.
func printNode(n ast.Node) string {
	return n.String()
}

// collectPaths records the fields recs must keep for this expression: every
// path read through prev or steps, and through the current event when it may
// be a stored one; plus what functions read implicitly.
func (ec *exprCompiler) collectPaths(n ast.Node, sc *scope) {
	ft := eventFields()
	addPath := func(path string) {
		for path != "" {
			if f := ft.byPath[path]; f != nil {
				ec.paths[path] = true
				return
			}
			i := strings.LastIndexByte(path, '.')
			if i < 0 {
				return
			}
			path = path[:i]
		}
	}
	var visit func(n ast.Node)
	visit = func(n ast.Node) {
		switch x := n.(type) {
		case *ast.MemberNode:
			if root, path, ok := chain(x); ok {
				ec.addChain(root, path, sc, addPath)
				return
			}
		case *ast.IdentifierNode:
			ec.addChain(x.Value, nil, sc, addPath)
			return
		case *ast.CallNode:
			if id, ok := x.Callee.(*ast.IdentifierNode); ok {
				switch id.Value {
				case "distance_km", "speed_kmh":
					for _, a := range x.Arguments {
						if root, path, ok := chain(a); ok && (root == "prev" || root == "self" || root == "steps" && len(path) == 1) {
							if root == "prev" || root == "steps" || sc.curMayRec {
								for _, p := range []string{"client.geo.lat", "client.geo.lon", "client.geo.has_coords"} {
									ec.paths[p] = true
								}
							}
						}
					}
				case "business_hours", "off_hours", "local_hour", "local_weekday", "is_weekend", "is_holiday":
					if sc.curMayRec {
						ec.paths["user.timezone"] = true
					}
				case "changed":
					if sc.curMayRec {
						ec.paths["changes"] = true
					}
				case "shadow_data", "shadow_fields", "shadow_samples":
					if sc.curMayRec {
						for _, p := range shadowPaths {
							ec.paths[p] = true
						}
					}
				}
			}
		}
		for _, c := range children(n) {
			visit(*c)
		}
	}
	visit(n)
}

func (ec *exprCompiler) addChain(root string, path []string, sc *scope, addPath func(string)) {
	switch root {
	case "prev", "self":
		if root == "self" && !sc.curMayRec {
			return
		}
		if len(path) > 0 {
			addPath(strings.Join(path, "."))
		}
	case "steps":
		if len(path) > 1 {
			addPath(strings.Join(path[1:], "."))
		}
	case "person":
		if sc.curMayRec {
			ec.paths["user.person_id"] = true
			ec.paths["user.id"] = true
		}
	default:
		if sc.curMayRec && eventFields().byPath[root] != nil {
			addPath(strings.Join(append([]string{root}, path...), "."))
		}
	}
}

// errNoLower says an expression is outside what the engine lowers to
// closures; it then runs on expr's VM.
var errNoLower = errors.New("not lowered")
