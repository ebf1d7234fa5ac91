package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The end-to-end test of issue 7 on the embedded broker: simulated
// credential stuffing → the shipped rule pack (the pure detect engine, as
// the detector runs it) → crm.alerts and crm.actions → the respond role →
// the Salesforce and PagerDuty stand-ins.

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
	p.cfg.Respond.API = oncall.APIConfig{Listen: freeAddr(t), Approvers: map[string]oncall.Approver{"bob": {Secret: adapter.Secret{Env: "TW_E2E_BOB_TOKEN"}}}}
	r := p.startRespond(t)
	// Wait on the role's counters (reading the topic in a loop would
	// starve the responder on a busy machine), then read the topic once.
	count := func(typ, result string) int {
		return int(gathered(t, r.reg, "trailwatch_respond_actions_total", map[string]string{"type": typ, "result": result}))
	}
	waitUntil(t, "every freeze to be decided and every notification sent", func() bool {
		return count(respond.TypeNotify, alert.StatusDone) >= len(notes) &&
			count(respond.TypeFreeze, alert.StatusDone)+count(respond.TypeFreeze, alert.StatusAwaitingApproval) >= 100
	})
	acts := p.actions(t)
	byStatus := map[string][]string{}
	for _, id := range freezes {
		byStatus[current(acts[id])] = append(byStatus[current(acts[id])], id)
	}
	for _, id := range notes {
		if current(acts[id]) != alert.StatusDone {
			t.Fatalf("notification %s is %s", id, current(acts[id]))
		}
	}
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

// The configuration example of docs/RESPONSE.md loads and validates.
func TestResponseDocExampleIsValid(t *testing.T) {
	doc, err := os.ReadFile("../../docs/RESPONSE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "## Configuration example")
	_, example, ok2 := strings.Cut(example, "```yaml\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/RESPONSE.md has no yaml block under ## Configuration example")
	}
	path := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	if err := config.LoadFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Respond.Validate(); err != nil {
		t.Fatalf("the documented example is invalid:\n%v", err)
	}
	if cfg.Respond.Core.Tenants["acme"].Breaker.MaxActions != 5 || cfg.Respond.Loop.History != 168*time.Hour || cfg.Respond.API.Approvers["alice"].File == "" ||
		strings.Join(cfg.Respond.API.Approvers["acme-secops"].Tenants, ",") != "acme" || cfg.Respond.API.Approvers["alice"].Tenants != nil {
		t.Fatalf("the example did not load as written: %+v", cfg.Respond)
	}
}
