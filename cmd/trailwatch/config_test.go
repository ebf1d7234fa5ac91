package main

import (
	"os"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
)

// TestConfigDocsCurrent keeps docs/CONFIG.md generated from the code.
func TestConfigDocsCurrent(t *testing.T) {
	want := configDocs()
	got, err := os.ReadFile("../../docs/CONFIG.md")
	if err != nil || string(got) != want {
		t.Fatalf("docs/CONFIG.md is stale: run `go run ./cmd/trailwatch config docs > docs/CONFIG.md`")
	}
}

func TestEverySettingDocumented(t *testing.T) {
	for _, s := range config.Settings(defaultConfig()) {
		if s.Doc == "" {
			t.Errorf("%s has no doc tag", s.Path)
		}
	}
}

func TestDefaultConfigValid(t *testing.T) {
	cfg := defaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ClickHouse.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Embedded.ClickHouse.Validate(); err != nil {
		t.Fatal(err)
	}
}
