package identity

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// entry is one person as a file spelled it, before validation.
type entry struct {
	at                                    Location
	id, given, family, display            string
	emails                                []string
	employeeID, department, role, manager string
	timezone, status, statusDate, typ     string
	owner                                 string
	accounts                              []string
	// leftWithoutDate allows status left with no date (SCIM exports carry
	// only active=false).
	leftWithoutDate bool
}

const maxFieldLen = 1024

// build validates entries into a snapshot, adding every problem to ps.
// The snapshot is nil when there was any.
func build(entries []entry, ps *problems) *Snapshot {
	s := &Snapshot{People: make([]Person, 0, len(entries))}
	firstAt := map[string]Location{} // person id -> where first defined
	accountOf := map[Account]int{}   // account -> index in entries
	types := map[string]Type{}       // person id -> type
	for i := range entries {
		e := &entries[i]
		// An entry with problems of its own still takes part in the
		// checks across entries, so one pass lists everything.
		p, ok := e.person(ps)
		if p.ID == "" {
			continue
		}
		if prev, dup := firstAt[p.ID]; dup {
			ps.add(e.at, "person_id", "duplicate person id %q (first at %s)", p.ID, prev)
			continue
		}
		firstAt[p.ID] = e.at
		types[p.ID] = p.Type
		for _, a := range p.Accounts {
			if j, taken := accountOf[a]; taken && entries[j].id != p.ID {
				ps.add(e.at, "accounts", "account %s is claimed by %q (%s) and %q", a, entries[j].id, entries[j].at, p.ID)
				continue
			}
			accountOf[a] = i
		}
		if ok {
			s.People = append(s.People, p)
		}
	}
	// Owners refer to other entries, so they are checked once all are read.
	for i := range s.People {
		p := &s.People[i]
		if p.Type != TypeIntegration {
			continue
		}
		if t, ok := types[p.Owner]; !ok {
			ps.add(firstAt[p.ID], "owner", "owner %q is not a person of this directory", p.Owner)
		} else if t != TypePerson {
			ps.add(firstAt[p.ID], "owner", "owner %q is an integration, not a person", p.Owner)
		}
	}
	if len(ps.list) > 0 {
		return nil
	}
	s.finish()
	return s
}

// person checks one entry on its own.
func (e *entry) person(ps *problems) (Person, bool) {
	n := len(ps.list)
	p := Person{
		ID: e.id, GivenName: e.given, FamilyName: e.family, DisplayName: e.display,
		EmployeeID: e.employeeID, Department: e.department, Role: e.role, Manager: e.manager,
		Timezone: e.timezone, Status: Status(e.status), StatusDate: e.statusDate, Type: Type(e.typ), Owner: e.owner,
	}
	for _, f := range []struct{ name, v string }{
		{"person_id", e.id}, {"given_name", e.given}, {"family_name", e.family}, {"display_name", e.display},
		{"employee_id", e.employeeID}, {"department", e.department}, {"role", e.role}, {"manager", e.manager},
		{"owner", e.owner},
	} {
		if !utf8.ValidString(f.v) {
			ps.add(e.at, f.name, "not valid UTF-8")
		} else if len(f.v) > maxFieldLen {
			ps.add(e.at, f.name, "%d bytes, limit %d", len(f.v), maxFieldLen)
		} else if strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			ps.add(e.at, f.name, "contains a control character")
		}
	}
	if e.id == "" {
		ps.add(e.at, "person_id", "required")
	}
	for _, m := range e.emails {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "" {
			continue
		}
		if at := strings.IndexByte(m, '@'); at <= 0 || at == len(m)-1 || strings.Count(m, "@") != 1 ||
			strings.ContainsAny(m, " \t\r\n,;") || !utf8.ValidString(m) || len(m) > 320 {
			ps.add(e.at, "emails", "%q is not an e-mail address", m)
			continue
		}
		p.Emails = append(p.Emails, m)
	}
	if p.Timezone != "" {
		if _, err := event.LoadZone(p.Timezone); err != nil {
			ps.add(e.at, "timezone", "unknown time zone %q", p.Timezone)
		}
	}
	switch p.Status {
	case "":
		p.Status = StatusActive
	case StatusActive, StatusOnLeave, StatusLeft:
	default:
		ps.add(e.at, "status", "%q is not one of active, on_leave, left", p.Status)
	}
	if p.StatusDate != "" {
		if _, err := time.Parse(time.DateOnly, p.StatusDate); err != nil {
			ps.add(e.at, "status_date", "%q is not a date (YYYY-MM-DD)", p.StatusDate)
		}
	} else if p.Status == StatusLeft && !e.leftWithoutDate {
		ps.add(e.at, "status_date", "required when status is left")
	}
	switch p.Type {
	case "":
		p.Type = TypePerson
	case TypePerson:
	case TypeIntegration:
		if p.Owner == "" {
			ps.add(e.at, "owner", "required for an integration")
		}
	default:
		ps.add(e.at, "type", "%q is not one of person, integration", p.Type)
	}
	if p.Type == TypePerson && p.Owner != "" {
		ps.add(e.at, "owner", "only integrations have an owner")
	}
	for _, s := range e.accounts {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, ok := parseAccount(s)
		if !ok {
			ps.add(e.at, "accounts", "%q is not system:id (system in lower case, e.g. salesforce:005xx000001Sv6d)", s)
			continue
		}
		p.Accounts = append(p.Accounts, a)
	}
	return p, len(ps.list) == n
}

// parseAccount splits "system:id". The system is a lower-case name (the
// event's source.system); the id is everything after the first colon.
func parseAccount(s string) (Account, bool) {
	sys, id, ok := strings.Cut(s, ":")
	if !ok || sys == "" || id == "" || len(s) > 256 || !utf8.ValidString(id) ||
		strings.ContainsFunc(id, func(r rune) bool { return r <= 0x20 || r == 0x7f }) {
		return Account{}, false
	}
	for i, r := range sys {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '_' || r == '-' || r == '.')) {
			return Account{}, false
		}
	}
	return Account{System: sys, ID: id}, true
}

// splitList splits a CSV cell holding a list ("a;b").
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ";")
	return slices.DeleteFunc(parts, func(p string) bool { return strings.TrimSpace(p) == "" })
}
