package adapter

import "time"

// Notification events: open (or add to) an incident, or resolve it.
const (
	EventTrigger = "trigger"
	EventResolve = "resolve"
)

// Notification is what the notifier adapters (PagerDuty, Slack, e-mail,
// webhook) send. It carries ids and the alert's summary, never event
// contents.
type Notification struct {
	// Key groups notifications into one incident: the alert id, so one
	// alert pages once however often it is re-sent (PagerDuty dedup_key).
	Key      string
	Event    string // EventTrigger (default) or EventResolve
	Severity string // the alert's: info, low, medium, high, critical
	Title    string // one line
	Summary  string // the alert's summary sentence, or what happened
	Tenant   string
	Target   string // the account acted on, if any
	ActionID string
	// Details are extra key/value lines (rule, status, error, approver).
	Details map[string]string
	Time    time.Time
}
