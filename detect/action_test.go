package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func actionsOf(out []Output) []*alert.Action {
	var as []*alert.Action
	for _, o := range out {
		if o.Kind == OutputAction {
			as = append(as, o.Action)
		}
	}
	return as
}

// describeAction lists the fields the responder decides on.
func describeAction(a *alert.Action) string {
	return fmt.Sprintf("%s target=%s name=%s type=%s rule=%s@%s severity=%s mode=%s summary=%q",
		a.Type, a.Target, a.TargetName, a.TargetType, a.RuleID, a.RuleVersion, a.Severity, a.Mode, a.Summary)
}

// Actions carry what the responder needs to decide without a look-up: the
// rule and its version (reviewed rules run in their configured mode, new
// ones dry), severity and summary (for the page), and the target account's
// login name and user type (protected accounts), taken from the event
// whose account the target names.
func TestActionFields(t *testing.T) {
	grantRule := `id: grant
version: "7"
title: Grant
severity: high
filter: event.category == "permission"
summary: '{{ user.name }} granted {{ permission.name }}'
actions:
  - type: freeze_account
    mode: approval
  - type: notify
    target: target_user.id
  - type: webhook
    target: object.id
`
	e := engineOf(t, map[string]string{"grant.yaml": grantRule}, nil)
	grant := ev("g1", t0, "permission", "grant", userType("human"), object("o1"), func(e *event.Event) {
		e.User.Name = "jdoe@acme.example"
		e.TargetUser = event.TargetUser{ID: "005T", Name: "victim@acme.example"}
		e.Permission.Name = "Modify_All_Data"
	})
	var got []string
	for _, a := range actionsOf(run(e, grant)) {
		got = append(got, describeAction(a))
	}
	want := []string{
		`freeze_account target=u1 name=jdoe@acme.example type=human rule=grant@7 severity=high mode=approval summary="jdoe@acme.example granted Modify_All_Data"`,
		`notify target=005T name=victim@acme.example type= rule=grant@7 severity=high mode=dry_run summary="jdoe@acme.example granted Modify_All_Data"`,
		`webhook target=o1 name= type= rule=grant@7 severity=high mode=dry_run summary="jdoe@acme.example granted Modify_All_Data"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A stored event can trigger: an out-of-order event completes the
	// window of a later one, whose account name and type the action needs.
	win := engine(t, ruleHead+`filter: event.category == "export"
group_by: [user.id]
window: 10m
condition: count() >= 3
actions:
  - freeze_account
`, nil)
	named := func(name, typ string) func(*event.Event) {
		return func(e *event.Event) { e.User.Name, e.User.Type = name, typ }
	}
	out := run(win,
		ev("w1", at(0), "export", "export", named("a@acme.example", "")),
		ev("w3", at(2*time.Minute), "export", "export", named("c@acme.example", "system")),
		ev("w2", at(time.Minute), "export", "export", named("b@acme.example", "human")),
	)
	as := actionsOf(out)
	if len(as) != 1 || triggers(out) != "w3" || describeAction(as[0]) != `freeze_account target=u1 name=c@acme.example type=system rule=r@1 severity=medium mode=dry_run summary="Test rule"` {
		t.Errorf("stored trigger: %s %v", triggers(out), as)
	}

	// prev.user.id: the previous event's account.
	prev := engine(t, ruleHead+`filter: event.category == "authentication"
group_by: [person]
previous: 1h
condition: prev != nil && prev.user.id != user.id
actions:
  - type: notify
    target: prev.user.id
`, nil)
	out = run(prev,
		ev("p1", at(0), "authentication", "login", person("p"), user("005A"), named("a@acme.example", "integration")),
		ev("p2", at(time.Minute), "authentication", "login", person("p"), user("005B"), named("b@acme.example", "human")),
	)
	if as := actionsOf(out); len(as) != 1 || describeAction(as[0]) != `notify target=005A name=a@acme.example type=integration rule=r@1 severity=medium mode=dry_run summary="Test rule"` {
		t.Errorf("prev target: %v", as)
	}
}

// The action's account fields are copies, never views of the event.
func TestActionFieldsKeepNoEventMemory(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "export"
actions:
  - freeze_account
`, nil)
	buf := make([]byte, 64)
	view := func(s string, at int) string {
		copy(buf[at:], s)
		return unsafe.String(&buf[at], len(s))
	}
	x := ev("x1", t0, "export", "export", func(e *event.Event) {
		e.User.Name, e.User.Type = view("jdoe@acme.example", 0), view("human", 32)
	})
	as := actionsOf(run(e, x))
	for i := range buf {
		buf[i] = 'X'
	}
	if len(as) != 1 || as[0].TargetName != "jdoe@acme.example" || as[0].TargetType != "human" {
		t.Errorf("action kept event memory: %v", as)
	}
}
