package oncall_test

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/respond/stream"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// world is a topic holding a few actions in every state, and a Service
// over it.
type world struct {
	kafka testenv.KafkaEnv
	rec   *stream.Recorder
	svc   *oncall.Service
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{kafka: testenv.Kafka(t), now: time.Now().UTC().Truncate(time.Millisecond)}
	p, err := kafka.NewProducer(w.kafka.Config, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if w.rec, err = stream.NewRecorder(p, w.kafka.Config.Topics.Actions.Name); err != nil {
		t.Fatal(err)
	}
	w.svc = oncall.NewService(oncall.KafkaSource{Config: w.kafka.Config}, w.rec, 24*time.Hour, nil)

	// act-wait: a freeze awaiting approval; act-done: a freeze done;
	// act-fail: a freeze that failed; note-beta: a notification of
	// another tenant; act-new: a request nobody decided on yet.
	w.publish(t, action("act-wait", "acme", respond.TypeFreeze), 0, alert.StatusRequested, alert.StatusAwaitingApproval)
	w.publish(t, action("act-done", "acme", respond.TypeFreeze), 1, alert.StatusRequested, alert.StatusExecuting, alert.StatusDone)
	w.publish(t, action("act-fail", "acme", respond.TypeFreeze), 2, alert.StatusRequested, alert.StatusExecuting, alert.StatusFailed)
	w.publish(t, action("note-beta", "beta", respond.TypeNotify), 3, alert.StatusRequested, alert.StatusExecuting, alert.StatusDone)
	w.publish(t, action("act-new", "acme", respond.TypeFreeze), 4, alert.StatusRequested)
	return w
}

func action(id, tenant, typ string) alert.Action {
	return alert.Action{ID: id, Type: typ, AlertID: "alert-" + id, Tenant: tenant, Target: "005000000000001",
		TargetName: "jdoe@acme.example", RuleID: "credential-stuffing", RuleVersion: "1", Severity: "high",
		Summary: "jdoe logged in after 9 failures", Mode: alert.ModeEnforce}
}

// publish writes a's records with the given statuses, as the detector and
// the responder would (each record recorded a millisecond after the last).
func (w *world) publish(t *testing.T, a alert.Action, n int, statuses ...string) {
	t.Helper()
	base := w.now.Add(-time.Hour).Add(time.Duration(n) * time.Minute)
	a.RequestedAt = base
	for i, s := range statuses {
		r := a
		r.Status = s
		if s != alert.StatusRequested {
			at := base.Add(time.Duration(i) * time.Millisecond)
			r.RecordedAt = &at
		}
		if s == alert.StatusFailed {
			r.Error = "sf: salesforce freeze: status 503 SERVER_UNAVAILABLE: Server Unavailable"
		}
		if err := w.rec.Record(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// recordsOf is every record of id on the topic now.
func (w *world) recordsOf(t *testing.T, id string) []alert.Action {
	t.Helper()
	var out []alert.Action
	for _, a := range oncall.Group(w.read(t)) {
		if a.ID == id {
			out = a.History
		}
	}
	return out
}

func (w *world) read(t *testing.T) []alert.Action {
	t.Helper()
	acts, err := oncall.KafkaSource{Config: w.kafka.Config}.Load(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []alert.Action
	for _, a := range acts {
		out = append(out, a.History...)
	}
	return out
}

func ids(acts []oncall.Action) string {
	s := ""
	for i, a := range acts {
		if i > 0 {
			s += ","
		}
		s += a.ID
	}
	return s
}

func statuses(recs []alert.Action) string {
	s := ""
	for i, r := range recs {
		if i > 0 {
			s += ","
		}
		s += r.Status
	}
	return s
}
