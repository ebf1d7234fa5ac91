package simulate

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Attack episodes, one per detection of the pack. Each is built the way
// the attack happens, with its parameters drawn from realistic ranges, not
// tuned to the rule: a rule that misses one has a real gap.

// usual is where the person works from today: their office or home, on
// their laptop.
func (g *gen) usual(p *person) where {
	at := where{ip: p.homeIP, place: p.home, dev: p.laptop, session: g.session()}
	if p.office != nil && g.r.IntN(100) < 60 {
		at.ip, at.place = p.officeIP, p.office
	}
	return at
}

// attackerAt is an attacker's address number n in a city's hosting
// network, with a client of the attacker's and a device the CRM never saw.
func (g *gen) attackerAt(pl *Place, n int) where {
	return where{
		ip:      pl.datacenterIP(uint32(g.r.IntN(60000)) + uint32(n)),
		place:   pl,
		dev:     device{id: fmt.Sprintf("dev-%s-x%d", g.idBase, n), agent: attackerAgents[g.r.IntN(len(attackerAgents))], access: "web"},
		session: g.session(),
	}
}

// step is a pause between two steps of an episode: the normal one, or in
// live mode a compressed one.
func (g *gen) step(normal time.Duration) time.Duration {
	if g.fast {
		return max(time.Second, normal/30)
	}
	return normal
}

// attackerCity picks an attacker city outside the given countries.
func (g *gen) attackerCity(exclude ...string) *Place {
	for {
		pl := placeByCity[attackerCities[g.r.IntN(len(attackerCities))]]
		if !contains(exclude, pl.Country) {
			return pl
		}
	}
}

// attackerCities picks n attacker cities in n different countries.
func (g *gen) attackerCitiesN(n int, exclude ...string) []*Place {
	var out []*Place
	seen := append([]string(nil), exclude...)
	for _, i := range g.r.Perm(len(attackerCities)) {
		pl := placeByCity[attackerCities[i]]
		if contains(seen, pl.Country) {
			continue
		}
		seen = append(seen, pl.Country)
		out = append(out, pl)
		if len(out) == n {
			break
		}
	}
	return out
}

func (g *gen) browse(ts time.Time, a *account, at where, n int, every time.Duration, typ string) time.Time {
	for range n {
		ts = ts.Add(g.jitter(every, 0.5))
		e := g.event(ts, a, "data_access", "view", at)
		e.Object = g.randomRecord(a, typ)
	}
	return ts
}

func genCredentialStuffing(g *gen, e *episode) {
	a := e.a
	n := 6 + g.r.IntN(12)
	cities := g.attackerCitiesN(3+g.r.IntN(4), a.p.home.Country)
	maxStep := min(40, int(8*60/n))
	ts := e.at
	for i := range n {
		at := g.attackerAt(cities[i%len(cities)], i)
		g.failedLogin(ts, a, at, "bad_password")
		ts = ts.Add(g.step(g.secs(8, maxStep)))
	}
	e.note = fmt.Sprintf("%d failed logins from %d countries", n, len(cities))
}

func genAccountTakeover(g *gen, e *episode) {
	a := e.a
	pl := g.attackerCity(a.p.home.Country)
	ips := []where{g.attackerAt(pl, 1), g.attackerAt(pl, 2)}[:1+g.r.IntN(2)]
	n := 9 + g.r.IntN(8)
	maxStep := min(45, 660/n)
	ts := e.at
	for i := range n {
		g.failedLogin(ts, a, ips[i%len(ips)], "bad_password")
		ts = ts.Add(g.step(g.secs(10, maxStep)))
	}
	at := ips[0]
	ts = ts.Add(g.step(g.secs(5, 80)))
	g.login(ts, a, at)
	ts = g.browse(ts, a, at, 3+g.r.IntN(10), g.step(40*time.Second), "contact")
	if g.r.IntN(100) < 30 {
		x := g.event(ts.Add(g.step(g.secs(30, 300))), a, "export", "export", at)
		x.Object = g.report(a)
		x.Records, x.HasRecords = int64(100+g.r.IntN(700)), true
	}
	e.note = fmt.Sprintf("%d failed logins from %s, then a success", n, pl.Country)
}

