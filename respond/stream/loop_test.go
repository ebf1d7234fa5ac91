package stream_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// A request is executed once and recorded; the responder's own records
// come back on the same topic and are observed, never acted on, so the
// topic goes quiet; a restarted responder does nothing more.
func TestFreezeOnceAndNeverLoop(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(1), false)
	r := e.start(t)
	e.publish(t, request(1), notify(1))
	recs := e.waitStatus(t, "act-001", alert.StatusDone)
	if statuses(recs) != "requested,executing,done" || recs[2].Detail != "sf: frozen" {
		t.Fatalf("records of the freeze: %s (%q)", statuses(recs), recs[len(recs)-1].Detail)
	}
	e.waitStatus(t, "note-001", alert.StatusDone)
	if got := metric(t, r.reg, "trailwatch_respond_actions_total", map[string]string{"type": "freeze_account", "result": "done"}); got != 1 {
		t.Fatalf("actions_total{freeze_account,done} = %v", got)
	}

	// A sentinel in the same partition (same tenant) is handled only after
	// everything before it, the responder's own records included.
	e.sf.AddUser(userID(2), false)
	e.publish(t, request(2))
	e.waitStatus(t, "act-002", alert.StatusDone)
	before := len(e.kafka.ReadTopic(t, e.kafka.Config.Topics.Actions.Name))
	if got := metric(t, r.reg, "trailwatch_respond_records_total", map[string]string{"status": "executing"}); got < 2 {
		t.Fatalf("own executing records observed: %v, want at least 2", got)
	}
	r.stop()

	// A new process: catch-up over the same history, nothing to do.
	r2 := e.start(t)
	e.sf.AddUser(userID(3), false)
	e.publish(t, request(3))
	e.waitStatus(t, "act-003", alert.StatusDone)
	after := len(e.kafka.ReadTopic(t, e.kafka.Config.Topics.Actions.Name))
	if after != before+3 { // request(3), its executing and done
		t.Fatalf("topic grew by %d records across a restart, want 3", after-before)
	}
	for i := 1; i <= 3; i++ {
		if n := e.sf.Freezes(userID(i)); n != 1 {
			t.Fatalf("user %d frozen %d times", i, n)
		}
	}
	if n := e.pd.Triggers("alert-001"); n != 1 {
		t.Fatalf("PagerDuty got %d events for alert-001", n)
	}
	if got := metric(t, r2.reg, "trailwatch_respond_catchup_records_total", nil); got < float64(before) {
		t.Fatalf("the restarted responder read %v records of history, want at least %d", got, before)
	}
}

// Killed after Salesforce froze the user but before done was recorded:
// the topic holds the request and executing. The next responder rebuilds
// the history, asks Salesforce, and finishes without a second freeze.
func TestCatchUpFinishesAnInterruptedExecution(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(4), true) // the freeze went through
	req := request(4)
	intent := req
	at := time.Now().UTC().Truncate(time.Millisecond)
	intent.Status, intent.Mode, intent.Detail, intent.RecordedAt = alert.StatusExecuting, alert.ModeEnforce, "executing via sf", &at
	e.publish(t, req, intent)
	e.start(t)
	recs := e.waitStatus(t, req.ID, alert.StatusDone)
	if recs[len(recs)-1].Detail != "sf: already frozen" {
		t.Fatalf("result %+v", recs[len(recs)-1])
	}
	if n := e.sf.Count("PATCH", "/services/data/"); n != 0 {
		t.Fatalf("%d freezes sent for an account already frozen", n)
	}
}

func TestInvalidRecordsGoToTheDeadLetterTopic(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(5), false)
	e.start(t)
	topic := e.kafka.Config.Topics.Actions.Name
	noTenant := request(9)
	noTenant.Tenant = ""
	b, _ := json.Marshal(noTenant)
	if err := e.producer.Produce(t.Context(),
		kafkaMsg(topic, "acme", []byte(`{"id": "x", not json`)),
		kafkaMsg(topic, "acme", b),
	); err != nil {
		t.Fatal(err)
	}
	e.publish(t, request(5))
	e.waitStatus(t, "act-005", alert.StatusDone)
	var dead []deadletter.Record
	waitFor(t, "two dead letters", func() bool {
		dead = dead[:0]
		for _, m := range e.kafka.ReadTopic(t, e.kafka.Config.Topics.DeadLetter.Name) {
			var d deadletter.Record
			if err := json.Unmarshal(m.Value, &d); err != nil {
				t.Fatal(err)
			}
			dead = append(dead, d)
		}
		return len(dead) == 2
	})
	for _, d := range dead {
		if d.Stage != "respond" || d.Origin.Topic != topic || d.Origin.Offset == nil || !strings.Contains(d.Reason, "invalid action record") {
			t.Errorf("dead letter %+v", d)
		}
	}
	if !strings.Contains(dead[1].Reason, "tenant is empty") {
		t.Errorf("reason %q does not say what is wrong", dead[1].Reason)
	}
}

