package respond

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Config is the responder's configuration: the vendor adapters, and per
// tenant which of them act, in which mode, within which limits.
type Config struct {
	Adapters    registry.Config   `yaml:"adapters" doc:"Named vendor adapters: CRMs and identity providers that freeze accounts, notifiers, webhooks."`
	Tenants     map[string]Tenant `yaml:"tenants" doc:"Per tenant: adapters, mode, protected accounts, limits. The tenant \"*\" applies to tenants not listed."`
	Rules       map[string]Rule   `yaml:"rules" doc:"Per-rule mode for every tenant (a tenant's own rules override). Rules not listed run in new_rule_mode."`
	NewRuleMode string            `yaml:"new_rule_mode" doc:"Mode for actions of rules not listed under rules, or whose version differs from the reviewed one."`
	Protected   Protected         `yaml:"protected" doc:"Accounts never frozen automatically, in every tenant."`
	Breaker     Breaker           `yaml:"breaker" doc:"Per-tenant circuit breaker on automatic account actions."`
	Retry       Retry             `yaml:"retry" doc:"Retries of failed vendor calls."`
}

// Tenant is one tenant's response settings.
type Tenant struct {
	Mode      string          `yaml:"mode" doc:"Mode cap for the tenant: enforce, approval or dry_run; the strictest of tenant, rule and action mode applies."`
	Freeze    []string        `yaml:"freeze" doc:"Adapters that execute freeze_account (and unfreeze_account for undo), all of them per action."`
	Notify    []string        `yaml:"notify" doc:"Notifiers that execute notify actions."`
	Webhooks  []string        `yaml:"webhooks" doc:"Webhook adapters that execute webhook actions."`
	OnCall    []string        `yaml:"oncall" doc:"Notifiers the responder pages itself: actions that failed or await approval, breaker trips."`
	Rules     map[string]Rule `yaml:"rules" doc:"Per-rule modes for this tenant, overriding the global rules."`
	Protected Protected       `yaml:"protected" doc:"Protected accounts of this tenant, in addition to the global ones."`
	Breaker   *Breaker        `yaml:"breaker" doc:"This tenant's breaker, replacing the global one."`
}

// Rule is the responder's stance on one detection rule.
type Rule struct {
	Mode    string `yaml:"mode" doc:"enforce, approval or dry_run."`
	Version string `yaml:"version" doc:"The reviewed rule version; actions from any other version run in new_rule_mode. Empty: every version."`
}

// Protected names accounts that are never frozen automatically: break-glass
// admins, service and integration accounts.
type Protected struct {
	AccountIDs   []string `yaml:"account_ids" doc:"Account ids (the action's target). A 15-character Salesforce id also matches its 18-character form."`
	NamePatterns []string `yaml:"name_patterns" doc:"Glob patterns (path.Match, case-insensitive) on the login name (target_name), e.g. breakglass-* or svc-*@acme.example."`
	UserTypes    []string `yaml:"user_types" doc:"User types (target_type) that are protected, e.g. integration, system."`
	Unknown      string   `yaml:"unknown" doc:"When name patterns or user types are configured but the action lacks target_name or target_type: approval (wait for a human) or ignore."`
}

// Breaker limits automatic account actions per tenant.
type Breaker struct {
	MaxActions int           `yaml:"max_actions" doc:"Automatic account actions allowed per window per tenant; one more opens the breaker, pages once, and from then on every account action waits for approval."`
	Window     time.Duration `yaml:"window" doc:"Sliding window of the limit; an open breaker closes after a whole window without attempts."`
}

// Retry bounds the retries of a failed vendor call.
type Retry struct {
	MaxAttempts   int           `yaml:"max_attempts" doc:"Calls per adapter per action, the first included."`
	BaseDelay     time.Duration `yaml:"base_delay" doc:"Backoff before the first retry; doubles each retry (full jitter: a uniform wait up to it)."`
	MaxDelay      time.Duration `yaml:"max_delay" doc:"Cap on the backoff."`
	MaxRetryAfter time.Duration `yaml:"max_retry_after" doc:"Longest vendor-requested wait (Retry-After, rate-limit reset) honoured; a longer one ends the action as failed."`
}

// Unknown-identity policies.
const (
	UnknownApproval = "approval"
	UnknownIgnore   = "ignore"
)

// DefaultConfig is the configuration with every default: new rules in
// dry_run, integration and system accounts protected, at most 10
// automatic account actions per tenant per hour, 5 attempts per call.
func DefaultConfig() Config {
	return Config{
		NewRuleMode: alert.ModeDryRun,
		Protected:   Protected{UserTypes: []string{"integration", "system"}, Unknown: UnknownApproval},
		Breaker:     Breaker{MaxActions: 10, Window: time.Hour},
		Retry:       Retry{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: time.Minute, MaxRetryAfter: 5 * time.Minute},
	}
}

