package respond

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Reasons the responder pages on-call itself.
const (
	reasonFailed   = "failed"
	reasonApproval = "approval"
	reasonBreaker  = "breaker"
)

// page sends n to the tenant's on-call notifiers, each with retries. A page
// that cannot be delivered is logged and counted, never turned into an
// action failure: the status record already tells the story.
func (x *Executor) page(ctx context.Context, tenant, reason string, n adapter.Notification) {
	t, _ := x.cfg.tenant(tenant)
	for _, name := range t.OnCall {
		nt := x.ad.Notifiers[name]
		_, err := x.call(ctx, name, "page", func(ctx context.Context) error { return nt.Notify(ctx, n) })
		result := "sent"
		if err != nil {
			result = "failed"
			x.log.Error().Str("notifier", name).Str("reason", reason).Str("action_id", n.ActionID).
				Str("kind", adapter.KindOf(err).String()).Msg("page not delivered")
		}
		x.m.pages.WithLabelValues(reason, result).Inc()
	}
}

// actionNote is the notification a notify or webhook action sends: the
// alert, keyed by its id so one alert is one incident.
func actionNote(a alert.Action, now time.Time) adapter.Notification {
	title := "Trailwatch alert"
	if a.RuleID != "" {
		title += ": " + a.RuleID
	}
	return adapter.Notification{
		Key: a.AlertID, Severity: a.Severity, Title: title, Summary: a.Summary, Tenant: a.Tenant,
		Target: account(a), ActionID: a.ID, Time: now,
		Details: map[string]string{"rule": a.RuleID, "rule_version": a.RuleVersion},
	}
}

func failedPage(a alert.Action, errText string, now time.Time) adapter.Notification {
	return adapter.Notification{
		Key: a.AlertID, Severity: maxSeverity(a.Severity, "high"), Title: a.Type + " failed for " + account(a),
		Summary: a.Summary, Tenant: a.Tenant, Target: account(a), ActionID: a.ID, Time: now,
		Details: map[string]string{"rule": a.RuleID, "status": alert.StatusFailed, "error": adapter.Clip(errText),
			"retry": "trailwatch actions approve " + a.ID},
	}
}

func approvalPage(a alert.Action, reason string, now time.Time) adapter.Notification {
	return adapter.Notification{
		Key: a.AlertID, Severity: a.Severity, Title: a.Type + " of " + account(a) + " awaits approval",
		Summary: a.Summary, Tenant: a.Tenant, Target: account(a), ActionID: a.ID, Time: now,
		Details: map[string]string{"rule": a.RuleID, "why": reason,
			"approve": "trailwatch actions approve " + a.ID, "reject": "trailwatch actions reject " + a.ID},
	}
}

func breakerPage(a alert.Action, lim Breaker, now time.Time) adapter.Notification {
	return adapter.Notification{
		// One incident per trip, not per alert.
		Key:      "trailwatch-breaker-" + a.Tenant + "-" + strconv.FormatInt(now.Unix(), 10),
		Severity: "critical",
		Title:    "Circuit breaker open for tenant " + a.Tenant,
		Summary: fmt.Sprintf("More than %d automatic account actions within %s: every further account action of %s waits for approval. Look for a misbehaving rule before approving.",
			lim.MaxActions, lim.Window, a.Tenant),
		Tenant: a.Tenant, ActionID: a.ID, Time: now,
		Details: map[string]string{"rule": a.RuleID, "list": "trailwatch actions list --tenant " + a.Tenant + " --status awaiting_approval"},
	}
}

// account names the target for people: login when known, else the id.
func account(a alert.Action) string {
	if a.TargetName != "" {
		return a.TargetName
	}
	return a.Target
}

func maxSeverity(a, b string) string {
	rank := map[string]int{"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
	if rank[a] >= rank[b] {
		return a
	}
	return b
}
