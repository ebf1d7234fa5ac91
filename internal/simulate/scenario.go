package simulate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Scenario is the world's tenants. The built-in one (DefaultScenario) has
// five tenants on four continents, with a Sunday-to-Thursday week and a
// southern-hemisphere daylight-saving zone among them; a YAML file can
// replace it (ParseScenario).
type Scenario struct {
	Tenants []TenantSpec
}

// TenantSpec describes one tenant: an organisation using one or more CRMs.
type TenantSpec struct {
	ID string
	// Zone is the headquarters' IANA zone: the zone of the tenant's working
	// calendar.
	Zone string
	// Offices are cities people work in (the first is headquarters);
	// Remote are cities where some people work from home.
	Offices []string
	Remote  []string
	// Systems are the CRMs in use: salesforce, hubspot, dynamics365,
	// generic (an in-house CRM, whose timestamps keep the actor's offset).
	Systems []string
	// Days and Hours are the working calendar (detect's calendar syntax):
	// days mon…sun, hours "07:00-19:00".
	Days     []string
	Hours    string
	Holidays []string // YYYY-MM-DD
	// Weight is the tenant's share of the people.
	Weight int
	line   int
}

// DefaultScenario is the built-in world.
func DefaultScenario() *Scenario {
	mf := []string{"mon", "tue", "wed", "thu", "fri"}
	return &Scenario{Tenants: []TenantSpec{
		{ID: "acme", Zone: "America/New_York", Offices: []string{"New York", "Boston", "Chicago"}, Remote: []string{"Denver", "San Francisco", "Austin", "Seattle", "Toronto"},
			Systems: []string{"salesforce", "hubspot"}, Days: mf, Hours: "07:00-19:30", Holidays: []string{"2026-11-26", "2026-11-27", "2026-12-25", "2027-01-01"}, Weight: 3},
		{ID: "globex", Zone: "Europe/Berlin", Offices: []string{"Berlin", "Munich", "Hamburg"}, Remote: []string{"London", "Paris", "Amsterdam", "Vienna", "Frankfurt"},
			Systems: []string{"dynamics365", "salesforce"}, Days: mf, Hours: "07:00-19:00", Holidays: []string{"2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"}, Weight: 3},
		{ID: "initech", Zone: "Asia/Tokyo", Offices: []string{"Tokyo", "Osaka"}, Remote: []string{"Fukuoka"},
			Systems: []string{"salesforce"}, Days: mf, Hours: "08:00-21:00", Holidays: []string{"2026-11-03", "2026-11-23", "2027-01-01", "2027-01-02", "2027-01-03"}, Weight: 2},
		{ID: "umbrella", Zone: "Asia/Jerusalem", Offices: []string{"Tel Aviv", "Haifa"}, Remote: []string{"Jerusalem", "London"},
			Systems: []string{"hubspot", "generic"}, Days: []string{"sun", "mon", "tue", "wed", "thu"}, Hours: "08:00-18:30", Weight: 2},
		{ID: "hooli", Zone: "Australia/Sydney", Offices: []string{"Sydney", "Melbourne"}, Remote: []string{"Singapore"},
			Systems: []string{"salesforce", "dynamics365"}, Days: mf, Hours: "07:30-19:00", Holidays: []string{"2026-12-25", "2026-12-28", "2027-01-01"}, Weight: 2},
	}}
}

