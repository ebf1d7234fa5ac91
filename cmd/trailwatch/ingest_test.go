package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// kafkaConfigYAML points a configuration file at the test's Kafka: its
// brokers and its topic names (prefixed on a shared cluster).
func kafkaConfigYAML(env testenv.KafkaEnv, dataDir string) string {
	t := env.Config.Topics
	return fmt.Sprintf(`data_dir: %s
log:
  level: warn
kafka:
  brokers: [%s]
  topics:
    activity: {name: %s, partitions: %d}
    dead_letter: {name: %s, partitions: %d}
    alerts: {name: %s, partitions: %d}
    actions: {name: %s, partitions: %d}
    detect_state: {name: %s, partitions: %d, compacted: true}
`, dataDir, strings.Join(env.Config.Brokers, ", "),
		t.Activity.Name, t.Activity.Partitions, t.DeadLetter.Name, t.DeadLetter.Partitions,
		t.Alerts.Name, t.Alerts.Partitions, t.Actions.Name, t.Actions.Partitions, t.DetectState.Name, t.DetectState.Partitions)
}

// TestIngestFile100k is the foundation's vertical slice: 100,000 events
// and 100 malformed lines through `trailwatch ingest file` into the
// embedded broker, and on through the sink role into the embedded
// ClickHouse server. Exactly 100,000 distinct ids reach the activity topic
// and ClickHouse; the malformed lines land in the dead-letter topic with
// their reasons and lines, are listed on standard error and counted, and
// the exit status says so. Sending the file again publishes every event
// again (same ids): the topic holds each twice, while queries that read
// as docs/STORAGE.md says still count 100,000.
func TestIngestFile100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 events: not in -short")
	}
	e := newE2E(t)
	env := e.kafka
	stopSink := e.run(t, prometheus.NewRegistry())
	defer stopSink()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "trailwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte(kafkaConfigYAML(env, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	const n, bad = 100000, 100
	path := filepath.Join(dir, "events.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	badLines := map[int]bool{}
	line := 0
	for i := range n {
		line++
		fmt.Fprintf(w, `{"id":"ev-%07d","timestamp":%q,"tenant":"acme","source":{"system":"generic"},"event":{"category":"data_access","action":"view","outcome":"success"},"user":{"id":"u-%d"},"object":{"type":"contact","id":"c-%d"}}`+"\n", i, now, i%500, i)
		if i%(n/bad) == 0 {
			line++
			badLines[line] = true
			fmt.Fprintf(w, `{"id":"bad-%d","timestamp":%q,"tenant":"acme"`+"\n", i, now) // cut short
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}

	for round := 1; round <= 2; round++ {
		_, stderr, err := runCLI(t, "", "--config", cfgFile, "ingest", "file", "--tenant", "acme", path)
		if !errors.Is(err, errRejected) {
			t.Fatalf("round %d: err = %v, want errRejected (exit status 1)\n%.2000s", round, err, stderr)
		}
		if !strings.Contains(stderr, fmt.Sprintf("%d published, %d rejected", n, bad)) {
			t.Fatalf("round %d: summary missing from stderr:\n%.2000s", round, stderr)
		}
		for l := range badLines {
			if !strings.Contains(stderr, fmt.Sprintf("line %d: offset ", l)) {
				t.Fatalf("round %d: stderr does not report line %d:\n%.2000s", round, l, stderr)
			}
		}

		ids := map[string]int{}
		msgs := env.ReadTopic(t, env.Config.Topics.Activity.Name)
		for _, m := range msgs {
			ev, err := event.Decode(m.Value, event.Options{})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			ids[ev.ID]++
		}
		if len(msgs) != round*n || len(ids) != n {
			t.Fatalf("round %d: %d messages, %d distinct ids; want %d and %d", round, len(msgs), len(ids), round*n, n)
		}
		for id, c := range ids {
			if c != round {
				t.Fatalf("round %d: id %s published %d times", round, id, c)
			}
		}
		var dead []deadletter.Record
		for _, m := range env.ReadTopic(t, env.Config.Topics.DeadLetter.Name) {
			r, err := deadletter.Decode(m.Value)
			if err != nil {
				t.Fatal(err)
			}
			dead = append(dead, r)
		}
		e.waitFor(t, positions, uint64(round*n)) // every log position stored
		if got := e.count(t, distinctIDs); got != n {
			t.Fatalf("round %d: ClickHouse holds %d distinct ids, want %d", round, got, n)
		}
		if got := e.count(t, dedupedRows); got != n {
			t.Fatalf("round %d: LIMIT 1 BY id gives %d rows, want %d", round, got, n)
		}
		if len(dead) != round*bad {
			t.Fatalf("round %d: %d dead letters, want %d", round, len(dead), round*bad)
		}
		for _, d := range dead {
			raw, _ := d.Bytes()
			if !badLines[d.Origin.Line] || d.Origin.File != path || !strings.HasPrefix(d.Reason, "offset ") || !strings.HasPrefix(string(raw), `{"id":"bad-`) {
				t.Fatalf("dead letter %+v raw %q", d, raw)
			}
		}
	}
}

func TestDefaultIngestConfigValid(t *testing.T) {
	if err := defaultConfig().Ingest.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestIngestConfigYAML loads sources and pollers from YAML: the inline
// source fields, credentials by file and environment, and the checks.
func TestIngestConfigYAML(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "trailwatch.yaml")
	yaml := `data_dir: ` + dir + `
ingest:
  http:
    listen: 127.0.0.1:0
    sources:
      - name: simulator
        tenant: acme
        token_env: SIM_TOKEN
      - name: salesforce-rtem
        tenant: acme
        format: salesforce-loginevent
        token_file: /run/secrets/sf-token
        hmac_secret_file: /run/secrets/sf-hmac
  pollers:
    - name: hubspot
      vendor: hubspot-audit
      tenant: acme
      access_token_env: HS_TOKEN
    - name: sf-elf
      vendor: salesforce-elf
      tenant: acme
      client_id: 3MVG9
      client_secret_file: /run/secrets/sf-secret
      refresh_token_file: /run/secrets/sf-refresh
      event_types: [Login, API]
`
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := globalFlags{configPath: cfgFile}
	cfg, err := g.load()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Ingest.Validate(); err != nil {
		t.Fatal(err)
	}
	s := cfg.Ingest.HTTP.Sources
	if len(s) != 2 || s[1].Name != "salesforce-rtem" || s[1].Format != "salesforce-loginevent" || s[1].HMACSecretFile != "/run/secrets/sf-hmac" || s[0].TokenEnv != "SIM_TOKEN" {
		t.Fatalf("sources %+v", s)
	}
	if p := cfg.Ingest.Pollers; len(p) != 2 || p[1].Vendor != "salesforce-elf" || len(p[1].EventTypes) != 2 {
		t.Fatalf("pollers %+v", p)
	}
	cfg.Ingest.HTTP.Sources[0].TokenEnv = ""
	cfg.Ingest.Pollers[0].Vendor = "zoho"
	err = cfg.Ingest.Validate()
	for _, want := range []string{"sources[0]: a bearer token or an HMAC secret is required", `pollers[0].vendor: "zoho"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %v lacks %q", err, want)
		}
	}
}
