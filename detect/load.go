package detect

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// RuleSet is a loaded rules directory: every rule parsed and compiled with
// its default parameters, and the shared lists. It is immutable; NewEngine
// turns it into something that runs.
type RuleSet struct {
	Dir   string
	Rules []*Rule // sorted by id
	Lists map[string]*List
	Files []string
}

// Rule returns the rule with the given id, or nil.
func (rs *RuleSet) Rule(id string) *Rule {
	i := sort.Search(len(rs.Rules), func(i int) bool { return rs.Rules[i].ID >= id })
	if i < len(rs.Rules) && rs.Rules[i].ID == id {
		return rs.Rules[i]
	}
	return nil
}

// UnusedLists names the lists no rule refers to (for lint).
func (rs *RuleSet) UnusedLists() []string {
	used := map[string]bool{}
	for _, r := range rs.Rules {
		if r.compiled != nil {
			for l := range r.compiled.used {
				used[l] = true
			}
		}
	}
	var out []string
	for name := range rs.Lists {
		if !used[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Load reads every rule and list file under dir (recursively: *.yaml and
// *.yml, except *.bad.yaml and names starting with "." or "_"), compiles
// each rule against the event type, and returns the rule set, or every
// problem found (LoadErrors) with file, line and column.
func Load(dir string) (*RuleSet, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("the rule directory: %w", err)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is Load over a file system; name is what error messages call its
// root.
func LoadFS(fsys fs.FS, name string) (*RuleSet, error) {
	rs := &RuleSet{Dir: name, Lists: map[string]*List{}}
	var errs LoadErrors
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &LoadError{File: path.Join(name, p), Msg: err.Error()})
			return nil
		}
		base := d.Name()
		if p != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isRuleFileName(base) {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading rules from %s: %w", name, err)
	}
	sort.Strings(files)
	var parsed []*Rule
	for _, p := range files {
		src, err := fs.ReadFile(fsys, p)
		file := path.Join(name, p)
		if err != nil {
			errs = append(errs, &LoadError{File: file, Msg: err.Error()})
			continue
		}
		rules, lists, ferrs := parseFile(file, src)
		errs = append(errs, ferrs...)
		parsed = append(parsed, rules...)
		for _, l := range lists {
			if old, dup := rs.Lists[l.Name]; dup {
				errs = append(errs, &LoadError{File: l.File, Line: l.Line, Msg: fmt.Sprintf("list %q is already defined at %s:%d", l.Name, old.File, old.Line)})
				continue
			}
			rs.Lists[l.Name] = l
		}
		rs.Files = append(rs.Files, file)
	}
	byID := map[string]*Rule{}
	for _, r := range parsed {
		if r.ID == "" {
			continue
		}
		if old, dup := byID[r.ID]; dup {
			errs = append(errs, &LoadError{File: r.File, Line: r.Line, Rule: r.ID, Msg: fmt.Sprintf("rule id %q is already used by %s:%d", r.ID, old.File, old.Line)})
			continue
		}
		byID[r.ID] = r
		rs.Rules = append(rs.Rules, r)
	}
	sort.Slice(rs.Rules, func(i, j int) bool { return rs.Rules[i].ID < rs.Rules[j].ID })
	if len(errs) == 0 {
		for _, r := range rs.Rules {
			c, cerrs := compileRule(r, defaultParams(r), rs.Lists, nil, "")
			errs = append(errs, cerrs...)
			r.compiled = c
		}
		errs = append(errs, checkTests(rs)...)
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return rs, nil
}

func isRuleFileName(base string) bool {
	if strings.HasSuffix(base, ".bad.yaml") || strings.HasSuffix(base, ".bad.yml") {
		return false
	}
	return strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")
}

// parseFile reads one file: a rule, or a lists file (a mapping with the
// single key "lists").
func parseFile(file string, src []byte) ([]*Rule, []*List, LoadErrors) {
	d := newYdoc(file, src)
	root := d.parse(src)
	if root == nil {
		return nil, nil, d.errs
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "a rule file holds a mapping (id: …, filter: …), not %s", kindName(root))
		return nil, nil, d.errs
	}
	if len(root.Content) >= 2 && root.Content[0].Value == "lists" {
		return nil, d.parseLists(root), d.errs
	}
	r := d.parseRule(root)
	return []*Rule{r}, nil, d.errs
}

// checkTests compiles each test's configuration against the rule set, so a
// test naming an unknown rule or parameter fails at load.
func checkTests(rs *RuleSet) LoadErrors {
	var errs LoadErrors
	for _, r := range rs.Rules {
		for _, t := range r.Tests {
			for _, x := range t.Expect {
				if x.Rule != "" && rs.Rule(x.Rule) == nil {
					errs = append(errs, &LoadError{File: r.File, Line: x.Line, Rule: r.ID, Msg: fmt.Sprintf("test %q expects rule %q, which does not exist", t.Name, x.Rule)})
				}
			}
			if t.Config != nil {
				if _, err := NewEngine(rs, *t.Config); err != nil {
					errs = append(errs, &LoadError{File: r.File, Line: t.Line, Rule: r.ID, Msg: fmt.Sprintf("test %q: config: %s", t.Name, err.Error())})
				}
			}
		}
	}
	return errs
}