func genOffHoursExport(g *gen, e *episode) {
	a := e.a
	p := a.p
	at := where{ip: p.homeIP, place: p.home, dev: p.laptop, session: g.session()}
	ts := e.at
	g.login(ts, a, at)
	k := 1 + g.r.IntN(3)
	total := 6000 + g.r.IntN(54000)
	for i := range k {
		ts = ts.Add(g.step(g.secs(60, 15*60)))
		x := g.event(ts, a, "export", "export", at)
		x.Object = g.report(a)
		x.Records, x.HasRecords = int64(total/k), true
		if i == k-1 {
			x.Records += int64(total % k)
		}
	}
	e.note = fmt.Sprintf("%d records in %d export(s) at %s local", total, k, e.at.In(p.zone).Format("Mon 15:04"))
}

func genRecordTampering(g *gen, e *episode) {
	a := e.a
	typ := []string{"contact", "account"}[g.r.IntN(2)]
	obj := g.randomRecord(a, typ)
	e.object = obj.ID
	fields := sensitiveFields[typ]
	accts := []*account{a}
	if g.r.IntN(100) < 30 {
		// spread over a second, equally compromised account in the same CRM
		people := a.p.t.people
		for k := 1; k < len(people); k++ {
			other := people[(a.p.idx+k*7)%len(people)]
			if other == a.p || !human(other) || !other.employed(e.day) {
				continue
			}
			if b := other.accountIn(a.system); b != nil {
				accts = append(accts, b)
				break
			}
		}
	}
	n := 3 + g.r.IntN(4)
	ts := e.at
	for i := range n {
		acct := accts[i%len(accts)]
		x := g.event(ts, acct, "data_change", "update", g.usual(acct.p))
		x.Object = obj
		for _, j := range g.r.Perm(len(fields))[:1+g.r.IntN(2)] {
			f := fields[j]
			x.Changes = append(x.Changes, event.Change{Field: f, Old: g.value(f), New: g.value(f)})
		}
		ts = ts.Add(g.step(g.secs(60, 6*60)))
	}
	e.note = fmt.Sprintf("%d changes to %s %s by %d account(s)", n, typ, obj.ID, len(accts))
}

func genMassDeletion(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	ts := e.at
	types := []string{"contact", "account", "lead"}
	if g.r.IntN(2) == 0 {
		n := 220 + g.r.IntN(180)
		for range n {
			x := g.event(ts, a, "data_change", "delete", at)
			x.Object = g.randomRecord(a, types[g.r.IntN(len(types))])
			ts = ts.Add(g.step(time.Duration(1000+g.r.IntN(1000)) * time.Millisecond))
		}
		e.note = fmt.Sprintf("%d records deleted one by one", n)
		return
	}
	k := 2 + g.r.IntN(3)
	total := 0
	for range k {
		x := g.event(ts, a, "data_change", "delete", at)
		x.Object = event.Object{Type: types[g.r.IntN(len(types))], Name: "list view selection"}
		x.Records, x.HasRecords = int64(100+g.r.IntN(400)), true
		total += int(x.Records)
		ts = ts.Add(g.step(g.secs(20, 120)))
	}
	e.note = fmt.Sprintf("%d records deleted in %d bulk operations", total, k)
}

func genSelfGrant(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	g.login(e.at, a, at)
	perm := privilegedGrants[g.r.IntN(len(privilegedGrants))]
	x := g.event(e.at.Add(g.step(g.secs(30, 600))), a, "permission", "grant", at)
	x.TargetUser = event.TargetUser{ID: a.id, Name: a.p.email}
	x.Permission = event.Permission{Name: perm}
	e.note = fmt.Sprintf("%s (%s) granted themselves %s", a.p.email, a.p.role, perm)
}

