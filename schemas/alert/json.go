package alert

import (
	"encoding/json"
	"fmt"
	"time"
)

// TimeFormat is how alerts and actions write times: RFC 3339 with
// milliseconds, in UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t as the contract wants it.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

type alertJSON struct {
	ID          string            `json:"id"`
	Rule        ruleJSON          `json:"rule"`
	Tenant      string            `json:"tenant"`
	Group       map[string]string `json:"group"`
	WindowStart string            `json:"window_start"`
	WindowEnd   string            `json:"window_end"`
	TriggeredAt string            `json:"triggered_at"`
	DetectedAt  string            `json:"detected_at"`
	EventIDs    []string          `json:"event_ids"`
	Summary     string            `json:"summary"`
	Values      map[string]any    `json:"values"`
	Actions     []string          `json:"actions"`
}

type ruleJSON struct {
	ID       string   `json:"id"`
	Version  string   `json:"version"`
	Title    string   `json:"title"`
	Severity string   `json:"severity"`
	Tags     []string `json:"tags"`
}

// MarshalJSON writes the alert as the contract says: times in RFC 3339 with
// milliseconds, and empty collections as [] and {} rather than null.
func (a Alert) MarshalJSON() ([]byte, error) {
	j := alertJSON{
		ID:          a.ID,
		Rule:        ruleJSON{a.Rule.ID, a.Rule.Version, a.Rule.Title, a.Rule.Severity, nonNil(a.Rule.Tags)},
		Tenant:      a.Tenant,
		Group:       a.Group,
		WindowStart: FormatTime(a.WindowStart),
		WindowEnd:   FormatTime(a.WindowEnd),
		TriggeredAt: FormatTime(a.TriggeredAt),
		DetectedAt:  FormatTime(a.DetectedAt),
		EventIDs:    nonNil(a.EventIDs),
		Summary:     a.Summary,
		Values:      a.Values,
		Actions:     nonNil(a.Actions),
	}
	if j.Group == nil {
		j.Group = map[string]string{}
	}
	if j.Values == nil {
		j.Values = map[string]any{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads an alert written by MarshalJSON (or any RFC 3339
// times).
func (a *Alert) UnmarshalJSON(b []byte) error {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Alert{
		ID:       j.ID,
		Rule:     Rule{j.Rule.ID, j.Rule.Version, j.Rule.Title, j.Rule.Severity, j.Rule.Tags},
		Tenant:   j.Tenant,
		Group:    j.Group,
		EventIDs: j.EventIDs,
		Summary:  j.Summary,
		Values:   j.Values,
		Actions:  j.Actions,
	}
	for _, f := range []struct {
		name string
		s    string
		t    *time.Time
	}{
		{"window_start", j.WindowStart, &a.WindowStart},
		{"window_end", j.WindowEnd, &a.WindowEnd},
		{"triggered_at", j.TriggeredAt, &a.TriggeredAt},
		{"detected_at", j.DetectedAt, &a.DetectedAt},
	} {
		t, err := parseTime(f.name, f.s)
		if err != nil {
			return err
		}
		*f.t = t
	}
	return nil
}

// actionJSON is Action on the wire: every field as Action declares it
// (through the alias, so fields added to Action travel without a change
// here), except the times, which are written RFC 3339 with milliseconds.
type actionAlias Action

type actionJSON struct {
	actionAlias
	RequestedAt string  `json:"requested_at"`
	CompletedAt *string `json:"completed_at,omitempty"`
	RecordedAt  *string `json:"recorded_at,omitempty"`
}

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}

// MarshalJSON writes the action with RFC 3339 millisecond times.
func (a Action) MarshalJSON() ([]byte, error) {
	return json.Marshal(actionJSON{
		actionAlias: actionAlias(a),
		RequestedAt: FormatTime(a.RequestedAt),
		CompletedAt: optTime(a.CompletedAt),
		RecordedAt:  optTime(a.RecordedAt),
	})
}

// UnmarshalJSON reads an action written by MarshalJSON.
func (a *Action) UnmarshalJSON(b []byte) error {
	var j actionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Action(j.actionAlias)
	t, err := parseTime("requested_at", j.RequestedAt)
	if err != nil {
		return err
	}
	a.RequestedAt = t
	for _, f := range []struct {
		name string
		in   *string
		out  **time.Time
	}{{"completed_at", j.CompletedAt, &a.CompletedAt}, {"recorded_at", j.RecordedAt, &a.RecordedAt}} {
		if f.in == nil {
			*f.out = nil
			continue
		}
		t, err := parseTime(f.name, *f.in)
		if err != nil {
			return err
		}
		*f.out = &t
	}
	return nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
