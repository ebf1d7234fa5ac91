package detect

import (
	"strings"
	"testing"
)

// TestRulePack runs the tests of every rule in the shipped pack (rules/),
// so `make test` proves them.
func TestRulePack(t *testing.T) {
	rs, err := Load("../rules")
	if err != nil {
		t.Fatalf("loading the rule pack:\n%v", err)
	}
	if len(rs.Rules) == 0 {
		t.Fatal("the rule pack is empty")
	}
	for _, res := range RunTests(rs, nil) {
		t.Run(res.Rule+"/"+res.Test, func(t *testing.T) {
			if !res.Passed() {
				t.Errorf("%s:%d:\n%s", res.File, res.Line, strings.Join(res.Failures, "\n"))
			}
		})
	}
}
