package respond_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// The Kafka loop runs one executor per assigned partition on one registry:
// they must count into the same series, not panic on registration.
func TestExecutorsShareARegistry(t *testing.T) {
	e := newEnv(t, func(c *respond.Config) {
		c.Rules["credential-stuffing"] = respond.Rule{Mode: alert.ModeApproval}
	})
	reg := prometheus.NewRegistry()
	var xs []*respond.Executor
	for range 2 {
		x, err := respond.New(e.cfg, respond.FromRegistry(e.set), e.rec, respond.Options{Log: zerolog.Nop(), Registerer: reg, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	for i, x := range xs {
		e.sf.AddUser(userID(i), false)
		if err := x.Handle(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
		if got := x.Awaiting(); got != 1 {
			t.Fatalf("executor %d: Awaiting() = %d, want 1", i, got)
		}
	}
	if got := counter(t, reg, "trailwatch_respond_actions_total", map[string]string{"type": "freeze_account", "result": "awaiting_approval"}); got != 2 {
		t.Fatalf("awaiting_approval counted %v times over both executors, want 2", got)
	}
	// An approval moves the action on: no longer awaiting.
	a := e.rec.records(request(0).ID)[0]
	ok, err := respond.Approve(a, "alice", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := xs[0].Handle(t.Context(), ok); err != nil {
		t.Fatal(err)
	}
	if got := xs[0].Awaiting(); got != 0 {
		t.Fatalf("after approval Awaiting() = %d, want 0", got)
	}
	if e.sf.Freezes(userID(0)) != 1 {
		t.Fatalf("approved freeze not executed: %d freezes", e.sf.Freezes(userID(0)))
	}
}
