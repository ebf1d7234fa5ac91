package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesLint(t *testing.T) {
	var out bytes.Buffer
	if err := runRulesLint("../../rules", "", true, false, &out); err != nil {
		t.Fatalf("the pack is not lint-clean: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 errors, 0 warnings") {
		t.Errorf("output: %s", out.String())
	}

	dir := t.TempDir()
	bad := `id: bad
version: 1
title: Bad
severity: high
filter: event.category == "authentication" && event.outcome == "failed"
`
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := runRulesLint(dir, "", false, false, &out)
	if !errors.Is(err, errLintFailed) {
		t.Fatalf("err %v, want errLintFailed", err)
	}
	for _, want := range []string{filepath.Join(dir, "bad.yaml") + ":5:9: error [never-fires]", "warning [no-tests]", "1 errors, 6 warnings"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
