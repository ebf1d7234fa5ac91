package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Status is where a person stands with the organisation.
type Status string

// The statuses a directory knows.
const (
	StatusActive  Status = "active"
	StatusOnLeave Status = "on_leave"
	StatusLeft    Status = "left"
)

// Type says whether an entry is a person or a service/integration account
// (which has an owner).
type Type string

// The entry types.
const (
	TypePerson      Type = "person"
	TypeIntegration Type = "integration"
)

// Account is one account of a person in one system: "salesforce:005…".
type Account struct {
	System string
	ID     string
}

// String is the account as the directory writes it: system:id.
func (a Account) String() string { return a.System + ":" + a.ID }

// Person is one entry of a directory snapshot.
type Person struct {
	ID          string
	GivenName   string
	FamilyName  string
	DisplayName string
	Emails      []string // lower-cased
	EmployeeID  string
	Department  string
	Role        string
	Manager     string // the manager's person id
	Timezone    string // IANA name, validated
	Status      Status
	StatusDate  string // YYYY-MM-DD: since when on leave, or the leaving date
	Type        Type
	Owner       string // for integrations: the owning person's id
	Accounts    []Account
}

// UserType is the event contract's user.type for the entry.
func (p *Person) UserType() string {
	if p.Type == TypeIntegration {
		return "integration"
	}
	return "human"
}

// Name is the best display name the entry has.
func (p *Person) Name() string {
	switch {
	case p.DisplayName != "":
		return p.DisplayName
	case p.GivenName != "" || p.FamilyName != "":
		return strings.TrimSpace(p.GivenName + " " + p.FamilyName)
	}
	return p.ID
}

// Conflict is an e-mail address two or more people claim. It does not make
// a snapshot invalid, but the address is never used to resolve anyone.
type Conflict struct {
	Email  string
	People []string // the person ids, sorted
}

// Snapshot is one validated directory: every person once, every account
// claimed by one person, every time zone known.
type Snapshot struct {
	People    []Person
	Conflicts []Conflict
	// Digest is the SHA-256 of the snapshot's canonical form (people sorted
	// by id): two files with the same content have the same digest.
	Digest string
}

// Person returns the entry with id, if any.
func (s *Snapshot) Person(id string) (*Person, bool) {
	i, ok := slices.BinarySearchFunc(s.People, id, func(p Person, id string) int { return strings.Compare(p.ID, id) })
	if !ok {
		return nil, false
	}
	return &s.People[i], true
}

// finish sorts the snapshot, computes its digest and its e-mail conflicts.
func (s *Snapshot) finish() {
	slices.SortFunc(s.People, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
	h := sha256.New()
	owners := map[string][]string{}
	for i := range s.People {
		p := &s.People[i]
		slices.Sort(p.Emails)
		p.Emails = slices.Compact(p.Emails)
		slices.SortFunc(p.Accounts, func(a, b Account) int { return strings.Compare(a.String(), b.String()) })
		p.Accounts = slices.Compact(p.Accounts)
		for _, e := range p.Emails {
			owners[e] = append(owners[e], p.ID)
		}
		for _, f := range p.fields() {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	s.Conflicts = s.Conflicts[:0]
	for e, ids := range owners {
		if len(ids) > 1 {
			s.Conflicts = append(s.Conflicts, Conflict{Email: e, People: ids})
		}
	}
	slices.SortFunc(s.Conflicts, func(a, b Conflict) int { return strings.Compare(a.Email, b.Email) })
	s.Digest = hex.EncodeToString(h.Sum(nil))
}

// fields is the entry as strings, in a fixed order (the digest, the diff).
func (p *Person) fields() []string {
	accts := make([]string, len(p.Accounts))
	for i, a := range p.Accounts {
		accts[i] = a.String()
	}
	return []string{p.ID, p.GivenName, p.FamilyName, p.DisplayName, strings.Join(p.Emails, ";"),
		p.EmployeeID, p.Department, p.Role, p.Manager, p.Timezone, string(p.Status), p.StatusDate,
		string(p.Type), p.Owner, strings.Join(accts, ";")}
}
