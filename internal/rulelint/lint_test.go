package rulelint

import (
	"strings"
	"testing"
	"testing/fstest"
)

const head = `id: %s
version: 1
title: A rule
description: Why it matters.
severity: high
tags: [attack.initial_access, attack.t1078]
runbook: What to do.
summary: 'it fired'
actions: [notify]
`

const okTests = `tests:
  - name: fires
    events: [{event: {category: authentication, action: login}}]
    expect: [{count: 1}]
  - name: quiet
    events: [{event: {category: export, action: export}}]
    expect: none
`

func rule(id, body string) string {
	return strings.Replace(head, "%s", id, 1) + body
}

func lint(t *testing.T, files map[string]string) *Report {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	rep, err := FS(fsys, "r", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestLint(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // substrings of findings, in order of appearance among the findings
	}{
		{"a clean rule", map[string]string{"a.yaml": rule("a", `filter: event.category == "authentication"
`+okTests)}, nil},
		{"a value outside a closed set", map[string]string{"a.yaml": rule("a", `filter: event.category == "authentication" && event.outcome == "failed"
`+okTests)}, []string{`r/a.yaml:10:9: error [never-fires] filter can never be true: event.outcome == "failed" can never hold: event.outcome is one of success, failure, unknown`}},
		{"two values of one field", map[string]string{"a.yaml": rule("a", `filter: event.action == "login" && event.action == "logout"
`+okTests)}, []string{`error [never-fires] filter can never be true: event.action == "logout" contradicts event.action == "login"`}},
		{"an empty range", map[string]string{"a.yaml": rule("a", `filter: event.category == "export" && records > 100 && records < 50
`+okTests)}, []string{`[never-fires] filter can never be true: records > 100 contradicts records < 50`}},
		{"in and ==", map[string]string{"a.yaml": rule("a", `filter: event.action in ["login", "logout"] && event.action == "export"
`+okTests)}, []string{"[never-fires]", "contradicts"}},
		{"a value required and excluded", map[string]string{"a.yaml": rule("a", `filter: user.role == "admin" && event.category == "permission" && !(user.role == "admin")
`+okTests)}, []string{"[never-fires]", `user.role == "admin" contradicts user.role == "admin"`}},
		{"lower and capitals", map[string]string{"a.yaml": rule("a", `filter: event.category == "permission" && lower(user.role) == "Admin"
`+okTests)}, []string{`[never-fires] filter can never be true: lower(user.role) is compared with lower(user.role) == "Admin", which it can never equal`}},
		{"a negated closed set", map[string]string{"a.yaml": rule("a", `filter: event.category == "export" && !(event.outcome in ["success", "failure", "unknown"])
`+okTests)}, []string{"[never-fires]", "excludes every value of event.outcome"}},
		{"a parameter's default", map[string]string{"a.yaml": rule("a", `params: {min: 100}
filter: event.category == "export" && records >= params.min && records < 10
`+okTests)}, []string{"[never-fires]", "records >= params.min contradicts records < 10"}},
		{"one possible branch is enough", map[string]string{"a.yaml": rule("a", `filter: event.category == "export" && (event.outcome == "failed" || event.outcome == "failure")
`+okTests)}, nil},
		{"a count no window reaches", map[string]string{"a.yaml": rule("a", `filter: event.category == "authentication"
group_by: [person]
window: 10m
aggregates: {n: count()}
condition: n >= 20000
`+okTests)}, []string{"[never-fires] condition can never be true: n >= 20000: a window keeps at most max_window_events (10000) events per group"}},
		{"a distinct count above the values", map[string]string{"a.yaml": rule("a", `filter: event.category == "authentication"
group_by: [person]
window: 10m
condition: count_distinct(event.outcome) > 3
`+okTests)}, []string{"[never-fires]", "event.outcome has only 3 values"}},
		{"an elapsed time longer than previous keeps", map[string]string{"a.yaml": rule("a", `filter: event.category == "authentication"
group_by: [user.id]
previous: 24h
condition: prev != nil && timestamp - prev.timestamp >= duration("30d")
`+okTests)}, []string{"[never-fires]", "prev is at most 1d older"}},
		{"tests", map[string]string{
			"a.yaml": rule("a", `filter: event.category == "authentication"
`),
			"b.yaml": rule("b", `filter: event.category == "authentication"
tests:
  - name: quiet
    events: [{event: {category: export, action: export}}]
    expect: none
`),
			"c.yaml": rule("c", `filter: event.category == "authentication"
tests:
  - name: fires
    events: [{event: {category: authentication, action: login}}]
    expect: [{count: 1}]
`)}, []string{"r/a.yaml:1: warning [no-tests] rule a has no tests", "r/b.yaml:11: warning [tests-never-fire]", "r/c.yaml:11: warning [tests-never-quiet]"}},
		{"unused list and param", map[string]string{
			"lists.yaml": "lists:\n  spare: [a, b]\n",
			"a.yaml": rule("a", `params:
  unused: 5
  min: 3
filter: event.category == "export" && records >= params.min
`+okTests)}, []string{"r/a.yaml:11:3: warning [unused-param] param \"unused\"", "r/lists.yaml:2: warning [unused-list] list \"spare\""}},
		{"duplicate ids and a broken file hide nothing", map[string]string{
			"a.yaml": rule("a", `filter: event.category == "authentication"
`+okTests),
			"b.yaml": rule("a", `filter: event.category == "authentication"
`+okTests),
			"c.yaml": rule("c", `filter: event.categroy == "authentication"
`+okTests),
			"d.yaml": rule("d", `filter: event.category == "export" && event.outcome == "nope"
`+okTests),
		}, []string{"r/b.yaml:1: error [duplicate-id]", `r/c.yaml:10:15: error [load] filter: unknown field "event.categroy"`, "r/d.yaml:10:9: error [never-fires]"}},
		{"cost", map[string]string{
			"a.yaml": rule("a", `filter: event.category == "data_change"
group_by: [object.id]
previous: 30d
`+okTests),
			"b.yaml": rule("b", `filter: user.id != ""
group_by: [person]
window: 2d
condition: count() > 5
`+okTests),
			"c.yaml": rule("c", `group_by: [person]
sequence:
  within: 2d
  steps:
    - {filter: event.action == "a"}
    - {filter: event.action == "b"}
    - {filter: event.action == "c"}
    - {filter: event.action == "d"}
    - {filter: event.action == "e"}
    - {filter: event.action == "f"}
`+okTests),
			"d.yaml": rule("d", `filter: event.category == "export"
window: 10m
condition: count() > 5
`+okTests),
		}, []string{
			"r/a.yaml:11:12: warning [expensive-key] group_by object.id with a previous of 4w2d keeps state for every record",
			"r/b.yaml:10: warning [no-filter]", "r/b.yaml:12: warning [expensive-window] a 2d window",
			"r/c.yaml:11: warning [long-sequence] 6 steps", "sequence.within of 2d",
			"r/d.yaml:11: warning [tenant-wide-state]",
		}},
		{"metadata", map[string]string{"a.yaml": `id: a
version: 1
title: A
severity: low
tags: [attack.T1078, attack.nonsense, crm]
filter: event.category == "export"
` + okTests}, []string{"[no-description]", "[no-runbook]", "[no-summary]", "[no-actions]",
			`r/a.yaml:5: warning [bad-tag] tag "attack.T1078": write technique ids in lower case`, `[bad-tag] tag "attack.nonsense" is neither`}},
		{"no tags", map[string]string{"a.yaml": strings.Replace(rule("a", `filter: event.category == "export"
`+okTests), "tags: [attack.initial_access, attack.t1078]\n", "tags: [attack.initial_access]\n", 1)}, []string{"[no-technique]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := lint(t, tc.files)
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.String())
			}
			all := strings.Join(got, "\n")
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("findings on a clean rule:\n%s", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no finding with %q in:\n%s", w, all)
				}
			}
		})
	}
}

// TestPackIsLintClean keeps the shipped pack free of findings, warnings
// included.
func TestPackIsLintClean(t *testing.T) {
	rep, err := Dir("../../rules", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rules < 15 {
		t.Fatalf("only %d rules checked", rep.Rules)
	}
	for _, f := range rep.Findings {
		t.Error(f.String())
	}
}