var (
	tenantIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	hoursRE    = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$`)
	systems    = []string{"salesforce", "hubspot", "dynamics365", "generic"}
	weekdays   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// ParseScenario reads a scenario file:
//
//	tenants:
//	  - id: acme
//	    zone: America/New_York
//	    offices: [New York, Boston]
//	    remote: [Denver]
//	    systems: [salesforce, hubspot]
//	    days: [mon, tue, wed, thu, fri]
//	    hours: "07:00-19:30"
//	    holidays: [2026-11-26]
//	    weight: 3
//
// Every problem is reported at once, each as file:line:column: path: why.
func ParseScenario(file string, src []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &scenarioParser{file: file}
	sc := &Scenario{}
	if len(root.Content) == 0 {
		p.errf(&root, "", "empty scenario: want a mapping with tenants")
		return nil, p.err()
	}
	doc := root.Content[0]
	for _, kv := range p.mapping(doc, "", []string{"tenants"}) {
		items := p.seq(kv.v, "tenants")
		for i, n := range items {
			sc.Tenants = append(sc.Tenants, p.tenant(n, fmt.Sprintf("tenants[%d]", i)))
		}
	}
	if len(sc.Tenants) == 0 && len(p.errs) == 0 {
		p.errf(doc, "tenants", "at least one tenant is required")
	}
	seen := map[string]int{}
	for _, t := range sc.Tenants {
		if t.ID == "" {
			continue
		}
		if l, dup := seen[t.ID]; dup {
			p.errs = append(p.errs, fmt.Errorf("%s:%d: tenant id %q is already used on line %d", file, t.line, t.ID, l))
		}
		seen[t.ID] = t.line
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return sc, nil
}

type scenarioParser struct {
	file string
	errs []error
}

type kv struct {
	key  string
	k, v *yaml.Node
}

func (p *scenarioParser) errf(n *yaml.Node, path, format string, args ...any) {
	where := p.file
	if n != nil && n.Line > 0 {
		where += ":" + strconv.Itoa(n.Line) + ":" + strconv.Itoa(n.Column)
	}
	if path != "" {
		where += ": " + path
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (p *scenarioParser) err() error { return errors.Join(p.errs...) }

func (p *scenarioParser) mapping(n *yaml.Node, path string, keys []string) []kv {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errf(n, path, "want a mapping")
		return nil
	}
	var out []kv
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		known := false
		for _, x := range keys {
			known = known || x == name
		}
		switch {
		case !known:
			p.errf(k, sub, "unknown field (want one of %s)", strings.Join(keys, ", "))
			continue
		case seen[name]:
			p.errf(k, sub, "given twice")
			continue
		}
		seen[name] = true
		out = append(out, kv{name, k, v})
	}
	return out
}

func (p *scenarioParser) seq(n *yaml.Node, path string) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errf(n, path, "want a list")
		return nil
	}
	return n.Content
}

func (p *scenarioParser) str(n *yaml.Node, path string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, path, "want a text value")
		return ""
	}
	return n.Value
}

func (p *scenarioParser) strs(n *yaml.Node, path string) ([]string, []*yaml.Node) {
	items := p.seq(n, path)
	out := make([]string, 0, len(items))
	for i, it := range items {
		out = append(out, p.str(it, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out, items
}

func (p *scenarioParser) tenant(n *yaml.Node, path string) TenantSpec {
	t := TenantSpec{Weight: 1, line: n.Line}
	keys := []string{"id", "zone", "offices", "remote", "systems", "days", "hours", "holidays", "weight"}
	got := map[string]bool{}
	for _, f := range p.mapping(n, path, keys) {
		sub := path + "." + f.key
		got[f.key] = true
		switch f.key {
		case "id":
			t.ID = p.str(f.v, sub)
			if t.ID != "" && !tenantIDRE.MatchString(t.ID) {
				p.errf(f.v, sub, "%q: use lower-case letters, digits and '-', starting with a letter (at most 32)", t.ID)
			}
		case "zone":
			t.Zone = p.str(f.v, sub)
			if t.Zone != "" {
				if _, err := event.LoadZone(t.Zone); err != nil {
					p.errf(f.v, sub, "unknown time zone %q", t.Zone)
				}
			}
		case "offices", "remote":
			cities, nodes := p.strs(f.v, sub)
			for i, c := range cities {
				if c == "" {
					continue
				}
				if _, err := lookupPlace(c); err != nil {
					p.errf(nodes[i], fmt.Sprintf("%s[%d]", sub, i), "%s", err.Error())
				}
			}
			if f.key == "offices" {
				t.Offices = cities
			} else {
				t.Remote = cities
			}
		case "systems":
			vals, nodes := p.strs(f.v, sub)
			for i, s := range vals {
				if s != "" && !contains(systems, s) {
					p.errf(nodes[i], fmt.Sprintf("%s[%d]", sub, i), "unknown system %q (want %s)", s, strings.Join(systems, ", "))
				}
			}
			t.Systems = vals
		case "days":
			vals, nodes := p.strs(f.v, sub)
			for i, d := range vals {
				if d != "" && !contains(weekdays, d) {
					p.errf(nodes[i], fmt.Sprintf("%s[%d]", sub, i), "unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", d)
				}
			}
			t.Days = vals
		case "hours":
			t.Hours = p.str(f.v, sub)
			if t.Hours != "" {
				if _, _, err := parseHours(t.Hours); err != nil {
					p.errf(f.v, sub, "%s", err.Error())
				}
			}
		case "holidays":
			vals, nodes := p.strs(f.v, sub)
			for i, d := range vals {
				if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
					p.errf(nodes[i], fmt.Sprintf("%s[%d]", sub, i), "%q is not a date (YYYY-MM-DD)", d)
				}
			}
			t.Holidays = vals
		case "weight":
			s := p.str(f.v, sub)
			w, err := strconv.Atoi(s)
			if s != "" && (err != nil || w < 1 || w > 100) {
				p.errf(f.v, sub, "%q: want a whole number from 1 to 100", s)
			}
			t.Weight = w
		}
	}
	for _, req := range []string{"id", "zone", "offices", "systems"} {
		if !got[req] {
			p.errf(n, path, "lacks %q", req)
		}
	}
	if got["offices"] && len(t.Offices) == 0 {
		p.errf(n, path+".offices", "at least one office is required")
	}
	if got["systems"] && len(t.Systems) == 0 {
		p.errf(n, path+".systems", "at least one system is required")
	}
	if len(t.Days) == 0 {
		t.Days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if t.Hours == "" {
		t.Hours = "08:00-18:00"
	}
	return t
}

// parseHours reads "HH:MM-HH:MM" into minutes after midnight; the range
// must not wrap midnight (people in the simulation work by day).
func parseHours(s string) (from, to int, err error) {
	m := hoursRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q: want HH:MM-HH:MM, such as 08:00-18:00", s)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	d, _ := strconv.Atoi(m[4])
	from, to = a*60+b, c*60+d
	if to > 24*60 || to-from < 4*60 {
		return 0, 0, fmt.Errorf("%q: the working day must be at least four hours and end by 24:00", s)
	}
	return from, to, nil
}

// deref follows aliases (a bounded number of times: yaml.v3 refuses
// alias cycles, but a document can still chain them).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
