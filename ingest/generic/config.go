package generic

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // timezone: settings must load on machines without a zoneinfo database

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Mapping is a loaded, checked generic mapping. It is immutable and safe for
// concurrent use.
type Mapping struct {
	name      string // file name, for messages
	system    string
	idPath    *path
	idPrefix  string
	ts        tsRule
	rules     []rule // in target order
	changes   *changesRule
	hasSource bool
}

type tsRule struct {
	path   path
	format string // rfc3339, epoch_ms, epoch_s, layout
	layout string
	loc    *time.Location
}

type rule struct {
	target    string
	line      int
	path      *path
	konst     string
	hasConst  bool
	valueMap  map[string]string
	def       string
	hasDef    bool
	required  bool
	transform string
}

type changesRule struct {
	path             path
	field, old, new_ path
}

// Targets are the canonical fields a rule may set; labels.<key> is also accepted.
var Targets = []string{
	"source.id",
	"event.category", "event.action", "event.outcome", "event.reason",
	"user.id", "user.name", "user.employee_id", "user.role", "user.department", "user.type", "user.timezone",
	"client.ip", "client.user_agent", "client.device_id", "client.session_id", "client.access_method",
	"client.geo.country", "client.geo.region", "client.geo.city", "client.geo.lat", "client.geo.lon",
	"object.type", "object.id", "object.name", "object.owner_id",
	"records", "comment", "target_user.id", "target_user.name", "permission.name", "permission.scope",
}

// requiredTargets must be configured: the contract requires them.
var requiredTargets = []string{"event.category", "event.action", "event.outcome", "user.id"}

// enums are the targets whose values the contract restricts.
var enums = map[string][]string{
	"event.category":       event.Categories,
	"event.outcome":        event.Outcomes,
	"user.type":            event.UserTypes,
	"client.access_method": event.AccessMethods,
}

var timeFormats = []string{"rfc3339", "epoch_ms", "epoch_s", "layout"}

// Load reads and checks a mapping file.
func Load(file string) (*Mapping, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("loading generic mapping: %w", err)
	}
	return Parse(data, file)
}

// Parse checks a mapping; name is the file name used in errors
// ("inhouse.yaml:12: fields.event.outcome: …"). Every problem is reported.
func Parse(data []byte, name string) (*Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{name: name, m: &Mapping{name: name, system: "generic"}}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	p.top(doc.Content[0])
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.m, nil
}

// Name is the file the mapping came from.
func (m *Mapping) Name() string { return m.name }

type parser struct {
	name string
	m    *Mapping
	errs []error
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, n.Line, fmt.Sprintf(format, args...)))
}

// fields returns a mapping node's key/value pairs, reporting keys not in allowed.
func (p *parser) fields(n *yaml.Node, where string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s: want a mapping", where)
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.errf(k, "%s: unknown setting %q (known: %s)", where, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errf(k, "%s: %q is set twice", where, k.Value)
		}
		out[k.Value] = v
	}
	return out
}

func (p *parser) scalar(n *yaml.Node, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s: want a single value", where)
		return "", false
	}
	return n.Value, true
}

func (p *parser) path(n *yaml.Node, where string) *path {
	s, ok := p.scalar(n, where)
	if !ok {
		return nil
	}
	pp, err := parsePath(s)
	if err != nil {
		p.errf(n, "%s: %v", where, err)
		return nil
	}
	return &pp
}

