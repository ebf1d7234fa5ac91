package simulate

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// world is everything the generators share: tenants with their people,
// accounts, integrations and records, and the plans (vacations, trips,
// leavers, episodes) decided before the first event.
type world struct {
	cfg      Config
	start    time.Time // Start's UTC date at 00:00 UTC: day 0
	histDays int       // days of history before day 0
	days     int       // main-period days (0: endless, live)
	tenants  []*tenant
	episodes []*episode
}

type tenant struct {
	spec     TenantSpec
	id       string
	idx      int
	zone     *time.Location
	offices  []*Place
	remote   []*Place
	days     [7]bool
	from, to int // working hours of the calendar, minutes after midnight
	holidays map[string]bool
	domain   string
	people   []*person
	leavers  []*person // accounts of people who left during the history
	hires    []*person // people who join during the main period
	integ    []*integration
	vpn      *Place // where the corporate VPN's exit geolocates
	records  int    // customer records per type
}

type person struct {
	t         *tenant
	idx       int
	id        string // person id
	name      string
	email     string
	role      string
	dept      string
	typ       string // user.type: human or integration
	zoneName  string
	zone      *time.Location
	home      *Place
	office    *Place // nil: works from home
	homeIP    string
	officeIP  string
	phoneIP   string
	startMin  int // usual start of the working day, minutes after local midnight
	lenMin    int
	accounts  []*account
	laptop    device
	phone     *device
	traveller bool
	dests     []*Place // usual destinations of trips
	trips     []*trip
	vacations [][2]int // day ranges [from, to]
	joinDay   int      // first day of work (math.MinInt: before the history)
	leftDay   int      // last day of work (math.MaxInt: still here)
	busy      map[int]bool
}

type account struct {
	p        *person
	system   string
	id       string
	resolved bool // identity resolution found the person
}

type device struct {
	id     string
	agent  string
	access string // web, mobile
}

// trip is a journey: out (depart → arrive), a stay, and back (leave →
// back). Events between depart and arrive or leave and back are in the
// air and dropped.
type trip struct {
	dest           *Place
	depart, arrive time.Time
	leave, back    time.Time
	ep             *episode // its benign.travel label; nil for history trips
	homeSeen       bool     // the first login home after it is labelled
}

// stream returns a random source for one part of the world, keyed by the
// seed and names: the same names always give the same numbers, whatever
// else is generated, which is what makes output independent of
// generation order.
func (w *world) stream(parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(w.cfg.Seed, h.Sum64()))
}

// buildWorld makes the tenants and people and plans the run.
func buildWorld(cfg Config) (*world, error) {
	sc := cfg.Scenario
	if sc == nil {
		sc = DefaultScenario()
	}
	w := &world{cfg: cfg, days: cfg.Days}
	w.start = time.Date(cfg.Start.UTC().Year(), cfg.Start.UTC().Month(), cfg.Start.UTC().Day(), 0, 0, 0, 0, time.UTC)
	w.histDays = int(cfg.History / (24 * time.Hour))
	n := cfg.Tenants
	if n == 0 {
		n = len(sc.Tenants)
	}
	weights := 0
	for i := 0; i < n; i++ {
		weights += max(1, sc.Tenants[i%len(sc.Tenants)].Weight)
	}
	for i := 0; i < n; i++ {
		spec := sc.Tenants[i%len(sc.Tenants)]
		if i >= len(sc.Tenants) {
			spec.ID = fmt.Sprintf("%s%d", spec.ID, i/len(sc.Tenants)+1)
		}
		share := cfg.People * max(1, spec.Weight) / weights
		if i == n-1 {
			share = cfg.People
			for _, t := range w.tenants {
				share -= len(t.people)
			}
		}
		t, err := w.buildTenant(i, spec, share)
		if err != nil {
			return nil, err
		}
		w.tenants = append(w.tenants, t)
	}
	w.plan()
	return w, nil
}

