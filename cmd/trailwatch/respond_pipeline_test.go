package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// What the end-to-end tests of the respond role stand on: the embedded
// broker, the vendor stand-ins, the detector's shard, and the role.

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
	// Reviewed at the versions the pack ships (a rule whose version
	// changed since its review runs in dry_run again).
	rc.Core.Rules = map[string]respond.Rule{}
	for _, id := range []string{"auth.success_after_failures", "auth.failed_logins_many_countries"} {
		rc.Core.Rules[id] = respond.Rule{Mode: alert.ModeEnforce, Version: rs.Rule(id).Version}
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
	deadline := time.Now().Add(2 * time.Minute) // a hang, not a performance bound
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
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
