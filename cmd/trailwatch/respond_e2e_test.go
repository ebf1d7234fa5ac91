package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The end-to-end test of issue 7 on the embedded broker: simulated
// credential stuffing → the shipped rule pack (the pure detect engine, as
// the detector runs it) → crm.alerts and crm.actions → the respond role →
// the Salesforce and PagerDuty stand-ins.

const e2eRoutingKey = "E2EROUTINGKEY0000000000000000000"

// pipeline is the embedded broker, the vendor stand-ins, the detector's
// shard, and the respond role's configuration.
type pipeline struct {
	kafka    testenv.KafkaEnv
	sf       *fakes.Salesforce
	pd       *fakes.PagerDuty
	shard    *detect.Shard
	producer *kafka.Producer
	cfg      *Config
}

func newPipeline(t *testing.T, breaker int) *pipeline {
	t.Helper()
	p := &pipeline{kafka: testenv.Kafka(t), sf: fakes.NewSalesforce(t, "e2e-client", "e2e-secret"), pd: fakes.NewPagerDuty(t, e2eRoutingKey)}

	// The detector: the shipped rules. Their actions default to dry_run
	// (and the freeze asks for approval), so tenant acme enforces the two
	// rules' actions explicitly.
	rs, err := detect.Load("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	dcfg := detect.DefaultConfig()
	dcfg.Tenants = map[string]detect.TenantConfig{"acme": {Rules: map[string]detect.RuleOverride{
		"auth.success_after_failures":       {Actions: map[string]string{"freeze_account": alert.ModeEnforce, "notify": alert.ModeEnforce}},
		"auth.failed_logins_many_countries": {Actions: map[string]string{"notify": alert.ModeEnforce}},
	}}}
	eng, err := detect.NewEngine(rs, dcfg)
	if err != nil {
		t.Fatal(err)
	}
	p.shard = eng.NewShard()
	if p.producer, err = kafka.NewProducer(p.kafka.Config, testenv.Logger(t), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.producer.Close() })

	// The responder: both rules reviewed and enforced (new rules would run
	// in dry_run), freezes in Salesforce, notifications and on-call pages
	// to PagerDuty, at most `breaker` freezes an hour.
	t.Setenv("TW_E2E_SF_SECRET", "e2e-secret")
	t.Setenv("TW_E2E_PD_KEY", e2eRoutingKey)
	sf := registry.Defaults(registry.KindSalesforce)
	sf.Salesforce.LoginURL, sf.Salesforce.ClientID, sf.Salesforce.ClientSecret.Env = p.sf.URL(), "e2e-client", "TW_E2E_SF_SECRET"
	pd := registry.Defaults(registry.KindPagerDuty)
	pd.PagerDuty.EventsURL, pd.PagerDuty.RoutingKey.Env = p.pd.EventsURL(), "TW_E2E_PD_KEY"

	cfg := defaultConfig()
	cfg.Kafka = p.kafka.Config
	cfg.Metrics.Listen = ""
	rc := &cfg.Respond
	rc.Core.Adapters = registry.Config{"sf-acme": sf, "pd-secops": pd}
	rc.Core.Tenants = map[string]respond.Tenant{"acme": {
		Freeze: []string{"sf-acme"}, Notify: []string{"pd-secops"}, OnCall: []string{"pd-secops"},
		Breaker: &respond.Breaker{MaxActions: breaker, Window: time.Hour},
	}}
	rc.Core.Rules = map[string]respond.Rule{
		"auth.success_after_failures":       {Mode: alert.ModeEnforce, Version: "1"},
		"auth.failed_logins_many_countries": {Mode: alert.ModeEnforce, Version: "1"},
	}
	rc.Core.Retry.BaseDelay, rc.Core.Retry.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	rc.Loop.Group = p.kafka.Group("trailwatch-respond")
	rc.Loop.CommitInterval, rc.Loop.RetryBackoff = 50*time.Millisecond, 10*time.Millisecond
	p.cfg = cfg
	return p
}

// roleRun is the respond role running until kill (a crash: its context
// ends at once) or the test's end.
type roleRun struct {
	reg  *prometheus.Registry
	kill context.CancelFunc
	done chan struct{}
	err  error
}

