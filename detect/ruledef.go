package detect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Rule is one rule as written in its YAML file: metadata, expressions,
// state settings, outputs and tests, each with its position. Load parses and
// compiles it; NewEngine compiles it again per tenant with that tenant's
// parameters and lists.
type Rule struct {
	File string
	Line int

	ID             string
	Version        string
	Title          string
	Description    string
	Severity       string
	Tags           []string
	Runbook        string
	References     []string
	FalsePositives []string
	Disabled       bool

	Params     []*Param
	Filter     *Source
	GroupBy    []*Source
	Window     *DurationSpec
	Aggregates []*Named
	Condition  *Source
	Sequence   *SequenceSpec
	NewValue   *NewValueSpec
	Previous   *DurationSpec
	Suppress   *DurationSpec
	Summary    *Source
	Values     []*Named
	Actions    []*ActionSpec
	Tests      []*TestSpec

	// Keys maps each top-level key to its line, for tools (lint).
	Keys map[string]int

	compiled *compiled // the default variant, compiled by Load
}

// Kind names what state a rule keeps per group.
type Kind string

// The rule kinds.
const (
	KindEvent    Kind = "event"     // no state: the filter (and condition) of one event
	KindWindow   Kind = "window"    // sliding event-time window with aggregates
	KindSequence Kind = "sequence"  // ordered steps within a span
	KindNewValue Kind = "new_value" // first value of a field for the group in a history
	KindPrevious Kind = "previous"  // each event compared with the group's previous one
)

// Kind says which kind of state the rule keeps.
func (r *Rule) Kind() Kind {
	switch {
	case r.Window != nil:
		return KindWindow
	case r.Sequence != nil:
		return KindSequence
	case r.NewValue != nil:
		return KindNewValue
	case r.Previous != nil:
		return KindPrevious
	}
	return KindEvent
}

// Param is a rule parameter: a named default that configuration may
// override per tenant.
type Param struct {
	Name        string
	Type        ParamType
	Default     any // int, float64, string, bool, time.Duration or []string
	Description string
	Line        int
	Column      int
}

// ParamType is the type of a parameter's value.
type ParamType string

// The parameter types.
const (
	ParamInt      ParamType = "int"
	ParamFloat    ParamType = "float"
	ParamString   ParamType = "string"
	ParamBool     ParamType = "bool"
	ParamDuration ParamType = "duration"
	ParamStrings  ParamType = "strings"
)

// Named is a named expression (an aggregate or an output value).
type Named struct {
	Name   string
	Expr   *Source
	Line   int
	Column int
}

// SequenceSpec is an ordered list of steps that must all match, in event
// time order, within a span, for one group.
type SequenceSpec struct {
	Within *DurationSpec
	Steps  []*StepSpec
	Line   int
}

// StepSpec is one step of a sequence. Filter looks at the event alone;
// Where may also refer to earlier steps (steps.NAME.field).
type StepSpec struct {
	Name   string
	Filter *Source
	Where  *Source
	Line   int
}

// NewValueSpec fires on the first occurrence of a value of Field for a group
// within History, once the group has been known for MinHistory. With
// AlsoNew, only when that expression's value is new for the group too (an
// empty value counts as new): a login from a new country on a new device.
type NewValueSpec struct {
	Field      *Source
	AlsoNew    *Source
	History    *DurationSpec
	MinHistory *DurationSpec
	Line       int
}

// ActionSpec is an action an alert of the rule requests.
type ActionSpec struct {
	Type   string
	Mode   string
	Target *Source // expression for the account to act on; user.id by default
	Line   int
	Column int
}

