package simulate

import (
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// episode is one planned attack or benign look-alike: who, when, and, once
// generated, which events make it up.
type episode struct {
	id   string
	kind *kind
	t    *tenant
	day  int       // local day it happens on
	at   time.Time // when it starts
	fast bool      // live: steps compressed
	p    *person   // subject: the victim, insider or actor
	p2   *person   // a second person: the target of a grant, a new hire
	a    *account  // the subject's account used
	trip *trip     // benign travel
	// doneDay is the last day whose generation can add events to it.
	doneDay int

	events     []evRef
	start, end time.Time
	accounts   []string
	object     string
	note       string
	written    bool
}

// addEvent makes an event part of the episode.
func (e *episode) addEvent(ev *event.Event) {
	e.events = append(e.events, evRef{ev.ID, ev.Timestamp})
	if e.start.IsZero() || ev.Timestamp.Before(e.start) {
		e.start = ev.Timestamp
	}
	if ev.Timestamp.After(e.end) {
		e.end = ev.Timestamp
	}
	if !contains(e.accounts, ev.User.ID) {
		e.accounts = append(e.accounts, ev.User.ID)
	}
}

// take adds every event of a generator to the episode and returns them.
func (e *episode) take(g *gen) []*event.Event {
	for _, ev := range g.out {
		e.addEvent(ev)
	}
	return g.out
}

type evRef struct {
	id string
	ts time.Time
}

// label is the episode as written to the labels file.
func (e *episode) label() *Label {
	sort.SliceStable(e.events, func(i, j int) bool { return e.events[i].ts.Before(e.events[j].ts) })
	ids := make([]string, len(e.events))
	for i, r := range e.events {
		ids[i] = r.id
	}
	l := &Label{
		Episode: e.id, Kind: e.kind.name, Class: e.kind.class, Rule: e.kind.rule, Tenant: e.t.id,
		Accounts: e.accounts, Object: e.object, Start: e.start.UTC(), End: e.end.UTC(), Events: ids, Note: e.note,
	}
	if e.p != nil {
		l.Login = e.p.email
		if e.a != nil && !e.a.resolved {
			l.Person = e.a.id
		} else {
			l.Person = e.p.id
		}
	}
	return l
}