func (w *world) buildTenant(idx int, spec TenantSpec, people int) (*tenant, error) {
	t := &tenant{spec: spec, id: spec.ID, idx: idx, domain: spec.ID + ".example", holidays: map[string]bool{}, records: 20000}
	var err error
	if t.zone, err = event.LoadZone(spec.Zone); err != nil {
		return nil, fmt.Errorf("tenant %s: zone %q: %w", spec.ID, spec.Zone, err)
	}
	for _, c := range spec.Offices {
		p, err := lookupPlace(c)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", spec.ID, err)
		}
		t.offices = append(t.offices, p)
	}
	for _, c := range spec.Remote {
		p, err := lookupPlace(c)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", spec.ID, err)
		}
		t.remote = append(t.remote, p)
	}
	for _, d := range spec.Days {
		for i, name := range weekdays {
			if name == d {
				t.days[i] = true
			}
		}
	}
	if t.from, t.to, err = parseHours(spec.Hours); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", spec.ID, err)
	}
	for _, h := range spec.Holidays {
		t.holidays[h] = true
	}
	// The VPN exits in a data centre far from headquarters (as corporate
	// VPNs often do), so a VPN login looks like travel unless the rules
	// know the corporate networks.
	t.vpn = placeByCity["Singapore"]
	if t.offices[0].Country == "SG" {
		t.vpn = placeByCity["Frankfurt"]
	}
	r := w.stream("tenant", t.id)
	roles := assignRoles(people, r)
	for i := 0; i < people; i++ {
		t.people = append(t.people, w.newPerson(t, i, roles[i], r))
	}
	t.integ = w.newIntegrations(t)
	return t, nil
}

// assignRoles spreads the role mix over n people: at least two CRM admins
// and one system administrator, one support lead, one data steward.
func assignRoles(n int, r *rand.Rand) [][2]string {
	out := make([][2]string, 0, n)
	out = append(out, [2]string{"system_administrator", "it"}, [2]string{"crm_admin", "it"}, [2]string{"support_lead", "support"}, [2]string{"data_steward", "operations"}, [2]string{"finance_analyst", "finance"}, [2]string{"sales_manager", "sales"})
	for len(out) < n {
		x := r.IntN(100)
		for _, m := range roleMix {
			if x < m.share {
				out = append(out, [2]string{m.role, m.dept})
				break
			}
			x -= m.share
		}
	}
	out = out[:n]
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (w *world) newPerson(t *tenant, i int, role [2]string, r *rand.Rand) *person {
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	p := &person{
		t: t, idx: i, id: fmt.Sprintf("p-%s-%04d", t.id, i),
		name: first + " " + last, role: role[0], dept: role[1], typ: "human",
		joinDay: math.MinInt, leftDay: math.MaxInt, busy: map[int]bool{},
	}
	p.email = fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), i, t.domain)
	// Where they work: an office (most), or from home in another city.
	if len(t.remote) > 0 && r.IntN(100) < 18 {
		p.home = t.remote[r.IntN(len(t.remote))]
	} else {
		p.office = t.offices[r.IntN(len(t.offices))]
		p.home = p.office
	}
	p.zoneName = p.home.Zone
	p.zone, _ = event.LoadZone(p.zoneName)
	if p.zone == nil {
		p.zoneName, p.zone = t.spec.Zone, t.zone
	}
	h := uint32(t.idx*7919 + i*31)
	p.homeIP = p.home.residentialIP(h*13 + 7)
	if p.office != nil {
		p.officeIP = p.office.residentialIP(uint32(200 + t.idx))
	}
	p.phoneIP = p.home.residentialIP(h*17 + 3)
	// Working hours: most start between 07:30 and 09:30 and work eight to
	// nine hours; the calendar's hours cover them.
	p.startMin = max(t.from+15, 450+15*r.IntN(9))
	p.lenMin = 480 + 15*r.IntN(5)
	if p.startMin+p.lenMin > t.to-15 {
		p.startMin = t.to - 15 - p.lenMin
	}
	p.laptop = device{id: fmt.Sprintf("dev-%s-%04d-l", t.id, i), agent: laptopAgents[r.IntN(len(laptopAgents))], access: "web"}
	if r.IntN(100) < 55 {
		p.phone = &device{id: fmt.Sprintf("dev-%s-%04d-m", t.id, i), agent: phoneAgents[r.IntN(len(phoneAgents))], access: "mobile"}
	}
	// Accounts: the main CRM, and the second one for a share (admins and
	// marketing everywhere).
	sys := t.spec.Systems
	main := sys[0]
	if p.dept == "marketing" && contains(sys, "hubspot") {
		main = "hubspot"
	}
	p.accounts = append(p.accounts, w.newAccount(p, main, r))
	for _, s := range sys {
		if s == main {
			continue
		}
		if p.dept == "it" || p.dept == "marketing" || r.IntN(100) < 40 {
			p.accounts = append(p.accounts, w.newAccount(p, s, r))
		}
	}
	switch p.role {
	case "sales_manager", "executive":
		p.traveller = true
	case "sales_rep":
		p.traveller = r.IntN(100) < 30
	}
	if p.traveller {
		p.dests = travelDestinations(t, p, r)
	}
	return p
}

