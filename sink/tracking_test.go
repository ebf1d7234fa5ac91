package sink

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestTrackingPolicy: what a tenant's level and lists drop is not stored
// and is counted by reason; excluded fields are removed, sensitive ones
// stored masked, and the rows kept still verify as one chain.
func TestTrackingPolicy(t *testing.T) {
	e := newEnv(t)
	p, err := kafka.NewProducer(e.kafka.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	dlq, err := deadletter.NewWriter(p, e.kafka.Config.Topics.DeadLetter.Name, "sink", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Tracking = tracking.Config{Policies: []tracking.Policy{{Tenant: "acme", Level: tracking.Standard,
		ExcludeObjects: []string{"case"}, ExcludeFields: []string{"Description"},
		Sensitive: []tracking.Sensitive{{Field: "TaxId__c", Mask: "last", Keep: 2}}}}}
	reg := prometheus.NewRegistry()
	s, err := New(e.st, cfg, e.topics(), Deps{DeadLetter: dlq, Signer: e.signer}, testenv.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	tp := e.topics()
	view := testEvent(1, "acme", "005a") // data_access: above standard
	upd := testEvent(2, "acme", "005a")
	upd.Event = event.Activity{Category: "data_change", Action: "update", Outcome: "success"}
	upd.Changes = []event.Change{{Field: "Description", Old: "a", New: "b"}, {Field: "TaxId__c", Old: "", New: "DE123456789"}}
	caseUpd := upd
	caseUpd.ID, caseUpd.Object.Type, caseUpd.Changes = "case-1", "case", nil
	other := testEvent(3, "globex", "005b") // no policy: kept
	if err := s.Handle(t.Context(), []kafka.Message{eventMsg(t, tp.Activity, 0, 0, view), eventMsg(t, tp.Activity, 0, 1, upd),
		eventMsg(t, tp.Activity, 0, 2, caseUpd), eventMsg(t, tp.Activity, 0, 3, other)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := e.st.Query(t.Context(), "SELECT id, arrayStringConcat(arrayMap((f, n) -> concat(f, '=', n), change_field, change_new), ',') FROM audit_events ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ch string
		if err := rows.Scan(&id, &ch); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id+" "+ch)
	}
	if got, want := strings.Join(ids, "; "), upd.ID+" TaxId__c=****89; "+other.ID+" "; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	for reason, want := range map[string]float64{"level": 1, "object_excluded": 1} {
		if got := counterValue(t, s.m.dropped.WithLabelValues(reason)); got != want {
			t.Errorf("dropped{%s} = %v, want %v", reason, got, want)
		}
	}
	if got := counterValue(t, s.m.removed.WithLabelValues("field_excluded")); got != 1 {
		t.Errorf("removed changes = %v", got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
