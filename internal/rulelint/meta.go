package rulelint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/detect"
)

// The ATT&CK enterprise tactics, as tags write them.
var tactics = map[string]bool{
	"reconnaissance": true, "resource_development": true, "initial_access": true, "execution": true,
	"persistence": true, "privilege_escalation": true, "defense_evasion": true, "credential_access": true,
	"discovery": true, "lateral_movement": true, "collection": true, "command_and_control": true,
	"exfiltration": true, "impact": true,
}

var techniqueRE = regexp.MustCompile(`^attack\.t[0-9]{4}(\.[0-9]{3})?$`)

// meta checks what people read: description, runbook, summary, tags and
// actions.
func (l *linter) meta(r *detect.Rule) {
	if strings.TrimSpace(r.Description) == "" {
		l.ruleFinding(r, "id", Warning, "no-description", "rule %s has no description of the threat", r.ID)
	}
	if strings.TrimSpace(r.Runbook) == "" {
		l.ruleFinding(r, "id", Warning, "no-runbook", "rule %s has no runbook: on-call needs to know what to do", r.ID)
	}
	if r.Summary == nil {
		l.ruleFinding(r, "id", Warning, "no-summary", "rule %s has no summary: its alerts will say only the title", r.ID)
	}
	if len(r.Actions) == 0 {
		l.ruleFinding(r, "id", Warning, "no-actions", "rule %s requests no action (notify, freeze_account, …)", r.ID)
	}
	if len(r.Tags) == 0 {
		l.ruleFinding(r, "id", Warning, "no-tags", "rule %s has no tags: add its MITRE ATT&CK tactic and technique (attack.t1078)", r.ID)
		return
	}
	technique := false
	for _, t := range r.Tags {
		low := strings.ToLower(t)
		if !strings.HasPrefix(low, "attack.") {
			continue
		}
		switch {
		case techniqueRE.MatchString(low):
			technique = true
			if t != low {
				l.ruleFinding(r, "tags", Warning, "bad-tag", "tag %q: write technique ids in lower case (%s)", t, low)
			}
		case tactics[strings.TrimPrefix(low, "attack.")]:
		default:
			l.ruleFinding(r, "tags", Warning, "bad-tag", "tag %q is neither an ATT&CK tactic (attack.credential_access) nor a technique id (attack.t1110, attack.t1110.004)", t)
		}
	}
	if !technique {
		l.ruleFinding(r, "tags", Warning, "no-technique", "rule %s has no ATT&CK technique id among its tags", r.ID)
	}
}

// tests checks that a rule's tests show it firing and staying quiet.
func (l *linter) tests(r *detect.Rule) {
	if len(r.Tests) == 0 {
		l.ruleFinding(r, "id", Warning, "no-tests", "rule %s has no tests", r.ID)
		return
	}
	fires, quiet := false, false
	for _, t := range r.Tests {
		own := 0
		for _, x := range t.Expect {
			if (x.Rule == "" || x.Rule == r.ID) && x.Count > 0 {
				own++
			}
		}
		if own > 0 {
			fires = true
		} else {
			// expect: none, or only other rules' alerts: the tests hold
			// this rule to none.
			quiet = true
		}
	}
	if !fires {
		l.ruleFinding(r, "tests", Warning, "tests-never-fire", "no test of %s expects it to fire", r.ID)
	}
	if !quiet {
		l.ruleFinding(r, "tests", Warning, "tests-never-quiet", "no test of %s shows a look-alike that must not fire (expect: none)", r.ID)
	}
}

// params reports parameters no expression or duration uses.
func (l *linter) params(r *detect.Rule) {
	var text strings.Builder
	for _, s := range sources(r) {
		text.WriteString(s.Text)
		text.WriteByte('\n')
	}
	used := map[string]bool{}
	for _, ds := range durations(r) {
		if ds != nil && ds.Param != "" {
			used[ds.Param] = true
		}
	}
	all := text.String()
	for _, p := range r.Params {
		if used[p.Name] {
			continue
		}
		if !regexp.MustCompile(`params\.` + regexp.QuoteMeta(p.Name) + `\b`).MatchString(all) {
			l.add(Finding{File: r.File, Line: p.Line, Column: p.Column, Severity: Warning, Code: "unused-param", Rule: r.ID,
				Message: fmt.Sprintf("param %q is used by no expression or duration of %s", p.Name, r.ID)})
		}
	}
}

// sources are every expression of a rule.
func sources(r *detect.Rule) []*detect.Source {
	out := []*detect.Source{r.Filter, r.Condition, r.Summary}
	out = append(out, r.GroupBy...)
	for _, n := range r.Aggregates {
		out = append(out, n.Expr)
	}
	for _, n := range r.Values {
		out = append(out, n.Expr)
	}
	if r.Sequence != nil {
		for _, s := range r.Sequence.Steps {
			out = append(out, s.Filter, s.Where)
		}
	}
	if r.NewValue != nil {
		out = append(out, r.NewValue.Field, r.NewValue.AlsoNew)
	}
	for _, a := range r.Actions {
		out = append(out, a.Target)
	}
	keep := out[:0]
	for _, s := range out {
		if s != nil {
			keep = append(keep, s)
		}
	}
	return keep
}

func durations(r *detect.Rule) []*detect.DurationSpec {
	out := []*detect.DurationSpec{r.Window, r.Previous, r.Suppress}
	if r.Sequence != nil {
		out = append(out, r.Sequence.Within)
	}
	if r.NewValue != nil {
		out = append(out, r.NewValue.History, r.NewValue.MinHistory)
	}
	return out
}
