package sink

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// TestHandleStoresEveryTopic hands one batch with events, a broken
// record, an alert and two status records of an action: each lands in
// its table, the broken record in the dead-letter topic with its
// position and reason, and handing the same batch again (a retry after a
// lost acknowledgement) stores nothing twice.
func TestHandleStoresEveryTopic(t *testing.T) {
	e := newEnv(t)
	s := e.newSink(t, Deps{})
	tp := e.topics()
	done := baseTime.Add(3 * time.Minute)
	msgs := []kafka.Message{
		eventMsg(t, tp.Activity, 0, 10, testEvent(1, "acme", "005A")),
		{Topic: tp.Activity, Partition: 0, Offset: 11, Value: []byte(`{"id":"broken"`), Key: []byte("k"), Time: baseTime},
		eventMsg(t, tp.Activity, 0, 12, testEvent(2, "acme", "005A")),
		eventMsg(t, tp.Activity, 1, 5, testEvent(3, "acme", "005B")),
		eventMsg(t, tp.Activity, 1, 6, testEvent(4, "globex", "005C")),
		jsonMsg(t, tp.Alerts, 0, 0, testAlert("al-1", "acme", "rule.x", "high", "005A", "acme-ev-1", "acme-ev-2")),
		jsonMsg(t, tp.Actions, 0, 0, alert.Action{ID: "ac-1", Type: "freeze_account", AlertID: "al-1", Tenant: "acme", Target: "005A", Mode: "enforce", Status: "requested", RequestedAt: baseTime}),
		jsonMsg(t, tp.Actions, 0, 1, alert.Action{ID: "ac-1", Type: "freeze_account", AlertID: "al-1", Tenant: "acme", Target: "005A", Mode: "enforce", Status: "done", RequestedAt: baseTime, CompletedAt: &done}),
		jsonMsg(t, tp.Alerts, 0, 1, map[string]any{"id": "al-2"}),
	}
	for range 2 {
		if err := s.Handle(t.Context(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, "SELECT count() FROM audit_events"); n != 4 {
		t.Errorf("audit_events holds %d rows, want 4", n)
	}
	if n := e.count(t, "SELECT count() FROM alerts"); n != 1 {
		t.Errorf("alerts holds %d rows, want 1", n)
	}
	if n := e.count(t, "SELECT count() FROM actions"); n != 2 {
		t.Errorf("actions holds %d rows, want 2 (both status records)", n)
	}
	var status string
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT status FROM actions_current WHERE id = 'ac-1'").Scan(&status); err != nil || status != "done" {
		t.Errorf("current status %q (%v), want done", status, err)
	}
	var rules []string
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT groupUniqArray(rule_id) FROM alert_event_hits WHERE event_id = 'acme-ev-2'").Scan(&rules); err != nil || len(rules) != 1 || rules[0] != "rule.x" {
		t.Errorf("rules on acme-ev-2: %v (%v)", rules, err)
	}
	// Two handlings of the batch put two dead letters on the topic (the
	// second is a retry's), each naming the record.
	dl := e.kafka.ReadTopic(t, e.kafka.Config.Topics.DeadLetter.Name)
	if len(dl) != 4 {
		t.Fatalf("dead-letter topic holds %d records, want 4 (two per handling)", len(dl))
	}
	seen := map[string]bool{}
	for _, m := range dl {
		r, err := deadletter.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if r.Stage != "sink" || r.Origin.Partition == nil || r.Origin.Offset == nil {
			t.Fatalf("dead letter without its position: %+v", r)
		}
		seen[fmt.Sprintf("%s@%d", r.Origin.Topic, *r.Origin.Offset)] = true
		if r.Origin.Topic == tp.Activity && (*r.Origin.Offset != 11 || !strings.Contains(r.Reason, "decoding the event")) {
			t.Errorf("activity dead letter: %+v", r)
		}
		if r.Origin.Topic == tp.Alerts && (*r.Origin.Offset != 1 || !strings.Contains(r.Reason, "missing [rule.id tenant triggered_at]")) {
			t.Errorf("alert dead letter: %+v", r)
		}
	}
	if len(seen) != 2 {
		t.Errorf("dead letters for %v, want the event at 11 and the alert at 1", seen)
	}
	// The chains: acme in partition 0 holds offsets 10 and 12 (11 was
	// rejected), so 12 links to 10.
	var gap uint64
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT chain_gap FROM audit_events WHERE kafka_partition = 0 AND kafka_offset = 12").Scan(&gap); err != nil || gap != 2 {
		t.Errorf("chain_gap of offset 12 = %d (%v), want 2", gap, err)
	}
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	cps, err := integrity.Checkpoints(t.Context(), e.st, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 2 {
		t.Fatalf("acme has %d checkpoints, want one per partition", len(cps))
	}
	keys := map[string]ed25519.PublicKey{e.signer.KeyID(): e.signer.Public()}
	for _, c := range cps {
		if c.Prev != integrity.Genesis || c.At.Rows == 0 {
			t.Errorf("first checkpoint %+v does not start the chain", c)
		}
		if err := c.CheckSignature(keys); err != nil {
			t.Error(err)
		}
	}
}
