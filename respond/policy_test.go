package respond

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

var t0 = time.Date(2026, 11, 3, 2, 14, 0, 0, time.UTC)

// policyConfig is a configuration for decisions only (adapters are not
// built, so their settings do not matter).
func policyConfig() Config {
	cfg := DefaultConfig()
	cfg.Rules = map[string]Rule{
		"credential-stuffing": {Mode: alert.ModeEnforce},
		"bulk-export":         {Mode: alert.ModeApproval},
		"reviewed-v3":         {Mode: alert.ModeEnforce, Version: "3"},
	}
	cfg.Protected.AccountIDs = []string{"005000000000BRK"}
	cfg.Protected.NamePatterns = []string{"breakglass-*", "svc-*@acme.example"}
	cfg.Tenants = map[string]Tenant{
		"acme":   {Freeze: []string{"sf"}, Notify: []string{"pd"}, Webhooks: []string{"inhouse"}, OnCall: []string{"pd"}},
		"beta":   {Mode: alert.ModeApproval, Freeze: []string{"sf"}, Notify: []string{"pd"}},
		"gamma":  {Mode: alert.ModeDryRun, Freeze: []string{"sf"}, Rules: map[string]Rule{"bulk-export": {Mode: alert.ModeEnforce}}},
		"delta":  {Freeze: []string{"sf"}, Protected: Protected{AccountIDs: []string{"005000000000DEL"}, Unknown: UnknownIgnore}},
		"nofrze": {Notify: []string{"pd"}},
	}
	return cfg
}

