package compliance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Action types the posture audit may request.
const (
	ActionDisableAccount = "disable_account"
	ActionRevokeApp      = "revoke_app"
)

// postureActionTypes maps the finding kinds that can be acted on to the
// action that fixes them. Over-privilege (revoke one right) and MFA (turn
// it on) are not account-wide actions and have none.
var postureActionTypes = map[string]string{
	FindingGhost:          ActionDisableAccount,
	FindingDormant:        ActionDisableAccount,
	FindingShared:         ActionDisableAccount,
	FindingAppUnused:      ActionRevokeApp,
	FindingAppBroadScopes: ActionRevokeApp,
}

// ActionableKinds are the finding kinds PostureActions accepts, sorted.
func ActionableKinds() []string {
	var out []string
	for k := range postureActionTypes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FindingID is the deterministic id of a finding: the same tenant, kind
// and account give the same id on every run, whatever the evidence or
// the time, so its actions keep their ids and the responder folds a
// re-run into the actions it already has.
func FindingID(tenant string, f Finding) string {
	return alert.AlertID("compliance.posture."+f.Kind, tenant, f.Account)
}

// PostureActions returns a dry-run action request (mode dry_run, status
// requested) for each finding of the given kinds: disable_account for
// ghost, dormant and shared accounts, revoke_app for unused apps and apps
// with broad scopes. The action id is alert.ActionID(FindingID, type).
// A kind that has no action is refused.
func PostureActions(tenant string, fs []Finding, kinds []string, actor string, now time.Time) ([]alert.Action, error) {
	want := map[string]bool{}
	var errs []error
	for _, k := range kinds {
		if _, ok := postureActionTypes[k]; !ok {
			errs = append(errs, fmt.Errorf("%q has no action; actions exist for %s", k, strings.Join(ActionableKinds(), ", ")))
		}
		want[k] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	seen := map[string]bool{}
	var out []alert.Action
	for _, f := range fs {
		typ := postureActionTypes[f.Kind]
		if !want[f.Kind] || typ == "" {
			continue
		}
		fid := FindingID(tenant, f)
		id := alert.ActionID(fid, typ)
		if seen[id] {
			continue
		}
		seen[id] = true
		target := f.Target
		if target == "" {
			target = f.Account
		}
		out = append(out, alert.Action{ID: id, Type: typ, AlertID: fid, Tenant: tenant, Target: target,
			Mode: alert.ModeDryRun, Status: alert.StatusRequested, RequestedAt: now,
			RuleID: "compliance.posture." + f.Kind, Severity: f.Severity, Summary: f.Kind + ": " + f.Evidence,
			TargetName: f.UserName, Actor: actor, Detail: f.Fix})
	}
	return out, nil
}

// PublishActions records each action through rec (the responder's
// actions topic), in order, and stops at the first failure.
func PublishActions(ctx context.Context, rec Recorder, as []alert.Action) error {
	for _, a := range as {
		if err := rec.Record(ctx, a); err != nil {
			return err
		}
	}
	return nil
}
