package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// ChangeKind is what happened to a person between two snapshots.
type ChangeKind string

// The change kinds, which are also the event.action of their events.
const (
	Joiner ChangeKind = "person_join"  // new, or back after leaving
	Leaver ChangeKind = "person_leave" // marked left, or gone from the directory
	Move   ChangeKind = "person_move"  // department, role, manager, status, zone, type, owner or accounts changed
)

// Change is one person's difference between two snapshots. Fields lists
// the attributes that changed (old and new values) for any kind.
type Change struct {
	Kind   ChangeKind
	Person Person // as in the new snapshot (as in the old for one gone)
	Fields []event.Change
}

// movedFields are the attributes whose change is a move.
var movedFields = []string{"department", "role", "manager", "status", "status_date", "timezone", "type", "owner", "accounts", "employee_id", "emails"}

// Diff lists what changed from prev (nil: an empty directory) to next, in
// person id order.
func Diff(prev, next *Snapshot) []Change {
	var out []Change
	var old []Person
	if prev != nil {
		old = prev.People
	}
	i, j := 0, 0
	for i < len(old) || j < len(next.People) {
		switch {
		case j == len(next.People) || i < len(old) && old[i].ID < next.People[j].ID:
			if old[i].Status != StatusLeft {
				gone := old[i]
				out = append(out, Change{Kind: Leaver, Person: gone,
					Fields: []event.Change{{Field: "status", Old: string(gone.Status), New: "removed"}}})
			}
			i++
		case i == len(old) || next.People[j].ID < old[i].ID:
			if p := next.People[j]; p.Status != StatusLeft {
				out = append(out, Change{Kind: Joiner, Person: p, Fields: changed(nil, &p)})
			}
			j++
		default:
			a, b := &old[i], &next.People[j]
			fields := changed(a, b)
			switch {
			case len(fields) == 0:
			case a.Status != StatusLeft && b.Status == StatusLeft:
				out = append(out, Change{Kind: Leaver, Person: *b, Fields: fields})
			case a.Status == StatusLeft && b.Status != StatusLeft:
				out = append(out, Change{Kind: Joiner, Person: *b, Fields: fields})
			case b.Status == StatusLeft:
				// Details of someone who left changed: not news.
			default:
				if moved(fields) {
					out = append(out, Change{Kind: Move, Person: *b, Fields: fields})
				}
			}
			i++
			j++
		}
	}
	return out
}

func moved(fields []event.Change) bool {
	for _, f := range fields {
		for _, m := range movedFields {
			if f.Field == m {
				return true
			}
		}
	}
	return false
}

var fieldNames = []string{"person_id", "given_name", "family_name", "display_name", "emails", "employee_id",
	"department", "role", "manager", "timezone", "status", "status_date", "type", "owner", "accounts"}

// changed lists the attributes that differ (a nil a: every attribute b has).
func changed(a, b *Person) []event.Change {
	var av []string
	if a != nil {
		av = a.fields()
	}
	bv := b.fields()
	var out []event.Change
	for k := 1; k < len(fieldNames); k++ { // the id does not change
		old := ""
		if av != nil {
			old = av[k]
		}
		if old != bv[k] {
			out = append(out, event.Change{Field: fieldNames[k], Old: old, New: bv[k]})
		}
	}
	return out
}

// Events turns changes into canonical events for crm.activity: category
// configuration, source.system directory, the person as actor and as the
// object. Their ids derive from the new snapshot's digest, the kind and the
// person, so publishing the same diff again repeats the same ids (and
// downstream deduplication drops them).
func Events(changes []Change, tenant, snapshotDigest string, at time.Time) []event.Event {
	out := make([]event.Event, 0, len(changes))
	at = at.UTC().Truncate(time.Millisecond)
	for _, c := range changes {
		p := &c.Person
		h := sha256.Sum256([]byte(tenant + "\x00" + snapshotDigest + "\x00" + string(c.Kind) + "\x00" + p.ID))
		e := event.Event{
			ID:        "dir-" + hex.EncodeToString(h[:12]),
			Timestamp: at,
			Tenant:    tenant,
			Source:    event.Source{System: SourceSystem, ID: snapshotDigest[:min(16, len(snapshotDigest))], Collector: "identity-import"},
			Event:     event.Activity{Category: "configuration", Action: string(c.Kind), Outcome: "success"},
			User: event.User{ID: p.ID, PersonID: p.ID, EmployeeID: p.EmployeeID, Role: p.Role,
				Department: p.Department, Timezone: p.Timezone, Type: p.UserType()},
			Object:  event.Object{Type: "person", ID: p.ID, Name: p.Name(), OwnerID: p.Owner},
			Changes: c.Fields,
			Labels:  map[string]string{"directory.status": string(p.Status)},
		}
		if len(p.Emails) > 0 {
			e.User.Name = p.Emails[0]
		}
		if p.StatusDate != "" {
			e.Labels["directory.status_date"] = p.StatusDate
		}
		if len(p.Accounts) > 0 {
			accts := make([]string, len(p.Accounts))
			for i, a := range p.Accounts {
				accts[i] = a.String()
			}
			e.Labels["directory.accounts"] = strings.Join(accts, ";")
		}
		out = append(out, e)
	}
	return out
}