func freeze(id string, mut ...func(*alert.Action)) alert.Action {
	a := alert.Action{ID: id, Type: TypeFreeze, AlertID: "alert-" + id, Tenant: "acme", Target: "005000000000ABC",
		TargetName: "jdoe@acme.example", TargetType: "human", RuleID: "credential-stuffing", RuleVersion: "1",
		Severity: "high", Status: alert.StatusRequested, RequestedAt: t0}
	for _, m := range mut {
		m(&a)
	}
	return a
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		a       alert.Action
		verdict Verdict
		mode    string
		reason  string
	}{
		{"configured rule enforces", freeze("a1"), Execute, alert.ModeEnforce, "rule credential-stuffing is configured enforce"},
		{"new rule runs dry", freeze("a2", func(a *alert.Action) { a.RuleID = "brand-new" }), DryRun, alert.ModeDryRun, "rule brand-new is not configured"},
		{"action without rule runs dry", freeze("a3", func(a *alert.Action) { a.RuleID = "" }), DryRun, alert.ModeDryRun, "names no rule"},
		{"changed rule version runs dry", freeze("a4", func(a *alert.Action) { a.RuleID, a.RuleVersion = "reviewed-v3", "4" }), DryRun, alert.ModeDryRun, "differs from the reviewed version 3"},
		{"reviewed rule version enforces", freeze("a5", func(a *alert.Action) { a.RuleID, a.RuleVersion = "reviewed-v3", "3" }), Execute, alert.ModeEnforce, ""},
		{"rule in approval waits", freeze("a6", func(a *alert.Action) { a.RuleID = "bulk-export" }), AwaitApproval, alert.ModeApproval, "configured approval"},
		{"tenant in approval caps an enforcing rule", freeze("a7", func(a *alert.Action) { a.Tenant = "beta" }), AwaitApproval, alert.ModeApproval, "tenant beta runs in approval"},
		{"tenant dry_run caps a tenant rule override", freeze("a8", func(a *alert.Action) { a.Tenant, a.RuleID = "gamma", "bulk-export" }), DryRun, alert.ModeDryRun, "would freeze_account 005000000000ABC (jdoe@acme.example) via sf"},
		{"action asks for dry_run", freeze("a9", func(a *alert.Action) { a.Mode = alert.ModeDryRun }), DryRun, alert.ModeDryRun, "the action asks for dry_run"},
		{"protected id", freeze("b1", func(a *alert.Action) { a.Target = "005000000000BRK" }), Skip, alert.ModeEnforce, "protected: account 005000000000BRK"},
		{"protected 15-char id matches 18-char form", freeze("b2", func(a *alert.Action) { a.Target = "005000000000BRKAAA" }), Skip, alert.ModeEnforce, "protected"},
		{"protected name pattern, any case", freeze("b3", func(a *alert.Action) { a.TargetName = "BreakGlass-admin@acme.example" }), Skip, alert.ModeEnforce, "matches protected pattern breakglass-*"},
		{"protected service account pattern", freeze("b4", func(a *alert.Action) { a.TargetName = "svc-etl@acme.example" }), Skip, alert.ModeEnforce, "svc-*@acme.example"},
		{"protected user type", freeze("b5", func(a *alert.Action) { a.TargetType = "integration" }), Skip, alert.ModeEnforce, "accounts of type integration are protected"},
		{"protected even in dry_run", freeze("b6", func(a *alert.Action) { a.TargetType = "system"; a.RuleID = "brand-new" }), Skip, alert.ModeDryRun, "protected"},
		{"unknown name waits for approval", freeze("b7", func(a *alert.Action) { a.TargetName = "" }), AwaitApproval, alert.ModeApproval, "no target_name"},
		{"unknown type waits for approval", freeze("b8", func(a *alert.Action) { a.TargetType = "" }), AwaitApproval, alert.ModeApproval, "no target_type"},
		{"unknown identity ignored where configured", freeze("b9", func(a *alert.Action) { a.Tenant, a.TargetName, a.TargetType = "delta", "", "" }), Execute, alert.ModeEnforce, ""},
		{"tenant protection adds to global", freeze("c1", func(a *alert.Action) { a.Tenant, a.Target = "delta", "005000000000DEL" }), Skip, alert.ModeEnforce, "protected"},
		{"global protection still applies in a tenant", freeze("c2", func(a *alert.Action) { a.Tenant, a.Target = "delta", "005000000000BRK" }), Skip, alert.ModeEnforce, "protected"},
		{"unknown tenant", freeze("c3", func(a *alert.Action) { a.Tenant = "nobody" }), Skip, "", `tenant "nobody" is not configured`},
		{"no freezer in tenant", freeze("c4", func(a *alert.Action) { a.Tenant = "nofrze" }), Skip, "", "no adapter handles freeze_account actions in tenant nofrze"},
		{"unknown type", freeze("c5", func(a *alert.Action) { a.Type = "require_mfa" }), Skip, "", "no adapter handles require_mfa"},
		{"notify never waits for approval", freeze("d1", func(a *alert.Action) { a.Type, a.RuleID = TypeNotify, "bulk-export" }), Execute, alert.ModeApproval, ""},
		{"notify in dry_run is recorded only", freeze("d2", func(a *alert.Action) { a.Type, a.RuleID = TypeNotify, "new" }), DryRun, alert.ModeDryRun, "would notify via pd"},
		{"notify to a protected account still pages", freeze("d3", func(a *alert.Action) { a.Type, a.TargetType = TypeNotify, "integration" }), Execute, alert.ModeEnforce, ""},
		{"webhook is an account action", freeze("d4", func(a *alert.Action) { a.Type, a.TargetType = TypeWebhook, "system" }), Skip, alert.ModeEnforce, "protected"},
		{"undo by a human runs even in dry_run", freeze("e1", func(a *alert.Action) {
			a.Type, a.Actor, a.Tenant = TypeUnfreeze, "alice", "gamma"
		}), Execute, alert.ModeEnforce, "undo requested by alice"},
		{"unfreeze without a human follows the modes", freeze("e2", func(a *alert.Action) { a.Type, a.Tenant = TypeUnfreeze, "gamma" }), DryRun, alert.ModeDryRun, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(policyConfig())
			d := p.Decide(tt.a, t0)
			if d.Verdict != tt.verdict || d.Mode != tt.mode || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("Decide = %v mode %q reason %q; want %v mode %q reason containing %q", d.Verdict, d.Mode, d.Reason, tt.verdict, tt.mode, tt.reason)
			}
		})
	}
}

