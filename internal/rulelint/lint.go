// Package rulelint checks a rules directory beyond what loading it does:
// load errors of every file (a broken file does not hide the findings of
// the others), rules without tests or whose tests never fire or never stay
// quiet, unused lists and parameters, conditions that can never be true
// (contradictory or out-of-range constant comparisons, thresholds no
// window can reach, spans longer than the state kept), state that would be
// expensive (long windows on high-cardinality keys, rules that take every
// event), and missing metadata (description, runbook, ATT&CK tags,
// summary, actions). Every finding has a file and line, a severity and a
// code.
package rulelint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/trailwatch/trailwatch/detect"
)

// Severity of a finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Rule     string   `json:"rule,omitempty"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Line)
		if f.Column > 0 {
			fmt.Fprintf(&b, ":%d", f.Column)
		}
	}
	fmt.Fprintf(&b, ": %s [%s] %s", f.Severity, f.Code, f.Message)
	return b.String()
}

// Options tune the checks.
type Options struct {
	// Config is the detector configuration the rules run under (limits
	// such as max_window_events); zero means detect.DefaultConfig().
	Config *detect.Config
}

// Report is every finding, sorted by file and line, and what was checked.
type Report struct {
	Findings []Finding
	Rules    int // rules that loaded and were checked
	Files    int
}

// Errors counts the findings of severity error.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Dir lints a rules directory.
func Dir(dir string, opt Options) (*Report, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("linting rules: %w", err)
	}
	return FS(os.DirFS(dir), dir, opt)
}

// FS lints the rule files of fsys, named name in messages.
func FS(fsys fs.FS, name string, opt Options) (*Report, error) {
	cfg := detect.DefaultConfig()
	if opt.Config != nil {
		cfg = *opt.Config
	}
	files := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if p != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(base, ".bad.yaml") || strings.HasSuffix(base, ".bad.yml") ||
			!(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("linting rules in %s: %w", name, err)
	}
	rep := &Report{Files: len(files)}
	l := &linter{name: name, cfg: cfg, rep: rep, seen: map[string]bool{}}
	rs := l.load(files)
	if rs != nil {
		rep.Rules = len(rs.Rules)
		l.check(rs)
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return rep, nil
}

type linter struct {
	name string
	cfg  detect.Config
	rep  *Report
	seen map[string]bool // findings already reported (load errors repeat)
}

func (l *linter) add(f Finding) {
	key := f.String()
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.rep.Findings = append(l.rep.Findings, f)
}

// load loads the largest set of files that loads: it reports each
// loading error, drops the files they name and tries again, so that a
// broken rule hides nothing of the others (the loader compiles rules only
// once every file parses).
func (l *linter) load(files fstest.MapFS) *detect.RuleSet {
	for range 64 {
		if len(files) == 0 {
			return nil
		}
		rs, err := detect.LoadFS(files, l.name)
		if err == nil {
			return rs
		}
		var les detect.LoadErrors
		if !errors.As(err, &les) {
			l.add(Finding{File: l.name, Severity: Error, Code: "load", Message: err.Error()})
			return nil
		}
		dropped := false
		for _, le := range les {
			code := "load"
			if strings.Contains(le.Msg, "is already used by") || strings.Contains(le.Msg, "is already defined at") {
				code = "duplicate-id"
			}
			l.add(Finding{File: le.File, Line: le.Line, Column: le.Column, Severity: Error, Code: code, Rule: le.Rule, Message: le.Msg})
			rel := strings.TrimPrefix(strings.TrimPrefix(le.File, l.name), "/")
			if _, ok := files[rel]; ok {
				delete(files, rel)
				dropped = true
			}
		}
		if !dropped {
			return nil
		}
	}
	return nil
}

// at is a finding at a rule's key (its line), or at the rule itself.
func at(r *detect.Rule, key string) (string, int) {
	if line, ok := r.Keys[key]; ok {
		return r.File, line
	}
	return r.File, r.Line
}

func (l *linter) ruleFinding(r *detect.Rule, key string, sev Severity, code, format string, args ...any) {
	file, line := at(r, key)
	l.add(Finding{File: file, Line: line, Severity: sev, Code: code, Rule: r.ID, Message: fmt.Sprintf(format, args...)})
}

func (l *linter) srcFinding(r *detect.Rule, s *detect.Source, sev Severity, code, format string, args ...any) {
	l.add(Finding{File: r.File, Line: s.Line, Column: s.Column, Severity: sev, Code: code, Rule: r.ID, Message: fmt.Sprintf(format, args...)})
}

// check runs every check on a loaded rule set.
func (l *linter) check(rs *detect.RuleSet) {
	for _, name := range rs.UnusedLists() {
		li := rs.Lists[name]
		l.add(Finding{File: li.File, Line: li.Line, Severity: Warning, Code: "unused-list", Message: fmt.Sprintf("list %q is used by no rule", name)})
	}
	var routes map[string]detect.RuleInfo
	if eng, err := detect.NewEngine(rs, l.cfg); err == nil {
		routes = map[string]detect.RuleInfo{}
		for _, ri := range eng.Rules() {
			routes[ri.ID] = ri
		}
	} else {
		l.add(Finding{File: l.name, Severity: Error, Code: "config", Message: err.Error()})
	}
	for _, r := range rs.Rules {
		l.meta(r)
		l.tests(r)
		l.params(r)
		l.never(r, rs)
		l.cost(r, routes[r.ID])
	}
}
