package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Each testdata/bad/*.bad.yaml is a broken rule; its first line names the
// error it must produce ("# error: FILE:LINE[:COL]: message").
func TestBadRules(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad rules found: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok {
				t.Fatalf("%s does not start with '# error: '", name)
			}
			// Loaded under the name the rule file has, so positions match.
			_, err = LoadFS(fstest.MapFS{strings.TrimSuffix(name, ".bad.yaml") + ".yaml": {Data: src}}, ".")
			var les LoadErrors
			if !errors.As(err, &les) {
				t.Fatalf("loaded without error; want %s", want)
			}
			got := strings.ReplaceAll(les[0].Error(), ".yaml:", ".bad.yaml:")
			if got != want {
				t.Errorf("got  %s\nwant %s", les.Error(), want)
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{
		"a.yaml":        {Data: []byte(ruleHead + "filter: user.nme == \"x\"\n")},
		"b.yaml":        {Data: []byte("id: r\nversion: 1\ntitle: dup\nseverity: low\nfilter: records > -1\n")},
		"c.yaml":        {Data: []byte("id: c\nversion: 1\ntitle: t\nseverity: nope\nfilter: records > 1\nbogus: 1\n")},
		"lists.yaml":    {Data: []byte("lists:\n  nets: {type: cidrs, items: [not-an-ip]}\n")},
		"skip.bad.yaml": {Data: []byte("this is ignored")},
		"_draft.yaml":   {Data: []byte("also ignored")},
	}, "rules")
	var les LoadErrors
	if !errors.As(err, &les) {
		t.Fatalf("err = %v", err)
	}
	text := les.Error()
	for _, want := range []string{
		`rules/b.yaml:1: rule id "r" is already used by rules/a.yaml:1`,
		`rules/c.yaml:4:11: severity "nope": must be one of info, low, medium, high, critical`,
		`rules/c.yaml:6:1: rule: unknown key "bogus"`,
		`rules/lists.yaml:2:3: list nets: "not-an-ip" is not an IP address or network`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("errors lack %q:\n%s", want, text)
		}
	}
}

func TestConfigOverridesAreChecked(t *testing.T) {
	rs := ruleSet(t, map[string]string{"r.yaml": ruleHead + `params:
  n: 5
  d: 10m
filter: event.category == "export"
window: params.d
condition: count() >= params.n
actions: [notify]
`})
	cfg := DefaultConfig()
	cfg.Tenants = map[string]TenantConfig{"acme": {Rules: map[string]RuleOverride{
		"r":  {Params: map[string]string{"n": "many", "nn": "3"}, Actions: map[string]string{"freeze_account": "enforce"}},
		"r2": {Disabled: true},
	}}}
	_, err := NewEngine(rs, cfg)
	if err == nil {
		t.Fatal("bad overrides accepted")
	}
	for _, want := range []string{
		`tenants.acme.rules.r2: no such rule (did you mean "r"?)`,
		`tenants.acme.rules.r.params.n: "many" is not a whole number (the default is a int)`,
		`tenants.acme.rules.r.params.nn: the rule has no such parameter (did you mean "n"?)`,
		`tenants.acme.rules.r.actions.freeze_account: the rule requests no such action`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// A valid override makes a variant for the tenant only.
	cfg.Tenants = map[string]TenantConfig{"acme": {Rules: map[string]RuleOverride{"r": {Params: map[string]string{"n": "2", "d": "1m"}, Actions: map[string]string{"notify": "enforce"}}}}}
	e, err := NewEngine(rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	evs := []*event.Event{ev("1", at(0), "export", "export"), ev("2", at(30e9), "export", "export"), ev("3", at(0), "export", "export", tenant("other")), ev("4", at(30e9), "export", "export", tenant("other"))}
	out := run(e, evs...)
	if triggers(out) != "2" {
		t.Errorf("per-tenant threshold: %s", describe(out))
	}
	for _, o := range out {
		if o.Kind == OutputAction && o.Action.Mode != "enforce" {
			t.Errorf("tenant action mode = %s, want enforce", o.Action.Mode)
		}
	}
}

func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../rules/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range append(seeds, bad...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("id: x\nversion: 1\ntitle: t\nseverity: low\nfilter: [1, 2\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := LoadFS(fstest.MapFS{"r.yaml": {Data: src}}, "rules")
		if err == nil {
			return
		}
		var les LoadErrors
		if !errors.As(err, &les) || len(les) == 0 {
			t.Fatalf("error is not a list of load errors: %v", err)
		}
		for _, le := range les {
			if le.File != "rules/r.yaml" || le.Line < 1 || le.Msg == "" {
				t.Fatalf("error without file, line or reason: %#v", le)
			}
		}
	})
}

func TestDisabledRules(t *testing.T) {
	files := map[string]string{
		"a.yaml": "id: a\nversion: 1\ntitle: A\nseverity: low\ndisabled: true\nfilter: event.category == \"export\"\n",
		"b.yaml": "id: b\nversion: 1\ntitle: B\nseverity: low\nfilter: event.category == \"export\"\n",
	}
	cfg := DefaultConfig()
	cfg.Tenants = map[string]TenantConfig{"quiet": {Rules: map[string]RuleOverride{"b": {Disabled: true}}}}
	e := engineOf(t, files, &cfg)
	if len(e.Rules()) != 1 || e.Rules()[0].ID != "b" {
		t.Fatalf("rules %+v, want only b", e.Rules())
	}
	out := run(e, ev("1", at(0), "export", "export"), ev("2", at(0), "export", "export", tenant("quiet")))
	if triggers(out) != "1" {
		t.Errorf("alerts %s, want only the acme event", describe(out))
	}
}
