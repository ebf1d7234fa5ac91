package simulate

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Benign look-alikes: ordinary work that resembles an attack closely
// enough to fool a careless rule. Each imitates one detection (its
// label's rule); an alert on one is a false positive.

// genTravel generates nothing itself: the trip was planned with the world,
// and the person's ordinary days happen at the destination (placeAll labels
// the logins there and the first one home).
func genTravel(g *gen, e *episode) {
	tr := e.trip
	e.note = fmt.Sprintf("%s flies %s to %s (%.0f km, lands %s later), back after %s",
		e.p.email, e.p.home.City, tr.dest.City, distanceKm(e.p.home, tr.dest), tr.arrive.Sub(tr.depart).Round(time.Minute), tr.back.Sub(tr.depart).Round(time.Hour))
}

func genVPNLogin(g *gen, e *episode) {
	a := e.a
	home := where{ip: a.p.homeIP, place: a.p.home, dev: a.p.laptop, session: g.session()}
	g.login(e.at, a, home)
	vpn := e.t.vpn
	at := where{ip: fmt.Sprintf("10.%d.%d.%d", 20+e.t.idx, g.r.IntN(250), 1+g.r.IntN(250)), place: vpn, dev: a.p.laptop, session: g.session()}
	ts := e.at.Add(g.step(g.secs(5*60, 40*60)))
	g.login(ts, a, at)
	g.browse(ts, a, at, 2+g.r.IntN(6), g.step(2*time.Minute), "account")
	e.note = fmt.Sprintf("VPN exit in %s %s after a login at home in %s", vpn.City, ts.Sub(e.at).Round(time.Minute), a.p.home.City)
}

func genQuarterEndExport(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	// Exports start by mid-afternoon local, well inside office hours.
	local := e.at.In(a.p.zone)
	ts := e.at
	if h := local.Hour(); h < 10 || h >= 15 {
		ts = time.Date(local.Year(), local.Month(), local.Day(), 10, g.r.IntN(60), g.r.IntN(60), 0, a.p.zone).Add(time.Duration(g.r.IntN(4)) * time.Hour)
	}
	g.login(ts.Add(-g.step(g.secs(60, 600))), a, at)
	k := 1 + g.r.IntN(3)
	total := 0
	for range k {
		x := g.event(ts, a, "export", "export", at)
		x.Object = event.Object{Type: "report", ID: recordID(a.system, "report", 950+g.r.IntN(5)), Name: "Quarter-end bookings"}
		x.Records, x.HasRecords = int64(8000+g.r.IntN(52000)), true
		total += int(x.Records)
		ts = ts.Add(g.step(g.secs(5*60, 20*60)))
	}
	e.note = fmt.Sprintf("%d records in %d export(s) in office hours", total, k)
}

func genPasswordReset(g *gen, e *episode) {
	a := e.a
	at := where{ip: a.p.homeIP, place: a.p.home, dev: a.p.laptop, session: g.session()}
	n := 2 + g.r.IntN(5)
	ts := e.at
	for range n {
		g.failedLogin(ts, a, at, "bad_password")
		ts = ts.Add(g.step(g.secs(10, 40)))
	}
	ts = ts.Add(g.step(g.secs(30, 90)))
	x := g.event(ts, a, "authentication", "password_reset", at)
	x.TargetUser = event.TargetUser{ID: a.id, Name: a.p.email}
	x.Event.Reason = "self_service"
	ts = ts.Add(g.step(g.secs(60, 180)))
	g.login(ts, a, at)
	e.note = fmt.Sprintf("%d failed logins from home, a reset, a success", n)
}

func genNewHireGrant(g *gen, e *episode) {
	a := e.a
	hire := e.p2
	at := g.usual(a.p)
	target := hire.accountIn(a.system)
	if target == nil {
		target = hire.accounts[0]
	}
	role := ordinaryGrants[g.r.IntN(len(ordinaryGrants))]
	if isAdmin(hire) {
		role = "crm_admin"
	}
	x := g.event(e.at, a, "permission", "grant", at)
	x.TargetUser = event.TargetUser{ID: target.id, Name: hire.email}
	x.Permission = event.Permission{Name: role}
	ts := e.at.Add(g.step(g.secs(30*60, 120*60)))
	hat := g.usual(hire)
	g.login(ts, target, hat)
	m := g.event(ts.Add(g.step(g.secs(60, 300))), target, "authentication", "mfa_enable", hat)
	m.TargetUser = event.TargetUser{ID: target.id, Name: hire.email}
	e.note = fmt.Sprintf("%s (%s) granted %s to new hire %s", a.p.email, a.p.role, role, hire.email)
}

func genSupportBrowsing(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	n := 60 + g.r.IntN(90)
	base := g.r.IntN(a.p.t.records)
	ts := e.at
	for i := range n {
		x := g.event(ts, a, "data_access", "view", at)
		x.Object = g.record(a, "case", (base+i*13)%a.p.t.records)
		ts = ts.Add(g.step(g.secs(20, 120)))
	}
	e.note = fmt.Sprintf("%d cases over %s", n, ts.Sub(e.at).Round(time.Minute))
}

