package identity

import (
	"strings"
	"unicode/utf8"
)

// attrs is what resolution writes into an event for one person.
type attrs struct {
	personID, employeeID, role, department, timezone, userType string
}

// Index is the in-memory look-up built from one snapshot. It is immutable
// once built, so any number of goroutines read it without locks while a
// Resolver swaps in the next one.
type Index struct {
	people []attrs
	// systems holds one account map per source system: the few systems are
	// found by a short scan, and the big map hashes the account id alone.
	systems   []systemAccounts
	accounts  int
	emails    map[string]int32 // unambiguous, lower-cased address -> person
	ambiguous map[string][]string
	digest    string
}

// NewIndex builds the look-up of s. Addresses two people share (s's
// conflicts) are left out: they never resolve anyone.
func NewIndex(s *Snapshot) *Index {
	x := &Index{
		people:    make([]attrs, len(s.People)),
		emails:    make(map[string]int32, len(s.People)),
		ambiguous: make(map[string][]string, len(s.Conflicts)),
		digest:    s.Digest,
	}
	for _, c := range s.Conflicts {
		x.ambiguous[c.Email] = c.People
	}
	for i := range s.People {
		p := &s.People[i]
		x.people[i] = attrs{personID: p.ID, employeeID: p.EmployeeID, role: p.Role,
			department: p.Department, timezone: p.Timezone, userType: p.UserType()}
		for _, a := range p.Accounts {
			x.system(a.System)[a.ID] = int32(i)
			x.accounts++
		}
		for _, m := range p.Emails {
			if _, shared := x.ambiguous[m]; !shared {
				x.emails[m] = int32(i)
			}
		}
	}
	return x
}

// systemAccounts is the accounts of one system.
type systemAccounts struct {
	name string
	ids  map[string]int32
}

// system returns the account map of name, adding it if new.
func (x *Index) system(name string) map[string]int32 {
	for _, s := range x.systems {
		if s.name == name {
			return s.ids
		}
	}
	m := make(map[string]int32)
	x.systems = append(x.systems, systemAccounts{name: name, ids: m})
	return m
}

// People is the number of entries indexed.
func (x *Index) People() int { return len(x.people) }

// Accounts is the number of system accounts indexed.
func (x *Index) Accounts() int { return x.accounts }

// Digest is the digest of the snapshot the index was built from.
func (x *Index) Digest() string { return x.digest }

// Account returns the person id behind a system account.
func (x *Index) Account(system, id string) (string, bool) {
	i, ok := x.byAccount(system, id)
	if !ok {
		return "", false
	}
	return x.people[i].personID, true
}

// Email returns the person id an address belongs to; ambiguous is set (and
// ok false) when several people share it.
func (x *Index) Email(addr string) (id string, ok, ambiguous bool) {
	i, ok := x.byEmail(addr)
	if ok {
		return x.people[i].personID, true, false
	}
	_, amb := x.ambiguous[strings.ToLower(addr)]
	return "", false, amb
}

func (x *Index) byAccount(system, id string) (int32, bool) {
	for k := range x.systems {
		if s := &x.systems[k]; s.name == system {
			i, ok := s.ids[id]
			return i, ok
		}
	}
	return 0, false
}

// byEmail looks an address up case-insensitively without allocating for
// ASCII addresses (the map index of a converted byte slice does not copy).
func (x *Index) byEmail(addr string) (int32, bool) {
	const maxLen = 320
	if len(addr) > maxLen || strings.IndexByte(addr, '@') < 0 {
		return 0, false
	}
	upper := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c >= utf8.RuneSelf {
			i, ok := x.emails[strings.ToLower(addr)]
			return i, ok
		}
		upper = upper || c >= 'A' && c <= 'Z'
	}
	if !upper {
		i, ok := x.emails[addr]
		return i, ok
	}
	var buf [maxLen]byte
	b := buf[:len(addr)]
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	i, ok := x.emails[string(b)]
	return i, ok
}
