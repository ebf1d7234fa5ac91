package fakes

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// PagerDuty stands in for the Events API v2 (/v2/enqueue): it validates
// events as PagerDuty documents (400 invalid event, 202 accepted), and
// models alert de-duplication: a trigger with the dedup_key of an open
// alert adds to it, one after a resolve opens a new alert.
type PagerDuty struct {
	server
	routingKey string

	mu     sync.Mutex
	events []PagerDutyEvent
	open   map[string]bool
	opened map[string]int
}

// PagerDutyEvent is one accepted event.
type PagerDutyEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
}

// NewPagerDuty starts the stand-in accepting events for routingKey.
func NewPagerDuty(tb testing.TB, routingKey string) *PagerDuty {
	tb.Helper()
	f := &PagerDuty{routingKey: routingKey, open: map[string]bool{}, opened: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/enqueue", f.enqueue)
	f.start(tb, mux)
	return f
}

// EventsURL is the stand-in's enqueue endpoint.
func (f *PagerDuty) EventsURL() string { return f.URL() + "/v2/enqueue" }

// Events is every accepted event, in order.
func (f *PagerDuty) Events() []PagerDutyEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]PagerDutyEvent(nil), f.events...)
}

// Triggers is how many trigger events arrived for dedupKey.
func (f *PagerDuty) Triggers(dedupKey string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.DedupKey == dedupKey && e.EventAction == "trigger" {
			n++
		}
	}
	return n
}

// Alerts is how many alerts (incidents) dedupKey opened.
func (f *PagerDuty) Alerts(dedupKey string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened[dedupKey]
}

// Open reports whether the alert for dedupKey is open.
func (f *PagerDuty) Open(dedupKey string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open[dedupKey]
}

var pdSeverities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

func (f *PagerDuty) enqueue(w http.ResponseWriter, r *http.Request) {
	var e PagerDutyEvent
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		pdInvalid(w, "Event object is invalid", "Invalid JSON")
		return
	}
	var problems []string
	if e.RoutingKey != f.routingKey {
		problems = append(problems, "'routing_key' is invalid")
	}
	if len(e.DedupKey) > 255 {
		problems = append(problems, "'dedup_key' is too long")
	}
	switch e.EventAction {
	case "trigger":
		switch {
		case e.Payload == nil:
			problems = append(problems, "'payload' is missing or blank")
		default:
			if e.Payload.Summary == "" || len(e.Payload.Summary) > 1024 {
				problems = append(problems, "'payload.summary' is missing, blank or longer than 1024")
			}
			if e.Payload.Source == "" {
				problems = append(problems, "'payload.source' is missing or blank")
			}
			if !pdSeverities[e.Payload.Severity] {
				problems = append(problems, "'payload.severity' is invalid (must be one of critical, error, warning, info)")
			}
		}
	case "acknowledge", "resolve":
		if e.DedupKey == "" {
			problems = append(problems, "'dedup_key' is missing or blank")
		}
	default:
		problems = append(problems, "'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
	}
	if len(problems) > 0 {
		pdInvalid(w, "Event object is invalid", problems...)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, e)
	switch e.EventAction {
	case "trigger":
		if !f.open[e.DedupKey] {
			f.open[e.DedupKey] = true
			f.opened[e.DedupKey]++
		}
	case "resolve":
		f.open[e.DedupKey] = false
	}
	f.mu.Unlock()
	writeJSON(w, 202, map[string]string{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey})
}

// PagerDutyRateLimited is the Events API's 429.
func PagerDutyRateLimited() Fault {
	return Fault{Status: 429, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`}
}

func pdInvalid(w http.ResponseWriter, msg string, errs ...string) {
	writeJSON(w, 400, map[string]any{"status": "invalid event", "message": msg, "errors": errs})
}
