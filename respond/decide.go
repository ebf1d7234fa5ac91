package respond

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Action types the responder knows.
const (
	TypeFreeze   = "freeze_account"
	TypeUnfreeze = "unfreeze_account" // undo of a freeze, requested by a human
	TypeNotify   = "notify"
	TypeWebhook  = "webhook"
)

// Verdict is what the policy decides for a new action.
type Verdict int

const (
	// Execute calls the vendors now.
	Execute Verdict = iota + 1
	// DryRun records what would have happened, calling nobody.
	DryRun
	// AwaitApproval records that the action waits for a human.
	AwaitApproval
	// Skip records that the action will not run, and why.
	Skip
)

func (v Verdict) String() string {
	switch v {
	case Execute:
		return "execute"
	case DryRun:
		return "dry_run"
	case AwaitApproval:
		return "awaiting_approval"
	case Skip:
		return "skip"
	}
	return "unknown"
}

// Decision is the policy's answer for one action.
type Decision struct {
	Verdict Verdict
	// Mode is the mode in force: the strictest of action, tenant and rule.
	Mode string
	// Reason says why, in words that go into the status record.
	Reason string
	// Adapters are the adapters that would act.
	Adapters []string
	// Breaker is set when the tenant's open breaker made the action wait.
	Breaker bool
	// Tripped is set when this decision opened the tenant's breaker: the
	// one page of the trip goes out for it.
	Tripped bool
}

// Policy decides what happens to a new action: routes, modes, protected
// accounts and the per-tenant breaker. Apart from the breaker's windows it
// is a pure function of the configuration, the action and the time given.
type Policy struct {
	cfg      Config
	breakers *Breakers
	protect  map[string]protection
}

// NewPolicy compiles cfg (which must be valid).
func NewPolicy(cfg Config) *Policy {
	p := &Policy{cfg: cfg, protect: map[string]protection{}}
	p.breakers = NewBreakers(cfg.breakerFor)
	for name, t := range cfg.Tenants {
		p.protect[name] = newProtection(cfg.Protected, t.Protected)
	}
	return p
}

// Breakers are the policy's breakers (to rebuild from history, inspect or
// reset).
func (p *Policy) Breakers() *Breakers { return p.breakers }

// isAccountAction says whether the action acts on an account (and so is
// subject to protection, approval and the breaker).
func isAccountAction(typ string) bool { return typ == TypeFreeze || typ == TypeWebhook }

// Route is the adapters that execute actions of typ in tenant.
func (p *Policy) Route(tenant, typ string) []string {
	t, ok := p.cfg.tenant(tenant)
	if !ok {
		return nil
	}
	switch typ {
	case TypeFreeze, TypeUnfreeze:
		return t.Freeze
	case TypeNotify:
		return t.Notify
	case TypeWebhook:
		return t.Webhooks
	}
	return nil
}

// Decide is the verdict for a new action a at now. The checks run in
// order: a route must exist; an undo requested by a human runs; then the
// strictest mode of action, tenant and rule applies; a protected account
// is skipped, and one that cannot be told apart from a protected one
// waits for approval; dry_run records only; approval waits; and an
// automatic account action must pass the tenant's breaker.
func (p *Policy) Decide(a alert.Action, now time.Time) Decision {
	t, ok := p.cfg.tenant(a.Tenant)
	if !ok {
		return Decision{Verdict: Skip, Mode: a.Mode, Reason: fmt.Sprintf("tenant %q is not configured", a.Tenant)}
	}
	route := p.Route(a.Tenant, a.Type)
	if len(route) == 0 {
		return Decision{Verdict: Skip, Mode: a.Mode, Reason: fmt.Sprintf("no adapter handles %s actions in tenant %s", a.Type, a.Tenant)}
	}
	d := Decision{Adapters: route}
	if a.Type == TypeUnfreeze && a.Actor != "" {
		d.Verdict, d.Mode, d.Reason = Execute, alert.ModeEnforce, "undo requested by "+a.Actor
		return d
	}
	rm, why := p.cfg.ruleMode(t, a)
	d.Mode = Strictest(a.Mode, t.Mode, rm)
	reasons := []string{why}
	if t.Mode != "" && t.Mode == d.Mode && t.Mode != alert.ModeEnforce {
		reasons = append(reasons, "tenant "+a.Tenant+" runs in "+t.Mode)
	}
	if a.Mode != "" && a.Mode == d.Mode && a.Mode != alert.ModeEnforce {
		reasons = append(reasons, "the action asks for "+a.Mode)
	}
	if isAccountAction(a.Type) {
		prot, ok := p.protect[a.Tenant]
		if !ok {
			prot = p.protect["*"]
		}
		protected, unsure, pwhy := prot.check(a)
		if protected {
			d.Verdict, d.Reason = Skip, "protected: "+pwhy
			return d
		}
		if unsure && d.Mode == alert.ModeEnforce {
			d.Mode = alert.ModeApproval
			reasons = []string{pwhy}
		}
	}
	switch {
	case d.Mode == alert.ModeDryRun:
		d.Verdict = DryRun
		d.Reason = "dry_run: would " + describeAction(a, route) + "; " + strings.Join(reasons, "; ")
		return d
	case d.Mode == alert.ModeApproval && a.Type != TypeNotify:
		// A notification never waits: it is how the human learns.
		d.Verdict, d.Reason = AwaitApproval, strings.Join(reasons, "; ")
		return d
	}
	if isAccountAction(a.Type) {
		ok, tripped := p.breakers.Admit(a.Tenant, a.ID, now)
		if !ok {
			lim := p.cfg.breakerFor(a.Tenant)
			d.Verdict, d.Breaker, d.Tripped = AwaitApproval, true, tripped
			d.Reason = fmt.Sprintf("circuit breaker open for tenant %s: more than %d automatic account actions within %s",
				a.Tenant, lim.MaxActions, lim.Window)
			return d
		}
	}
	d.Verdict, d.Reason = Execute, strings.Join(reasons, "; ")
	return d
}

func describeAction(a alert.Action, route []string) string {
	target := a.Target
	if a.TargetName != "" {
		target += " (" + a.TargetName + ")"
	}
	s := a.Type
	if target != "" && a.Type != TypeNotify {
		s += " " + target
	}
	return s + " via " + strings.Join(route, ", ")
}
