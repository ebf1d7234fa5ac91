package respond

import "github.com/trailwatch/trailwatch/schemas/alert"

// strictness orders modes: dry_run never acts, approval acts only after a
// human, enforce acts at once.
var strictness = map[string]int{alert.ModeEnforce: 0, alert.ModeApproval: 1, alert.ModeDryRun: 2}

// Strictest is the most cautious of the given modes, ignoring empty and
// unknown ones; enforce when none is given.
func Strictest(modes ...string) string {
	out := alert.ModeEnforce
	for _, m := range modes {
		if s, ok := strictness[m]; ok && s > strictness[out] {
			out = m
		}
	}
	return out
}

// ruleMode is the mode the configuration gives an action's rule: the
// tenant's entry, else the global one; a rule not listed, or listed with a
// reviewed version other than the action's, gets new_rule_mode, so a new
// or changed rule never freezes anyone before someone looked at it.
func (c Config) ruleMode(t Tenant, a alert.Action) (mode, why string) {
	r, ok := t.Rules[a.RuleID]
	if !ok {
		r, ok = c.Rules[a.RuleID]
	}
	switch {
	case a.RuleID == "":
		return c.NewRuleMode, "the action names no rule"
	case !ok:
		return c.NewRuleMode, "rule " + a.RuleID + " is not configured (new rules run in " + c.NewRuleMode + ")"
	case r.Version != "" && r.Version != a.RuleVersion:
		return c.NewRuleMode, "rule " + a.RuleID + " version " + a.RuleVersion + " differs from the reviewed version " + r.Version
	}
	return r.Mode, "rule " + a.RuleID + " is configured " + r.Mode
}