func genMobileHopping(g *gen, e *episode) {
	a := e.a
	p := a.p
	ips := []string{p.phoneIP, p.homeIP, p.home.residentialIP(uint32(p.t.idx*7919+p.idx*31)*19 + 5)}[:2+g.r.IntN(2)]
	n := 6 + g.r.IntN(9)
	ts := e.at
	for i := range n {
		at := where{ip: ips[i%len(ips)], place: p.home, dev: *p.phone, session: g.session()}
		g.login(ts, a, at)
		ts = ts.Add(g.step(g.secs(90, 240)))
	}
	e.note = fmt.Sprintf("%d phone logins from %d addresses", n, len(ips))
}

func genAdminAppConnect(g *gen, e *episode) {
	a := e.a
	app := narrowApps[g.r.IntN(len(narrowApps))]
	x := g.event(e.at, a, "integration", "app_connect", g.usual(a.p))
	x.Object = event.Object{Type: "app", ID: recordID(a.system, "app", g.r.IntN(50)), Name: app.name}
	x.Permission = event.Permission{Scope: app.scope}
	e.note = fmt.Sprintf("%s connected %s (%s)", a.p.email, app.name, app.scope)
}

func genBulkCleanup(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	n := 40 + g.r.IntN(110)
	ts := e.at
	for range n {
		x := g.event(ts, a, "data_change", "delete", at)
		x.Object = g.randomRecord(a, []string{"contact", "lead"}[g.r.IntN(2)])
		x.Comment = "duplicate"
		ts = ts.Add(g.step(g.secs(20, 60)))
	}
	e.note = fmt.Sprintf("%d duplicates deleted over %s", n, ts.Sub(e.at).Round(time.Minute))
}

func genCustomerMove(g *gen, e *episode) {
	a := e.a
	obj := g.randomRecord(a, "contact")
	e.object = obj.ID
	x := g.event(e.at, a, "data_change", "update", g.usual(a.p))
	x.Object = obj
	for _, f := range []string{"MailingStreet", "MailingCity", "MailingPostalCode"} {
		x.Changes = append(x.Changes, event.Change{Field: f, Old: g.value(f), New: g.value(f)})
	}
	x.Comment = "customer moved"
	if g.r.IntN(2) == 0 {
		y := g.event(e.at.Add(g.step(g.secs(10*60, 60*60))), a, "data_change", "update", g.usual(a.p))
		y.Object = obj
		y.Changes = []event.Change{{Field: "Email", Old: g.value("Email"), New: g.value("Email")}}
	}
	e.note = fmt.Sprintf("contact %s moved", obj.ID)
}

func genAuditStrengthened(g *gen, e *episode) {
	a := e.a
	x := g.event(e.at, a, "configuration", "audit_settings_change", g.usual(a.p))
	x.Changes = []event.Change{
		[]event.Change{
			{Field: "EventLogRetentionDays", Old: "30", New: "365"},
			{Field: "FieldHistoryTracking", Old: "false", New: "true"},
			{Field: "audit_log_retention_days", Old: "90", New: "180"},
		}[g.r.IntN(3)],
	}
	e.note = fmt.Sprintf("%s %s -> %s", x.Changes[0].Field, x.Changes[0].Old, x.Changes[0].New)
}

func genMFAReenrol(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	off := g.event(e.at, a, "authentication", "mfa_disable", at)
	off.TargetUser = event.TargetUser{ID: a.id, Name: a.p.email}
	on := g.event(e.at.Add(g.step(g.secs(60, 8*60))), a, "authentication", "mfa_enable", at)
	on.TargetUser = off.TargetUser
	e.note = "MFA off and on again for a new phone"
	if g.r.IntN(100) < 40 {
		x := g.event(e.at.Add(g.step(g.secs(10*60, 25*60))), a, "export", "export", at)
		x.Object = g.report(a)
		x.Records, x.HasRecords = int64(20+g.r.IntN(130)), true
		e.note += fmt.Sprintf(", then %d records exported", x.Records)
	}
}

func genLateExport(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	ts := e.at
	k := 1 + g.r.IntN(2)
	total := 5500 + g.r.IntN(9500)
	for i := range k {
		x := g.event(ts, a, "export", "export", at)
		x.Object = g.report(a)
		x.Records, x.HasRecords = int64(total/k), true
		if i == k-1 {
			x.Records += int64(total % k)
		}
		ts = ts.Add(g.step(g.secs(2*60, 12*60)))
	}
	e.note = fmt.Sprintf("%d records exported at %s local, finishing a report", total, e.at.In(a.p.zone).Format("15:04"))
}

func genLeaveReturn(g *gen, e *episode) {
	a := e.a
	at := g.usual(a.p)
	g.login(e.at, a, at)
	for i, b := range a.p.accounts[1:] {
		g.login(e.at.Add(time.Duration(i+1)*g.step(g.secs(60, 900))), b, at)
	}
	g.browse(e.at, a, at, 5+g.r.IntN(10), g.step(4*time.Minute), profiles[a.p.role].types[0])
	e.note = fmt.Sprintf("back from leave (away since day %d)", -g.w.histDays+2)
}
