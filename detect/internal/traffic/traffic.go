// Package traffic generates realistic, deterministic multi-tenant CRM
// activity for the detector's benchmarks and determinism tests: tenants in
// several time zones, people with roles, home locations and accounts in
// several CRMs, integration accounts with nightly syncs, a small share of
// out-of-order events, and attack episodes mixed in so rules fire.
package traffic

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Config shapes the traffic.
type Config struct {
	Seed       uint64
	Tenants    int           // default 20
	Accounts   int           // accounts across all tenants; default 20,000
	Start      time.Time     // event time of the first event; default 2026-03-02T00:00Z
	Rate       float64       // events per second of event time; default 2,000
	OutOfOrder float64       // share of events that arrive up to MaxDelay late; default 0.01
	MaxDelay   time.Duration // default 30s
	AttackRate float64       // share of events that start an attack episode; default 0.0005
}

func (c *Config) defaults() {
	if c.Tenants <= 0 {
		c.Tenants = 20
	}
	if c.Accounts <= 0 {
		c.Accounts = 20_000
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	}
	if c.Rate <= 0 {
		c.Rate = 2000
	}
	if c.OutOfOrder == 0 {
		c.OutOfOrder = 0.01
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 30 * time.Second
	}
	if c.AttackRate == 0 {
		c.AttackRate = 0.0005
	}
}

type place struct {
	country, city string
	lat, lon      float64
	ipPrefix      string
}

var places = []place{
	{"US", "New York", 40.71, -74.01, "198.51.100."}, {"US", "Boston", 42.36, -71.06, "198.51.101."},
	{"GB", "London", 51.51, -0.13, "81.2.69."}, {"DE", "Berlin", 52.52, 13.40, "85.214.1."},
	{"FR", "Paris", 48.86, 2.35, "90.84.2."}, {"JP", "Tokyo", 35.68, 139.69, "126.0.3."},
	{"BR", "São Paulo", -23.55, -46.63, "177.1.4."}, {"IN", "Bengaluru", 12.97, 77.59, "49.36.5."},
	{"AU", "Sydney", -33.87, 151.21, "1.128.6."}, {"CA", "Toronto", 43.65, -79.38, "99.224.7."},
}

var attackPlaces = []place{
	{"RU", "Moscow", 55.76, 37.62, "95.31.8."}, {"NG", "Lagos", 6.52, 3.38, "102.89.9."},
	{"CN", "Shenzhen", 22.54, 114.06, "113.90.10."}, {"RO", "Bucharest", 44.43, 26.10, "86.120.11."},
	{"VN", "Hanoi", 21.03, 105.85, "113.160.12."},
}

var zones = []string{"America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Sydney", "America/Toronto"}

type account struct {
	tenant, id, name, person, role, typ, tz, system string
	home                                            place
	lastTravel                                      int
}

type pending struct {
	ev  event.Event
	due int // emit when this many events have been generated
}

// Generator produces events one at a time.
type Generator struct {
	cfg      Config
	rng      *rand.Rand
	accounts []account
	n        int
	pend     []pending
	step     time.Duration
	n2id     int
}

// New makes a generator.
func New(cfg Config) *Generator {
	cfg.defaults()
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	g.step = time.Duration(float64(time.Second) / cfg.Rate)
	systems := []string{"salesforce", "hubspot", "dynamics365"}
	roles := []string{"sales_rep", "sales_rep", "sales_rep", "sales_manager", "support_agent", "support_agent", "marketing", "crm_admin"}
	g.accounts = make([]account, cfg.Accounts)
	for i := range g.accounts {
		t := i % cfg.Tenants
		a := account{
			tenant: fmt.Sprintf("tenant%02d", t),
			id:     "005" + strconv.FormatInt(int64(1_000_000+i), 36),
			system: systems[g.rng.IntN(len(systems))],
			home:   places[(t+g.rng.IntN(2))%len(places)],
			tz:     zones[t%len(zones)],
		}
		a.name = fmt.Sprintf("user%d@%s.example", i, a.tenant)
		switch r := g.rng.IntN(100); {
		case r < 2:
			a.role, a.typ = "integration", "integration"
		default:
			a.role, a.typ = roles[g.rng.IntN(len(roles))], "human"
			if g.rng.IntN(10) < 8 {
				a.person = fmt.Sprintf("p-%s-%d", a.tenant, i/2)
			}
		}
		g.accounts[i] = a
	}
	return g
}

func (g *Generator) now() time.Time { return g.cfg.Start.Add(time.Duration(g.n) * g.step) }