// A vendor that keeps failing: the action ends failed with the vendor's
// own error, on-call is paged, the metric counts it.
func TestFailedActionIsRecordedAndPaged(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(6), false)
	e.sf.Fail(100, fakes.Fault{Status: 503, Body: `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`})
	r := e.start(t)
	e.publish(t, request(6))
	recs := e.waitStatus(t, "act-006", alert.StatusFailed)
	last := recs[len(recs)-1]
	if !strings.Contains(last.Error, "SERVER_UNAVAILABLE: Server Unavailable") || last.Attempt != 2 {
		t.Fatalf("failed record %+v", last)
	}
	waitFor(t, "the failure page", func() bool { return e.pd.Triggers("alert-006") == 1 })
	if s := e.pd.Events()[0].Payload.Summary; !strings.Contains(s, "freeze_account failed for user6@acme.example") {
		t.Fatalf("page summary %q", s)
	}
	if got := metric(t, r.reg, "trailwatch_respond_actions_total", map[string]string{"result": "failed"}); got != 1 {
		t.Fatalf("actions_total{failed} = %v", got)
	}
	if got := metric(t, r.reg, "trailwatch_respond_vendor_retries_total", map[string]string{"adapter": "sf"}); got == 0 {
		t.Fatal("no retry counted")
	}
}

// An approval-mode action waits (the gauge says so) until someone
// approves it on the topic; then it runs with the approver on its records.
func TestApprovalOnTheTopic(t *testing.T) {
	e := newEnv(t, func(c *respond.Config) { c.Rules["credential-stuffing"] = respond.Rule{Mode: alert.ModeApproval} })
	e.sf.AddUser(userID(7), false)
	r := e.start(t)
	e.publish(t, request(7))
	recs := e.waitStatus(t, "act-007", alert.StatusAwaitingApproval)
	waitFor(t, "the gauge to count it", func() bool {
		return metric(t, r.reg, "trailwatch_respond_awaiting_approval", nil) == 1
	})
	if e.sf.Freezes(userID(7)) != 0 {
		t.Fatal("frozen before approval")
	}
	ok, err := respond.Approve(recs[len(recs)-1], "alice", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.publish(t, ok)
	recs = e.waitStatus(t, "act-007", alert.StatusDone)
	if last := recs[len(recs)-1]; last.Actor != "alice" || e.sf.Freezes(userID(7)) != 1 {
		t.Fatalf("after approval: %+v, freezes %d", last, e.sf.Freezes(userID(7)))
	}
	waitFor(t, "the gauge to drop", func() bool {
		return metric(t, r.reg, "trailwatch_respond_awaiting_approval", nil) == 0
	})
}

// The responder dies right after Salesforce froze the user, before it
// learns so: the topic holds request and executing, no result. The next
// responder asks Salesforce and records done; exactly one freeze reached
// Salesforce.
func TestKilledBetweenTheVendorCallAndItsRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(8), false)
	r := e.start(t)
	e.sf.AfterApply(1, func(req *http.Request) bool { return req.Method == http.MethodPatch }, func(req *http.Request) {
		r.kill()
		<-req.Context().Done() // the responder never hears back
	})
	e.publish(t, request(8))
	waitFor(t, "the freeze to reach Salesforce", func() bool { return e.sf.IsFrozen(userID(8)) })
	r.stop()
	if got := statuses(e.records(t)["act-008"]); got != "requested,executing" {
		t.Fatalf("after the kill: %s, want requested,executing", got)
	}

	e.start(t)
	recs := e.waitStatus(t, "act-008", alert.StatusDone)
	if got := statuses(recs); got != "requested,executing,done" || recs[2].Detail != "sf: already frozen" {
		t.Fatalf("after the restart: %s (%q)", got, recs[len(recs)-1].Detail)
	}
	if n := e.sf.Count(http.MethodPatch, "/services/data/"); n != 1 || e.sf.Freezes(userID(8)) != 1 {
		t.Fatalf("%d PATCH requests, %d freezes: want exactly one", n, e.sf.Freezes(userID(8)))
	}
}
