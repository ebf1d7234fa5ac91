package respond

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

func rec(status string, at time.Duration, actor string) alert.Action {
	a := freeze("h1")
	a.Status, a.Actor = status, actor
	if status != alert.StatusRequested {
		t := t0.Add(at)
		a.RecordedAt = &t
	}
	return a
}

func TestPlanFor(t *testing.T) {
	req := rec(alert.StatusRequested, 0, "")
	tests := []struct {
		name    string
		history []alert.Action
		i       int
		want    Step
	}{
		{"new request", []alert.Action{req}, 0, StepDecide},
		{"re-delivered after done", []alert.Action{req, rec(alert.StatusExecuting, 1, ""), rec(alert.StatusDone, 2, "")}, 0, StepNone},
		{"re-delivered after skip", []alert.Action{req, rec(alert.StatusSkipped, 1, "")}, 0, StepNone},
		{"re-delivered while awaiting approval", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, "")}, 0, StepNone},
		{"re-delivered after failure", []alert.Action{req, rec(alert.StatusExecuting, 1, ""), rec(alert.StatusFailed, 2, "")}, 0, StepNone},
		{"crashed between intent and result", []alert.Action{req, rec(alert.StatusExecuting, 1, "")}, 0, StepRecheck},
		{"request after a rejection", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusRejected, 2, "bob")}, 0, StepNone},
		{"approval runs", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusApproved, 2, "alice")}, 2, StepExecute},
		{"request defers to the approval", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusApproved, 2, "alice")}, 0, StepNone},
		{"re-delivered approval after done", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusApproved, 2, "alice"), rec(alert.StatusExecuting, 3, "alice"), rec(alert.StatusDone, 4, "alice")}, 2, StepNone},
		{"approval interrupted mid-call", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusApproved, 2, "alice"), rec(alert.StatusExecuting, 3, "alice")}, 2, StepRecheck},
		{"approval overridden by later rejection", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusApproved, 2, "alice"), rec(alert.StatusRejected, 3, "bob")}, 2, StepNone},
		{"approval after a rejection wins", []alert.Action{req, rec(alert.StatusAwaitingApproval, 1, ""), rec(alert.StatusRejected, 2, "bob"), rec(alert.StatusApproved, 3, "alice")}, 3, StepExecute},
		{"approval of a failed action retries", []alert.Action{req, rec(alert.StatusExecuting, 1, ""), rec(alert.StatusFailed, 2, ""), rec(alert.StatusApproved, 3, "alice")}, 3, StepExecute},
		{"approval of a done action does nothing", []alert.Action{req, rec(alert.StatusExecuting, 1, ""), rec(alert.StatusDone, 2, ""), rec(alert.StatusApproved, 3, "alice")}, 3, StepNone},
		{"status records ask nothing", []alert.Action{req, rec(alert.StatusExecuting, 1, "")}, 1, StepNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanFor(tt.history, tt.i); got.Step != tt.want {
				t.Fatalf("PlanFor = %v (%s), want %v", got.Step, got.Reason, tt.want)
			}
		})
	}
}

func TestLedgerDeduplicatesAndFindsPending(t *testing.T) {
	l := newLedger()
	req := rec(alert.StatusRequested, 0, "")
	if _, i, isNew := l.add(req, t0); i != 0 || !isNew {
		t.Fatal("first add")
	}
	l.add(rec(alert.StatusExecuting, time.Second, ""), t0)
	if _, i, isNew := l.add(req, t0); i != 0 || isNew {
		t.Fatalf("re-delivered request: index %d new %v", i, isNew)
	}
	other := freeze("h2")
	l.add(other, t0)
	p := l.pending()
	if len(p) != 2 || p[0].id != "h1" || p[0].plan.Step != StepRecheck || p[1].id != "h2" || p[1].plan.Step != StepDecide {
		t.Fatalf("pending %+v", p)
	}
	l.add(rec(alert.StatusDone, 2*time.Second, ""), t0)
	if p := l.pending(); len(p) != 1 || p[0].id != "h2" {
		t.Fatalf("pending after done %+v", p)
	}
	if n := l.forget(t0.Add(time.Second)); n != 1 || l.actions["h1"] != nil || l.actions["h2"] == nil {
		t.Fatalf("forget dropped %d", n)
	}
}
