package sink

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestShadowDataIsMasked: personal data typed into free text is stored
// masked and the look-alikes are left alone. The sink stores no alert of
// its own: the detector's rule shadow.pii_in_free_text publishes it on
// crm.alerts, from where the sink stores it like any other.
func TestShadowDataIsMasked(t *testing.T) {
	e := newEnv(t)
	s := e.newSink(t, Deps{})
	tp := e.topics()
	dirty := testEvent(1, "acme", "005a")
	dirty.Event = event.Activity{Category: "data_change", Action: "update", Outcome: "success"}
	dirty.Changes = []event.Change{
		{Field: "Description", Old: "", New: "card 4111 1111 1111 1111, SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00"},
		{Field: "Email", Old: "", New: "jane@acme.example"},
	}
	clean := testEvent(2, "acme", "005a")
	clean.Event = dirty.Event
	clean.Changes = []event.Change{{Field: "Description", Old: "", New: "order ORD-4111111111111111 due 2026-11-03, card 4111 1111 1111 1112"}}
	msgs := []kafka.Message{eventMsg(t, tp.Activity, 0, 0, dirty), eventMsg(t, tp.Activity, 0, 1, clean)}
	for range 2 { // the second time: a retried batch
		if err := s.Handle(t.Context(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := e.st.Query(t.Context(), "SELECT id, change_new FROM audit_events ORDER BY id LIMIT 1 BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var id string
		var news []string
		if err := rows.Scan(&id, &news); err != nil {
			t.Fatal(err)
		}
		got[id] = news
	}
	if d := strings.Join(got[dirty.ID], "|"); d != "card **** **** **** 1111, SSN ***-**-6789, IBAN **** **** **** **** **30 00|jane@acme.example" {
		t.Errorf("stored dirty values: %q", d)
	}
	if c := strings.Join(got[clean.ID], "|"); c != clean.Changes[0].New {
		t.Errorf("look-alikes changed: %q", c)
	}
	if n := e.count(t, "SELECT count() FROM audit_events WHERE arrayExists(v -> v LIKE '%4111 1111 1111 1111%' OR v LIKE '%123-45-6789%', change_new)"); n != 0 {
		t.Errorf("%d rows hold an unmasked value", n)
	}
	if n := e.count(t, "SELECT count() FROM alerts"); n != 0 {
		t.Errorf("the sink stored %d alerts of its own", n)
	}
}