func (p *pipeline) startRespond(t *testing.T) *roleRun {
	t.Helper()
	log := testenv.Logger(t)
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	r := &roleRun{reg: reg, kill: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = runRespond(ctx, p.cfg, log, reg, telemetry.NewServer("", reg, log))
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// wait waits for the role to return, and fails the test on its error.
func (r *roleRun) wait(t *testing.T) {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatalf("respond role: %v", r.err)
	}
}

// stuffing is credential stuffing against one person: nine failed logins
// from addresses in several countries within two minutes, then the
// success.
func stuffing(user int, start time.Time) []*event.Event {
	countries := []string{"RU", "BR", "NG"}
	var evs []*event.Event
	for k := range 10 {
		ev := &event.Event{
			ID: fmt.Sprintf("ev-%d-%d", user, k), Timestamp: start.Add(time.Duration(k) * 12 * time.Second), Tenant: "acme",
			Source: event.Source{System: "salesforce"},
			Event:  event.Activity{Category: "authentication", Action: "login", Outcome: "failure"},
			User:   event.User{ID: sfUser(user), Name: fmt.Sprintf("user%d@acme.example", user), PersonID: fmt.Sprintf("p-%d", user), Type: "human"},
			Client: event.Client{IP: fmt.Sprintf("203.0.113.%d", k+1), Geo: event.Geo{Country: countries[k%3]}},
		}
		if k == 9 {
			ev.Event.Outcome = "success"
		}
		evs = append(evs, ev)
	}
	return evs
}

func sfUser(i int) string { return fmt.Sprintf("005E2E%09d", i) }

// detect runs events (in time order) through the shard and publishes its
// alerts and actions as the detector runner does: alerts to crm.alerts,
// actions to crm.actions, each keyed by tenant and acknowledged by every
// in-sync replica; each action carries its alert's rule, severity and
// summary, and the triggering event's user name and type (what the
// responder's modes and protected-account checks read). It returns the
// alerts.
func (p *pipeline) detect(t *testing.T, evs []*event.Event) []*alert.Alert {
	t.Helper()
	byID := map[string]*event.Event{}
	for _, ev := range evs {
		byID[ev.ID] = ev
	}
	var (
		out    []detect.Output
		alerts []*alert.Alert
		msgs   []kafka.Message
	)
	topics := p.kafka.Config.Topics
	var cur *alert.Alert
	for _, ev := range evs {
		out = p.shard.Process(ev, out[:0])
		for _, o := range out {
			switch o.Kind {
			case detect.OutputAlert:
				cur = o.Alert
				cur.DetectedAt = time.Now().UTC()
				alerts = append(alerts, cur)
				b, err := json.Marshal(cur)
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, kafka.Message{Topic: topics.Alerts.Name, Key: []byte(cur.Tenant), Value: b})
			case detect.OutputAction:
				a := *o.Action
				if cur == nil || a.AlertID != cur.ID {
					t.Fatalf("action %s does not follow its alert", a.ID)
				}
				a.RuleID, a.RuleVersion, a.Severity, a.Summary = cur.Rule.ID, cur.Rule.Version, cur.Rule.Severity, cur.Summary
				trig := byID[cur.EventIDs[len(cur.EventIDs)-1]]
				a.TargetName, a.TargetType = trig.User.Name, trig.User.Type
				b, err := json.Marshal(a)
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, kafka.Message{Topic: topics.Actions.Name, Key: []byte(a.Tenant), Value: b})
			}
		}
	}
	if err := p.producer.Produce(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	return alerts
}

// actions is every action on crm.actions now, by id.
func (p *pipeline) actions(t *testing.T) map[string][]alert.Action {
	t.Helper()
	out := map[string][]alert.Action{}
	for _, m := range p.kafka.ReadTopic(t, p.kafka.Config.Topics.Actions.Name) {
		var a alert.Action
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("crm.actions offset %d: %v", m.Offset, err)
		}
		out[a.ID] = append(out[a.ID], a)
	}
	return out
}

