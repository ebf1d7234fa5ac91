package respond_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

var t0 = time.Date(2026, 11, 3, 2, 14, 0, 0, time.UTC)

// memRecorder stands where the Kafka writer will: it keeps what was
// "acknowledged", and can refuse records to simulate a crash between two
// writes.
type memRecorder struct {
	mu   sync.Mutex
	recs []alert.Action
	// refuse, when set, is asked before each record; true refuses it.
	refuse func(alert.Action) bool
}

func (m *memRecorder) Record(_ context.Context, r alert.Action) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse != nil && m.refuse(r) {
		return errors.New("broker unavailable")
	}
	m.recs = append(m.recs, r)
	return nil
}

func (m *memRecorder) records(id string) []alert.Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alert.Action
	for _, r := range m.recs {
		if id == "" || r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

func (m *memRecorder) statuses(id string) string {
	var s []string
	for _, r := range m.records(id) {
		s = append(s, r.Status)
	}
	return strings.Join(s, ",")
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	sf    *fakes.Salesforce
	pd    *fakes.PagerDuty
	slack *fakes.Slack
	cfg   respond.Config
	set   *registry.Set
	rec   *memRecorder
	clock *clock
	reg   *prometheus.Registry
	x     *respond.Executor
}

const pdKey = "R0UT1NGK3Y0000000000000000000000"

// newEnv starts the stand-ins and an executor for tenant acme: freezes in
// Salesforce, notifications to PagerDuty and Slack, on-call pages to
// PagerDuty.
func newEnv(t *testing.T, mutate func(*respond.Config)) *env {
	t.Helper()
	e := &env{
		sf: fakes.NewSalesforce(t, "consumer-key", "sf-secret"), pd: fakes.NewPagerDuty(t, pdKey), slack: fakes.NewSlack(t),
		rec: &memRecorder{}, clock: &clock{t: t0}, reg: prometheus.NewRegistry(),
	}
	t.Setenv("TW_TEST_SF_SECRET", "sf-secret")
	t.Setenv("TW_TEST_PD_KEY", pdKey)
	t.Setenv("TW_TEST_SLACK_URL", e.slack.WebhookURL())

	sf := registry.Defaults(registry.KindSalesforce)
	sf.Salesforce.LoginURL, sf.Salesforce.ClientID = e.sf.URL(), "consumer-key"
	sf.Salesforce.ClientSecret.Env = "TW_TEST_SF_SECRET"
	sf.Salesforce.Timeout = 500 * time.Millisecond
	pd := registry.Defaults(registry.KindPagerDuty)
	pd.PagerDuty.EventsURL = e.pd.EventsURL()
	pd.PagerDuty.RoutingKey.Env = "TW_TEST_PD_KEY"
	sl := registry.Defaults(registry.KindSlack)
	sl.Slack.WebhookURL.Env = "TW_TEST_SLACK_URL"

	cfg := respond.DefaultConfig()
	cfg.Adapters = registry.Config{"sf": sf, "pd": pd, "slack": sl}
	cfg.Tenants = map[string]respond.Tenant{"acme": {Freeze: []string{"sf"}, Notify: []string{"pd", "slack"}, OnCall: []string{"pd"}}}
	cfg.Rules = map[string]respond.Rule{"credential-stuffing": {Mode: alert.ModeEnforce}}
	cfg.Retry = respond.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxRetryAfter: time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	e.cfg = cfg
	set, err := registry.Build(cfg.Adapters, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.set = set
	e.x = e.executor(t)
	return e
}

// executor is a fresh process: empty history, same vendors and topic.
func (e *env) executor(t *testing.T) *respond.Executor {
	t.Helper()
	x, err := respond.New(e.cfg, respond.FromRegistry(e.set), e.rec, respond.Options{
		Log: zerolog.Nop(), Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"process": fmt.Sprint(time.Now().UnixNano())}, e.reg),
		Now: e.clock.Now, Rand: func() float64 { return 0.5 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func userID(i int) string { return fmt.Sprintf("005%012d", i) }

func request(i int, mut ...func(*alert.Action)) alert.Action {
	a := alert.Action{ID: fmt.Sprintf("act-%03d", i), Type: respond.TypeFreeze, AlertID: fmt.Sprintf("alert-%03d", i),
		Tenant: "acme", Target: userID(i), TargetName: fmt.Sprintf("user%d@acme.example", i), TargetType: "human",
		RuleID: "credential-stuffing", RuleVersion: "1", Severity: "high", Summary: "12 failed logins from 3 countries in 6 min",
		Status: alert.StatusRequested, RequestedAt: t0}
	for _, m := range mut {
		m(&a)
	}
	return a
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func TestFreezeOnceAndRecordIt(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(1), false)
	a := request(1)
	if err := e.x.Handle(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if got := e.rec.statuses(a.ID); got != "executing,done" {
		t.Fatalf("records %s", got)
	}
	done := e.rec.records(a.ID)[1]
	if done.CompletedAt == nil || done.RecordedAt == nil || done.Attempt != 1 || done.Detail != "sf: frozen" || done.Mode != alert.ModeEnforce {
		t.Fatalf("done record %+v", done)
	}
	// Re-delivered (the loop crashed before committing the offset): nothing.
	for range 3 {
		if err := e.x.Handle(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	// Our own records coming back from the topic change nothing either.
	for _, r := range e.rec.records(a.ID) {
		e.x.Handle(t.Context(), r)
	}
	if e.sf.Freezes(userID(1)) != 1 || e.rec.statuses(a.ID) != "executing,done" {
		t.Fatalf("freezes %d, records %s", e.sf.Freezes(userID(1)), e.rec.statuses(a.ID))
	}
	if got := counter(t, e.reg, "trailwatch_respond_actions_total", map[string]string{"type": "freeze_account", "result": "done"}); got != 1 {
		t.Fatalf("done counter %v", got)
	}
	if got := counter(t, e.reg, "trailwatch_respond_actions_total", map[string]string{"result": "duplicate"}); got != 3 {
		t.Fatalf("duplicate counter %v", got)
	}
}

func TestConcurrentDeliveriesFreezeOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(2), false)
	a := request(2)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { e.x.Handle(t.Context(), a) })
	}
	wg.Wait()
	if e.sf.Freezes(userID(2)) != 1 || strings.Count(e.rec.statuses(a.ID), "executing") != 1 {
		t.Fatalf("freezes %d, records %s", e.sf.Freezes(userID(2)), e.rec.statuses(a.ID))
	}
}

// The responder is killed between sending the freeze and recording it:
// the next process finds executing without a result, asks Salesforce,
// and records done without a second freeze.
func TestCrashAfterTheVendorCall(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(3), false)
	a := request(3)
	e.rec.refuse = func(r alert.Action) bool { return r.Status == alert.StatusDone }
	if err := e.x.Handle(t.Context(), a); err == nil {
		t.Fatal("Handle succeeded although its result was not recorded")
	}
	if e.sf.Freezes(userID(3)) != 1 || e.rec.statuses(a.ID) != "executing" {
		t.Fatalf("before restart: freezes %d, records %s", e.sf.Freezes(userID(3)), e.rec.statuses(a.ID))
	}
	e.rec.refuse = nil

	restarted := e.executor(t)
	for _, r := range e.rec.records(a.ID) { // catch-up: the partition's records up to its end
		if err := restarted.Observe(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := restarted.Handle(t.Context(), a); err != nil { // the uncommitted request, re-delivered
		t.Fatal(err)
	}
	if err := restarted.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := e.rec.records(a.ID)
	if e.sf.Freezes(userID(3)) != 1 || e.rec.statuses(a.ID) != "executing,done" || recs[1].Detail != "sf: already frozen" {
		t.Fatalf("after restart: freezes %d, records %s, detail %q", e.sf.Freezes(userID(3)), e.rec.statuses(a.ID), recs[len(recs)-1].Detail)
	}
	if n := e.sf.Count("PATCH", "/services/data/"); n != 1 {
		t.Fatalf("%d PATCH requests reached Salesforce, want exactly 1", n)
	}
}

// Killed after recording the intent but before the call: the next process
// asks Salesforce, finds the user not frozen, and freezes once.
func TestCrashBeforeTheVendorCall(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(4), false)
	a := request(4)
	intent := a
	intent.Status, intent.Mode, intent.Detail = alert.StatusExecuting, alert.ModeEnforce, "executing via sf"
	at := t0.Add(time.Second)
	intent.RecordedAt = &at
	x := e.executor(t)
	x.Observe(a)
	x.Observe(intent)
	if err := x.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.sf.Freezes(userID(4)) != 1 || e.rec.statuses(a.ID) != "done" {
		t.Fatalf("freezes %d, new records %s", e.sf.Freezes(userID(4)), e.rec.statuses(a.ID))
	}
}

// The intent record was never acknowledged: no vendor call may happen.
func TestNoVendorCallWithoutIntent(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(5), false)
	a := request(5)
	e.rec.refuse = func(alert.Action) bool { return true }
	if err := e.x.Handle(t.Context(), a); err == nil || !strings.Contains(err.Error(), "recording executing") {
		t.Fatalf("err = %v", err)
	}
	if len(e.sf.Requests()) != 0 {
		t.Fatalf("%d requests reached Salesforce before the intent was durable", len(e.sf.Requests()))
	}
	e.rec.refuse = nil
	if err := e.x.Handle(t.Context(), a); err != nil || e.sf.Freezes(userID(5)) != 1 {
		t.Fatalf("re-delivery: %v, freezes %d", err, e.sf.Freezes(userID(5)))
	}
}

func TestFailureAfterRetriesPagesOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(6), false)
	e.sf.Fail(10, fakes.Fault{Status: 503, Body: `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`})
	a := request(6)
	if err := e.x.Handle(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	recs := e.rec.records(a.ID)
	last := recs[len(recs)-1]
	if last.Status != alert.StatusFailed || last.Attempt != 3 || !strings.Contains(last.Error, "SERVER_UNAVAILABLE: Server Unavailable") || last.CompletedAt == nil {
		t.Fatalf("result %+v", last)
	}
	if e.pd.Triggers("alert-006") != 1 || e.pd.Alerts("alert-006") != 1 {
		t.Fatalf("pages for the alert: %d", e.pd.Triggers("alert-006"))
	}
	ev := e.pd.Events()[0]
	if !strings.Contains(ev.Payload.Summary, "freeze_account failed for user6@acme.example") || ev.Payload.CustomDetails["retry"] != "trailwatch actions approve act-006" {
		t.Fatalf("page %+v", *ev.Payload)
	}
	if got := counter(t, e.reg, "trailwatch_respond_vendor_retries_total", map[string]string{"adapter": "sf"}); got != 2 {
		t.Fatalf("retries %v", got)
	}
	if got := counter(t, e.reg, "trailwatch_respond_actions_total", map[string]string{"result": "failed"}); got != 1 {
		t.Fatalf("failed counter %v", got)
	}

	// On-call approves a retry once Salesforce is back: it checks first, then freezes.
	e.sf.Reset()
	ok, _ := respond.Approve(last, "alice", e.clock.Now())
	if err := e.x.Handle(t.Context(), ok); err != nil {
		t.Fatal(err)
	}
	final := e.rec.records(a.ID)
	if got := final[len(final)-1]; got.Status != alert.StatusDone || got.Actor != "alice" || e.sf.Freezes(userID(6)) != 1 {
		t.Fatalf("after approval: %+v, freezes %d", got, e.sf.Freezes(userID(6)))
	}
}

func TestApprovalFlow(t *testing.T) {
	e := newEnv(t, func(c *respond.Config) {
		ten := c.Tenants["acme"]
		ten.Mode = alert.ModeApproval
		c.Tenants["acme"] = ten
	})
	e.sf.AddUser(userID(7), false)
	a := request(7)
	if err := e.x.Handle(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if e.rec.statuses(a.ID) != "awaiting_approval" || e.sf.Freezes(userID(7)) != 0 {
		t.Fatalf("records %s", e.rec.statuses(a.ID))
	}
	if e.pd.Triggers("alert-007") != 1 || !strings.Contains(e.pd.Events()[0].Payload.Summary, "awaits approval") {
		t.Fatal("no approval page")
	}
	waiting := e.rec.records(a.ID)[0]
	e.clock.Advance(10 * time.Minute)
	approved, err := respond.Approve(waiting, "alice", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the approval is re-delivered once
		if err := e.x.Handle(t.Context(), approved); err != nil {
			t.Fatal(err)
		}
	}
	recs := e.rec.records(a.ID)
	if e.rec.statuses(a.ID) != "awaiting_approval,executing,done" || recs[2].Actor != "alice" || e.sf.Freezes(userID(7)) != 1 {
		t.Fatalf("records %s, actor %q, freezes %d", e.rec.statuses(a.ID), recs[2].Actor, e.sf.Freezes(userID(7)))
	}

	// A rejected action is never executed, whatever is re-delivered.
	e.sf.AddUser(userID(8), false)
	b := request(8)
	e.x.Handle(t.Context(), b)
	rejected, _ := respond.Reject(e.rec.records(b.ID)[0], "bob", "known travel", e.clock.Now())
	e.x.Handle(t.Context(), rejected)
	e.x.Handle(t.Context(), b)
	if e.rec.statuses(b.ID) != "awaiting_approval" || e.sf.Freezes(userID(8)) != 0 {
		t.Fatalf("rejected: records %s, freezes %d", e.rec.statuses(b.ID), e.sf.Freezes(userID(8)))
	}
}

func TestUndoRecordsWhoDidIt(t *testing.T) {
	e := newEnv(t, nil)
	e.sf.AddUser(userID(9), false)
	a := request(9)
	e.x.Handle(t.Context(), a)
	e.clock.Advance(time.Hour)
	undo, err := respond.Undo(a, "carol", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.x.Handle(t.Context(), undo); err != nil {
		t.Fatal(err)
	}
	recs := e.rec.records(undo.ID)
	if e.rec.statuses(undo.ID) != "executing,done" || recs[1].Actor != "carol" || recs[1].Undoes != a.ID || recs[1].Type != respond.TypeUnfreeze {
		t.Fatalf("undo records %+v", recs)
	}
	if e.sf.IsFrozen(userID(9)) || e.sf.Unfreezes(userID(9)) != 1 {
		t.Fatal("not unfrozen")
	}
	if again, _ := respond.Undo(a, "carol", e.clock.Now().Add(time.Minute)); again.ID != undo.ID {
		t.Fatal("undo id is not deterministic")
	}
}

func TestSkipsAndDryRunCallNoVendor(t *testing.T) {
	e := newEnv(t, func(c *respond.Config) {
		c.Protected.AccountIDs = []string{userID(11)}
	})
	cases := []struct {
		a      alert.Action
		mode   string
		detail string
	}{
		{request(10, func(a *alert.Action) { a.RuleID = "untested-rule" }), alert.ModeDryRun, "dry_run: would freeze_account 005000000000010 (user10@acme.example) via sf; rule untested-rule is not configured (new rules run in dry_run)"},
		{request(11), alert.ModeEnforce, "protected: account 005000000000011 is a protected account"},
		{request(12, func(a *alert.Action) { a.TargetType = "integration" }), alert.ModeEnforce, "protected: accounts of type integration are protected"},
		{request(13, func(a *alert.Action) { a.Tenant = "unknown" }), "", `tenant "unknown" is not configured`},
	}
	for _, c := range cases {
		if err := e.x.Handle(t.Context(), c.a); err != nil {
			t.Fatal(err)
		}
		recs := e.rec.records(c.a.ID)
		if len(recs) != 1 || recs[0].Status != alert.StatusSkipped || recs[0].Mode != c.mode || recs[0].Detail != c.detail {
			t.Fatalf("%s: %+v", c.a.ID, recs)
		}
	}
	if len(e.sf.Requests()) != 0 || len(e.pd.Events()) != 0 {
		t.Fatal("a skipped action reached a vendor")
	}
	if got := counter(t, e.reg, "trailwatch_respond_actions_total", map[string]string{"result": "dry_run"}); got != 1 {
		t.Fatalf("dry_run counter %v", got)
	}
}

func TestNotifyOneIncidentPerAlert(t *testing.T) {
	e := newEnv(t, nil)
	n := request(20, func(a *alert.Action) { a.Type = respond.TypeNotify })
	for range 3 {
		if err := e.x.Handle(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	if e.pd.Alerts("alert-020") != 1 || e.pd.Triggers("alert-020") != 1 || len(e.slack.Messages()) != 1 {
		t.Fatalf("pd alerts %d triggers %d, slack %d", e.pd.Alerts("alert-020"), e.pd.Triggers("alert-020"), len(e.slack.Messages()))
	}
	if got := e.rec.records(n.ID); got[len(got)-1].Detail != "pd: sent; slack: sent" {
		t.Fatalf("detail %q", got[len(got)-1].Detail)
	}
}

// The flood: 100 freezes from one bad rule; the breaker lets 10
// through, every other waits for approval, and exactly one page says so.
func TestFloodOf100FreezesStopsAtTheLimit(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 100 {
		e.sf.AddUser(userID(100+i), false)
	}
	for i := range 100 {
		e.clock.Advance(500 * time.Millisecond)
		if err := e.x.Handle(t.Context(), request(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	frozen, waiting := 0, 0
	for i := range 100 {
		frozen += e.sf.Freezes(userID(100 + i))
		switch e.rec.statuses(fmt.Sprintf("act-%03d", 100+i)) {
		case "awaiting_approval":
			waiting++
		}
	}
	breakerPages := 0
	for _, ev := range e.pd.Events() {
		if strings.HasPrefix(ev.DedupKey, "trailwatch-breaker-acme-") {
			breakerPages++
		}
	}
	if frozen != 10 || waiting != 90 || breakerPages != 1 || len(e.pd.Events()) != 1 {
		t.Fatalf("frozen %d, waiting %d, breaker pages %d, all pages %d; want 10, 90, 1, 1", frozen, waiting, breakerPages, len(e.pd.Events()))
	}
	if got := counter(t, e.reg, "trailwatch_respond_breaker_trips_total", map[string]string{"tenant": "acme"}); got != 1 {
		t.Fatalf("trips %v", got)
	}

	// A restarted responder rebuilds the window from the executing records.
	restarted := e.executor(t)
	for _, r := range e.rec.records("") {
		restarted.Observe(r)
	}
	e.sf.AddUser(userID(300), false)
	restarted.Handle(t.Context(), request(300))
	if e.sf.Freezes(userID(300)) != 0 || e.rec.statuses("act-300") != "awaiting_approval" {
		t.Fatalf("after restart the window was forgotten: %s", e.rec.statuses("act-300"))
	}
}

func TestInvalidRecords(t *testing.T) {
	e := newEnv(t, nil)
	for _, a := range []alert.Action{
		{},
		request(1, func(a *alert.Action) { a.Status = "finished" }),
		request(1, func(a *alert.Action) { a.Status = alert.StatusApproved }),
	} {
		if err := e.x.Handle(t.Context(), a); !errors.Is(err, respond.ErrInvalidAction) {
			t.Fatalf("%+v: err = %v", a, err)
		}
	}
	if len(e.rec.records("")) != 0 {
		t.Fatal("an invalid record produced a status record")
	}
}