// travelDestinations are the cities a traveller visits: other offices, and
// customers abroad.
func travelDestinations(t *tenant, p *person, r *rand.Rand) []*Place {
	var out []*Place
	for _, o := range t.offices {
		if o != p.home && distanceKm(o, p.home) > 300 {
			out = append(out, o)
		}
	}
	abroad := map[string][]string{
		"US": {"London", "Toronto", "Mexico City", "Paris", "Tokyo"},
		"DE": {"London", "New York", "Madrid", "Milan", "Zurich", "Warsaw"},
		"JP": {"Seoul", "Singapore", "Hong Kong", "San Francisco"},
		"IL": {"London", "New York", "Paris", "Berlin"},
		"AU": {"Singapore", "Tokyo", "San Francisco", "Hong Kong"},
	}
	cands := abroad[p.home.Country]
	if cands == nil {
		cands = []string{"London", "New York", "Singapore"}
	}
	for _, k := range r.Perm(len(cands))[:1+r.IntN(min(3, len(cands)))] {
		if pl := placeByCity[cands[k]]; pl != nil && pl.Country != p.home.Country {
			out = append(out, pl)
		}
	}
	return out
}

func (w *world) newAccount(p *person, system string, r *rand.Rand) *account {
	a := &account{p: p, system: system, resolved: r.IntN(100) < 95}
	a.id = accountID(system, p.t.idx, p.idx, 0)
	return a
}

// accountID formats a user id the way each vendor does.
func accountID(system string, tenant, n, variant int) string {
	k := uint64(tenant)*1_000_003 + uint64(n)*7 + uint64(variant)*104_729 + 11
	switch system {
	case "salesforce":
		return "005" + base62(k*2_654_435_761, 12)
	case "hubspot":
		return strconv.FormatUint(10_000_000+k*37%89_999_999, 10)
	case "dynamics365":
		x := k * 0x9e3779b97f4a7c15
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(x>>32), uint16(x>>16), uint16(x)&0xfff, uint16(x>>40)&0xfff, x&0xffffffffffff)
	default:
		return "u-" + strconv.FormatUint(k, 10)
	}
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(x uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62Digits[x%62]
		x /= 62
	}
	return string(b)
}

// recordID is the id of customer record n of a type in a tenant's CRM.
func recordID(system, typ string, n int) string {
	switch system {
	case "salesforce":
		prefix := map[string]string{"contact": "003", "account": "001", "opportunity": "006", "lead": "00Q", "case": "500", "report": "00O", "app": "0Ho"}[typ]
		return prefix + base62(uint64(n)*2_654_435_761+uint64(len(typ)), 12)
	case "hubspot":
		return typ + "-" + strconv.Itoa(100_000+n)
	case "dynamics365":
		x := uint64(n)*0x9e3779b97f4a7c15 + uint64(len(typ))
		return fmt.Sprintf("%08x-%04x-4%03x-b%03x-%012x", uint32(x>>32), uint16(x>>16), uint16(x)&0xfff, uint16(x>>40)&0xfff, x&0xffffffffffff)
	default:
		return typ + "/" + strconv.Itoa(n)
	}
}

// localDate is day d (0 = the start date) at midnight in loc.
func (w *world) localDate(d int, loc *time.Location) time.Time {
	return time.Date(w.start.Year(), w.start.Month(), w.start.Day()+d, 0, 0, 0, 0, loc)
}

// workingDay says whether day d is a working day of the tenant in loc.
func (t *tenant) workingDay(date time.Time) bool {
	return t.days[date.Weekday()] && !t.holidays[date.Format(time.DateOnly)]
}

// onVacation says whether the person is away on day d.
func (p *person) onVacation(d int) bool {
	for _, v := range p.vacations {
		if d >= v[0] && d <= v[1] {
			return true
		}
	}
	return false
}

// vacationDays is the length of the absence day d falls in (0 if none).
func (p *person) vacationDays(d int) int {
	for _, v := range p.vacations {
		if d >= v[0] && d <= v[1] {
			return v[1] - v[0] + 1
		}
	}
	return 0
}

// employed says whether the person works for the tenant on day d.
func (p *person) employed(d int) bool { return d >= p.joinDay && d <= p.leftDay }

// tripAt returns the trip the person is on at ts (away or in the air), if
// any.
func (p *person) tripAt(ts time.Time) *trip {
	for _, tr := range p.trips {
		if !ts.Before(tr.depart) && ts.Before(tr.back) {
			return tr
		}
	}
	return nil
}
