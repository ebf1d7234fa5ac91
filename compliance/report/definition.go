package report

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/sink/queries"
)

//go:embed builtin/*.yaml
var builtin embed.FS

// Definition is one report.
type Definition struct {
	Name        string        `yaml:"name"`
	Title       string        `yaml:"title"`
	Description string        `yaml:"description"`
	Period      time.Duration `yaml:"period"` // the window ending at the run time: fills from/to (or at) where a query declares them
	Params      []string      `yaml:"params"` // parameters the caller must give (--param name=value), passed to every section that declares them
	Sections    []Section     `yaml:"sections"`

	file string
}

// Section is one query of a report and how to show it.
type Section struct {
	Title  string            `yaml:"title"`
	Query  string            `yaml:"query"`
	Params map[string]string `yaml:"params"`
	Chart  *Chart            `yaml:"chart"`

	line int
}

// Chart draws two columns of a section: a bar per row, or a line over x.
type Chart struct {
	Kind   string `yaml:"kind"` // bar or line
	X      string `yaml:"x"`
	Y      string `yaml:"y"`
	Series string `yaml:"series"` // optional: one line per value of this column (kind line)
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// Parse reads a definition from data (file names it in errors) and checks
// it against the named query library: every query exists, every fixed
// parameter is declared by its query and binds as its type, and each
// query's required parameters are given by the section, the report's
// params, tenant, or the period.
func Parse(data []byte, file string) (*Definition, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var d Definition
	dec := func() error {
		if len(root.Content) == 0 {
			return errors.New("empty definition")
		}
		return root.Content[0].Decode(&d)
	}
	if err := dec(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d.file = file
	// Section lines, for errors.
	if doc := root.Content[0]; doc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "sections" && doc.Content[i+1].Kind == yaml.SequenceNode {
				for k, n := range doc.Content[i+1].Content {
					if k < len(d.Sections) {
						d.Sections[k].line = n.Line
					}
				}
			}
		}
	}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	if !nameRE.MatchString(d.Name) {
		bad(1, "name: %q, want lower-case letters, digits and dashes", d.Name)
	}
	if d.Period < 0 {
		bad(1, "period: must not be negative, got %s", d.Period)
	}
	if len(d.Sections) == 0 {
		bad(1, "sections: at least one is required")
	}
	given := map[string]bool{"tenant": true}
	for _, p := range d.Params {
		given[p] = true
	}
	for i, s := range d.Sections {
		line := s.line
		q, err := queries.Get(s.Query)
		if err != nil {
			bad(line, "sections[%d].query: %v", i, err)
			continue
		}
		declared := map[string]queries.Param{}
		for _, p := range q.Params {
			declared[p.Name] = p
		}
		fixed := map[string]string{}
		for k, v := range s.Params {
			if _, ok := declared[k]; !ok {
				bad(line, "sections[%d].params.%s: query %s takes no such parameter", i, k, q.Name)
				continue
			}
			fixed[k] = v
		}
		// Bind the fixed values with every other required one stubbed,
		// which checks each fixed value's type.
		probe := map[string]string{}
		for k, v := range fixed {
			probe[k] = v
		}
		for _, p := range q.Params {
			if _, ok := probe[p.Name]; ok {
				continue
			}
			period := d.Period > 0 && (p.Name == "from" || p.Name == "to" || p.Name == "at" || p.Name == "as_of")
			switch {
			case given[p.Name] || period:
				probe[p.Name] = stub(p.Type)
			case p.Required():
				bad(line, "sections[%d]: query %s needs parameter %s (%s): give it in params, or list it in the report's params", i, q.Name, p.Name, p.Doc)
			}
		}
		if _, err := q.Bind(probe, time.Now()); err != nil {
			bad(line, "sections[%d].params: %v", i, err)
		}
		if c := s.Chart; c != nil {
			if c.Kind != "bar" && c.Kind != "line" {
				bad(line, "sections[%d].chart.kind: %q, want bar or line", i, c.Kind)
			}
			if c.X == "" || c.Y == "" {
				bad(line, "sections[%d].chart: x and y name the columns to draw", i)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &d, nil
}

func stub(typ string) string {
	if typ == "DateTime64(3)" {
		return "now"
	}
	if typ == "String" {
		return "x"
	}
	return "1"
}

// LoadFile reads and checks a definition file.
func LoadFile(file string) (*Definition, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading report definition: %w", err)
	}
	return Parse(b, file)
}

// Builtin returns the built-in definitions, by name.
func Builtin() ([]*Definition, error) {
	names, err := fs.Glob(builtin, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Definition
	for _, n := range names {
		b, err := builtin.ReadFile(n)
		if err != nil {
			return nil, err
		}
		d, err := Parse(b, n)
		if err != nil {
			return nil, err
		}
		if d.Name+".yaml" != path.Base(n) {
			return nil, fmt.Errorf("%s: declares the name %q; the file must be named after it", n, d.Name)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Find returns the definition called name among the built-ins and the
// definitions in dirs (*.yaml; a file's definition shadows a built-in of
// the same name).
func Find(name string, dirs ...string) (*Definition, error) {
	for _, dir := range dirs {
		files, _ := fs.Glob(os.DirFS(dir), "*.yaml")
		for _, f := range files {
			d, err := LoadFile(path.Join(dir, f))
			if err != nil {
				return nil, err
			}
			if d.Name == name {
				return d, nil
			}
		}
	}
	all, err := Builtin()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range all {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("no report %q; built in: %s", name, strings.Join(names, ", "))
}
