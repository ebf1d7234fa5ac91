package simulate

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// gen is one generator's output: one person-day, one job run or one
// episode. Its events get ids from its own prefix and counter, so ids do
// not depend on what else is generated.
type gen struct {
	w      *world
	r      *rand.Rand
	prefix string // readable name of the generator (labels use it)
	idBase string // opaque: event ids must not give the answer away
	n      int
	out    []*event.Event
	fast   bool // live episodes: steps compressed into seconds
}

// newGen makes a generator called name in tenant t. Event ids are the
// tenant, a hash of the name and a counter: stable for a seed, unique, and
// silent about what generated them.
func (w *world) newGen(t *tenant, name string, r *rand.Rand) *gen {
	prefix := t.id + "-" + name
	h := fnv.New64a()
	h.Write([]byte(prefix))
	return &gen{w: w, r: r, prefix: prefix, idBase: t.id + "-" + strconv.FormatUint(h.Sum64()&0xffffffffffff, 36)}
}

// where is the client side of an event: address, place and device.
type where struct {
	ip      string
	place   *Place
	dev     device
	session string
	method  string // access method; the device's when empty
}

// event makes an event by the account at ts from w. Vendor CRMs report
// UTC; the in-house ("generic") CRM keeps the actor's local offset.
func (g *gen) event(ts time.Time, a *account, category, action string, at where) *event.Event {
	g.n++
	p := a.p
	ts = ts.Truncate(time.Millisecond)
	if a.system == "generic" {
		ts = ts.In(p.zone)
	} else {
		ts = ts.UTC()
	}
	e := &event.Event{
		ID:        g.idBase + "-" + strconv.Itoa(g.n),
		Timestamp: ts,
		Tenant:    p.t.id,
		Source:    event.Source{System: a.system, Collector: "simulate"},
		Event:     event.Activity{Category: category, Action: action, Outcome: "success"},
		User:      event.User{ID: a.id, Name: p.email, Role: p.role, Type: p.typ},
	}
	if a.resolved {
		e.User.PersonID = p.id
		e.User.Department = p.dept
		e.User.Timezone = p.zoneName
	}
	method := at.method
	if method == "" {
		method = at.dev.access
	}
	e.Client = event.Client{IP: at.ip, UserAgent: at.dev.agent, DeviceID: at.dev.id, SessionID: at.session, AccessMethod: method}
	if at.place != nil {
		e.Client.Geo = event.Geo{Country: at.place.Country, City: at.place.City, Lat: at.place.Lat, Lon: at.place.Lon, HasCoords: true}
	}
	g.out = append(g.out, e)
	return e
}

// session makes a session id for a login.
func (g *gen) session() string {
	return fmt.Sprintf("s-%s-%d", g.idBase, g.n+1)
}

// login is a successful login; fail a failed one with a reason.
func (g *gen) login(ts time.Time, a *account, at where) *event.Event {
	return g.event(ts, a, "authentication", "login", at)
}

func (g *gen) failedLogin(ts time.Time, a *account, at where, reason string) *event.Event {
	e := g.event(ts, a, "authentication", "login", at)
	e.Event.Outcome, e.Event.Reason = "failure", reason
	return e
}

// record picks customer record n of a type and names it.
func (g *gen) record(a *account, typ string, n int) event.Object {
	return event.Object{Type: typ, ID: recordID(a.system, typ, n), Name: recordName(typ, n)}
}

// randomRecord picks a record of a type: people work mostly on their own
// share of the book, which keeps two people off one record at once.
func (g *gen) randomRecord(a *account, typ string) event.Object {
	t := a.p.t
	var n int
	if g.r.IntN(100) < 85 {
		// a person's own book: a slice of the records keyed by the person
		book := t.records / max(1, len(t.people))
		n = (a.p.idx*book + g.r.IntN(max(1, book))) % t.records
	} else {
		n = g.r.IntN(t.records)
	}
	return g.record(a, typ, n)
}

func recordName(typ string, n int) string {
	switch typ {
	case "contact", "lead":
		return firstNames[n%len(firstNames)] + " " + lastNames[(n/7)%len(lastNames)]
	case "account":
		return companyWords[n%len(companyWords)] + " " + companySuffixes[(n/3)%len(companySuffixes)]
	case "opportunity":
		return companyWords[n%len(companyWords)] + " renewal " + strconv.Itoa(2026+n%2)
	case "case":
		return "Case " + strconv.Itoa(10_000+n)
	}
	return typ + " " + strconv.Itoa(n)
}

// value makes a plausible field value.
func (g *gen) value(field string) string {
	switch field {
	case "Email":
		return fmt.Sprintf("%s.%s@%s.example", firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))], companyWords[g.r.IntN(len(companyWords))])
	case "IBAN":
		return fmt.Sprintf("DE%02d%018d", g.r.IntN(100), g.r.Int64N(1e18))
	case "Bank_Account__c", "Payout_Account__c":
		return strconv.FormatInt(10_000_000+g.r.Int64N(89_999_999), 10)
	case "MailingStreet", "BillingStreet":
		return fmt.Sprintf("%d %s Street", 1+g.r.IntN(300), lastNames[g.r.IntN(len(lastNames))])
	case "MailingCity", "BillingCity":
		return places[g.r.IntN(len(places))].City
	case "MailingPostalCode", "BillingPostalCode":
		return strconv.Itoa(10000 + g.r.IntN(89999))
	case "Amount":
		return strconv.Itoa(1000 * (1 + g.r.IntN(500)))
	case "StageName":
		return []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}[g.r.IntN(6)]
	case "Status":
		return []string{"New", "Working", "Escalated", "Closed"}[g.r.IntN(4)]
	case "Priority":
		return []string{"Low", "Medium", "High"}[g.r.IntN(3)]
	}
	return "v" + strconv.Itoa(g.r.IntN(100000))
}

// between is a uniformly random time in [a, b).
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.r.Int64N(int64(b.Sub(a)))))
}

// jitter is d scaled by a random factor in [1-f, 1+f].
func (g *gen) jitter(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * (1 - f + 2*f*g.r.Float64()))
}

// secs is a random duration from a to b seconds.
func (g *gen) secs(a, b int) time.Duration {
	return time.Duration(a+g.r.IntN(b-a+1)) * time.Second
}