func genNonAdminGrantsAdmin(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	target := e.p2.accountIn(a.system)
	if target == nil {
		target = e.p2.accounts[0]
	}
	g.login(e.at, a, at)
	perm := privilegedGrants[g.r.IntN(len(privilegedGrants))]
	x := g.event(e.at.Add(g.step(g.secs(30, 600))), a, "permission", "grant", at)
	x.TargetUser = event.TargetUser{ID: target.id, Name: e.p2.email}
	x.Permission = event.Permission{Name: perm}
	e.note = fmt.Sprintf("%s (%s) granted %s to %s", a.p.email, a.p.role, perm, e.p2.email)
}

func genImpossibleTravel(g *gen, e *episode) {
	a := e.a
	p := a.p
	home := g.usual(p)
	g.login(e.at, a, home)
	var far *Place
	for _, i := range g.r.Perm(len(places)) {
		if pl := places[i]; distanceKm(pl, home.place) >= 3000 && !contains(p.destCountries(), pl.Country) {
			far = pl
			break
		}
	}
	d := distanceKm(far, home.place)
	maxGap := time.Duration(d/1500*float64(time.Hour)) - 20*time.Minute
	gap := g.step(20*time.Minute + time.Duration(g.r.Int64N(int64(max(time.Minute, min(3*time.Hour, maxGap)-20*time.Minute)))))
	at := g.attackerAt(far, 1)
	at.ip = far.residentialIP(uint32(g.r.IntN(60000)))
	ts := e.at.Add(gap)
	g.login(ts, a, at)
	g.browse(ts, a, at, 2+g.r.IntN(5), g.step(time.Minute), "contact")
	e.note = fmt.Sprintf("%s from %s, then %s %s later (%.0f km)", p.email, home.place.City, far.City, gap.Round(time.Minute), d)
}

// accountIn returns the person's account in a system, or nil.
func (p *person) accountIn(system string) *account {
	for _, a := range p.accounts {
		if a.system == system {
			return a
		}
	}
	return nil
}

func (p *person) destCountries() []string {
	out := []string{p.home.Country}
	for _, d := range p.dests {
		out = append(out, d.Country)
	}
	return out
}

func genMFAOffExport(g *gen, e *episode) {
	a := e.a
	p := a.p
	at := g.usual(p)
	off := g.event(e.at, a, "authentication", "mfa_disable", at)
	off.TargetUser = event.TargetUser{ID: a.id, Name: p.email}
	b := a
	for _, acc := range p.accounts {
		if acc != a {
			b = acc
		}
	}
	ts := e.at.Add(g.step(g.secs(3*60, 25*60)))
	g.login(ts.Add(-g.step(g.secs(20, 120))), b, at)
	x := g.event(ts, b, "export", "export", at)
	x.Object = g.report(b)
	x.Records, x.HasRecords = int64(300+g.r.IntN(19700)), true
	e.note = fmt.Sprintf("MFA off in %s, %d records exported from %s %s later", a.system, x.Records, b.system, ts.Sub(e.at).Round(time.Second))
}

// auditWeakenings are changes that switch auditing off or shorten it, in
// each vendor's words.
var auditWeakenings = []event.Change{
	{Field: "FieldHistoryTracking", Old: "true", New: "false"},
	{Field: "LoginHistory.Enabled", Old: "on", New: "off"},
	{Field: "EventMonitoring.Enabled", Old: "true", New: "false"},
	{Field: "SetupAuditTrail.RetentionDays", Old: "180", New: "30"},
	{Field: "EventLogRetentionDays", Old: "365", New: "1"},
	{Field: "isauditenabled", Old: "true", New: "false"},
	{Field: "audit_log_retention_days", Old: "90", New: "7"},
}

func genAuditTampering(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	g.login(e.at, a, at)
	c := auditWeakenings[g.r.IntN(len(auditWeakenings))]
	x := g.event(e.at.Add(g.step(g.secs(30, 900))), a, "configuration", "audit_settings_change", at)
	x.Changes = []event.Change{c}
	e.note = fmt.Sprintf("%s %s -> %s", c.Field, c.Old, c.New)
}

