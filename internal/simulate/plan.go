package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Planning decides, before the first event, everything that spans days:
// vacations, trips, who left and who joins, and every episode's subject
// and time. The background generators then consult the plan.

func (w *world) plan() {
	for _, t := range w.tenants {
		r := w.stream("plan", t.id)
		w.planVacations(t, r)
		w.planHistoryTrips(t, r)
	}
	if w.cfg.Live {
		w.planLive()
		return
	}
	for _, t := range w.tenants {
		r := w.stream("episodes", t.id)
		for _, k := range kinds {
			if k.auto || !w.wanted(k) {
				continue
			}
			n := w.count(k, t.idx)
			for i := range n {
				day := int((float64(i) + r.Float64()) * float64(w.days) / float64(n))
				w.planEpisode(t, k, i, min(day, w.days-1), r)
			}
		}
	}
}

func (w *world) wanted(k *kind) bool {
	if k.month && w.histDays < monthHistory {
		return false
	}
	return len(w.cfg.Kinds) == 0 || contains(w.cfg.Kinds, k.name)
}

// monthHistory is the history (days) kinds about a month of silence need.
const monthHistory = 35

// count is how many episodes of a kind tenant number ti gets.
func (w *world) count(k *kind, ti int) int {
	if k.class == ClassAttack {
		if w.cfg.Attacks > 0 {
			return w.cfg.Attacks
		}
		return max(1, (w.days+1)/3)
	}
	n := max(1, w.days)
	if w.cfg.Benign > 0 {
		n = w.cfg.Benign
	}
	if k.hard {
		// a seventh as many, spread over the tenants: one a week per
		// tenant by default, but a two-day run has one or two in all
		return (ti+1)*n/7 - ti*n/7
	}
	return n
}

// planVacations gives some people a week or two off.
func (w *world) planVacations(t *tenant, r *rand.Rand) {
	lo, hi := -w.histDays, max(w.days, 1)
	for _, p := range t.people {
		if r.IntN(100) < 12 {
			from := lo + r.IntN(hi-lo)
			p.vacations = append(p.vacations, [2]int{from, from + 2 + r.IntN(10)})
		}
	}
}

// planHistoryTrips sends each traveller once to a usual destination during
// the history, so those are known places when the main period starts.
func (w *world) planHistoryTrips(t *tenant, r *rand.Rand) {
	if w.histDays < 10 {
		return
	}
	for _, p := range t.people {
		if !traveller(p) {
			continue
		}
		day := -w.histDays + 3 + r.IntN(w.histDays-9)
		if p.onVacation(day) || p.onVacation(day+4) {
			continue
		}
		w.makeTrip(p, day, p.dests[0], r)
	}
}

// makeTrip plans a trip leaving on day d: a plausible flight there (at most
// 750 km/h door to door, plus airports), one to three nights, and back.
func (w *world) makeTrip(p *person, d int, dest *Place, r *rand.Rand) *trip {
	date := w.localDate(d, p.zone)
	flight := time.Duration((distanceKm(p.home, dest)/750 + 1.5) * float64(time.Hour))
	tr := &trip{dest: dest}
	tr.depart = date.Add(6*time.Hour + 30*time.Minute + time.Duration(r.IntN(6*3600))*time.Second)
	tr.arrive = tr.depart.Add(flight)
	nights := 1 + r.IntN(3)
	tr.leave = w.localDate(d+nights, p.zone).Add(14*time.Hour + time.Duration(r.IntN(4*3600))*time.Second)
	tr.back = tr.leave.Add(flight)
	p.trips = append(p.trips, tr)
	for x := d; x <= d+nights+1; x++ {
		p.busy[x] = true
	}
	return tr
}

// available says whether p can be an episode's subject on day d.
func (p *person) available(d int) bool {
	return p.employed(d) && !p.busy[d] && !p.onVacation(d) && p.joinDay < d
}

// planEpisode picks a subject and a time for episode i of kind k on about
// day d; it skips the episode when nobody fits.
func (w *world) planEpisode(t *tenant, k *kind, i, d int, r *rand.Rand) {
	ep := &episode{id: fmt.Sprintf("%s-%s-%02d", t.id, k.name, i), kind: k, t: t, doneDay: d + 1}
	g := &gen{w: w, r: r}
	switch k.name {
	case "dormant_account":
		// Someone who left soon after the history began; their account
		// was never disabled.
		p := w.newPerson(t, len(t.people), [2]string{"sales_rep", "sales"}, r)
		p.leftDay = -w.histDays + 1 + r.IntN(3)
		// their last day is a working day: a leaver who never logged in
		// left no account activity to go dormant from
		for !t.workingDay(w.localDate(p.leftDay, p.zone)) {
			p.leftDay++
		}
		t.people = append(t.people, p)
		t.leavers = append(t.leavers, p)
		ep.p, ep.a, ep.day = p, p.accounts[0], d
		ep.at, _ = w.pickTime(k, p, d, g)
		w.episodes = append(w.episodes, ep)
		return
	}
	who := k.who
	if k.name == "risky_app_connect" && r.IntN(100) < 40 {
		who = admin // an admin connecting an app with broad scopes
	}
	// Try the planned day, then the days after and before it.
	for _, day := range spiral(d, 0, w.days-1) {
		for _, idx := range r.Perm(len(t.people)) {
			p := t.people[idx]
			if !who(p) || !p.available(day) {
				continue
			}
			if k.name == "travel" && (!p.available(day+1) || p.busy[day+2] || p.busy[day+3] || p.busy[day+4]) {
				continue
			}
			if k.name == "leave_return" && !w.canTakeLeave(p, day) {
				continue
			}
			at, ok := w.pickTime(k, p, day, g)
			if !ok {
				continue
			}
			ep.p, ep.a, ep.day, ep.at = p, p.accounts[0], day, at
			ep.doneDay = day + 1
			p.busy[day] = true
			w.finishPlan(ep, r)
			w.episodes = append(w.episodes, ep)
			return
		}
	}
}

