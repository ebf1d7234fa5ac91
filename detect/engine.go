package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Engine is a compiled, immutable rule set with its configuration: the
// rules (one variant per tenant whose parameters or lists differ), the
// router, and the calendars. Shards share it; compiling a new Engine is
// separate from swapping it in (Shard.Reload), so a rule set that fails to
// load leaves the running one untouched.
type Engine struct {
	cfg         Config
	rs          *RuleSet
	rules       []*engineRule
	byID        map[string]int
	router      *router
	lateness    int64
	defaultCal  *calendar
	calendars   map[string]*calendar
	fingerprint string
}

// engineRule is one enabled rule and its per-tenant variants.
type engineRule struct {
	idx      int
	rule     *Rule
	def      *compiled
	byTenant map[string]*compiled
	disabled map[string]bool
	modes    map[string]map[string]string // tenant → action type → mode
	kind     Kind
	stateful bool
	// keySiblings are the other stateful rules whose keys have the same
	// number of parts (and so may be equal), for sharing key strings.
	keySiblings []int
}

func (er *engineRule) variant(tenant string) *compiled {
	if er.byTenant != nil {
		if c, ok := er.byTenant[tenant]; ok {
			return c
		}
	}
	return er.def
}

// NewEngine compiles a rule set with a configuration: per-tenant parameter
// and list overrides become variants, unknown rule ids, parameters and
// lists in the configuration are errors (reported all at once).
func NewEngine(rs *RuleSet, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, rs: rs, byID: map[string]int{}, lateness: int64(cfg.Lateness), calendars: map[string]*calendar{}}
	var errs []error
	var err error
	if e.defaultCal, err = compileCalendar(cfg.Calendar); err != nil {
		errs = append(errs, fmt.Errorf("calendar: %w", err))
	}
	for _, t := range sortedKeys(cfg.Tenants) {
		tc := cfg.Tenants[t]
		if tc.Calendar != nil {
			cal, err := compileCalendar(*tc.Calendar)
			if err != nil {
				errs = append(errs, fmt.Errorf("tenants.%s.calendar: %w", t, err))
				continue
			}
			e.calendars[t] = cal
		}
		for name := range tc.Lists {
			if rs.Lists[name] == nil {
				errs = append(errs, fmt.Errorf("tenants.%s.lists.%s: no such list in %s", t, name, rs.Dir))
			}
		}
		for id := range tc.Rules {
			if rs.Rule(id) == nil {
				msg := fmt.Sprintf("tenants.%s.rules.%s: no such rule", t, id)
				ids := make([]string, len(rs.Rules))
				for i, r := range rs.Rules {
					ids[i] = r.ID
				}
				if s := suggest(id, ids); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				errs = append(errs, errors.New(msg))
			}
		}
	}
	for _, r := range rs.Rules {
		if r.Disabled || r.compiled == nil {
			continue
		}
		er := &engineRule{idx: len(e.rules), rule: r, def: r.compiled, kind: r.Kind()}
		er.stateful = er.kind != KindEvent
		for _, t := range sortedKeys(cfg.Tenants) {
			tc := cfg.Tenants[t]
			o, hasO := tc.Rules[r.ID]
			if hasO && o.Disabled {
				if er.disabled == nil {
					er.disabled = map[string]bool{}
				}
				er.disabled[t] = true
				continue
			}
			params, perrs := overrideParams(r, o, t)
			errs = append(errs, perrs...)
			if hasO {
				for typ, mode := range o.Actions {
					found := false
					for _, a := range r.Actions {
						found = found || a.Type == typ
					}
					if !found {
						errs = append(errs, fmt.Errorf("tenants.%s.rules.%s.actions.%s: the rule requests no such action", t, r.ID, typ))
						continue
					}
					if er.modes == nil {
						er.modes = map[string]map[string]string{}
					}
					if er.modes[t] == nil {
						er.modes[t] = map[string]string{}
					}
					er.modes[t][typ] = mode
				}
			}
			listsChanged := false
			for name := range tc.Lists {
				listsChanged = listsChanged || r.compiled.used[name]
			}
			if params == nil && !listsChanged {
				continue
			}
			if params == nil {
				params = defaultParams(r)
			}
			c, cerrs := compileRule(r, params, rs.Lists, tc.Lists, "tenant "+t)
			for _, ce := range cerrs {
				errs = append(errs, ce)
			}
			if c == nil {
				continue
			}
			if c.stateKey != r.compiled.stateKey && (c.kind != r.compiled.kind || len(c.aggs) != len(r.compiled.aggs)) {
				errs = append(errs, fmt.Errorf("tenants.%s.rules.%s: the overrides change what the rule stores", t, r.ID))
				continue
			}
			if er.byTenant == nil {
				er.byTenant = map[string]*compiled{}
			}
			er.byTenant[t] = c
		}
		e.byID[r.ID] = len(e.rules)
		e.rules = append(e.rules, er)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, er := range e.rules {
		for _, o := range e.rules {
			if o != er && o.stateful && len(o.def.groupBy) == len(er.def.groupBy) {
				er.keySiblings = append(er.keySiblings, o.idx)
			}
		}
	}
	routes := make([][]routePair, len(e.rules))
	for i, er := range e.rules {
		routes[i] = er.def.route
		for _, t := range sortedKeys(er.byTenant) {
			routes[i] = unionRoutes(routes[i], er.byTenant[t].route)
		}
	}
	e.router = newRouter(routes)
	e.fingerprint = e.computeFingerprint()
	return e, nil
}

