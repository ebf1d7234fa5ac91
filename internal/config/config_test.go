package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Brokers []string      `yaml:"brokers" doc:"Brokers."`
	Timeout time.Duration `yaml:"timeout" doc:"Timeout."`
}

type user struct {
	Name string `yaml:"name" doc:"Name."`
}

type sample struct {
	DataDir string  `yaml:"data_dir" doc:"Data."`
	Workers int     `yaml:"workers" doc:"Workers."`
	Ratio   float64 `yaml:"ratio" doc:"Ratio."`
	On      bool    `yaml:"on" doc:"On."`
	Kafka   inner   `yaml:"kafka"`
	Users   []user  `yaml:"users" doc:"Users."`
}

func defaults() *sample {
	return &sample{DataDir: "./data", Workers: 2, Kafka: inner{Brokers: []string{"a:9092"}, Timeout: time.Second}}
}

func TestLayers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("workers: 4\nkafka:\n  timeout: 5s\nusers:\n  - name: x\n"), 0o600)
	cfg := defaults()
	if err := LoadFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	if err := ApplyEnv(cfg, []string{"TRAILWATCH_KAFKA_BROKERS=b:1, c:2", "TRAILWATCH_ON=true", "HOME=/x"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 4 || cfg.Kafka.Timeout != 5*time.Second || !cfg.On || cfg.DataDir != "./data" ||
		len(cfg.Kafka.Brokers) != 2 || cfg.Kafka.Brokers[1] != "c:2" || len(cfg.Users) != 1 {
		t.Fatalf("got %+v", cfg)
	}
}

func TestErrorsSayWhere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("workers: 4\nkafak:\n  timeout: 5s\n"), 0o600)
	err := LoadFile(path, defaults())
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "kafak") {
		t.Fatalf("unknown key: %v", err)
	}
	os.WriteFile(path, []byte("workers: many\n"), 0o600)
	if err := LoadFile(path, defaults()); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("wrong type: %v", err)
	}
	err = ApplyEnv(defaults(), []string{"TRAILWATCH_WORKERS=x", "TRAILWATCH_KAFKA_TIMEOUT=soon", "TRAILWATCH_NOPE=1", "TRAILWATCH_USERS=a"})
	for _, want := range []string{"TRAILWATCH_WORKERS: \"x\" is not an integer", "TRAILWATCH_KAFKA_TIMEOUT", "TRAILWATCH_NOPE: no such setting", "TRAILWATCH_USERS: this setting is a list of objects"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(defaults())
	for _, want := range []string{"| `kafka.brokers` | `TRAILWATCH_KAFKA_BROKERS` | list of strings | `a:9092` | Brokers. |", "| `users` | (YAML only) | list of objects |"} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in\n%s", want, md)
		}
	}
}

type Base struct {
	Mode string `yaml:"mode" doc:"Mode."`
}

type withInline struct {
	Base  `yaml:",inline"`
	Base2 inner `yaml:",inline"`
	Own   int   `yaml:"own" doc:"Own."`
}

// Inlined structs read and document their fields at the parent's level,
// as yaml.v3 decodes them.
func TestInlineStructs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("mode: x\nbrokers: [a:1]\nown: 3\n"), 0o600)
	cfg := &withInline{}
	if err := LoadFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	if err := ApplyEnv(cfg, []string{"TRAILWATCH_TIMEOUT=2s"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "x" || cfg.Base2.Brokers[0] != "a:1" || cfg.Own != 3 || cfg.Base2.Timeout != 2*time.Second {
		t.Fatalf("%+v", cfg)
	}
	var paths []string
	for _, s := range Settings(cfg) {
		paths = append(paths, s.Path)
	}
	if strings.Join(paths, ",") != "mode,brokers,timeout,own" {
		t.Fatalf("settings %v", paths)
	}
}
