package alert

import "time"

// Severities, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Action modes.
const (
	ModeEnforce  = "enforce"
	ModeDryRun   = "dry_run"
	ModeApproval = "approval"
)

// Action statuses.
const (
	StatusRequested        = "requested"
	StatusDone             = "done"
	StatusFailed           = "failed"
	StatusSkipped          = "skipped"
	StatusAwaitingApproval = "awaiting_approval"

	// StatusExecuting is the responder's intent record, written and
	// acknowledged before it calls a vendor: an executing record with no
	// result after it means "ask the vendor's state, then finish".
	StatusExecuting = "executing"
	// StatusApproved and StatusRejected are a human's decision on an
	// action awaiting approval; Actor names the human.
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Alert is what the detector emits when a rule's condition is met.
type Alert struct {
	ID          string            `json:"id"`
	Rule        Rule              `json:"rule"`
	Tenant      string            `json:"tenant"`
	Group       map[string]string `json:"group"`
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	TriggeredAt time.Time         `json:"triggered_at"`
	DetectedAt  time.Time         `json:"detected_at"`
	EventIDs    []string          `json:"event_ids"`
	Summary     string            `json:"summary"`
	Values      map[string]any    `json:"values"`
	Actions     []string          `json:"actions"`
}

// Rule identifies the rule that fired.
type Rule struct {
	ID       string   `json:"id"`
	Version  string   `json:"version"`
	Title    string   `json:"title"`
	Severity string   `json:"severity"`
	Tags     []string `json:"tags"`
}

// Action is a request to act on an account (freeze, notify, …), and the
// result records the responder appends with the same id.
type Action struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	AlertID     string     `json:"alert_id"`
	Tenant      string     `json:"tenant"`
	Target      string     `json:"target"`
	Mode        string     `json:"mode"`
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requested_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Error       string     `json:"error,omitempty"`

	// The fields below are additions to contract v1 (all optional).

	// RuleID and RuleVersion name the rule that requested the action: the
	// responder's per-rule modes and "new or changed rules start in
	// dry_run" key on them.
	RuleID      string `json:"rule_id,omitempty"`
	RuleVersion string `json:"rule_version,omitempty"`
	// Severity and Summary are copied from the alert so a page can say why
	// without a look-up.
	Severity string `json:"severity,omitempty"`
	Summary  string `json:"summary,omitempty"`
	// TargetName and TargetType are the account's login name and user type
	// (`user.name`, `user.type` of the event): protected-account patterns
	// match them, and identity-provider adapters address users by login.
	TargetName string `json:"target_name,omitempty"`
	TargetType string `json:"target_type,omitempty"`
	// Actor is the human who approved, rejected or undid the action; empty
	// on records the responder writes on its own.
	Actor string `json:"actor,omitempty"`
	// Attempt is how many vendor calls a result took.
	Attempt int `json:"attempt,omitempty"`
	// Detail says what happened in words: why an action was skipped, what
	// a dry run would have done, which adapters acted.
	Detail string `json:"detail,omitempty"`
	// RecordedAt is when this status record was written; with Status and
	// Actor it tells two records of the same action apart.
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
	// Undoes is the id of the action an undo (unfreeze_account) reverses.
	Undoes string `json:"undoes,omitempty"`
}
