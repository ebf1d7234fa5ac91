package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestServeConfigFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`
embedded:
  clickhouse:
    listen: 0.0.0.0:8123
    read_max_execution_time: 10s
    users:
      - name: grafana
        role: reader
        password_sha256_hex: 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b
`), 0o600)
	g := globalFlags{configPath: good}
	full, err := g.load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := full.Embedded.ClickHouse
	if cfg.Listen != "0.0.0.0:8123" || cfg.ReadTimeout != 10*time.Second || len(cfg.Users) != 1 || cfg.Users[0].Role != chserver.RoleReader || cfg.QueueSize != chserver.DefaultConfig().QueueSize {
		t.Fatalf("%+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("embedded:\n  clickhouse:\n    listne: x\n"), 0o600)
	if _, err := (&globalFlags{configPath: bad}).load(); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("unknown key: %v", err)
	}
	// A password-less user on a public address is refused, saying why.
	open := filepath.Join(dir, "open.yaml")
	os.WriteFile(open, []byte("embedded:\n  clickhouse:\n    listen: 0.0.0.0:8123\n    users: [{name: default, role: admin}]\n"), 0o600)
	full, err = (&globalFlags{configPath: open}).load()
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Embedded.ClickHouse.Validate(); err == nil || !strings.Contains(err.Error(), "no password") || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("validate: %v", err)
	}
}

// TestClickHouseServe runs `trailwatch clickhouse serve` as its own
// process (libchdb allows one engine per process, and this test binary's
// other tests share one) on a free port, queries it over HTTP, and stops it
// with SIGINT: it exits 0 and releases its data directory.
func TestClickHouseServe(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "clickhouse", "serve", "--path", filepath.Join(dir, "ch"), "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), asTrailwatch+"=1")
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; {
		if _, rest, ok := strings.Cut(out.String(), "ClickHouse HTTP interface: "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("serve printed no URL\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Post(url+"/", "", strings.NewReader("SELECT 40 + 2"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "42\n" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve after SIGINT: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ch")); err != nil {
		t.Fatal(err)
	}
}