func TestStrictest(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, alert.ModeEnforce},
		{[]string{"", "bogus"}, alert.ModeEnforce},
		{[]string{alert.ModeEnforce, alert.ModeApproval}, alert.ModeApproval},
		{[]string{alert.ModeApproval, alert.ModeDryRun, alert.ModeEnforce}, alert.ModeDryRun},
	} {
		if got := Strictest(tt.in...); got != tt.want {
			t.Errorf("Strictest(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// A bad rule fires on the whole sales team: 100 freezes in a minute. The
// breaker lets the limit through, then every further freeze waits for
// approval, and exactly one decision carries the trip (one page).
func TestBreakerStopsAFlood(t *testing.T) {
	cfg := policyConfig()
	cfg.Breaker = Breaker{MaxActions: 10, Window: time.Hour}
	p := NewPolicy(cfg)
	var executed, waiting, trips int
	for i := range 100 {
		d := p.Decide(freeze(fmt.Sprintf("f%03d", i), func(a *alert.Action) { a.Target = fmt.Sprintf("005%012d", i) }), t0.Add(time.Duration(i)*600*time.Millisecond))
		switch d.Verdict {
		case Execute:
			executed++
		case AwaitApproval:
			waiting++
			if !d.Breaker || !strings.Contains(d.Reason, "circuit breaker open for tenant acme: more than 10 automatic account actions within 1h0m0s") {
				t.Fatalf("decision %d: %+v", i, d)
			}
		}
		if d.Tripped {
			trips++
			if i != 10 {
				t.Fatalf("the breaker tripped on freeze %d, want the 11th (index 10)", i)
			}
		}
	}
	if executed != 10 || waiting != 90 || trips != 1 {
		t.Fatalf("executed %d, waiting %d, trips %d; want 10, 90, 1", executed, waiting, trips)
	}
	// Notifications keep flowing while the breaker is open.
	if d := p.Decide(freeze("n1", func(a *alert.Action) { a.Type = TypeNotify }), t0.Add(time.Minute)); d.Verdict != Execute {
		t.Fatalf("notify while open: %v", d.Verdict)
	}
	// Another tenant is not affected.
	if d := p.Decide(freeze("o1", func(a *alert.Action) { a.Tenant = "delta" }), t0.Add(time.Minute)); d.Verdict != Execute {
		t.Fatalf("other tenant: %v", d.Verdict)
	}
}

func TestBreakerWindow(t *testing.T) {
	lim := Breaker{MaxActions: 3, Window: time.Hour}
	b := NewBreakers(func(string) Breaker { return lim })
	admit := func(id string, at time.Duration) (bool, bool) { return b.Admit("acme", id, t0.Add(at)) }

	for i, at := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute} {
		if ok, _ := admit(fmt.Sprint("a", i), at); !ok {
			t.Fatalf("admission %d refused", i)
		}
	}
	if ok, _ := admit("a0", 21*time.Minute); !ok {
		t.Fatal("the same action id must be admitted again without counting")
	}
	// The window slides: at 60m+1ns the first admission has left it.
	if ok, tripped := admit("a3", 30*time.Minute); ok || !tripped {
		t.Fatalf("4th within the hour: ok %v tripped %v, want refused and tripped", ok, tripped)
	}
	if ok, tripped := admit("a4", 40*time.Minute); ok || tripped {
		t.Fatalf("while open: ok %v tripped %v, want refused, not tripped again", ok, tripped)
	}
	if !b.Open("acme", t0.Add(41*time.Minute)) {
		t.Fatal("breaker should be open")
	}
	// Attempts keep it open; a whole quiet window after the last closes it.
	if ok, _ := admit("a5", 40*time.Minute+59*time.Minute); ok {
		t.Fatal("closed before a quiet window passed")
	}
	if ok, _ := admit("a6", 99*time.Minute+time.Hour); !ok {
		t.Fatal("not closed after a quiet window")
	}

	// Note rebuilds a window from history without double counting.
	b2 := NewBreakers(func(string) Breaker { return lim })
	b2.Note("acme", "x1", t0)
	b2.Note("acme", "x1", t0)
	b2.Note("acme", "x2", t0.Add(time.Minute))
	if ok, _ := b2.Admit("acme", "x3", t0.Add(2*time.Minute)); !ok {
		t.Fatal("third admission refused after two noted")
	}
	if ok, _ := b2.Admit("acme", "x4", t0.Add(3*time.Minute)); ok {
		t.Fatal("fourth admission allowed")
	}
	b2.Reset("acme")
	if ok, _ := b2.Admit("acme", "x4", t0.Add(4*time.Minute)); !ok {
		t.Fatal("refused after Reset")
	}
}
