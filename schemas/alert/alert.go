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
}