func validMode(m string) bool {
	return m == alert.ModeEnforce || m == alert.ModeApproval || m == alert.ModeDryRun
}

// Validate reports every problem at once, each naming its setting under
// "respond.".
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := c.Adapters.Validate("respond.adapters"); err != nil {
		errs = append(errs, err)
	}
	if !validMode(c.NewRuleMode) {
		add("respond.new_rule_mode: want enforce, approval or dry_run, got %q", c.NewRuleMode)
	}
	errs = append(errs, validateRules("respond.rules", c.Rules)...)
	errs = append(errs, c.Protected.validate("respond.protected")...)
	errs = append(errs, c.Breaker.validate("respond.breaker")...)
	r := c.Retry
	if r.MaxAttempts < 1 || r.MaxAttempts > 20 {
		add("respond.retry.max_attempts: must be 1-20, got %d", r.MaxAttempts)
	}
	if r.BaseDelay <= 0 || r.MaxDelay < r.BaseDelay {
		add("respond.retry: base_delay must be positive and at most max_delay, got %s and %s", r.BaseDelay, r.MaxDelay)
	}
	if r.MaxRetryAfter < 0 {
		add("respond.retry.max_retry_after: must not be negative, got %s", r.MaxRetryAfter)
	}
	if len(c.Tenants) == 0 {
		add("respond.tenants: at least one tenant (or \"*\") is required")
	}
	names := make([]string, 0, len(c.Tenants))
	for n := range c.Tenants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := c.Tenants[name]
		p := "respond.tenants." + name
		if name == "" {
			add("respond.tenants: tenant names must not be empty")
		}
		if t.Mode != "" && !validMode(t.Mode) {
			add("%s.mode: want enforce, approval or dry_run, got %q", p, t.Mode)
		}
		errs = append(errs, c.refs(p+".freeze", t.Freeze, registry.CanFreeze, "freezes accounts")...)
		errs = append(errs, c.refs(p+".notify", t.Notify, registry.CanNotify, "sends notifications")...)
		errs = append(errs, c.refs(p+".oncall", t.OnCall, registry.CanNotify, "sends notifications")...)
		errs = append(errs, c.refs(p+".webhooks", t.Webhooks, func(k string) bool { return k == registry.KindWebhook }, "is a webhook")...)
		errs = append(errs, validateRules(p+".rules", t.Rules)...)
		errs = append(errs, t.Protected.validate(p+".protected")...)
		if t.Breaker != nil {
			errs = append(errs, t.Breaker.validate(p+".breaker")...)
		}
	}
	return errors.Join(errs...)
}

func (c Config) refs(p string, names []string, can func(string) bool, what string) []error {
	var errs []error
	for i, n := range names {
		a, ok := c.Adapters[n]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s[%d]: no adapter named %q under respond.adapters", p, i, n))
		case !can(a.Kind):
			errs = append(errs, fmt.Errorf("%s[%d]: adapter %q is a %s, which never %s", p, i, n, a.Kind, what))
		}
	}
	return errs
}

func validateRules(p string, rules map[string]Rule) []error {
	var errs []error
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !validMode(rules[id].Mode) {
			errs = append(errs, fmt.Errorf("%s.%s.mode: want enforce, approval or dry_run, got %q", p, id, rules[id].Mode))
		}
	}
	return errs
}

func (pr Protected) validate(p string) []error {
	var errs []error
	for i, pat := range pr.NamePatterns {
		if _, err := path.Match(strings.ToLower(pat), ""); err != nil {
			errs = append(errs, fmt.Errorf("%s.name_patterns[%d]: %q: %w", p, i, pat, err))
		}
	}
	if pr.Unknown != "" && pr.Unknown != UnknownApproval && pr.Unknown != UnknownIgnore {
		errs = append(errs, fmt.Errorf("%s.unknown: want approval or ignore, got %q", p, pr.Unknown))
	}
	return errs
}

func (b Breaker) validate(p string) []error {
	var errs []error
	if b.MaxActions < 1 {
		errs = append(errs, fmt.Errorf("%s.max_actions: must be at least 1, got %d", p, b.MaxActions))
	}
	if b.Window <= 0 {
		errs = append(errs, fmt.Errorf("%s.window: must be positive, got %s", p, b.Window))
	}
	return errs
}

// tenant is the settings in force for a tenant: its own, else "*".
func (c Config) tenant(name string) (Tenant, bool) {
	if t, ok := c.Tenants[name]; ok {
		return t, true
	}
	t, ok := c.Tenants["*"]
	return t, ok
}

// breakerFor is the tenant's breaker, or the global one.
func (c Config) breakerFor(tenant string) Breaker {
	if t, ok := c.tenant(tenant); ok && t.Breaker != nil {
		return *t.Breaker
	}
	return c.Breaker
}
