package sink

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestMaskedViewsHidePersonalFields stores an event, an alert and an
// action full of personal data and reads them back through the auditor's
// views (0005_masked_views.sql): names, free text, device and session
// ids and changed values are masked, the address keeps its network only,
// and what an auditor needs to follow an account is left.
func TestMaskedViewsHidePersonalFields(t *testing.T) {
	e := newEnv(t)
	ev := testEvent(1, "acme", "005A")
	ev.User.Name, ev.User.EmployeeID = "jane.doe@acme.example", "E-1234"
	ev.Client = event.Client{IP: "198.51.100.77", UserAgent: "Mozilla/5.0 (Jane's laptop)", DeviceID: "dev-jane", SessionID: "sess-42"}
	ev.Event = event.Activity{Category: "data_change", Action: "update", Outcome: "success"}
	ev.Object.Name = "Jane's customer"
	ev.Comment = "called Jane at home"
	ev.Changes = []event.Change{{Field: "Phone", Old: "+1 555 0100", New: "+1 555 0199"}}
	ev.TargetUser = event.TargetUser{ID: "005B", Name: "john.roe@acme.example"}
	history.Store(t, e.st, []*event.Event{&ev}, 0, nil)

	var (
		id, userID, userName, employee, network, agent, device, session, objName, comment, target, targetName string
		fields, olds, news                                                                                    []string
	)
	if err := e.st.Conn().QueryRow(t.Context(), `SELECT id, user_id, user_name, user_employee_id, client_network, client_user_agent,
		client_device_id, client_session_id, object_name, comment, target_user_id, target_user_name, change_field, change_old, change_new
		FROM audit_events_masked`).Scan(&id, &userID, &userName, &employee, &network, &agent, &device, &session, &objName, &comment,
		&target, &targetName, &fields, &olds, &news); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"user_name": userName, "user_employee_id": employee, "client_user_agent": agent,
		"client_device_id": device, "client_session_id": session, "object_name": objName, "comment": comment, "target_user_name": targetName,
		"change_old": strings.Join(olds, ","), "change_new": strings.Join(news, ",")} {
		if got != "(masked)" {
			t.Errorf("%s reads %q through the masked view, want (masked)", name, got)
		}
	}
	if id != ev.ID || userID != "005A" || target != "005B" || strings.Join(fields, ",") != "Phone" {
		t.Errorf("what an auditor follows changed: id %q, user %q, target %q, fields %v", id, userID, target, fields)
	}
	if !strings.Contains(network, "198.51.100.0") || strings.Contains(network, "77") {
		t.Errorf("client_network %q, want the /24 of 198.51.100.77 without the host", network)
	}
	var all string
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT toString(tuple(*)) FROM audit_events_masked").Scan(&all); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"jane", "Jane", "555", "E-1234", "sess-42", "john", ".77"} {
		if strings.Contains(all, secret) {
			t.Errorf("the masked row still holds %q: %s", secret, all)
		}
	}
}
