package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunDemo is `make run` as a newcomer sees it: `trailwatch run --demo`
// in its own process starts the embedded Kafka and ClickHouse, every role
// and the simulator; events reach ClickHouse through the HTTP collector,
// the detector raises alerts that the sink stores, and Ctrl-C (SIGINT)
// stops everything cleanly with exit status 0.
func TestRunDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline for a minute or more")
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "trailwatch.yaml")
	conf := fmt.Sprintf(`data_dir: %s
log: {level: warn}
metrics: {listen: %q}
embedded:
  kafka: {listen: "127.0.0.1:0"}
  clickhouse: {listen: "127.0.0.1:0"}
ingest:
  http: {listen: %q}
detect: {rules: ../../rules}
`, filepath.Join(dir, "data"), freeAddr(t), freeAddr(t))
	if err := os.WriteFile(cfgFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "--config", cfgFile, "run", "--demo")
	cmd.Env = append(os.Environ(), asTrailwatch+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	// Wait for an alert and a status line counting stored events; the
	// deadline bounds a hang, it is not a performance target.
	status := regexp.MustCompile(`^status: (\d+) events accepted by ingest, (\d+) stored in ClickHouse, (\d+) alerts`)
	var alerts []string
	stored := 0
	deadline := time.After(5 * time.Minute)
	for len(alerts) == 0 || stored == 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("trailwatch run exited early: %v\n%s", cmd.Wait(), stderr.String())
			}
			if strings.HasPrefix(l, "ALERT ") {
				alerts = append(alerts, l)
			}
			if m := status.FindStringSubmatch(l); m != nil {
				stored, _ = strconv.Atoi(m[2])
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("no alert and stored events after 5 minutes (alerts %q, stored %d)\n%s", alerts, stored, stderr.String())
		}
	}
	t.Logf("first alert: %s; %d events stored", alerts[0], stored)

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("trailwatch run after SIGINT: %v\n%s", err, stderr.String())
	}
	if len(rest) == 0 || !strings.Contains(rest[len(rest)-1], "Trailwatch stopped") {
		t.Fatalf("no clean stop message; last lines %q\n%s", rest, stderr.String())
	}
}
