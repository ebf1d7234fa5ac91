package identity

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherRun: the watcher's loop picks up a changed file on its next
// tick, keeps the index in force when the file turns invalid or vanishes,
// and picks up the next valid file.
func TestWatcherRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.csv")
	replaceFile(t, path, "person_id,accounts\np-1,hubspot:1\n")
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		cfg := DefaultConfig()
		cfg.Directory, cfg.ReloadInterval = path, time.Second
		r, err := NewResolver(cfg, reg)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWatcher(cfg, r, zerolog.Nop(), reg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		owner := func() string {
			id, _ := r.Index().Account("hubspot", "1")
			return id
		}
		tick := func() {
			time.Sleep(cfg.ReloadInterval)
			synctest.Wait()
		}

		if owner() != "p-1" {
			t.Fatalf("initial owner %q", owner())
		}
		replaceFile(t, path, "person_id,accounts\np-second,hubspot:1\n")
		tick()
		if owner() != "p-second" {
			t.Fatalf("after a valid change: %q", owner())
		}
		replaceFile(t, path, "person_id,accounts\np-3,hubspot:1\np-4,hubspot:1\n")
		tick()
		if owner() != "p-second" {
			t.Fatalf("after an invalid change: %q", owner())
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		tick()
		if owner() != "p-second" {
			t.Fatalf("after the file vanished: %q", owner())
		}
		replaceFile(t, path, "person_id,accounts\np-fifth-owner,hubspot:1\n")
		tick()
		if owner() != "p-fifth-owner" {
			t.Fatalf("after a valid file again: %q", owner())
		}
		if got := metricValue(t, reg, "trailwatch_identity_reloads_total", "loaded"); got != 3 {
			t.Errorf("loaded = %v, want 3", got)
		}
		if got := metricValue(t, reg, "trailwatch_identity_reloads_total", "refused"); got != 2 {
			t.Errorf("refused = %v, want 2 (the invalid file once, the missing file once per tick)", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestNewWatcherRefusesABadStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.csv")
	cfg := DefaultConfig()
	cfg.Directory = path
	r, _ := NewResolver(cfg, nil)
	if _, err := NewWatcher(cfg, r, zerolog.Nop(), nil); err == nil {
		t.Error("a missing file was accepted")
	}
	replaceFile(t, path, "person_id,timezone\np-1,Nowhere/Land\n")
	if _, err := NewWatcher(cfg, r, zerolog.Nop(), nil); err == nil || !strings.Contains(err.Error(), "people.csv:2: timezone") {
		t.Errorf("an invalid file: %v", err)
	}
	if r.Index() != nil {
		t.Error("an index came into force")
	}
}
