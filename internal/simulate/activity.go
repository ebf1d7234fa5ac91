package simulate

import (
	"fmt"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Background activity: what people do on an ordinary day. History days
// (d < 0) are thin: only the logins, which is what the rules with a
// history (countries and devices seen, last activity) learn from.

func dayTag(d int) string {
	if d < 0 {
		return fmt.Sprintf("h%02d", -d)
	}
	return fmt.Sprintf("d%02d", d)
}

// personDay generates one person's local day d.
func (w *world) personDay(p *person, d int) []*event.Event {
	if !p.employed(d) {
		return nil
	}
	r := w.stream("day", p.t.id, strconv.Itoa(p.idx), strconv.Itoa(d))
	g := w.newGen(p.t, fmt.Sprintf("%s-p%04d", dayTag(d), p.idx), r)
	date := w.localDate(d, p.zone)
	thin := w.thin(d, p.zone)
	switch {
	case p.onVacation(d):
		// a glance at the phone on holiday, but not on a long leave
		if p.phone != nil && r.IntN(100) < 10 && p.vacationDays(d) <= 14 {
			g.phoneCheck(p, date, thin)
		}
	case p.t.workingDay(date):
		g.workday(p, d, date, thin)
		if p.phone != nil && r.IntN(100) < 25 {
			g.phoneCheck(p, date, thin)
		}
	default:
		if r.IntN(100) < 8 {
			g.weekendSession(p, date, thin)
		} else if p.phone != nil && r.IntN(100) < 20 {
			g.phoneCheck(p, date, thin)
		}
	}
	return g.placeAll(p)
}

// placeAll puts each event where the person was at its time: on a trip,
// at the destination (events while in the air are dropped: nobody works
// on a plane here); else where the generator put it.
func (g *gen) placeAll(p *person) []*event.Event {
	if len(p.trips) == 0 {
		return g.out
	}
	out := g.out[:0]
	for _, e := range g.out {
		tr := p.tripAt(e.Timestamp)
		if tr == nil {
			if e.Event.Action == "login" && e.Event.Outcome == "success" {
				for _, tr := range p.trips {
					if tr.ep != nil && !e.Timestamp.Before(tr.back) && e.Timestamp.Before(tr.back.Add(72*time.Hour)) && !tr.homeSeen {
						tr.homeSeen = true
						tr.ep.addEvent(e)
					}
				}
			}
			out = append(out, e)
			continue
		}
		if e.Timestamp.Before(tr.arrive) || !e.Timestamp.Before(tr.leave) {
			continue // in the air
		}
		ip := tr.dest.residentialIP(uint32(p.t.idx*7919+p.idx*31)*5 + 1)
		e.Client.IP = ip
		e.Client.Geo = event.Geo{Country: tr.dest.Country, City: tr.dest.City, Lat: tr.dest.Lat, Lon: tr.dest.Lon, HasCoords: true}
		if tr.ep != nil && e.Event.Action == "login" && e.Event.Outcome == "success" {
			tr.ep.addEvent(e)
		}
		out = append(out, e)
	}
	return out
}

// workday is a working day: logins, then work spread over the hours,
// then a logout.
func (g *gen) workday(p *person, d int, date time.Time, thin bool) {
	r := g.r
	start := date.Add(time.Duration(p.startMin)*time.Minute + g.jitter(20*time.Minute, 1) - 20*time.Minute)
	end := start.Add(time.Duration(p.lenMin)*time.Minute + g.jitter(30*time.Minute, 1) - 30*time.Minute)
	at := where{ip: p.homeIP, place: p.home, dev: p.laptop}
	if p.office != nil && r.IntN(100) < 70 {
		at.ip, at.place = p.officeIP, p.office
	}
	at.session = g.session()
	main := p.accounts[0]
	if r.IntN(100) < 4 {
		g.failedLogin(start.Add(-g.secs(8, 40)), main, at, "bad_password") // a typo
	}
	g.login(start, main, at)
	accts := []*account{main}
	if len(p.accounts) > 1 && r.IntN(100) < 50 {
		a2 := p.accounts[1]
		g.login(start.Add(g.secs(60, 3600)), a2, at)
		accts = append(accts, a2)
	}
	if thin {
		return
	}
	pick := func() *account {
		if len(accts) > 1 && r.IntN(100) < 25 {
			return accts[1]
		}
		return accts[0]
	}
	when := func() time.Time { return g.between(start.Add(2*time.Minute), end.Add(-5*time.Minute)) }
	prof := profiles[p.role]
	types := prof.types
	for range prof.views.n(r) {
		a := pick()
		e := g.event(when(), a, "data_access", "view", at)
		e.Object = g.randomRecord(a, types[r.IntN(len(types))])
	}
	for range prof.updates.n(r) {
		a := pick()
		typ := types[r.IntN(len(types))]
		e := g.event(when(), a, "data_change", "update", at)
		e.Object = g.randomRecord(a, typ)
		e.Changes = g.ordinaryChanges(typ)
	}
	for range prof.creates.n(r) {
		a := pick()
		e := g.event(when(), a, "data_change", "create", at)
		e.Object = g.randomRecord(a, types[r.IntN(len(types))])
	}
	for range prof.searches.n(r) {
		e := g.event(when(), pick(), "data_access", "search", at)
		e.Labels = map[string]string{"query_terms": strconv.Itoa(1 + r.IntN(4))}
	}
	for range prof.reports.n(r) {
		a := pick()
		e := g.event(when(), a, "data_access", "report_run", at)
		e.Object = g.report(a)
		e.Records, e.HasRecords = int64(10+r.IntN(2000)), true
	}
	if r.IntN(100) < prof.exportPct {
		a := pick()
		e := g.event(when(), a, "export", "export", at)
		e.Object = g.report(a)
		e.Records, e.HasRecords = int64(prof.exportMin+r.IntN(prof.exportMax-prof.exportMin+1)), true
	}
	if r.IntN(100) < prof.importPct {
		a := pick()
		e := g.event(when(), a, "data_change", "import", at)
		e.Object = event.Object{Type: "lead", Name: "Event leads import"}
		e.Records, e.HasRecords = int64(200+r.IntN(2800)), true
	}
	if r.IntN(100) < prof.deletePct {
		for range prof.deletes.n(r) {
			a := pick()
			e := g.event(when(), a, "data_change", "delete", at)
			e.Object = g.randomRecord(a, types[r.IntN(len(types))])
		}
	}
	for range prof.merges.n(r) {
		a := pick()
		e := g.event(when(), a, "data_change", "merge", at)
		e.Object = g.randomRecord(a, "contact")
		e.Related = []event.Related{{Type: "contact", ID: g.randomRecord(a, "contact").ID}}
	}
	if p.dept == "it" {
		g.adminWork(p, accts[0], at, when)
	}
	g.event(end, main, "session", "logout", at)
	_ = d
}

// adminWork is what administrators do besides reading records: ordinary
// configuration, password resets for colleagues, ordinary role changes
// for people who move teams.
func (g *gen) adminWork(p *person, a *account, at where, when func() time.Time) {
	r := g.r
	for range r.IntN(3) {
		e := g.event(when(), a, "configuration", "config_change", at)
		f := []string{"SessionTimeout", "PasswordPolicy.MinLength", "LoginIPRanges", "EmailDeliverability", "PageLayout.Case", "ValidationRule.Opportunity_Amount"}[r.IntN(6)]
		e.Changes = []event.Change{{Field: f, Old: g.value(f), New: g.value(f)}}
	}
	if r.IntN(100) < 25 {
		other := p.t.people[r.IntN(len(p.t.people))]
		e := g.event(when(), a, "authentication", "password_reset", at)
		e.TargetUser = event.TargetUser{ID: other.accounts[0].id, Name: other.email}
		e.Event.Reason = "user_request"
	}
	if r.IntN(100) < 12 {
		other := p.t.people[r.IntN(len(p.t.people))]
		if other != p {
			e := g.event(when(), a, "permission", "role_change", at)
			e.TargetUser = event.TargetUser{ID: other.accounts[0].id, Name: other.email}
			e.Permission = event.Permission{Name: ordinaryGrants[r.IntN(len(ordinaryGrants))]}
		}
	}
}

// ordinaryChanges is an everyday update: one or two ordinary fields, and
// rarely one sensitive field (a customer's new address or e-mail).
func (g *gen) ordinaryChanges(typ string) []event.Change {
	for _, rt := range recordTypes {
		if rt.typ != typ {
			continue
		}
		if s := sensitiveFields[typ]; len(s) > 0 && g.r.IntN(1000) < 15 {
			f := s[g.r.IntN(len(s))]
			return []event.Change{{Field: f, Old: g.value(f), New: g.value(f)}}
		}
		n := 1 + g.r.IntN(2)
		out := make([]event.Change, 0, n)
		for _, i := range g.r.Perm(len(rt.fields))[:n] {
			f := rt.fields[i]
			out = append(out, event.Change{Field: f, Old: g.value(f), New: g.value(f)})
		}
		return out
	}
	return nil
}

func (g *gen) report(a *account) event.Object {
	n := g.r.IntN(len(reportNames))
	return event.Object{Type: "report", ID: recordID(a.system, "report", n), Name: reportNames[n]}
}

// phoneCheck is a look at the phone in the evening: a login and a few
// records.
func (g *gen) phoneCheck(p *person, date time.Time, thin bool) {
	at := where{ip: p.phoneIP, place: p.home, dev: *p.phone, session: g.session()}
	ts := date.Add(19*time.Hour + g.secs(0, 3*3600+1800))
	a := p.accounts[0]
	g.login(ts, a, at)
	if thin {
		return
	}
	types := profiles[p.role].types
	for i := range 1 + g.r.IntN(4) {
		e := g.event(ts.Add(time.Duration(i+1)*g.secs(20, 120)), a, "data_access", "view", at)
		e.Object = g.randomRecord(a, types[g.r.IntN(len(types))])
	}
}

// weekendSession is a short look at work on a day off, from home.
func (g *gen) weekendSession(p *person, date time.Time, thin bool) {
	at := where{ip: p.homeIP, place: p.home, dev: p.laptop, session: g.session()}
	ts := date.Add(10*time.Hour + g.secs(0, 9*3600))
	a := p.accounts[0]
	g.login(ts, a, at)
	if thin {
		return
	}
	types := profiles[p.role].types
	for i := range 2 + g.r.IntN(7) {
		e := g.event(ts.Add(time.Duration(i+1)*g.secs(30, 300)), a, "data_access", "view", at)
		e.Object = g.randomRecord(a, types[g.r.IntN(len(types))])
	}
}

// span is an inclusive range of counts.
type span struct{ lo, hi int }

func (s span) n(r interface{ IntN(int) int }) int {
	if s.hi <= s.lo {
		return s.lo
	}
	return s.lo + r.IntN(s.hi-s.lo+1)
}

// profile is a role's ordinary day.
type profile struct {
	types                           []string
	views, updates, creates         span
	searches, reports, deletes      span
	merges                          span
	exportPct, exportMin, exportMax int
	importPct, deletePct            int
}

var profiles = map[string]profile{
	"sales_rep": {types: []string{"contact", "account", "opportunity", "lead"}, views: span{15, 40}, updates: span{3, 10}, creates: span{0, 3},
		searches: span{1, 5}, reports: span{0, 2}, deletes: span{1, 3}, exportPct: 8, exportMin: 20, exportMax: 800, deletePct: 10},
	"sales_manager": {types: []string{"opportunity", "account", "contact"}, views: span{10, 25}, updates: span{1, 5}, searches: span{0, 3},
		reports: span{2, 5}, exportPct: 15, exportMin: 100, exportMax: 2000},
	"support_agent": {types: []string{"case", "case", "case", "contact"}, views: span{35, 80}, updates: span{10, 25}, creates: span{2, 8}, searches: span{2, 8}},
	"support_lead":  {types: []string{"case", "contact", "account"}, views: span{20, 40}, updates: span{5, 10}, reports: span{1, 3}, exportPct: 5, exportMin: 50, exportMax: 500},
	"marketing_specialist": {types: []string{"lead", "contact"}, views: span{10, 30}, updates: span{2, 8}, searches: span{1, 4}, reports: span{0, 2},
		exportPct: 20, exportMin: 200, exportMax: 3000, importPct: 20},
	"finance_analyst": {types: []string{"account", "opportunity"}, views: span{5, 15}, reports: span{3, 8}, exportPct: 30, exportMin: 500, exportMax: 4000},
	"data_steward": {types: []string{"contact", "account", "lead"}, views: span{20, 40}, updates: span{10, 20}, merges: span{2, 6},
		deletes: span{5, 25}, deletePct: 100},
	"executive":            {types: []string{"opportunity", "account"}, views: span{3, 10}, reports: span{1, 3}},
	"crm_admin":            {types: []string{"account", "contact", "case"}, views: span{5, 15}, searches: span{0, 2}},
	"system_administrator": {types: []string{"account", "contact"}, views: span{3, 10}},
	"analyst":              {types: []string{"account", "opportunity", "lead"}, views: span{10, 25}, reports: span{2, 6}, exportPct: 15, exportMin: 100, exportMax: 3000},
}