// Next fills e with the next event (e is overwritten).
func (g *Generator) Next(e *event.Event) {
	g.n++
	for i := range g.pend {
		if g.pend[i].due <= g.n {
			*e = g.pend[i].ev
			g.pend = append(g.pend[:i], g.pend[i+1:]...)
			return
		}
	}
	if g.rng.Float64() < g.cfg.AttackRate {
		g.startAttack()
	}
	a := &g.accounts[g.pickAccount()]
	g.fill(e, a, g.now())
	if g.rng.Float64() < g.cfg.OutOfOrder {
		e.Timestamp = e.Timestamp.Add(-time.Duration(g.rng.Int64N(int64(g.cfg.MaxDelay))))
	}
}

// pickAccount skews activity: a fifth of the accounts make most events.
func (g *Generator) pickAccount() int {
	n := len(g.accounts)
	if g.rng.IntN(10) < 7 {
		return g.rng.IntN(max(1, n/5))
	}
	return g.rng.IntN(n)
}

func (g *Generator) base(e *event.Event, a *account, ts time.Time) {
	g.n2id++
	*e = event.Event{
		ID:        "ev-" + strconv.FormatUint(g.cfg.Seed, 36) + "-" + strconv.Itoa(g.n2id),
		Timestamp: ts,
		Tenant:    a.tenant,
		Source:    event.Source{System: a.system, Collector: "gen"},
		Event:     event.Activity{Outcome: "success"},
		User:      event.User{ID: a.id, Name: a.name, PersonID: a.person, Role: a.role, Type: a.typ, Timezone: a.tz},
		Client: event.Client{IP: a.home.ipPrefix + strconv.Itoa(1+len(a.id)%200), UserAgent: "Mozilla/5.0", AccessMethod: "web",
			Geo: event.Geo{Country: a.home.country, City: a.home.city, Lat: a.home.lat, Lon: a.home.lon, HasCoords: true}},
	}
}

func (g *Generator) fill(e *event.Event, a *account, ts time.Time) {
	g.base(e, a, ts)
	r := g.rng.IntN(1000)
	obj := func(typ string) {
		e.Object = event.Object{Type: typ, ID: typ[:3] + strconv.Itoa(g.rng.IntN(50_000))}
	}
	switch {
	case r < 350:
		e.Event.Category, e.Event.Action = "data_access", "view"
		obj([]string{"contact", "account", "case", "opportunity"}[g.rng.IntN(4)])
	case r < 430:
		e.Event.Category, e.Event.Action = "data_access", []string{"search", "report_run"}[g.rng.IntN(2)]
		obj("report")
	case r < 580:
		e.Event.Category, e.Event.Action = "authentication", "login"
		if g.rng.IntN(2000) == 0 {
			p := places[g.rng.IntN(len(places))]
			e.Client.Geo = event.Geo{Country: p.country, City: p.city, Lat: p.lat, Lon: p.lon, HasCoords: true}
			e.Client.IP = p.ipPrefix + "77"
		}
	case r < 610:
		e.Event.Category, e.Event.Action, e.Event.Outcome, e.Event.Reason = "authentication", "login", "failure", "bad_password"
	case r < 630:
		e.Event.Category, e.Event.Action = "session", "logout"
	case r < 830:
		e.Event.Category, e.Event.Action = "data_change", "update"
		obj("contact")
		field := []string{"Phone", "Title", "StageName", "Amount", "Description"}[g.rng.IntN(5)]
		if g.rng.IntN(20) == 0 {
			field = "MailingStreet"
		}
		e.Changes = []event.Change{{Field: field, Old: "a", New: "b"}}
	case r < 860:
		e.Event.Category, e.Event.Action = "data_change", "create"
		obj("lead")
	case r < 870:
		e.Event.Category, e.Event.Action = "data_change", "delete"
		obj("lead")
	case r < 900:
		e.Event.Category, e.Event.Action = "export", "export"
		e.Records, e.HasRecords = int64(1+g.rng.IntN(500)), true
		if a.typ == "integration" {
			e.Records = int64(10_000 + g.rng.IntN(100_000))
			e.Client.AccessMethod = "bulk_api"
		}
		obj("report")
	case r < 910:
		e.Event.Category, e.Event.Action = "permission", "grant"
		t := &g.accounts[g.rng.IntN(len(g.accounts))]
		e.TargetUser = event.TargetUser{ID: t.id, Name: t.name}
		e.Permission = event.Permission{Name: []string{"sales_rep", "support_agent", "report_viewer"}[g.rng.IntN(3)]}
	case r < 915:
		e.Event.Category, e.Event.Action = "configuration", "config_change"
		e.Changes = []event.Change{{Field: "SessionTimeout", Old: "2h", New: "4h"}}
	case r < 918:
		e.Event.Category, e.Event.Action = "integration", "app_connect"
		e.Object = event.Object{Type: "app", Name: "Calendar Helper"}
		e.Permission = event.Permission{Scope: "calendar.read"}
		e.User.Role = "crm_admin"
	case r < 920:
		e.Event.Category, e.Event.Action = "authentication", "mfa_enable"
	default:
		e.Event.Category, e.Event.Action = "data_access", "view"
		obj("case")
	}
}