// finishPlan plans what an episode needs beyond its subject.
func (w *world) finishPlan(ep *episode, r *rand.Rand) {
	t := ep.t
	switch ep.kind.name {
	case "nonadmin_grants_admin":
		for _, idx := range r.Perm(len(t.people)) {
			if q := t.people[idx]; q != ep.p && human(q) && q.employed(ep.day) {
				ep.p2 = q
				break
			}
		}
	case "new_hire_grant":
		role := [2]string{[]string{"sales_rep", "support_agent", "marketing_specialist"}[r.IntN(3)], ""}
		if r.IntN(100) < 20 {
			role = [2]string{"crm_admin", "it"}
		}
		for _, m := range roleMix {
			if m.role == role[0] {
				role[1] = m.dept
			}
		}
		hire := w.newPerson(t, len(t.people), role, r)
		hire.joinDay = ep.day
		t.people = append(t.people, hire)
		t.hires = append(t.hires, hire)
		ep.p2 = hire
	case "leave_return":
		// On leave since soon after the history began, back on this day.
		ep.p.vacations = append(ep.p.vacations, [2]int{-w.histDays + 2, ep.day})
		for d := -w.histDays + 2; d <= ep.day; d++ {
			ep.p.busy[d] = true
		}
	case "travel":
		dest := ep.p.dests[r.IntN(len(ep.p.dests))]
		tr := w.makeTrip(ep.p, ep.day, dest, r)
		tr.ep = ep
		ep.trip = tr
		ep.start, ep.end = tr.depart, tr.back
		ep.doneDay = ep.day + 8
	}
}

// canTakeLeave says whether p can have been away from soon after the
// history began until day d: nothing else planned for them meanwhile.
func (w *world) canTakeLeave(p *person, d int) bool {
	if len(p.trips) > 0 || len(p.vacations) > 0 || p.leftDay != math.MaxInt || p.joinDay != math.MinInt {
		return false
	}
	for x := -w.histDays; x <= d; x++ {
		if p.busy[x] {
			return false
		}
	}
	return true
}

// spiral lists d, d+1, d-1, d+2, d-2, … within [lo, hi].
func spiral(d, lo, hi int) []int {
	var out []int
	for k := 0; k <= hi-lo; k++ {
		if d+k >= lo && d+k <= hi {
			out = append(out, d+k)
		}
		if k > 0 && d-k >= lo && d-k <= hi {
			out = append(out, d-k)
		}
	}
	return out
}

// planLive schedules one episode of every kind in the first minutes after
// the start, with compressed steps, each for a subject whose local time
// suits it (an off-hours export goes to a tenant where it is night).
func (w *world) planLive() {
	start := w.cfg.Start
	slot := 0
	for _, k := range kinds {
		if k.auto || !w.wanted(k) || k.name == "travel" {
			continue
		}
		at := start.Add(20*time.Second + time.Duration(slot)*8*time.Second).Truncate(time.Millisecond)
		slot++
		for j := range w.tenants {
			t := w.tenants[(slot+j)%len(w.tenants)]
			r := w.stream("live", t.id, k.name)
			if ep := w.liveEpisode(t, k, at, r); ep != nil {
				w.episodes = append(w.episodes, ep)
				break
			}
		}
	}
}

func (w *world) liveEpisode(t *tenant, k *kind, at time.Time, r *rand.Rand) *episode {
	ep := &episode{id: fmt.Sprintf("%s-%s-live", t.id, k.name), kind: k, t: t, at: at, fast: true}
	dayOf := func(p *person) int {
		local := at.In(p.zone)
		return int(math.Round(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC).Sub(w.start).Hours() / 24))
	}
	if k.name == "dormant_account" {
		p := w.newPerson(t, len(t.people), [2]string{"sales_rep", "sales"}, r)
		p.leftDay = -w.histDays + 1
		t.people = append(t.people, p)
		t.leavers = append(t.leavers, p)
		ep.p, ep.a, ep.day = p, p.accounts[0], dayOf(p)
		ep.doneDay = ep.day + 1
		return ep
	}
	for _, idx := range r.Perm(len(t.people)) {
		p := t.people[idx]
		d := dayOf(p)
		if !k.who(p) || !p.available(d) || !k.fitsAt(p, at) || (k.name == "leave_return" && !w.canTakeLeave(p, d)) {
			continue
		}
		ep.p, ep.a, ep.day, ep.doneDay = p, p.accounts[0], d, d+1
		p.busy[d] = true
		w.finishPlan(ep, r)
		return ep
	}
	return nil
}
