package detect

import (
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// firing is a condition met: the event that completed it, the evidence,
// and the values that met it.
type firing struct {
	trigger  *rec
	evidence []*rec // in event-time order; the trigger alone when empty
	values   map[string]any
	span     int64 // the rule's window, span or history, for {{ window }}
}

// maxEvidence is the most event ids an alert lists; the first and the last
// are always kept.
const maxEvidence = 100

// emit raises an alert and the actions it requests, with the evaluation
// context (current event, prev, steps, aggregates) still set for the
// outputs to read.
func (s *Shard) emit(rs *ruleState, v *compiled, g *group, f firing, out []Output) []Output {
	r := v.rule
	ev := f.evidence
	if len(ev) == 0 {
		ev = []*rec{f.trigger}
	}
	ids := make([]string, 0, min(len(ev), maxEvidence))
	if len(ev) <= maxEvidence {
		for _, e := range ev {
			ids = append(ids, e.id)
		}
	} else {
		for _, e := range ev[:maxEvidence/2] {
			ids = append(ids, e.id)
		}
		for _, e := range ev[len(ev)-maxEvidence/2:] {
			ids = append(ids, e.id)
		}
	}
	parts := splitKey(g.key)
	groupVals := make(map[string]string, len(v.group))
	for i, name := range v.group {
		if i+1 < len(parts) {
			groupVals[name] = parts[i+1]
		}
	}
	id := alert.AlertID(r.ID, g.tenant(), g.key, ev[0].id, f.trigger.id)
	trig := time.Unix(0, f.trigger.ts).UTC()
	a := &alert.Alert{
		ID:          id,
		Rule:        alert.Rule{ID: r.ID, Version: r.Version, Title: r.Title, Severity: r.Severity, Tags: r.Tags},
		Tenant:      g.tenant(),
		Group:       groupVals,
		WindowStart: time.Unix(0, ev[0].ts).UTC(),
		WindowEnd:   time.Unix(0, ev[len(ev)-1].ts).UTC(),
		TriggeredAt: trig,
		// DetectedAt is wall-clock time, which this package does not read:
		// it starts as the trigger's event time and the runner overwrites
		// it when it emits the alert.
		DetectedAt: trig,
		EventIDs:   ids,
		Values:     map[string]any{},
	}
	o := &outputs{fired: f.values, group: groupVals, window: FormatDuration(time.Duration(f.span))}
	for k, x := range f.values {
		a.Values[k] = jsonValue(x)
	}
	for i, ne := range v.named {
		x, err := s.evalAny(ne, o)
		if err != nil {
			rs.c.evalErrors++
		}
		o.named = append(o.named, x)
		a.Values[v.namedIdx[i]] = jsonValue(x)
	}
	for i, ve := range v.values {
		x, err := s.evalAny(ve, o)
		if err != nil {
			rs.c.evalErrors++
		}
		o.values = append(o.values, x)
		a.Values[v.valueIdx[i]] = jsonValue(x)
	}
	a.Summary = v.summary.render(func(ce *cexpr) (any, error) { return s.evalAny(ce, o) })
	if a.Summary == "" {
		a.Summary = r.Title
	}
	out = append(out, Output{Kind: OutputAlert, Alert: a})
	for _, ca := range v.actions {
		mode := ca.mode
		if m, ok := rs.er.modes[g.tenant()][ca.typ]; ok {
			mode = m
		}
		target := ""
		if x, err := s.evalAny(ca.target, o); err == nil {
			target, _ = x.(string)
			target = strings.Clone(target)
		} else {
			rs.c.evalErrors++
		}
		act := &alert.Action{
			ID:          alert.ActionID(id, ca.typ),
			Type:        ca.typ,
			AlertID:     id,
			Tenant:      g.tenant(),
			Target:      target,
			Mode:        mode,
			Status:      alert.StatusRequested,
			RequestedAt: trig,
			RuleID:      r.ID,
			RuleVersion: r.Version,
			Severity:    r.Severity,
			Summary:     a.Summary,
			TargetName:  s.actionString(rs, ca.targetName, o),
			TargetType:  s.actionString(rs, ca.targetType, o),
		}
		a.Actions = append(a.Actions, act.ID)
		out = append(out, Output{Kind: OutputAction, Action: act})
	}
	f.trigger.fired = true
	if g.lastAlert == noAlert || f.trigger.ts > g.lastAlert {
		g.lastAlert = f.trigger.ts
	}
	rs.c.alerts++
	return out
}

// actionString evaluates an optional string output of an action (the
// target's name or type), copied so it never points into the event.
func (s *Shard) actionString(rs *ruleState, ce *cexpr, o *outputs) string {
	if ce == nil {
		return ""
	}
	x, err := s.evalAny(ce, o)
	if err != nil {
		rs.c.evalErrors++
		return ""
	}
	str, _ := x.(string)
	return strings.Clone(str)
}