// overrideParams applies a tenant's parameter overrides; nil when none.
func overrideParams(r *Rule, o RuleOverride, tenant string) (map[string]any, []error) {
	if len(o.Params) == 0 && len(o.ListParams) == 0 {
		return nil, nil
	}
	var errs []error
	params := defaultParams(r)
	defs := map[string]*Param{}
	names := make([]string, 0, len(r.Params))
	for _, p := range r.Params {
		defs[p.Name] = p
		names = append(names, p.Name)
	}
	for _, name := range sortedKeys(o.Params) {
		p, ok := defs[name]
		if !ok {
			msg := fmt.Sprintf("tenants.%s.rules.%s.params.%s: the rule has no such parameter", tenant, r.ID, name)
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		v, err := convertParam(p.Type, o.Params[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("tenants.%s.rules.%s.params.%s: %w (the default is a %s)", tenant, r.ID, name, err, p.Type))
			continue
		}
		if p.Type == ParamStrings {
			v = []string{o.Params[name]}
		}
		params[name] = v
	}
	for _, name := range sortedKeys(o.ListParams) {
		p, ok := defs[name]
		if !ok || p.Type != ParamStrings {
			errs = append(errs, fmt.Errorf("tenants.%s.rules.%s.params.%s: not a list parameter of the rule", tenant, r.ID, name))
			continue
		}
		params[name] = o.ListParams[name]
	}
	return params, errs
}

func (e *Engine) calendar(tenant string) *calendar {
	if c, ok := e.calendars[tenant]; ok {
		return c
	}
	return e.defaultCal
}

func (e *Engine) computeFingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lateness=%d keys=%d window=%d values=%d cal=%+v\n", e.cfg.Lateness, e.cfg.MaxKeysPerRule, e.cfg.MaxWindowEvents, e.cfg.MaxValues, e.cfg.Calendar)
	for _, t := range sortedKeys(e.cfg.Tenants) {
		if c := e.cfg.Tenants[t].Calendar; c != nil {
			fmt.Fprintf(&b, "cal %s=%+v\n", t, *c)
		}
	}
	for _, er := range e.rules {
		fmt.Fprintf(&b, "%s\n", er.ruleFingerprint())
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:16])
}

// ruleFingerprint covers every variant, disabled tenant and mode override.
func (er *engineRule) ruleFingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", er.rule.ID, er.def.fingerprint)
	for _, t := range sortedKeys(er.byTenant) {
		fmt.Fprintf(&b, " %s=%s", t, er.byTenant[t].fingerprint)
	}
	for _, t := range sortedKeys(er.disabled) {
		fmt.Fprintf(&b, " -%s", t)
	}
	for _, t := range sortedKeys(er.modes) {
		for _, typ := range sortedKeys(er.modes[t]) {
			fmt.Fprintf(&b, " %s.%s=%s", t, typ, er.modes[t][typ])
		}
	}
	return b.String()
}

// Fingerprint identifies the compiled rules and configuration: two engines
// with the same fingerprint produce the same outputs from the same events.
func (e *Engine) Fingerprint() string { return e.fingerprint }

// RuleInfo describes a loaded rule for the runner (routing, metrics).
type RuleInfo struct {
	ID      string
	Version string
	Kind    Kind
	// GroupBy is the rule's group_by as written. The crm.activity topic is
	// keyed by tenant and person, so rules grouped by anything but person
	// (or user.id) see one partition's share of a group unless the runner
	// re-keys their events.
	GroupBy []string
	// Route describes the (category, action) pairs the rule looks at.
	Route string
}

// Rules describes the engine's enabled rules, in id order.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, len(e.rules))
	for i, er := range e.rules {
		out[i] = RuleInfo{ID: er.rule.ID, Version: er.rule.Version, Kind: er.kind, GroupBy: er.def.group, Route: describeRoute(er.def.route)}
	}
	return out
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// RuleSet returns the rules the engine was built from.
func (e *Engine) RuleSet() *RuleSet { return e.rs }
