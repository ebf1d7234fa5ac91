package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chserver"
)

func TestLoadServeConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`
listen: 0.0.0.0:8123
read_max_execution_time: 10s
users:
  - name: grafana
    role: reader
    password_sha256_hex: 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b
`), 0o600)
	cfg, err := loadServeConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:8123" || cfg.ReadTimeout != 10*time.Second || len(cfg.Users) != 1 || cfg.Users[0].Role != chserver.RoleReader || cfg.QueueSize != chserver.DefaultConfig().QueueSize {
		t.Fatalf("%+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listne: x\n"), 0o600)
	if _, err := loadServeConfig(bad); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("unknown key: %v", err)
	}
	// A password-less user on a public address is refused, saying why.
	open := filepath.Join(dir, "open.yaml")
	os.WriteFile(open, []byte("listen: 0.0.0.0:8123\nusers: [{name: default, role: admin}]\n"), 0o600)
	cfg, err = loadServeConfig(open)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "no password") || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("validate: %v", err)
	}
}
