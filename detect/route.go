package detect

import (
	"fmt"
	"sort"

	"github.com/expr-lang/expr/ast"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Routing: a rule is evaluated only for events whose (event.category,
// event.action) its filter can match, read from the filter's tree: equality
// and `in` tests of the two fields, combined through && and ||. Anything
// else (negations, functions, other fields) can match any pair, so the
// rule stays on the "any" route for it: routing never changes results,
// only skips rules that cannot match.

// routePair is one (category, action) a filter can match; "" is any.
type routePair struct {
	cat, action string
}

var anyRoute = []routePair{{}}

// maxRoutePairs bounds the pairs kept per rule; beyond it the rule routes
// on anything.
const maxRoutePairs = 256

// extractRoute reads the pairs a boolean expression can match. bad collects
// comparisons of event.category with values that are not categories.
func extractRoute(n ast.Node, bad *[]ast.Node) []routePair {
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			return intersectRoutes(extractRoute(x.Left, bad), extractRoute(x.Right, bad))
		case "||", "or":
			return unionRoutes(extractRoute(x.Left, bad), extractRoute(x.Right, bad))
		case "==":
			if f, v, ok := fieldEqualsConst(x.Left, x.Right); ok {
				return pairsFor(f, []string{v}, x.Right, bad)
			}
			if f, v, ok := fieldEqualsConst(x.Right, x.Left); ok {
				return pairsFor(f, []string{v}, x.Left, bad)
			}
		case "in":
			f := routeField(x.Left)
			if f == "" {
				break
			}
			if vals, ok := constStrings(x.Right); ok {
				return pairsFor(f, vals, x.Right, bad)
			}
		}
	}
	return anyRoute
}

func routeField(n ast.Node) string {
	root, path, ok := chain(n)
	if !ok || root != "event" || len(path) != 1 {
		return ""
	}
	if path[0] == "category" || path[0] == "action" {
		return path[0]
	}
	return ""
}

func fieldEqualsConst(f, v ast.Node) (string, string, bool) {
	name := routeField(f)
	if name == "" {
		return "", "", false
	}
	switch c := v.(type) {
	case *ast.StringNode:
		return name, c.Value, true
	case *ast.ConstantNode:
		if s, ok := c.Value.(string); ok {
			return name, s, true
		}
	}
	return "", "", false
}

func constStrings(n ast.Node) ([]string, bool) {
	switch x := n.(type) {
	case *ast.ArrayNode:
		var out []string
		for _, el := range x.Nodes {
			s, ok := el.(*ast.StringNode)
			if !ok {
				return nil, false
			}
			out = append(out, s.Value)
		}
		return out, true
	case *ast.ConstantNode:
		switch v := x.Value.(type) {
		case []string:
			return v, true
		case strSet:
			return setKeys(v), true
		}
	}
	return nil, false
}

func pairsFor(field string, vals []string, n ast.Node, bad *[]ast.Node) []routePair {
	var out []routePair
	for _, v := range vals {
		if field == "category" {
			if !contains(event.Categories, v) {
				*bad = append(*bad, n)
				continue
			}
			out = append(out, routePair{cat: v})
		} else {
			out = append(out, routePair{action: v})
		}
	}
	if len(out) == 0 {
		return nil // matches nothing
	}
	return out
}

func intersectRoutes(a, b []routePair) []routePair {
	var out []routePair
	for _, x := range a {
		for _, y := range b {
			p := routePair{cat: x.cat, action: x.action}
			if y.cat != "" {
				if p.cat != "" && p.cat != y.cat {
					continue
				}
				p.cat = y.cat
			}
			if y.action != "" {
				if p.action != "" && p.action != y.action {
					continue
				}
				p.action = y.action
			}
			out = append(out, p)
		}
	}
	return normalizeRoutes(out)
}

func unionRoutes(a, b []routePair) []routePair {
	return normalizeRoutes(append(append([]routePair(nil), a...), b...))
}

// normalizeRoutes sorts and dedupes pairs and drops pairs subsumed by a
// wider one.
func normalizeRoutes(ps []routePair) []routePair {
	if len(ps) > maxRoutePairs {
		return anyRoute
	}
	set := map[routePair]bool{}
	for _, p := range ps {
		set[p] = true
	}
	subsumed := func(p routePair) bool {
		switch {
		case p == routePair{}:
			return false
		case set[routePair{}]:
			return true
		case p.cat != "" && p.action != "":
			return set[routePair{cat: p.cat}] || set[routePair{action: p.action}]
		}
		return false
	}
	var out []routePair
	for p := range set {
		if !subsumed(p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].cat != out[j].cat {
			return out[i].cat < out[j].cat
		}
		return out[i].action < out[j].action
	})
	return out
}

// router finds the rules an event can match.
type router struct {
	byCat map[string]*catRoutes
	other *catRoutes // categories no rule names (not valid events, but routed safely)
}

type catRoutes struct {
	byAction map[string][]int32 // rules for this action, including those for any action
	rest     []int32            // rules for any action
}

func newRouter(routes [][]routePair) *router {
	rt := &router{byCat: map[string]*catRoutes{}, other: &catRoutes{byAction: map[string][]int32{}}}
	cats := append([]string(nil), event.Categories...)
	for _, c := range cats {
		rt.byCat[c] = &catRoutes{byAction: map[string][]int32{}}
	}
	all := append([]*catRoutes{rt.other}, mapValues(rt.byCat)...)
	actions := map[string]bool{}
	for _, ps := range routes {
		for _, p := range ps {
			if p.action != "" {
				actions[p.action] = true
			}
		}
	}
	for i, ps := range routes {
		r := int32(i)
		for _, p := range ps {
			targets := all
			if p.cat != "" {
				targets = []*catRoutes{rt.byCat[p.cat]}
			}
			for _, cr := range targets {
				if p.action == "" {
					cr.rest = appendUnique(cr.rest, r)
				} else {
					cr.byAction[p.action] = appendUnique(cr.byAction[p.action], r)
				}
			}
		}
	}
	// Every action list also holds the category's any-action rules, so a
	// lookup is one list, in rule order.
	for _, cr := range all {
		for a := range actions {
			merged := append(append([]int32(nil), cr.byAction[a]...), cr.rest...)
			sort.Slice(merged, func(i, j int) bool { return merged[i] < merged[j] })
			cr.byAction[a] = dedupe(merged)
		}
	}
	return rt
}

func (rt *router) rules(ev *event.Event) []int32 {
	cr := rt.byCat[ev.Event.Category]
	if cr == nil {
		cr = rt.other
	}
	if l, ok := cr.byAction[ev.Event.Action]; ok {
		return l
	}
	return cr.rest
}

func mapValues(m map[string]*catRoutes) []*catRoutes {
	keys := sortedKeys(m)
	out := make([]*catRoutes, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func dedupe(s []int32) []int32 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func describeRoute(ps []routePair) string {
	if len(ps) == 1 && ps[0] == (routePair{}) {
		return "any event"
	}
	return fmt.Sprint(ps)
}