func (p *parser) top(n *yaml.Node) {
	f := p.fields(n, "mapping", "version", "system", "id", "timestamp", "fields", "changes")
	if v, ok := f["version"]; !ok {
		p.errf(n, "version: missing (write version: 1)")
	} else if s, _ := p.scalar(v, "version"); s != "1" {
		p.errf(v, "version: %q is not supported (this Trailwatch reads version 1)", s)
	}
	if v, ok := f["system"]; ok {
		if s, ok := p.scalar(v, "system"); ok {
			if s == "" {
				p.errf(v, "system: empty")
			}
			p.m.system = s
		}
	}
	if v, ok := f["id"]; ok {
		p.id(v)
	} else {
		p.errf(n, "id: missing (at least id.prefix, e.g. prefix: acme-)")
	}
	if v, ok := f["timestamp"]; ok {
		p.timestamp(v)
	} else {
		p.errf(n, "timestamp: missing (the path of the event time and its format)")
	}
	if v, ok := f["fields"]; ok {
		p.rules(v)
	} else {
		p.errf(n, "fields: missing")
	}
	if v, ok := f["changes"]; ok {
		p.changes(v)
	}
}

func (p *parser) id(n *yaml.Node) {
	f := p.fields(n, "id", "path", "prefix")
	if v, ok := f["path"]; ok {
		p.m.idPath = p.path(v, "id.path")
	}
	v, ok := f["prefix"]
	if !ok {
		p.errf(n, "id.prefix: missing (it keeps this source's ids apart from others', e.g. acme-)")
		return
	}
	s, _ := p.scalar(v, "id.prefix")
	if s == "" || len(s) > 32 {
		p.errf(v, "id.prefix: want 1 to 32 characters, got %d", len(s))
	}
	p.m.idPrefix = s
}

func (p *parser) timestamp(n *yaml.Node) {
	f := p.fields(n, "timestamp", "path", "format", "layout", "timezone")
	ts := &p.m.ts
	if v, ok := f["path"]; ok {
		if pp := p.path(v, "timestamp.path"); pp != nil {
			ts.path = *pp
		}
	} else {
		p.errf(n, "timestamp.path: missing")
	}
	ts.format = "rfc3339"
	if v, ok := f["format"]; ok {
		s, _ := p.scalar(v, "timestamp.format")
		if !slices.Contains(timeFormats, s) {
			p.errf(v, "timestamp.format: %q is not one of %s", s, strings.Join(timeFormats, ", "))
		}
		ts.format = s
	}
	layout, hasLayout := f["layout"]
	switch {
	case ts.format == "layout" && !hasLayout:
		p.errf(n, "timestamp.layout: missing (format: layout needs a Go layout, e.g. \"2006-01-02 15:04:05\")")
	case ts.format != "layout" && hasLayout:
		p.errf(layout, "timestamp.layout: only used with format: layout")
	case hasLayout:
		ts.layout, _ = p.scalar(layout, "timestamp.layout")
		if _, err := time.Parse(ts.layout, time.Date(2026, 11, 3, 13, 2, 11, 204e6, time.UTC).Format(ts.layout)); err != nil {
			p.errf(layout, "timestamp.layout: %q does not parse its own output: %v", ts.layout, err)
		}
	}
	ts.loc = time.UTC
	if v, ok := f["timezone"]; ok {
		s, _ := p.scalar(v, "timestamp.timezone")
		loc, err := time.LoadLocation(s)
		if err != nil || s == "" || s == "Local" {
			p.errf(v, "timestamp.timezone: %q is not an IANA time zone name", s)
		} else {
			ts.loc = loc
		}
		if ts.format != "layout" {
			p.errf(v, "timestamp.timezone: only used with format: layout (the other formats carry their zone)")
		}
	}
}

func (p *parser) rules(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "fields: want a mapping of canonical field to rule")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		target := k.Value
		if !slices.Contains(Targets, target) && !(strings.HasPrefix(target, "labels.") && len(target) > len("labels.")) {
			p.errf(k, "fields: %q is not a canonical field a mapping can set (see docs/INGEST.md)", target)
			continue
		}
		if seen[target] {
			p.errf(k, "fields: %q is set twice", target)
			continue
		}
		seen[target] = true
		if r, ok := p.rule(target, v); ok {
			p.m.rules = append(p.m.rules, r)
			if target == "source.id" {
				p.m.hasSource = true
			}
		}
	}
	for _, t := range requiredTargets {
		if !seen[t] {
			p.errf(n, "fields.%s: missing (the contract requires it: give a path or a const)", t)
		}
	}
	if seen["client.geo.lat"] != seen["client.geo.lon"] {
		p.errf(n, "fields: client.geo.lat and client.geo.lon go together")
	}
}