func genRecordScraping(g *gen, e *episode) {
	a := e.a
	var at where
	if g.r.IntN(2) == 0 {
		at = g.attackerAt(g.attackerCity(a.p.home.Country), 1)
		at.dev.agent = "python-requests/2.32.3"
		at.method = "api"
	} else {
		at = g.usual(a.p) // an insider's own session, with a script
		at.dev.agent = "python-requests/2.32.3"
		at.method = "api"
	}
	g.login(e.at, a, at)
	n := 250 + g.r.IntN(550)
	maxStep := 270 * time.Second / time.Duration(n)
	ts := e.at.Add(g.step(g.secs(5, 60)))
	base := g.r.IntN(a.p.t.records)
	typ := []string{"contact", "account"}[g.r.IntN(2)]
	for i := range n {
		x := g.event(ts, a, "data_access", "view", at)
		x.Object = g.record(a, typ, (base+i)%a.p.t.records)
		ts = ts.Add(time.Duration(150+g.r.Int64N(int64(max(time.Millisecond, maxStep-150*time.Millisecond))/1e6)) * time.Millisecond)
	}
	e.note = fmt.Sprintf("%d %ss viewed from %s in %s", n, typ, at.place.City, ts.Sub(e.at).Round(time.Second))
}

func genNewCountry(g *gen, e *episode) {
	a := e.a
	known := append(a.p.destCountries(), a.p.t.offices[0].Country)
	var pl *Place
	for _, i := range g.r.Perm(len(places)) {
		if !contains(known, places[i].Country) {
			pl = places[i]
			break
		}
	}
	at := g.attackerAt(pl, 1)
	at.ip = pl.residentialIP(uint32(g.r.IntN(60000))) // a residential proxy
	at.dev.agent = laptopAgents[g.r.IntN(len(laptopAgents))]
	g.login(e.at, a, at)
	g.browse(e.at, a, at, 2+g.r.IntN(7), g.step(90*time.Second), "account")
	e.note = fmt.Sprintf("login from %s (%s) on a new device", pl.Country, pl.City)
}

func genDormantAccount(g *gen, e *episode) {
	a := e.a
	p := a.p
	at := where{ip: p.homeIP, place: p.home, dev: device{id: fmt.Sprintf("dev-%s-x1", g.idBase), agent: laptopAgents[g.r.IntN(len(laptopAgents))], access: "web"}, session: g.session()}
	g.login(e.at, a, at)
	ts := g.browse(e.at, a, at, 5+g.r.IntN(15), g.step(time.Minute), "account")
	if g.r.IntN(100) < 40 {
		x := g.event(ts.Add(g.step(g.secs(30, 300))), a, "export", "export", at)
		x.Object = g.report(a)
		x.Records, x.HasRecords = int64(200+g.r.IntN(2800)), true
	}
	e.note = fmt.Sprintf("%s left on day %d; account active again", p.email, p.leftDay)
}

func genSharedCredentials(g *gen, e *episode) {
	a := e.a
	n := 5 + g.r.IntN(5)
	cities := []*Place{a.p.home}
	cities = append(cities, g.attackerCitiesN(g.r.IntN(3), a.p.home.Country)...)
	ts := e.at
	for i := range n {
		pl := cities[i%len(cities)]
		at := g.attackerAt(pl, i)
		at.ip = pl.residentialIP(uint32(g.r.IntN(60000)))
		at.dev.agent = laptopAgents[g.r.IntN(len(laptopAgents))]
		g.login(ts, a, at)
		ts = ts.Add(g.step(g.secs(15, 60)))
	}
	e.note = fmt.Sprintf("%s used from %d addresses in %d place(s)", a.p.email, n, len(cities))
}

func genRiskyAppConnect(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	var app struct{ name, scope string }
	if isAdmin(a.p) {
		app = broadApps[g.r.IntN(len(broadApps))]
	} else {
		app = userApps[g.r.IntN(len(userApps))]
	}
	x := g.event(e.at, a, "integration", "app_connect", at)
	x.Object = event.Object{Type: "app", ID: recordID(a.system, "app", 100+g.r.IntN(50)), Name: app.name}
	x.Permission = event.Permission{Scope: app.scope}
	e.note = fmt.Sprintf("%s (%s) connected %s with %q", a.p.email, a.p.role, app.name, app.scope)
}