func current(recs []alert.Action) string {
	if len(recs) == 0 {
		return ""
	}
	return respond.Current(recs).Status
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // a hang, not a performance bound
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func requestedOf(alerts []*alert.Alert, typ string) []string {
	var ids []string
	for _, a := range alerts {
		for _, id := range a.Actions {
			if id == alert.ActionID(a.ID, typ) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func gathered(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
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
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			match := true
			for k, v := range labels {
				match = match && have[k] == v
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func TestEndToEndCredentialStuffingFreezesOnce(t *testing.T) {
	p := newPipeline(t, 10)
	p.sf.AddUser(sfUser(1), false)
	alerts := p.detect(t, stuffing(1, time.Date(2026, 11, 3, 2, 14, 0, 0, time.UTC)))
	freezes := requestedOf(alerts, respond.TypeFreeze)
	notes := requestedOf(alerts, respond.TypeNotify)
	if len(freezes) != 1 || len(notes) != len(alerts) || len(alerts) < 2 {
		var rules []string
		for _, a := range alerts {
			rules = append(rules, a.Rule.ID)
		}
		t.Fatalf("the stuffing raised %v: %d freezes, %d notifications", rules, len(freezes), len(notes))
	}

	// The responder dies right after Salesforce froze the user, before it
	// hears back: its context ends and the answer never arrives.
	for _, a := range alerts {
		t.Logf("alert %s: %s", a.Rule.ID, a.Summary)
	}
	first := p.startRespond(t)
	p.sf.AfterApply(1, func(r *http.Request) bool { return r.Method == http.MethodPatch }, func(r *http.Request) {
		first.kill()
		<-r.Context().Done()
	})
	first.wait(t)
	if !p.sf.IsFrozen(sfUser(1)) {
		t.Fatal("the responder stopped before it froze anyone")
	}
	if got := current(p.actions(t)[freezes[0]]); got != alert.StatusExecuting {
		t.Fatalf("after the kill the freeze is %q, want executing (intent recorded, result not)", got)
	}

	// A new responder process: it rebuilds the history, finishes the
	// interrupted freeze by asking Salesforce, and handles the rest.
	second := p.startRespond(t)
	waitUntil(t, "every action to finish", func() bool {
		acts := p.actions(t)
		for _, id := range append(slices.Clone(freezes), notes...) {
			if current(acts[id]) != alert.StatusDone {
				return false
			}
		}
		return true
	})
	done := p.actions(t)[freezes[0]]
	if last := done[len(done)-1]; last.Detail != "sf-acme: already frozen" {
		t.Fatalf("the freeze finished with %q, want a recheck", last.Detail)
	}
	if n, f := p.sf.Count(http.MethodPatch, "/services/data/"), p.sf.Freezes(sfUser(1)); n != 1 || f != 1 {
		t.Fatalf("Salesforce received %d freeze requests (%d applied), want exactly 1", n, f)
	}
	for _, a := range alerts {
		if n := p.pd.Triggers(a.ID); n != 1 {
			t.Errorf("PagerDuty got %d events for alert %s (%s), want 1", n, a.ID, a.Rule.ID)
		}
	}
	if n := len(p.pd.Events()); n != len(alerts) {
		t.Errorf("PagerDuty got %d events for %d alerts", n, len(alerts))
	}
	if got := gathered(t, second.reg, "trailwatch_respond_actions_total", map[string]string{"type": "freeze_account", "result": "done"}); got != 1 {
		t.Errorf("actions_total{freeze_account,done} = %v", got)
	}
}

// A bad rule (or a real mass attack) requests 100 freezes: the breaker lets
// the configured 5 through, holds the other 95 for approval, and pages
// once; on-call approves one of them and it runs.
func TestEndToEndBreakerStopsAFlood(t *testing.T) {
	const limit = 5
	p := newPipeline(t, limit)
	var evs []*event.Event
	start := time.Date(2026, 11, 3, 2, 14, 0, 0, time.UTC)
	for i := range 100 {
		p.sf.AddUser(sfUser(i), false)
		evs = append(evs, stuffing(i, start)...)
	}
	slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	alerts := p.detect(t, evs)
	freezes := requestedOf(alerts, respond.TypeFreeze)
	notes := requestedOf(alerts, respond.TypeNotify)
	if len(freezes) != 100 {
		t.Fatalf("%d freezes requested, want 100", len(freezes))
	}
	// The role serves the approval API too; bob's token is in the
	// environment.
	t.Setenv("TW_E2E_BOB_TOKEN", bobToken)
	p.cfg.Respond.API = oncall.APIConfig{Listen: freeAddr(t), Approvers: map[string]adapter.Secret{"bob": {Env: "TW_E2E_BOB_TOKEN"}}}
	r := p.startRespond(t)
	var byStatus map[string][]string
	waitUntil(t, "every freeze to be decided and every notification sent", func() bool {
		acts := p.actions(t)
		byStatus = map[string][]string{}
		for _, id := range freezes {
			byStatus[current(acts[id])] = append(byStatus[current(acts[id])], id)
		}
		for _, id := range notes {
			if current(acts[id]) != alert.StatusDone {
				return false
			}
		}
		return len(byStatus[alert.StatusDone])+len(byStatus[alert.StatusAwaitingApproval]) == 100
	})
	if len(byStatus[alert.StatusDone]) != limit || len(byStatus[alert.StatusAwaitingApproval]) != 100-limit {
		t.Fatalf("freezes done %d, awaiting approval %d; want %d and %d", len(byStatus[alert.StatusDone]), len(byStatus[alert.StatusAwaitingApproval]), limit, 100-limit)
	}
	if n := p.sf.Count(http.MethodPatch, "/services/data/"); n != limit {
		t.Fatalf("Salesforce received %d freezes, want %d", n, limit)
	}
	var breakerPages int
	for _, ev := range p.pd.Events() {
		if strings.HasPrefix(ev.DedupKey, "trailwatch-breaker-acme") {
			breakerPages++
		}
	}
	if breakerPages != 1 || len(p.pd.Events()) != len(notes)+1 {
		t.Fatalf("%d breaker pages and %d PagerDuty events for %d alerts; want 1 and %d", breakerPages, len(p.pd.Events()), len(notes), len(notes)+1)
	}
	if got := gathered(t, r.reg, "trailwatch_respond_breaker_trips_total", map[string]string{"tenant": "acme"}); got != 1 {
		t.Fatalf("breaker_trips_total{acme} = %v", got)
	}
	waitUntil(t, "the awaiting-approval gauge", func() bool {
		return gathered(t, r.reg, "trailwatch_respond_awaiting_approval", nil) == 100-limit
	})

	// On-call looks at what waits and approves one genuine freeze.
	cfgFile := kafkaConfigFile(t, p.kafka, "")
	out, err := trailwatch(t, "--config", cfgFile, "actions", "list", "--tenant", "acme", "--status", "awaiting_approval", "--format", "json")
	if err != nil || strings.Count(out, "\n") != 100-limit {
		t.Fatalf("actions list: %v, %d lines", err, strings.Count(out, "\n"))
	}
	pick := byStatus[alert.StatusAwaitingApproval][0]
	if out, err := trailwatch(t, "--config", cfgFile, "actions", "approve", pick, "--actor", "alice"); err != nil {
		t.Fatalf("actions approve: %v\n%s", err, out)
	}
	waitUntil(t, "the approved freeze to run", func() bool { return current(p.actions(t)[pick]) == alert.StatusDone })
	recs := p.actions(t)[pick]
	if last := recs[len(recs)-1]; last.Actor != "alice" || p.sf.Count(http.MethodPatch, "/services/data/") != limit+1 {
		t.Fatalf("approved freeze %+v; %d freezes", last, p.sf.Count(http.MethodPatch, "/services/data/"))
	}

	// And another through the role's approval API.
	url := "http://" + p.cfg.Respond.API.Listen + "/v1/actions/" + byStatus[alert.StatusAwaitingApproval][1] + "/approve"
	if code := post(t, url, bobToken); code != http.StatusOK {
		t.Fatalf("approval API: %d", code)
	}
	waitUntil(t, "the freeze approved over HTTP to run", func() bool {
		return current(p.actions(t)[byStatus[alert.StatusAwaitingApproval][1]]) == alert.StatusDone
	})
	if code := post(t, url, bobToken); code != http.StatusConflict {
		t.Fatalf("approving it again: %d, want 409", code)
	}
	if n := p.sf.Count(http.MethodPatch, "/services/data/"); n != limit+2 {
		t.Fatalf("%d freezes after two approvals, want %d", n, limit+2)
	}
}

const bobToken = "bob-e2e-0123456789abcdef0123456789abcdef"

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// post sends an authenticated POST, waiting for the API to listen.
func post(t *testing.T, url, token string) int {
	t.Helper()
	var code int
	waitUntil(t, "the approval API to answer", func() bool {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		code = resp.StatusCode
		return true
	})
	return code
}
