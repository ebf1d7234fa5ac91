package runner

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestRunnerPublishesShadowDataAlerts: a card number typed into a case's
// description reaches crm.alerts as an alert of the pack's shadow-data
// rule, run on the main stream, with the pure engine's id, masked samples
// only, and its notify action on crm.actions: the responder and the
// pagers see it like any other alert.
func TestRunnerPublishesShadowDataAlerts(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	e := event.Event{ID: "sd-1", Timestamp: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Tenant: "acme",
		Source: event.Source{System: "salesforce"}, Event: event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User: event.User{ID: "005a", Name: "rep@acme.example"}, Object: event.Object{Type: "case", ID: "500X"},
		Changes: []event.Change{{Field: "Description", Old: "", New: "paid with 4111 1111 1111 1111"}}}
	produce(t, kcfg, kcfg.Topics.Activity.Name, []kafka.Message{{Key: []byte(e.Tenant + "\x00" + e.PersonKey()), Value: event.AppendJSON(nil, &e)}})

	cfg := testConfig()
	run := start(t, cfg, kcfg)
	waitCaughtUp(t, kcfg, cfg.Group)
	if err := run.stop(false); err != nil {
		t.Fatal(err)
	}
	// Grouped by person (and record), it runs on crm.activity itself: no
	// event is copied to the re-keyed topic for it.
	if !slicesContain(run.r.set.Load().Main.rules, shadow.RuleID) {
		t.Errorf("%s is not on the main stream", shadow.RuleID)
	}

	rs, err := detect.Load(cfg.Rules)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.NewEngine(rs, detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var wantID string
	for _, o := range eng.NewShard().Process(&e, nil) {
		if o.Kind == detect.OutputAlert && o.Alert.Rule.ID == shadow.RuleID {
			wantID = o.Alert.ID
		}
	}
	if wantID == "" {
		t.Fatal("the pure engine raised no shadow-data alert")
	}

	var got []alert.Alert
	for _, m := range env.ReadTopic(t, kcfg.Topics.Alerts.Name) {
		if bytes.Contains(m.Value, []byte("4111 1111 1111 1111")) {
			t.Errorf("alert carries the unmasked number: %s", m.Value)
		}
		var a alert.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.Rule.ID == shadow.RuleID {
			got = append(got, a)
		}
	}
	if len(got) != 1 || got[0].ID != wantID || got[0].Group["object.id"] != "500X" || len(got[0].Actions) != 1 {
		t.Fatalf("shadow-data alerts on %s: %+v, want one with id %s", kcfg.Topics.Alerts.Name, got, wantID)
	}
	if s, _ := got[0].Values["samples"].([]any); len(s) != 1 || s[0] != "card_number in changes.Description.new: **** **** **** 1111" {
		t.Errorf("samples %v", got[0].Values["samples"])
	}
	var notify int
	for _, m := range env.ReadTopic(t, kcfg.Topics.Actions.Name) {
		var a alert.Action
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.AlertID == wantID {
			notify++
			if a.Type != "notify" || a.ID != alert.ActionID(wantID, "notify") || a.ID != got[0].Actions[0] || strings.Contains(a.Summary, "4111 1111") {
				t.Errorf("action %+v", a)
			}
		}
	}
	if notify != 1 {
		t.Errorf("%d actions of the shadow-data alert, want one notify", notify)
	}
}
