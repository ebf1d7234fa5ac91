package rulelint

import (
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/detect"
)

// highCardinality are group keys with (nearly) one value per event or per
// record: state keyed by them grows with traffic, not with people.
var highCardinality = map[string]string{
	"id": "event", "object.id": "record", "object.name": "record", "client.ip": "address",
	"client.session_id": "session", "client.device_id": "device", "client.user_agent": "client",
	"comment": "comment", "source.id": "event",
}

// Thresholds for the cost checks.
const (
	longKeySpan   = 24 * time.Hour      // state per high-cardinality key kept longer than this
	longWindow    = 24 * time.Hour      // windows hold every matching event
	longSequence  = 5                   // steps
	longSpan      = 24 * time.Hour      // a sequence's within
	longNewValues = 90 * 24 * time.Hour // history of a new_value rule on a high-cardinality key
)

// cost reports state that would be expensive to keep.
func (l *linter) cost(r *detect.Rule, ri detect.RuleInfo) {
	if r.Kind() == detect.KindEvent {
		return
	}
	params := map[string]any{}
	for _, p := range r.Params {
		params[p.Name] = p.Default
	}
	dur := func(ds *detect.DurationSpec) time.Duration {
		if ds == nil {
			return 0
		}
		if ds.Param != "" {
			d, _ := params[ds.Param].(time.Duration)
			return d
		}
		return ds.D
	}
	var span time.Duration
	var spanKey, spanName string
	switch r.Kind() {
	case detect.KindWindow:
		span, spanKey, spanName = dur(r.Window), "window", "window"
	case detect.KindSequence:
		span, spanKey, spanName = dur(r.Sequence.Within), "sequence", "sequence.within"
	case detect.KindNewValue:
		span, spanKey, spanName = dur(r.NewValue.History), "new_value", "new_value.history"
	case detect.KindPrevious:
		span, spanKey, spanName = dur(r.Previous), "previous", "previous"
	}
	if len(r.GroupBy) == 0 {
		l.ruleFinding(r, spanKey, Warning, "tenant-wide-state", "%s keeps one group per tenant: every matching event of the tenant shares one %s (add group_by)", r.ID, spanName)
	}
	for _, g := range r.GroupBy {
		what, high := highCardinality[strings.TrimSpace(g.Text)]
		if !high {
			continue
		}
		limit := longKeySpan
		if r.Kind() == detect.KindNewValue {
			limit = longNewValues
		}
		if span > limit {
			l.srcFinding(r, g, Warning, "expensive-key", "group_by %s with a %s of %s keeps state for every %s seen in that time (keep it under %s, or group by a person or account)",
				g.Text, spanName, detect.FormatDuration(span), what, detect.FormatDuration(limit))
		}
	}
	if ri.Route == "any event" {
		l.ruleFinding(r, "filter", Warning, "no-filter", "%s keeps state for every event: its filter does not narrow event.category or event.action", r.ID)
	}
	if r.Kind() == detect.KindWindow && span > longWindow && (ri.Route == "any event" || strings.Contains(ri.Route, "data_access") || strings.Contains(ri.Route, "data_change")) {
		l.ruleFinding(r, "window", Warning, "expensive-window", "a %s window over busy events holds every one of them per group (up to max_window_events); for long memories use previous or new_value", detect.FormatDuration(span))
	}
	if r.Sequence != nil {
		if len(r.Sequence.Steps) > longSequence {
			l.ruleFinding(r, "sequence", Warning, "long-sequence", "%d steps: each partial chain is kept per group; split the rule or drop steps", len(r.Sequence.Steps))
		}
		if span > longSpan {
			l.ruleFinding(r, "sequence", Warning, "long-sequence", "sequence.within of %s keeps partial chains for that long per group", detect.FormatDuration(span))
		}
	}
}
