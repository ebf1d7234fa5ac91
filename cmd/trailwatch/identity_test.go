package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestIdentityImport imports a baseline, the same file again, a changed
// file and a broken one through the command line, on the embedded Kafka
// and ClickHouse: the baseline publishes nothing, the unchanged file is
// not stored again, the changes reach crm.activity as directory events
// keyed by the person, and the broken file is refused with every problem
// while the stored snapshot stays.
func TestIdentityImport(t *testing.T) {
	kenv := testenv.Kafka(t, testenv.KafkaPartitions(1))
	ch := testenv.ClickHouse(t)
	conf := kafkaConfigFile(t, kenv, "log:\n  level: warn\nclickhouse:\n  url: "+ch.URL+"\n  database: "+ch.Database+"\n  user: \""+ch.User+"\"\n")
	dir := t.TempDir()
	base := writeFile(t, dir, "people.csv", `person_id,emails,department,role,timezone,status,status_date,accounts
p-kim,dana.kim@acme.example,sales,rep,America/New_York,active,,salesforce:005K;hubspot:77
p-lee,sam.lee@acme.example,sales,manager,Europe/Berlin,active,,salesforce:005L
p-ode,ada.ode@acme.example,service,agent,Asia/Tokyo,active,,dynamics365:d-3
`)
	out, err := trailwatch(t, "--config", conf, "identity", "import", base, "--tenant", "acme")
	if err != nil || !strings.Contains(out, "first snapshot of the tenant") {
		t.Fatalf("baseline: %v\n%s", err, out)
	}
	out, err = trailwatch(t, "--config", conf, "identity", "import", base, "--tenant", "acme")
	if err != nil || !strings.Contains(out, "unchanged since snapshot") {
		t.Fatalf("same file again: %v\n%s", err, out)
	}
	next := writeFile(t, dir, "people-2.csv", `person_id,emails,department,role,timezone,status,status_date,accounts
p-kim,dana.kim@acme.example,marketing,rep,America/New_York,active,,salesforce:005K;hubspot:77
p-lee,sam.lee@acme.example,sales,manager,Europe/Berlin,left,2026-11-20,salesforce:005L
p-new,noor@acme.example,sales,rep,Europe/Paris,active,,hubspot:91
`)
	out, err = trailwatch(t, "--config", conf, "identity", "import", next, "--tenant", "acme")
	if err != nil || !strings.Contains(out, "1 joiners, 2 leavers, 1 moves") {
		t.Fatalf("changed file: %v\n%s", err, out)
	}
	bad := writeFile(t, dir, "bad.csv", "person_id,timezone,accounts\np-1,Mars/Base,hubspot:1\np-2,UTC,hubspot:1\n")
	out, err = trailwatch(t, "--config", conf, "identity", "import", bad, "--tenant", "acme")
	if err == nil || !strings.Contains(err.Error(), `bad.csv:2: timezone: unknown time zone "Mars/Base"`) ||
		!strings.Contains(err.Error(), `bad.csv:3: accounts: account hubspot:1 is claimed by "p-1"`) {
		t.Fatalf("broken file: %v\n%s", err, out)
	}

	msgs := kenv.ReadTopic(t, kenv.Config.Topics.Activity.Name)
	got := map[string]string{}
	for _, m := range msgs {
		e, err := event.Decode(m.Value, event.DefaultOptions())
		if err != nil {
			t.Fatalf("published event: %v", err)
		}
		if e.Source.System != identity.SourceSystem || e.Event.Category != "configuration" || string(m.Key) != "acme/"+e.User.PersonID {
			t.Errorf("event %+v key %q", e, m.Key)
		}
		got[e.User.PersonID] = e.Event.Action
	}
	want := map[string]string{"p-kim": "person_move", "p-lee": "person_leave", "p-ode": "person_leave", "p-new": "person_join"}
	if len(got) != len(want) || len(msgs) != len(want) {
		t.Errorf("published %v (%d messages), want %v", got, len(msgs), want)
	}
	for id, a := range want {
		if got[id] != a {
			t.Errorf("%s: %q, want %q", id, got[id], a)
		}
	}

	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = ch.URL, ch.Database, ch.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	latest, meta, ok, err := identity.Latest(t.Context(), st, "acme")
	if err != nil || !ok || len(latest.People) != 3 || meta.SourceFile != "people-2.csv" || meta.Joiners != 1 {
		t.Fatalf("latest after the refused import: %+v, %v, %v", meta, ok, err)
	}

	// identity unresolved reads the stored events without a person.
	now := time.Now().UTC()
	if err := st.Exec(t.Context(), `INSERT INTO audit_events (id, timestamp, tenant, source_system, user_id, user_name, person_id, person_key, kafka_offset)
		VALUES ('e1', ?, 'acme', 'hubspot', '404', 'x@acme.example', '', '404', 1),
		       ('e2', ?, 'acme', 'hubspot', '404', 'x@acme.example', '', '404', 2),
		       ('e3', ?, 'acme', 'salesforce', '005K', '', 'p-kim', 'p-kim', 3),
		       ('e4', ?, 'other', 'salesforce', '005Z', '', '', '005Z', 4)`, now, now, now, now); err != nil {
		t.Fatal(err)
	}
	out, err = trailwatch(t, "--config", conf, "identity", "unresolved", "--tenant", "acme", "--format", "json")
	if err != nil {
		t.Fatalf("unresolved: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var row unresolvedRow
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &row) != nil || row.UserID != "404" || row.System != "hubspot" || row.Events != 2 {
		t.Errorf("unresolved = %s", out)
	}
	out, err = trailwatch(t, "--config", conf, "identity", "unresolved")
	if err != nil || !strings.Contains(out, "005Z") || !strings.Contains(out, "404") || strings.Contains(out, "005K") {
		t.Errorf("unresolved, all tenants: %v\n%s", err, out)
	}
}

// TestIngestResolvesWithDirectory: with identity.directory set, `trailwatch
// ingest file` publishes events with the person, keyed by it, and the
// directory's zone; an invalid directory stops the role with its problems.
func TestIngestResolvesWithDirectory(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	dir := t.TempDir()
	people := writeFile(t, dir, "people.csv", "person_id,timezone,accounts\np-kim,America/New_York,hubspot:77;salesforce:005K\n")
	cfgFile := writeFile(t, dir, "trailwatch.yaml", kafkaConfigYAML(env, filepath.Join(dir, "data"))+
		"identity:\n  directory: "+people+"\n")
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	events := writeFile(t, dir, "events.ndjson",
		`{"id":"e1","timestamp":"`+now+`","tenant":"acme","source":{"system":"hubspot"},"event":{"category":"authentication","action":"mfa_disable","outcome":"success"},"user":{"id":"77"}}`+"\n"+
			`{"id":"e2","timestamp":"`+now+`","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"005K"},"records":500}`+"\n"+
			`{"id":"e3","timestamp":"`+now+`","tenant":"acme","source":{"system":"salesforce"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"005Q"},"records":500}`+"\n")
	if _, stderr, err := runCLI(t, "", "--config", cfgFile, "ingest", "file", "--tenant", "acme", events); err != nil {
		t.Fatalf("ingest file: %v\n%s", err, stderr)
	}
	got := map[string]string{}
	for _, m := range env.ReadTopic(t, env.Config.Topics.Activity.Name) {
		e, err := event.Decode(m.Value, event.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got[e.ID] = string(m.Key) + " " + e.User.PersonID + " " + e.User.Timezone
	}
	want := map[string]string{"e1": "acme/p-kim p-kim America/New_York", "e2": "acme/p-kim p-kim America/New_York", "e3": "acme/005Q  "}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}

	writeFile(t, dir, "people.csv", "person_id,timezone,accounts\np-kim,Mars/Base,hubspot:77\n")
	_, stderr, err := runCLI(t, "", "--config", cfgFile, "ingest", "file", "--tenant", "acme", events)
	if err == nil || !strings.Contains(err.Error()+stderr, `people.csv:2: timezone: unknown time zone "Mars/Base"`) {
		t.Errorf("invalid directory: %v\n%s", err, stderr)
	}
}
