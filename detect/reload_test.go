package detect

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReloadCarriesState(t *testing.T) {
	v1 := ruleHead + `params:
  n: 3
filter: event.category == "data_change"
group_by: [user.id]
window: 10m
condition: count() >= params.n
`
	e1 := engine(t, v1, nil)
	sh := e1.NewShard()
	sh.Process(ev("1", at(0), "data_change", "update"), nil)
	sh.Process(ev("2", at(time.Minute), "data_change", "update"), nil)

	// A new version with a lower threshold keeps the window: the third
	// event sees all three.
	e2 := engine(t, `id: r
version: 2
title: Test rule
severity: medium
params:
  n: 3
filter: event.category == "data_change"
group_by: [user.id]
window: 10m
condition: count() >= 3
summary: 'now with a summary: {{ count() }}'
`, nil)
	rep := sh.Reload(e2)
	if len(rep.Kept) != 1 || len(rep.Reset) != 0 {
		t.Fatalf("report %+v, want r kept", rep)
	}
	out := sh.Process(ev("3", at(2*time.Minute), "data_change", "update"), nil)
	if triggers(out) != "3" || alertsOf(out)[0].Rule.Version != "2" {
		t.Fatalf("after reload: %s", describe(out))
	}

	// A different window means different state: the rule starts empty.
	e3 := engine(t, ruleHead+`filter: event.category == "data_change"
group_by: [user.id]
window: 5m
condition: count() >= 2
`, nil)
	rep = sh.Reload(e3)
	if len(rep.Reset) != 1 || rep.Reset[0] != "r" {
		t.Fatalf("report %+v, want r reset", rep)
	}
	if out := sh.Process(ev("4", at(3*time.Minute), "data_change", "update"), nil); len(alertsOf(out)) != 0 {
		t.Errorf("a reset window still held events: %s", describe(out))
	}
	if out := sh.Process(ev("5", at(4*time.Minute), "data_change", "update"), nil); triggers(out) != "5" {
		t.Errorf("after reset: %s", describe(out))
	}

	// Rules added and removed.
	e4 := engineOf(t, map[string]string{"x.yaml": `id: x
version: 1
title: X
severity: low
filter: event.category == "export"
`}, nil)
	rep = sh.Reload(e4)
	if len(rep.Added) != 1 || len(rep.Removed) != 1 {
		t.Errorf("report %+v", rep)
	}
	if out := sh.Process(ev("6", at(5*time.Minute), "export", "export"), nil); triggers(out) != "6" {
		t.Errorf("new rule: %s", describe(out))
	}
	if k := sh.Stats().Keys; k != 0 {
		t.Errorf("removed rule's state kept: %d keys", k)
	}
}

func TestFailedLoadKeepsTheRunningRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ruleHead + "filter: event.category == \"export\"\n")
	rs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(rs, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	sh := e.NewShard()
	write(ruleHead + "filter: event.categroy == \"export\"\n")
	_, err = Load(dir)
	var les LoadErrors
	if !errors.As(err, &les) || len(les) != 1 || les[0].Line != 5 || les[0].Column != 15 || les[0].File != path {
		t.Fatalf("broken reload: %v", err)
	}
	// The runner keeps the shard on the engine it has.
	if out := sh.Process(ev("1", at(0), "export", "export"), nil); triggers(out) != "1" {
		t.Errorf("running rules stopped: %v", out)
	}
}
