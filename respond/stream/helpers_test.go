package stream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/fakes"
	"github.com/trailwatch/trailwatch/respond/stream"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

const pdKey = "R0UT1NGK3Y0000000000000000000000"

// env is a responder's world: an embedded broker, the Salesforce and
// PagerDuty stand-ins, and the configuration that joins them (tenant
// acme: freezes in Salesforce, notifications and on-call pages to
// PagerDuty, rule credential-stuffing enforced).
type env struct {
	kafka    testenv.KafkaEnv
	sf       *fakes.Salesforce
	pd       *fakes.PagerDuty
	cfg      respond.Config
	loop     stream.Config
	set      *registry.Set
	producer *kafka.Producer
	recorder *stream.Recorder
}

func newEnv(t *testing.T, mutate func(*respond.Config)) *env {
	t.Helper()
	e := &env{kafka: testenv.Kafka(t), sf: fakes.NewSalesforce(t, "consumer-key", "sf-secret"), pd: fakes.NewPagerDuty(t, pdKey)}
	t.Setenv("TW_TEST_SF_SECRET", "sf-secret")
	t.Setenv("TW_TEST_PD_KEY", pdKey)
	sf := registry.Defaults(registry.KindSalesforce)
	sf.Salesforce.LoginURL, sf.Salesforce.ClientID = e.sf.URL(), "consumer-key"
	sf.Salesforce.ClientSecret.Env = "TW_TEST_SF_SECRET"
	sf.Salesforce.Timeout = 2 * time.Second
	pd := registry.Defaults(registry.KindPagerDuty)
	pd.PagerDuty.EventsURL = e.pd.EventsURL()
	pd.PagerDuty.RoutingKey.Env = "TW_TEST_PD_KEY"
	cfg := respond.DefaultConfig()
	cfg.Adapters = registry.Config{"sf": sf, "pd": pd}
	cfg.Tenants = map[string]respond.Tenant{"acme": {Freeze: []string{"sf"}, Notify: []string{"pd"}, OnCall: []string{"pd"}}}
	cfg.Rules = map[string]respond.Rule{"credential-stuffing": {Mode: alert.ModeEnforce}}
	cfg.Retry = respond.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxRetryAfter: time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	e.cfg = cfg
	var err error
	if e.set, err = registry.Build(cfg.Adapters, registry.Options{}); err != nil {
		t.Fatal(err)
	}
	e.loop = stream.DefaultConfig()
	e.loop.Group = e.kafka.Group("respond")
	e.loop.CommitInterval = 50 * time.Millisecond
	e.loop.RetryBackoff = 10 * time.Millisecond
	if e.producer, err = kafka.NewProducer(e.kafka.Config, testenv.Logger(t), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.producer.Close() })
	if e.recorder, err = stream.NewRecorder(e.producer, e.kafka.Config.Topics.Actions.Name); err != nil {
		t.Fatal(err)
	}
	return e
}

// running is a responder started by start.
type running struct {
	reg *prometheus.Registry
	// kill ends the responder's context at once, as a crash would end its
	// work: nothing after it is recorded. stop kills and waits for it.
	kill func()
	stop func()
}

// start runs a responder (a fresh process: empty memory) until stop.
func (e *env) start(t *testing.T) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	dlq, err := deadletter.NewWriter(e.producer, e.kafka.Config.Topics.DeadLetter.Name, "respond", reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := stream.New(stream.Options{
		Loop: e.loop, Respond: e.cfg, Adapters: respond.FromRegistry(e.set), Kafka: e.kafka.Config,
		Recorder: e.recorder, DeadLetters: dlq, Log: testenv.Logger(t), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("responder: %v", err)
		}
	}
	t.Cleanup(stop)
	return &running{reg: reg, kill: cancel, stop: stop}
}

// publish writes action records as the detector and the on-call commands
// do: keyed by tenant.
func (e *env) publish(t *testing.T, recs ...alert.Action) {
	t.Helper()
	for _, r := range recs {
		if err := e.recorder.Record(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// records is every action record on the topic now, by id, in log order.
func (e *env) records(t *testing.T) map[string][]alert.Action {
	t.Helper()
	out := map[string][]alert.Action{}
	for _, m := range e.kafka.ReadTopic(t, e.kafka.Config.Topics.Actions.Name) {
		var a alert.Action
		if json.Unmarshal(m.Value, &a) == nil && a.ID != "" {
			out[a.ID] = append(out[a.ID], a)
		}
	}
	return out
}

func statuses(recs []alert.Action) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Status)
	}
	return strings.Join(s, ",")
}

// waitFor polls cond until it holds; it fails the test after a minute
// (a hang, not a performance bound: the conditions hold within
// milliseconds when the code works).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until action id's latest record has status, and
// returns its history.
func (e *env) waitStatus(t *testing.T, id, status string) []alert.Action {
	t.Helper()
	var recs []alert.Action
	waitFor(t, "action "+id+" to be "+status, func() bool {
		recs = e.records(t)[id]
		return len(recs) > 0 && recs[len(recs)-1].Status == status
	})
	return recs
}

var t0 = time.Now().UTC().Truncate(time.Millisecond)

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

func notify(i int) alert.Action {
	return request(i, func(a *alert.Action) { a.ID, a.Type = fmt.Sprintf("note-%03d", i), respond.TypeNotify })
}

// metric sums the series of name whose labels include labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
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
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == k && lp.GetValue() == v)
				}
				if !found {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func kafkaMsg(topic, key string, value []byte) kafka.Message {
	return kafka.Message{Topic: topic, Key: []byte(key), Value: value}
}
