package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/respond/stream"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// kafkaConfigFile writes a configuration file pointing trailwatch at env's
// broker and topics.
func kafkaConfigFile(t *testing.T, env testenv.KafkaEnv, extra string) string {
	t.Helper()
	tp := env.Config.Topics
	yaml := "kafka:\n  brokers: [" + strings.Join(env.Config.Brokers, ", ") + "]\n  topics:\n" +
		"    actions: {name: " + tp.Actions.Name + ", partitions: " + strconv.Itoa(tp.Actions.Partitions) + "}\n" +
		"    alerts: {name: " + tp.Alerts.Name + ", partitions: " + strconv.Itoa(tp.Alerts.Partitions) + "}\n" +
		"    activity: {name: " + tp.Activity.Name + ", partitions: " + strconv.Itoa(tp.Activity.Partitions) + "}\n" +
		"    dead_letter: {name: " + tp.DeadLetter.Name + ", partitions: " + strconv.Itoa(tp.DeadLetter.Partitions) + "}\n" +
		"    detect_state: {name: " + tp.DetectState.Name + ", partitions: " + strconv.Itoa(tp.DetectState.Partitions) + ", compacted: true}\n" +
		"  consumer:\n    heartbeat_interval: 100ms\n    session_timeout: 3s\n    rebalance_timeout: 5s\n    join_backoff: 100ms\n    shutdown_timeout: 3s\n" +
		"metrics:\n  listen: \"\"\n" + extra
	path := filepath.Join(t.TempDir(), "trailwatch.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// trailwatch runs the command line and returns its output.
func trailwatch(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func recordAll(t *testing.T, env testenv.KafkaEnv, recs ...alert.Action) {
	t.Helper()
	p, err := kafka.NewProducer(env.Config, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rec, _ := stream.NewRecorder(p, env.Config.Topics.Actions.Name)
	for _, r := range recs {
		if err := rec.Record(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func historyOf(t *testing.T, env testenv.KafkaEnv, id string) []alert.Action {
	t.Helper()
	acts, err := oncall.KafkaSource{Config: env.Config}.Load(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if a.ID == id {
			return a.History
		}
	}
	return nil
}

func TestActionsCommands(t *testing.T) {
	env := testenv.Kafka(t)
	cfg := kafkaConfigFile(t, env, "")
	now := time.Now().UTC().Truncate(time.Millisecond)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	base := alert.Action{Type: respond.TypeFreeze, Tenant: "acme", Target: "005000000000042", TargetName: "jdoe\x1b[31m@acme.example",
		RuleID: "auth.success_after_failures", RuleVersion: "1", Severity: "critical", RequestedAt: now.Add(-time.Minute)}
	wait, done := base, base
	wait.ID, wait.AlertID, done.ID, done.AlertID = "act-wait", "al-1", "act-done", "al-2"
	rec := func(a alert.Action, status string, d time.Duration) alert.Action {
		a.Status = status
		if status != alert.StatusRequested {
			a.RecordedAt = at(d)
		}
		return a
	}
	recordAll(t, env,
		rec(wait, alert.StatusRequested, 0), rec(wait, alert.StatusAwaitingApproval, -50*time.Second),
		rec(done, alert.StatusRequested, 0), rec(done, alert.StatusExecuting, -40*time.Second), rec(done, alert.StatusDone, -39*time.Second))

	out, err := trailwatch(t, "--config", cfg, "actions", "list", "--status", "awaiting_approval")
	if err != nil || !strings.Contains(out, "act-wait") || strings.Contains(out, "act-done") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Fatalf("list printed a terminal escape sequence from a login name:\n%q", out)
	}
	out, err = trailwatch(t, "--config", cfg, "actions", "list", "--tenant", "acme", "--format", "json")
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("list --format json: %v\n%s", err, out)
	}

	out, err = trailwatch(t, "--config", cfg, "actions", "approve", "act-wait", "--actor", "alice")
	if err != nil || !strings.Contains(out, "act-wait approved by alice") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	if _, err := trailwatch(t, "--config", cfg, "actions", "approve", "act-wait", "--actor", "bob"); err == nil || !strings.Contains(err.Error(), "already approved by alice") {
		t.Fatalf("second approve: %v", err)
	}
	if _, err := trailwatch(t, "--config", cfg, "actions", "reject", "act-nope", "--actor", "bob"); err == nil || !strings.Contains(err.Error(), "no such action") {
		t.Fatalf("reject of an unknown id: %v", err)
	}

	t.Setenv("USER", "carol")
	out, err = trailwatch(t, "--config", cfg, "actions", "undo", "act-done")
	if err != nil || !strings.Contains(out, "requested by carol") {
		t.Fatalf("undo: %v\n%s", err, out)
	}
	undo := historyOf(t, env, respond.UndoID("act-done"))
	if len(undo) != 1 || undo[0].Actor != "carol" || undo[0].Undoes != "act-done" || undo[0].Type != respond.TypeUnfreeze {
		t.Fatalf("undo record %+v", undo)
	}

	out, err = trailwatch(t, "--config", cfg, "actions", "show", "act-wait")
	if err != nil || !strings.Contains(out, "awaiting_approval") || !strings.Contains(out, "approved") || !strings.Contains(out, "alice") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, err := trailwatch(t, "--config", cfg, "actions", "approve", "act-done", "--actor", "bad\nname"); err == nil || !strings.Contains(err.Error(), "--actor") {
		t.Fatalf("an actor with a newline: %v", err)
	}
}