// startAttack queues an attack episode's events over the next few hundred
// events (a few minutes of event time at the default rate).
func (g *Generator) startAttack() {
	a := &g.accounts[g.rng.IntN(len(g.accounts))]
	if a.typ == "integration" {
		return
	}
	ts := g.now()
	at := func(k int, d time.Duration) (int, time.Time) { return g.n + k, ts.Add(d) }
	push := func(k int, d time.Duration, mod func(*event.Event)) {
		due, t := at(k, d)
		var e event.Event
		g.base(&e, a, t)
		mod(&e)
		g.pend = append(g.pend, pending{ev: e, due: due})
	}
	bad := func(e *event.Event, p place) {
		e.Client.IP = p.ipPrefix + strconv.Itoa(2+g.rng.IntN(250))
		e.Client.Geo = event.Geo{Country: p.country, City: p.city, Lat: p.lat, Lon: p.lon, HasCoords: true}
		e.Client.UserAgent = "python-requests/2.31"
	}
	gap := time.Duration(float64(g.step) * 20)
	switch g.rng.IntN(7) {
	case 0: // stuffing from several countries, then a success
		for k := 0; k < 9; k++ {
			p := attackPlaces[k%len(attackPlaces)]
			push(20*k+1, time.Duration(k)*gap, func(e *event.Event) {
				e.Event.Category, e.Event.Action, e.Event.Outcome = "authentication", "login", "failure"
				bad(e, p)
			})
		}
		push(200, 10*gap, func(e *event.Event) {
			e.Event.Category, e.Event.Action = "authentication", "login"
			bad(e, attackPlaces[0])
		})
	case 1: // impossible travel
		push(1, 0, func(e *event.Event) { e.Event.Category, e.Event.Action = "authentication", "login" })
		push(50, 3*gap, func(e *event.Event) {
			e.Event.Category, e.Event.Action = "authentication", "login"
			bad(e, attackPlaces[1+g.rng.IntN(4)])
		})
	case 2: // MFA off, then an export
		push(1, 0, func(e *event.Event) { e.Event.Category, e.Event.Action = "authentication", "mfa_disable" })
		push(100, 5*gap, func(e *event.Event) {
			e.Event.Category, e.Event.Action = "export", "export"
			e.Records, e.HasRecords = 5000, true
		})
	case 3: // scraping
		for k := 0; k < 220; k++ {
			push(k+1, time.Duration(k)*g.step, func(e *event.Event) {
				e.Event.Category, e.Event.Action = "data_access", "view"
				e.Object = event.Object{Type: "contact", ID: "con-scrape-" + strconv.Itoa(k)}
				e.Client.UserAgent = "python-requests/2.31"
			})
		}
	case 4: // mass deletion
		push(1, 0, func(e *event.Event) {
			e.Event.Category, e.Event.Action = "data_change", "delete"
			e.Records, e.HasRecords = 400, true
			e.Object.Type = "account"
		})
	case 5: // self grant
		push(1, 0, func(e *event.Event) {
			e.Event.Category, e.Event.Action = "permission", "grant"
			e.TargetUser = event.TargetUser{ID: a.id, Name: a.name}
			e.Permission = event.Permission{Name: "Modify_All_Data"}
		})
	case 6: // address and bank changes on one record
		rec := "con-target-" + strconv.Itoa(g.rng.IntN(1000))
		for k, f := range []string{"MailingStreet", "IBAN", "Email"} {
			push(10*k+1, time.Duration(k)*gap, func(e *event.Event) {
				e.Event.Category, e.Event.Action = "data_change", "update"
				e.Object = event.Object{Type: "contact", ID: rec}
				e.Changes = []event.Change{{Field: f, Old: "x", New: "y"}}
			})
		}
	}
}

// Kind is a kind of ordinary activity, for Activity.
type Kind int

// The kinds Activity makes.
const (
	Login Kind = iota
	View
	Update
)

// Activity fills e with one ordinary event of account i (a successful
// login from home, a record view, an edit), at the generator's next event
// time. Benchmarks use it to make every account active.
func (g *Generator) Activity(e *event.Event, i int, k Kind) {
	g.n++
	a := &g.accounts[i%len(g.accounts)]
	g.base(e, a, g.now())
	switch k {
	case Login:
		e.Event.Category, e.Event.Action = "authentication", "login"
	case View:
		e.Event.Category, e.Event.Action = "data_access", "view"
		e.Object = event.Object{Type: "contact", ID: "con" + strconv.Itoa(g.rng.IntN(50_000))}
	case Update:
		e.Event.Category, e.Event.Action = "data_change", "update"
		e.Object = event.Object{Type: "contact", ID: "con" + strconv.Itoa(g.rng.IntN(50_000))}
		e.Changes = []event.Change{{Field: "Phone", Old: "a", New: "b"}}
	}
}
