package sink

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one test's engines: a migrated ClickHouse database and a Kafka.
type env struct {
	st     *chstore.Store
	ch     testenv.ClickHouseEnv
	kafka  testenv.KafkaEnv
	signer *integrity.Signer
	key    string // path of the signing key
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{ch: testenv.ClickHouse(t), kafka: testenv.Kafka(t)}
	e.st = openStore(t, e.ch)
	if _, err := Migrate(t.Context(), e.st, DefaultStorageConfig(), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	e.key = filepath.Join(t.TempDir(), "cp.key")
	s, created, err := integrity.LoadSigner(e.key, true)
	if err != nil || !created {
		t.Fatalf("creating a signing key: %v (created %v)", err, created)
	}
	e.signer = s
	return e
}

func openStore(t testing.TB, ch testenv.ClickHouseEnv) *chstore.Store {
	t.Helper()
	cfg := chstore.DefaultConfig()
	cfg.URL, cfg.Database, cfg.User = ch.URL, ch.Database, ch.User
	st, err := chstore.Open(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (e *env) topics() Topics {
	tp := e.kafka.Config.Topics
	return Topics{Activity: tp.Activity.Name, Alerts: tp.Alerts.Name, Actions: tp.Actions.Name, DeadLetter: tp.DeadLetter.Name}
}

// newSink builds a sink on e with cfg (zero: the defaults).
func (e *env) newSink(t testing.TB, deps Deps) *Sink {
	t.Helper()
	return e.newSinkWith(t, deps, DefaultConfig())
}

// newSinkWith builds a sink on e with cfg.
func (e *env) newSinkWith(t testing.TB, deps Deps, cfg Config) *Sink {
	t.Helper()
	p, err := kafka.NewProducer(e.kafka.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	dlq, err := deadletter.NewWriter(p, e.kafka.Config.Topics.DeadLetter.Name, "sink", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	deps.DeadLetter = dlq
	if deps.Signer == nil {
		deps.Signer = e.signer
	}
	s, err := New(e.st, cfg, e.topics(), deps, testenv.Logger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) count(t testing.TB, query string) uint64 {
	t.Helper()
	var n uint64
	if err := e.st.Conn().QueryRow(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

var baseTime = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

// testEvent is a valid event i of tenant for person.
func testEvent(i int, tenant, person string) event.Event {
	return event.Event{
		ID: fmt.Sprintf("%s-ev-%d", tenant, i), Timestamp: baseTime.Add(time.Duration(i) * time.Second).In(time.FixedZone("", 3600)),
		Tenant: tenant, Source: event.Source{System: "salesforce", ID: fmt.Sprint(i)},
		Event:  event.Activity{Category: "data_access", Action: "view", Outcome: "success"},
		User:   event.User{ID: person, Name: person + "@example.com"},
		Client: event.Client{IP: "198.51.100.7"},
		Object: event.Object{Type: "contact", ID: fmt.Sprintf("003-%d", i%7)},
	}
}

func eventMsg(t testing.TB, topic string, partition int, offset int64, e event.Event) kafka.Message {
	t.Helper()
	return kafka.Message{Topic: topic, Partition: partition, Offset: offset, Key: []byte(e.Tenant + "/" + e.User.ID),
		Value: event.AppendJSON(nil, &e), Time: baseTime.Add(time.Hour)}
}

func jsonMsg(t testing.TB, topic string, partition int, offset int64, v any) kafka.Message {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Topic: topic, Partition: partition, Offset: offset, Value: b, Time: baseTime.Add(time.Hour)}
}

func testAlert(id, tenant, rule, severity, subject string, eventIDs ...string) alert.Alert {
	return alert.Alert{
		ID: id, Tenant: tenant, Rule: alert.Rule{ID: rule, Version: "1", Title: rule, Severity: severity},
		Group: map[string]string{"person": subject}, WindowStart: baseTime, WindowEnd: baseTime.Add(time.Minute),
		TriggeredAt: baseTime.Add(time.Minute), DetectedAt: baseTime.Add(2 * time.Minute), EventIDs: eventIDs,
		Summary: subject + " did " + rule, Values: map[string]any{"count": 3},
	}
}
