package respond

import (
	"sort"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Step is what a record asks of the executor, given the history of its
// action.
type Step int

const (
	// StepNone: nothing to do (already decided, done, or not a trigger).
	StepNone Step = iota
	// StepDecide: a new request; the policy decides.
	StepDecide
	// StepExecute: a human approved; run without asking the policy.
	StepExecute
	// StepRecheck: an executing record has no result after it (the
	// responder stopped mid-call): ask each vendor's state, finish what is
	// missing, record the result.
	StepRecheck
)

func (s Step) String() string {
	return [...]string{"none", "decide", "execute", "recheck"}[s]
}

// Plan is the step for a record and the reason, in words.
type Plan struct {
	Step   Step
	Reason string
}

// RecordKey tells two records of one action apart: a re-delivered record
// has the same key and is not counted twice. Records written by people or
// the responder carry recorded_at; the detector's request has its
// requested_at.
func RecordKey(r alert.Action) string {
	k := r.Status + "|" + r.Actor + "|" + strconv.FormatInt(r.RequestedAt.UnixMilli(), 10)
	if r.RecordedAt != nil {
		k += "|" + strconv.FormatInt(r.RecordedAt.UnixMilli(), 10)
	}
	return k
}

func isResult(status string) bool {
	return status == alert.StatusDone || status == alert.StatusFailed || status == alert.StatusSkipped
}

func isHuman(status string) bool {
	return status == alert.StatusApproved || status == alert.StatusRejected
}

// PlanFor is the step for history[i] in the light of the whole history of
// its action (records in log order, duplicates removed). It is pure: the
// same history gives the same plan on every replay.
//
// A request is new only while nothing else has happened to the action:
// after a decision, a result or a human's word it is a re-delivery. An
// executing record without a result after it means the responder stopped
// between the intent and the result: recheck. An approval runs unless an
// execution already follows it, a later rejection overrides it, or the
// action is already done.
func PlanFor(history []alert.Action, i int) Plan {
	r := history[i]
	switch r.Status {
	case alert.StatusRequested:
		var last string
		for _, h := range history {
			if isHuman(h.Status) {
				return Plan{StepNone, "a human decided on the action (" + h.Status + " by " + h.Actor + ")"}
			}
			if h.Status != alert.StatusRequested {
				last = h.Status
			}
		}
		switch {
		case last == "":
			return Plan{StepDecide, "new request"}
		case last == alert.StatusExecuting:
			return Plan{StepRecheck, "executing without a result: the responder stopped mid-call"}
		}
		return Plan{StepNone, "re-delivered request; the action is already " + last}
	case alert.StatusApproved:
		for _, h := range history[:i] {
			if h.Status == alert.StatusDone {
				return Plan{StepNone, "approved, but the action is already done"}
			}
		}
		for j := i + 1; j < len(history); j++ {
			switch history[j].Status {
			case alert.StatusRejected:
				return Plan{StepNone, "approval overridden by a later rejection by " + history[j].Actor}
			case alert.StatusExecuting:
				for _, h := range history[j+1:] {
					if isResult(h.Status) {
						return Plan{StepNone, "re-delivered approval; the action is already " + h.Status}
					}
				}
				return Plan{StepRecheck, "executing without a result: the responder stopped mid-call"}
			}
		}
		return Plan{StepExecute, "approved by " + r.Actor}
	}
	return Plan{StepNone, "status record"}
}

// ledger is the history of every action this process has seen, keyed by
// action id.
type ledger struct {
	actions map[string]*entry
	seq     int64
}

type entry struct {
	records []alert.Action
	keys    map[string]bool
	first   int64 // order of first sight, for Pending
	last    time.Time
}

func newLedger() *ledger { return &ledger{actions: map[string]*entry{}} }

// add appends r to its action's history and returns the entry and r's
// index; new is false for a duplicate, whose index is where it was first
// seen.
func (l *ledger) add(r alert.Action, now time.Time) (e *entry, idx int, isNew bool) {
	e = l.actions[r.ID]
	if e == nil {
		l.seq++
		e = &entry{keys: map[string]bool{}, first: l.seq}
		l.actions[r.ID] = e
	}
	e.last = now
	k := RecordKey(r)
	if e.keys[k] {
		for i := range e.records {
			if RecordKey(e.records[i]) == k {
				return e, i, false
			}
		}
	}
	e.keys[k] = true
	e.records = append(e.records, r)
	return e, len(e.records) - 1, true
}

// pending returns, for every action, the trigger record that still needs
// a step, in the order the actions were first seen.
func (l *ledger) pending() []pendingStep {
	var out []pendingStep
	for id, e := range l.actions {
		for i := len(e.records) - 1; i >= 0; i-- {
			st := e.records[i].Status
			if st != alert.StatusRequested && st != alert.StatusApproved {
				continue
			}
			if p := PlanFor(e.records, i); p.Step != StepNone {
				out = append(out, pendingStep{id: id, idx: i, plan: p, order: e.first})
			}
			break // only the latest trigger of an action counts
		}
	}
	sortPending(out)
	return out
}

type pendingStep struct {
	id    string
	idx   int
	plan  Plan
	order int64
}

func sortPending(p []pendingStep) {
	sort.Slice(p, func(i, j int) bool { return p[i].order < p[j].order })
}

// forget drops actions whose last record is a final one and that nothing
// touched since before: the process's memory stays bounded, and a record
// re-delivered after that is caught by the vendor state check.
func (l *ledger) forget(before time.Time) int {
	n := 0
	for id, e := range l.actions {
		last := e.records[len(e.records)-1].Status
		if e.last.Before(before) && (isResult(last) || last == alert.StatusRejected) {
			delete(l.actions, id)
			n++
		}
	}
	return n
}

// awaiting counts the actions whose latest record says they wait for a
// human.
func (l *ledger) awaiting() int {
	n := 0
	for _, e := range l.actions {
		if Current(e.records).Status == alert.StatusAwaitingApproval {
			n++
		}
	}
	return n
}

// Awaiting is how many actions this executor knows of that wait for
// approval (for a gauge; actions waiting are never forgotten).
func (x *Executor) Awaiting() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ledger.awaiting()
}
