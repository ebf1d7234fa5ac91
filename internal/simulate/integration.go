package simulate

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Integration accounts are not people: they run on schedules, at night and
// on weekends, from a data centre, and move far more records than anyone.
// Each run is labelled as a benign episode, since it is exactly what rules
// about exports, scraping and deletion must not mistake for a person.

type integration struct {
	p     *person
	job   string // etl, sync, purge
	at    where
	place *Place
}

func (w *world) newIntegrations(t *tenant) []*integration {
	var out []*integration
	jobs := []struct{ job, system, access string }{
		{"etl", t.spec.Systems[0], "bulk_api"},
		{"sync", t.spec.Systems[len(t.spec.Systems)-1], "api"},
		{"purge", t.spec.Systems[0], "api"},
	}
	if contains(t.spec.Systems, "hubspot") {
		jobs[1].system = "hubspot"
	}
	for i, j := range jobs {
		idx := 9000 + i
		p := &person{
			t: t, idx: idx, id: "svc-" + t.id + "-" + j.job, name: "integration " + j.job,
			email: "svc-" + j.job + "@" + t.domain, role: "integration_user", dept: "it", typ: "integration",
			zoneName: t.spec.Zone, zone: t.zone, home: t.offices[0],
			joinDay: math.MinInt, leftDay: math.MaxInt, busy: map[int]bool{},
		}
		p.accounts = []*account{{p: p, system: j.system, id: accountID(j.system, t.idx, idx, 0), resolved: true}}
		dev := device{id: "", agent: integrationAgents[(t.idx+i)%len(integrationAgents)], access: j.access}
		it := &integration{p: p, job: j.job, place: t.offices[0]}
		it.at = where{ip: t.offices[0].datacenterIP(uint32(500 + 10*t.idx + i)), place: t.offices[0], dev: dev, method: "integration"}
		out = append(out, it)
	}
	return out
}

// integrationDay runs one job's schedule for local day d. It returns the
// events and the runs' labels.
func (w *world) integrationDay(it *integration, d int) ([]*event.Event, []*episode) {
	t := it.p.t
	r := w.stream("job", t.id, it.job, strconv.Itoa(d))
	date := w.localDate(d, t.zone)
	a := it.p.accounts[0]
	thin := w.thin(d, t.zone)
	var out []*event.Event
	var eps []*episode
	run := func(name string, ts time.Time, body func(g *gen, ts time.Time, at where)) {
		g := w.newGen(t, fmt.Sprintf("%s-%s-%s", dayTag(d), it.job, name), r)
		at := it.at
		at.session = g.session()
		g.login(ts, a, at)
		if !thin {
			body(g, ts, at)
			end := g.out[len(g.out)-1].Timestamp
			g.event(end.Add(g.secs(1, 5)), a, "session", "logout", at)
			kind := map[string]string{"etl": "integration_export", "sync": "integration_sync", "purge": "integration_purge"}[it.job]
			ep := &episode{id: g.prefix, kind: kindByName(kind), t: t, day: d, p: it.p, a: a}
			for _, e := range g.out {
				ep.addEvent(e)
			}
			eps = append(eps, ep)
		}
		out = append(out, g.out...)
	}
	switch it.job {
	case "etl":
		run("nightly", date.Add(90*time.Minute+time.Duration(r.IntN(3600))*time.Second), func(g *gen, ts time.Time, at where) {
			e := g.event(ts.Add(g.secs(20, 90)), a, "export", "export", at)
			e.Object = event.Object{Type: "report", ID: recordID(a.system, "report", 900), Name: "Nightly full extract"}
			e.Records, e.HasRecords = int64(50_000+r.IntN(350_000)), true
		})
		if date.Weekday() == time.Sunday {
			run("backup", date.Add(210*time.Minute), func(g *gen, ts time.Time, at where) {
				e := g.event(ts.Add(g.secs(30, 120)), a, "export", "export", at)
				e.Object = event.Object{Type: "report", ID: recordID(a.system, "report", 901), Name: "Weekly backup"}
				e.Records, e.HasRecords = int64(600_000+r.IntN(300_000)), true
			})
		}
	case "sync":
		step := 1
		if !t.workingDay(date) {
			step = 3
		}
		for h := 8; h <= 20; h += step {
			if thin && h > 8 {
				break // history keeps one login a day
			}
			run(fmt.Sprintf("h%02d", h), date.Add(time.Duration(h)*time.Hour+time.Duration(r.IntN(300))*time.Second), func(g *gen, ts time.Time, at where) {
				n := 40 + r.IntN(110)
				base := r.IntN(t.records)
				for i := range n {
					ts = ts.Add(time.Duration(400+r.IntN(1100)) * time.Millisecond)
					e := g.event(ts, a, "data_access", "view", at)
					e.Object = g.record(a, []string{"lead", "contact"}[i%2], (base+i*37)%t.records)
					if i%4 == 0 {
						u := g.event(ts.Add(200*time.Millisecond), a, "data_change", "update", at)
						u.Object = e.Object
						f := []string{"Email", "Phone", "Title", "Company"}[r.IntN(4)]
						if u.Object.Type == "contact" && f == "Company" {
							f = "Title"
						}
						u.Changes = []event.Change{{Field: f, Old: g.value(f), New: g.value(f)}}
						u.Comment = "enrichment"
					}
				}
			})
		}
	case "purge":
		run("nightly", date.Add(3*time.Hour+time.Duration(r.IntN(3600))*time.Second), func(g *gen, ts time.Time, at where) {
			for range 2 + r.IntN(5) {
				ts = ts.Add(g.secs(10, 30))
				e := g.event(ts, a, "data_change", "delete", at)
				e.Object = event.Object{Type: "lead", Name: "Stale leads (no activity in 2 years)"}
				e.Records, e.HasRecords = int64(100+r.IntN(200)), true
			}
		})
	}
	return out, eps
}
