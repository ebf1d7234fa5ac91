package simulate

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every rejection names the file and a line (file:line: or file:line:col:)
// or, for YAML syntax errors, the file and the parser's line.
var scenarioErrRE = regexp.MustCompile(`^f\.yaml(:\d+(:\d+)?)?: `)

func FuzzParseScenario(f *testing.F) {
	src, _ := os.ReadFile("testdata/scenario.yaml")
	f.Add(string(src))
	f.Add("tenants:\n  - {id: a, zone: UTC, offices: [London], systems: [hubspot]}\n")
	f.Add("tenants: [{id: a, id: b}]")
	f.Add("a: &x [*x]")
	f.Add("tenants:\n  - &t {id: a, zone: UTC, offices: [London], systems: [hubspot]}\n  - *t\n")
	f.Add("tenants:\n  - {id: a, zone: UTC, offices: [London], systems: [hubspot], hours: \"23:00-24:00\"}\n")
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScenario("f.yaml", []byte(s))
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !scenarioErrRE.MatchString(line) && !strings.HasPrefix(line, "f.yaml: ") {
					t.Fatalf("error line without the file: %q", line)
				}
			}
			return
		}
		// What parses must run: a world can be built from it.
		cfg := DefaultConfig()
		cfg.Scenario, cfg.Days, cfg.History, cfg.People = sc, 1, 0, 8*len(sc.Tenants)
		if len(sc.Tenants) > 3 {
			return
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("accepted scenario does not build: %v", err)
		}
	})
}

var labelErrRE = regexp.MustCompile(`^l(:\d+)?: `)

func FuzzReadLabels(f *testing.F) {
	f.Add(goodLabel)
	f.Add(goodLabel + "\n" + goodLabel)
	f.Add(`{"episode":"e","kind":"k","class":"benign","tenant":"t","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z","events":["x"]}`)
	f.Add("{\"events\":[1]}\n\n[]\nnull\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ReadLabels(strings.NewReader(s), "l")
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !labelErrRE.MatchString(line) {
					t.Fatalf("error line without file:line: %q", line)
				}
			}
			return
		}
		for _, l := range got {
			if err := l.Validate(); err != nil {
				t.Fatalf("accepted an invalid label: %v", err)
			}
		}
	})
}