func (p *parser) rule(target string, n *yaml.Node) (rule, bool) {
	where := "fields." + target
	r := rule{target: target, line: n.Line}
	if n.Kind == yaml.ScalarNode { // shorthand: the value is a path
		r.path = p.path(n, where)
		return r, r.path != nil
	}
	before := len(p.errs)
	f := p.fields(n, where, "path", "const", "map", "default", "required", "transform")
	if v, ok := f["path"]; ok {
		r.path = p.path(v, where+".path")
	}
	if v, ok := f["const"]; ok {
		r.konst, r.hasConst = p.scalar(v, where+".const")
		if r.path != nil {
			p.errf(v, "%s: give a path or a const, not both", where)
		}
		p.checkValue(v, target, r.konst, where+".const")
	}
	if r.path == nil && !r.hasConst && len(p.errs) == before {
		p.errf(n, "%s: needs a path or a const", where)
	}
	if v, ok := f["map"]; ok {
		mf := p.fields(v, where+".map")
		r.valueMap = map[string]string{}
		for from, to := range mf {
			s, _ := p.scalar(to, where+".map."+from)
			r.valueMap[from] = s
			p.checkValue(to, target, s, where+".map."+from)
		}
		if r.hasConst {
			p.errf(v, "%s.map: a const needs no map", where)
		}
	}
	if v, ok := f["default"]; ok {
		r.def, r.hasDef = p.scalar(v, where+".default")
		p.checkValue(v, target, r.def, where+".default")
	}
	if v, ok := f["required"]; ok {
		s, _ := p.scalar(v, where+".required")
		switch s {
		case "true":
			r.required = true
		case "false":
		default:
			p.errf(v, "%s.required: want true or false, got %q", where, s)
		}
	}
	if v, ok := f["transform"]; ok {
		r.transform, _ = p.scalar(v, where+".transform")
		if !slices.Contains([]string{"upper", "lower", "trim"}, r.transform) {
			p.errf(v, "%s.transform: %q is not one of upper, lower, trim", where, r.transform)
		}
	}
	return r, len(p.errs) == before
}

// checkValue refuses, at load, a constant, map value or default the contract
// would refuse at run time.
func (p *parser) checkValue(n *yaml.Node, target, v, where string) {
	if err := checkTarget(target, v); err != nil {
		p.errf(n, "%s: %v", where, err)
	}
}

func (p *parser) changes(n *yaml.Node) {
	f := p.fields(n, "changes", "path", "field", "old", "new")
	c := &changesRule{}
	ok := true
	for _, k := range []string{"path", "field", "old", "new"} {
		v, present := f[k]
		if !present {
			p.errf(n, "changes.%s: missing", k)
			ok = false
			continue
		}
		pp := p.path(v, "changes."+k)
		if pp == nil {
			ok = false
			continue
		}
		switch k {
		case "path":
			c.path = *pp
		case "field":
			c.field = *pp
		case "old":
			c.old = *pp
		case "new":
			c.new_ = *pp
		}
	}
	if ok {
		p.m.changes = c
	}
}

// checkTarget checks a value for a target: enums, numbers, address and
// country syntax.
func checkTarget(target, v string) error {
	if allowed, ok := enums[target]; ok && !slices.Contains(allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	switch target {
	case "records":
		n, err := record.ParseInteger(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a record count (a non-negative integer)", v)
		}
	case "client.geo.country":
		if c, ok := record.CountryCode(v); !ok || c != v {
			return fmt.Errorf("%q is not an ISO 3166-1 alpha-2 code in upper case (use transform: upper for lower-case sources)", v)
		}
	}
	return nil
}