var (
	ruleIDRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,127}$`)
	nameRE     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	actionRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	ruleKeys   = []string{"id", "version", "title", "description", "severity", "tags", "runbook", "references", "false_positives", "disabled", "params", "filter", "group_by", "window", "aggregates", "condition", "sequence", "new_value", "previous", "suppress", "summary", "values", "actions", "tests"}
	reservedNm = []string{"params", "lists", "prev", "self", "steps", "person", "window", "group", "values", "true", "false", "nil", "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"}
)

// parseRule reads a rule from its root mapping node.
func (d *ydoc) parseRule(root *yaml.Node) *Rule {
	r := &Rule{File: d.file, Line: root.Line, Keys: map[string]int{}}
	kvs := d.mapping(root, "rule", ruleKeys)
	// Read the id first so every later error names the rule.
	for _, kv := range kvs {
		if kv.key == "id" {
			r.ID = d.nonEmpty(kv.v, "id")
			if r.ID != "" && !ruleIDRE.MatchString(r.ID) {
				d.errorf(kv.v, "id %q: use lower-case letters, digits, '.', '_' and '-' (at most 128)", r.ID)
			}
			d.rule = r.ID
		}
	}
	for _, kv := range kvs {
		r.Keys[kv.key] = kv.k.Line
		v := kv.v
		switch kv.key {
		case "id":
		case "version":
			r.Version = d.nonEmpty(v, "version")
		case "title":
			r.Title = d.nonEmpty(v, "title")
		case "description":
			r.Description = d.str(v, "description")
		case "severity":
			r.Severity = d.str(v, "severity")
			if r.Severity != "" && !contains(alert.Severities, r.Severity) {
				msg := fmt.Sprintf("severity %q: must be one of %s", r.Severity, strings.Join(alert.Severities, ", "))
				d.errorf(v, "%s", msg)
			}
		case "tags":
			r.Tags = d.strList(v, "tags")
		case "runbook":
			r.Runbook = d.str(v, "runbook")
		case "references":
			r.References = d.strList(v, "references")
		case "false_positives":
			r.FalsePositives = d.strList(v, "false_positives")
		case "disabled":
			r.Disabled = d.boolean(v, "disabled")
		case "params":
			r.Params = d.parseParams(v)
		case "filter":
			r.Filter = d.source(v, "filter")
		case "group_by":
			for _, n := range d.seqOrScalar(v, "group_by") {
				if s := d.source(n, "group_by item"); s != nil {
					r.GroupBy = append(r.GroupBy, s)
				}
			}
		case "window":
			r.Window = d.durationSpec(v, "window")
		case "aggregates":
			r.Aggregates = d.parseNamed(v, "aggregates")
		case "condition":
			r.Condition = d.source(v, "condition")
		case "sequence":
			r.Sequence = d.parseSequence(v)
		case "new_value":
			r.NewValue = d.parseNewValue(v)
		case "previous":
			r.Previous = d.durationSpec(v, "previous")
		case "suppress":
			r.Suppress = d.durationSpec(v, "suppress")
		case "summary":
			r.Summary = d.source(v, "summary")
		case "values":
			r.Values = d.parseNamed(v, "values")
		case "actions":
			r.Actions = d.parseActions(v)
		case "tests":
			r.Tests = d.parseTests(v)
		}
	}
	d.checkRuleShape(root, r)
	return r
}

func (d *ydoc) seqOrScalar(n *yaml.Node, what string) []*yaml.Node {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	return d.seq(n, what)
}

// checkRuleShape reports missing keys and keys that do not fit together.
func (d *ydoc) checkRuleShape(root *yaml.Node, r *Rule) {
	for _, req := range []struct {
		key string
		ok  bool
	}{{"id", r.ID != ""}, {"version", r.Version != ""}, {"title", r.Title != ""}, {"severity", r.Severity != ""}} {
		if !req.ok {
			if _, present := r.Keys[req.key]; !present {
				d.errorf(root, "rule lacks %q", req.key)
			}
		}
	}
	var kinds []string
	for _, k := range []string{"window", "sequence", "new_value", "previous"} {
		if _, ok := r.Keys[k]; ok {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) > 1 {
		d.errorAt(r.Keys[kinds[1]], 1, "a rule keeps one kind of state: %s cannot be combined", strings.Join(kinds, " and "))
	}
	if r.Filter == nil && r.Sequence == nil {
		if _, present := r.Keys["filter"]; !present {
			d.errorf(root, "rule lacks \"filter\" (the events it looks at)")
		}
	}
	if _, ok := r.Keys["aggregates"]; ok && r.Window == nil {
		d.errorAt(r.Keys["aggregates"], 1, "aggregates need a window")
	}
	if r.Window != nil && r.Condition == nil {
		if _, present := r.Keys["condition"]; !present {
			d.errorAt(r.Keys["window"], 1, "a window rule needs a condition over its aggregates, such as count() >= 5")
		}
	}
	seen := map[string]bool{}
	for _, a := range r.Aggregates {
		seen[a.Name] = true
	}
	for _, v := range r.Values {
		if seen[v.Name] {
			d.errorAt(v.Line, v.Column, "value %q has the name of an aggregate", v.Name)
		}
	}
}

func (d *ydoc) parseParams(n *yaml.Node) []*Param {
	var out []*Param
	for _, kv := range d.mapping(n, "params", nil) {
		p := &Param{Name: kv.key, Line: kv.k.Line, Column: kv.k.Column}
		if !nameRE.MatchString(p.Name) {
			d.errorf(kv.k, "param %q: names are lower-case letters, digits and '_'", p.Name)
			continue
		}
		v := kv.v
		if v != nil && v.Kind == yaml.MappingNode {
			var typ string
			var def *yaml.Node
			for _, pkv := range d.mapping(v, "param "+p.Name, []string{"default", "type", "description"}) {
				switch pkv.key {
				case "default":
					def = pkv.v
				case "type":
					typ = d.str(pkv.v, "type")
				case "description":
					p.Description = d.str(pkv.v, "description")
				}
			}
			if def == nil {
				d.errorf(v, "param %q lacks a default", p.Name)
				continue
			}
			p.Type, p.Default = d.paramValue(def, ParamType(typ), "param "+p.Name)
		} else {
			p.Type, p.Default = d.paramValue(v, "", "param "+p.Name)
		}
		if p.Type != "" {
			out = append(out, p)
		}
	}
	return out
}

// paramValue reads a parameter value. With no declared type it is inferred:
// YAML integers are int, other numbers float, true/false bool, lists
// strings, a string with a duration unit ("10m", "30d") a duration, any
// other string a string.
func (d *ydoc) paramValue(n *yaml.Node, typ ParamType, what string) (ParamType, any) {
	n = deref(n)
	if n == nil {
		d.errorf(nil, "%s has no value", what)
		return "", nil
	}
	if n.Kind == yaml.SequenceNode {
		if typ != "" && typ != ParamStrings {
			d.errorf(n, "%s: a list is not a %s", what, typ)
			return "", nil
		}
		return ParamStrings, d.strList(n, what)
	}
	s, ok := d.scalar(n, what)
	if !ok {
		return "", nil
	}
	if typ == "" {
		switch n.Tag {
		case "!!int":
			typ = ParamInt
		case "!!float":
			typ = ParamFloat
		case "!!bool":
			typ = ParamBool
		default:
			if _, err := ParseDuration(s); err == nil && s != "0" {
				typ = ParamDuration
			} else {
				typ = ParamString
			}
		}
	}
	v, err := convertParam(typ, s)
	if err != nil {
		d.errorf(n, "%s: %s", what, err.Error())
		return "", nil
	}
	return typ, v
}

// convertParam turns a scalar's text into a value of the parameter type.
func convertParam(typ ParamType, s string) (any, error) {
	switch typ {
	case ParamInt:
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return v, nil
	case ParamFloat:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	case ParamBool:
		switch s {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	case ParamDuration:
		v, err := ParseDuration(s)
		if err != nil {
			return nil, err
		}
		return v, nil
	case ParamString:
		return s, nil
	case ParamStrings:
		return []string{s}, nil
	}
	return nil, fmt.Errorf("unknown type %q (int, float, string, bool, duration, strings)", typ)
}

func (d *ydoc) parseNamed(n *yaml.Node, what string) []*Named {
	var out []*Named
	for _, kv := range d.mapping(n, what, nil) {
		if !nameRE.MatchString(kv.key) {
			d.errorf(kv.k, "%s: %q is not a valid name (lower-case letters, digits and '_')", what, kv.key)
			continue
		}
		if contains(reservedNm, kv.key) || eventFields().byPath[kv.key] != nil {
			d.errorf(kv.k, "%s: %q is reserved (an event field or a language name)", what, kv.key)
			continue
		}
		if s := d.source(kv.v, what+"."+kv.key); s != nil {
			out = append(out, &Named{Name: kv.key, Expr: s, Line: kv.k.Line, Column: kv.k.Column})
		}
	}
	return out
}

func (d *ydoc) parseSequence(n *yaml.Node) *SequenceSpec {
	s := &SequenceSpec{Line: n.Line}
	hasWithin := false
	for _, kv := range d.mapping(n, "sequence", []string{"within", "steps"}) {
		switch kv.key {
		case "within":
			hasWithin = true
			s.Within = d.durationSpec(kv.v, "sequence.within")
		case "steps":
			names := map[string]bool{}
			for _, sn := range d.seq(kv.v, "sequence.steps") {
				st := &StepSpec{Line: sn.Line}
				for _, skv := range d.mapping(sn, "step", []string{"name", "filter", "where"}) {
					switch skv.key {
					case "name":
						st.Name = d.str(skv.v, "step name")
						if !nameRE.MatchString(st.Name) {
							d.errorf(skv.v, "step name %q: use lower-case letters, digits and '_'", st.Name)
						} else if names[st.Name] {
							d.errorf(skv.v, "step name %q is used twice", st.Name)
						}
						names[st.Name] = true
					case "filter":
						st.Filter = d.source(skv.v, "step filter")
					case "where":
						st.Where = d.source(skv.v, "step where")
					}
				}
				if st.Name == "" {
					st.Name = fmt.Sprintf("step%d", len(s.Steps)+1)
				}
				if st.Filter == nil {
					d.errorf(sn, "step %q lacks a filter", st.Name)
				}
				s.Steps = append(s.Steps, st)
			}
		}
	}
	if !hasWithin {
		d.errorf(n, "sequence lacks \"within\" (the span all steps must fit in)")
	}
	if len(s.Steps) < 2 {
		d.errorf(n, "a sequence needs at least two steps")
	}
	if len(s.Steps) > 8 {
		d.errorf(n, "a sequence has at most 8 steps")
	}
	return s
}

func (d *ydoc) parseNewValue(n *yaml.Node) *NewValueSpec {
	s := &NewValueSpec{Line: n.Line}
	for _, kv := range d.mapping(n, "new_value", []string{"field", "also_new", "history", "min_history"}) {
		switch kv.key {
		case "field":
			s.Field = d.source(kv.v, "new_value.field")
		case "also_new":
			s.AlsoNew = d.source(kv.v, "new_value.also_new")
		case "history":
			s.History = d.durationSpec(kv.v, "new_value.history")
		case "min_history":
			s.MinHistory = d.durationSpec(kv.v, "new_value.min_history")
		}
	}
	if s.Field == nil {
		d.errorf(n, "new_value lacks \"field\"")
	}
	if s.History == nil {
		d.errorf(n, "new_value lacks \"history\" (how long a value stays known)")
	}
	return s
}

func (d *ydoc) parseActions(n *yaml.Node) []*ActionSpec {
	var out []*ActionSpec
	seen := map[string]bool{}
	for _, an := range d.seq(n, "actions") {
		a := &ActionSpec{Mode: alert.ModeDryRun, Line: an.Line, Column: an.Column}
		if an.Kind == yaml.ScalarNode {
			a.Type = an.Value
		} else {
			for _, kv := range d.mapping(an, "action", []string{"type", "mode", "target"}) {
				switch kv.key {
				case "type":
					a.Type = d.str(kv.v, "action type")
				case "mode":
					a.Mode = d.str(kv.v, "action mode")
					if !contains([]string{alert.ModeEnforce, alert.ModeDryRun, alert.ModeApproval}, a.Mode) {
						d.errorf(kv.v, "action mode %q: must be enforce, dry_run or approval", a.Mode)
					}
				case "target":
					a.Target = d.source(kv.v, "action target")
				}
			}
		}
		if !actionRE.MatchString(a.Type) {
			d.errorf(an, "action type %q: use lower-case letters, digits and '_' (freeze_account, notify, …)", a.Type)
			continue
		}
		if seen[a.Type] {
			d.errorf(an, "action %q is requested twice (action ids derive from the alert id and the type)", a.Type)
			continue
		}
		seen[a.Type] = true
		out = append(out, a)
	}
	return out
}

// durationOf resolves a duration spec against parameter values.
func durationOf(ds *DurationSpec, params map[string]any) (time.Duration, error) {
	if ds == nil {
		return 0, nil
	}
	if ds.Param == "" {
		return ds.D, nil
	}
	v, ok := params[ds.Param]
	if !ok {
		return 0, fmt.Errorf("unknown param %q", ds.Param)
	}
	dv, ok := v.(time.Duration)
	if !ok {
		return 0, fmt.Errorf("param %q is not a duration", ds.Param)
	}
	return dv, nil
}
