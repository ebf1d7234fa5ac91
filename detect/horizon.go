package detect

import (
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Span is how far back in event time a rule's state reaches: the longest
// of its window, sequence span, new-value history, previous-event span and
// suppression, over every tenant variant. It is zero for a single-event
// rule without suppression (a stateless rule) and for an unknown rule.
//
// A runner that rebuilds a shard by replaying its partition needs the
// events of the longest Span (plus the allowed lateness) before the
// position it resumes at; a rule whose Span exceeds the retained history
// can only be rebuilt from a snapshot.
func (e *Engine) Span(ruleID string) time.Duration {
	i, ok := e.byID[ruleID]
	if !ok {
		return 0
	}
	er := e.rules[i]
	span := variantSpan(er.def)
	for _, c := range er.byTenant {
		span = max(span, variantSpan(c))
	}
	return time.Duration(span)
}

func variantSpan(c *compiled) int64 {
	return max(c.window, c.within, c.history, c.minHist, c.previous, c.suppress)
}

// Wants reports whether any of the engine's rules may look at ev: whether
// its routing (by event.category and event.action) admits the event. False
// means Process would evaluate no rule for it. Shard.Matches is the finer
// test: the filters too.
func (e *Engine) Wants(ev *event.Event) bool {
	return len(e.router.rules(ev)) > 0
}
