package compliance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// FieldChange is one field change of one stored event, at its log position.
type FieldChange struct {
	At         time.Time
	EventID    string
	Partition  int32
	Offset     int64
	UserID     string
	UserName   string
	ObjectType string
	ObjectID   string
	Field      string
	Old, New   string
}

// Scope says what a rollback plan undoes: either one record back to an
// instant (ObjectID set, To the instant), or one user's changes between
// From and To (UserID set), optionally only of ObjectType and Field (Any or
// empty for all).
type Scope struct {
	Tenant     string    `json:"tenant"`
	UserID     string    `json:"user_id,omitempty"`
	From       time.Time `json:"from,omitzero"`
	To         time.Time `json:"to"`
	ObjectType string    `json:"object_type,omitempty"`
	ObjectID   string    `json:"object_id,omitempty"`
	Field      string    `json:"field,omitempty"`
}

// Write is one field write of a rollback plan: set Field of the record to
// Value. Expected is the value the trail says the field has now (what a
// careful apply checks first). A conflict is a field someone else changed
// after the changes being undone: it is listed, never written.
type Write struct {
	ActionID   string    `json:"action_id"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Field      string    `json:"field"`
	Value      string    `json:"value"`
	Expected   string    `json:"expected_current"`
	Undoes     []string  `json:"undoes"` // event ids whose change of this field the write reverses
	UndoneAt   time.Time `json:"undone_at"`
	Conflict   bool      `json:"conflict"`
	ConflictBy string    `json:"conflict_by,omitempty"`
	ConflictAt time.Time `json:"conflict_at,omitzero"`
	ConflictID string    `json:"conflict_event_id,omitempty"`
	// Noop is a field whose current value already is the value to restore.
	Noop bool `json:"noop"`
}

// Plan is a rollback plan; its ID is derived from the scope, so running
// the same rollback twice gives the same action ids.
type Plan struct {
	ID     string  `json:"id"`
	Scope  Scope   `json:"scope"`
	Writes []Write `json:"writes"`
}

// Counts are a plan's writes by kind.
func (p Plan) Counts() (writes, conflicts, noops int) {
	for _, w := range p.Writes {
		switch {
		case w.Conflict:
			conflicts++
		case w.Noop:
			noops++
		default:
			writes++
		}
	}
	return
}

func (s Scope) planID() string {
	return alert.AlertID("compliance.revert", s.Tenant, strings.Join([]string{s.UserID, s.ObjectType, s.ObjectID, s.Field}, "\x00"),
		s.From.UTC().Format(time.RFC3339Nano), s.To.UTC().Format(time.RFC3339Nano))
}

type fieldKey struct{ objectType, objectID, field string }

// byField groups changes per record field, each group in time order with
// ties in log order; keys are returned sorted.
func byField(changes []FieldChange) ([]fieldKey, map[fieldKey][]FieldChange) {
	groups := map[fieldKey][]FieldChange{}
	for _, c := range changes {
		k := fieldKey{c.ObjectType, c.ObjectID, c.Field}
		groups[k] = append(groups[k], c)
	}
	keys := make([]fieldKey, 0, len(groups))
	for k, g := range groups {
		sort.SliceStable(g, func(i, j int) bool { return before(g[i], g[j]) })
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.objectType != b.objectType {
			return a.objectType < b.objectType
		}
		if a.objectID != b.objectID {
			return a.objectID < b.objectID
		}
		return a.field < b.field
	})
	return keys, groups
}

func before(a, b FieldChange) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	if a.Partition != b.Partition {
		return a.Partition < b.Partition
	}
	return a.Offset < b.Offset
}

// PlanUser plans the rollback of s.UserID's changes between s.From and
// s.To, given every change from s.From on of the fields that user changed
// (named query user-change-aftermath). For each field it restores the
// value before the user's first change in the window; any later change by
// anyone else, or by the user outside the window, makes it a conflict.
func PlanUser(s Scope, changes []FieldChange) Plan {
	p := Plan{ID: s.planID(), Scope: s, Writes: []Write{}}
	keys, groups := byField(changes)
	for _, k := range keys {
		g := groups[k]
		inScope := func(c FieldChange) bool {
			return c.UserID == s.UserID && !c.At.Before(s.From) && !c.At.After(s.To)
		}
		first := -1
		for i, c := range g {
			if inScope(c) {
				first = i
				break
			}
		}
		if first < 0 {
			continue
		}
		w := Write{ObjectType: k.objectType, ObjectID: k.objectID, Field: k.field,
			Value: g[first].Old, Expected: g[len(g)-1].New, UndoneAt: g[first].At}
		for _, c := range g[first:] {
			if inScope(c) {
				w.Undoes = append(w.Undoes, c.EventID)
				continue
			}
			w.Conflict, w.ConflictBy, w.ConflictAt, w.ConflictID = true, c.UserID, c.At, c.EventID
		}
		w.Noop = !w.Conflict && w.Value == w.Expected
		w.ActionID = alert.ActionID(p.ID, "revert_field "+k.objectType+"/"+k.objectID+"/"+k.field)
		p.Writes = append(p.Writes, w)
	}
	return p
}

// PlanRecord plans the rollback of one record to its field values as of
// s.To, given the record's versions: every field changed after s.To is
// set back to the value it had then. Nobody's later change is protected
// here (the operator asked for the record as it was), so there are no
// conflicts; Undoes lists every change reversed.
func PlanRecord(s Scope, versions []Version) Plan {
	var changes []FieldChange
	for _, v := range versions {
		for _, c := range v.Changes {
			changes = append(changes, FieldChange{At: v.At, EventID: v.EventID, Partition: v.Partition, Offset: v.Offset,
				UserID: v.UserID, UserName: v.UserName, ObjectType: v.ObjectType, ObjectID: s.ObjectID, Field: c.Field, Old: c.Old, New: c.New})
		}
	}
	p := Plan{ID: s.planID(), Scope: s, Writes: []Write{}}
	keys, groups := byField(changes)
	for _, k := range keys {
		g := groups[k]
		first := sort.Search(len(g), func(i int) bool { return g[i].At.After(s.To) })
		if first == len(g) {
			continue
		}
		w := Write{ObjectType: k.objectType, ObjectID: k.objectID, Field: k.field,
			Value: g[first].Old, Expected: g[len(g)-1].New, UndoneAt: g[first].At}
		for _, c := range g[first:] {
			w.Undoes = append(w.Undoes, c.EventID)
		}
		w.Noop = w.Value == w.Expected
		w.ActionID = alert.ActionID(p.ID, "revert_field "+k.objectType+"/"+k.objectID+"/"+k.field)
		p.Writes = append(p.Writes, w)
	}
	return p
}

// UserChanges reads what PlanUser needs (named query user-change-aftermath).
func UserChanges(ctx context.Context, st *chstore.Store, s Scope) ([]FieldChange, error) {
	ot, f := s.ObjectType, s.Field
	if ot == "" {
		ot = Any
	}
	if f == "" {
		f = Any
	}
	rows, err := queries.Run(ctx, st, "user-change-aftermath", map[string]string{
		"tenant": s.Tenant, "user_id": s.UserID, "from": timeParam(s.From), "to": timeParam(s.To),
		"object_type": ot, "field": f})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FieldChange
	for rows.Next() {
		var c FieldChange
		if err := rows.Scan(&c.At, &c.EventID, &c.Partition, &c.Offset, &c.UserID, &c.UserName, &c.ObjectType, &c.ObjectID, &c.Field, &c.Old, &c.New); err != nil {
			return nil, fmt.Errorf("reading user-change-aftermath: %w", err)
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading user-change-aftermath: %w", err)
	}
	return out, nil
}
