package respond

import (
	"sort"
	"sync"
	"time"
)

// Breakers are the per-tenant circuit breakers on automatic account
// actions. Each counts the distinct actions it admitted within a sliding
// window; one more than the limit opens it. While open, every account
// action of the tenant waits for approval; it closes once a whole window
// passes without an attempt, so a flood that keeps coming keeps it open.
// Time is always passed in, never read, so replays and tests are exact.
type Breakers struct {
	limit func(tenant string) Breaker

	mu      sync.Mutex
	tenants map[string]*breaker
}

type breaker struct {
	admitted   []admission // by time
	ids        map[string]bool
	open       bool
	lastDenied time.Time
}

type admission struct {
	id string
	at time.Time
}

// NewBreakers returns breakers whose limits come from limit.
func NewBreakers(limit func(tenant string) Breaker) *Breakers {
	return &Breakers{limit: limit, tenants: map[string]*breaker{}}
}

func (b *Breakers) get(tenant string) *breaker {
	t := b.tenants[tenant]
	if t == nil {
		t = &breaker{ids: map[string]bool{}}
		b.tenants[tenant] = t
	}
	return t
}

// prune forgets admissions that left the window ending at now.
func (t *breaker) prune(now time.Time, window time.Duration) {
	cut := 0
	for cut < len(t.admitted) && !t.admitted[cut].at.After(now.Add(-window)) {
		delete(t.ids, t.admitted[cut].id)
		cut++
	}
	t.admitted = t.admitted[cut:]
}

// Admit asks whether the automatic account action id of tenant may run at
// now. The same id is admitted once and counted once, however often it is
// asked. When it may not, tripped reports whether this very call opened
// the breaker (page once).
func (b *Breakers) Admit(tenant, id string, now time.Time) (ok, tripped bool) {
	lim := b.limit(tenant)
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.get(tenant)
	t.prune(now, lim.Window)
	if t.open {
		if now.Sub(t.lastDenied) < lim.Window {
			t.lastDenied = now
			return false, false
		}
		t.open = false
	}
	if t.ids[id] {
		return true, false
	}
	if len(t.admitted) >= lim.MaxActions {
		t.open, t.lastDenied = true, now
		return false, true
	}
	t.insert(id, now)
	return true, false
}

// Note counts an automatic account action seen in the history (an
// executing record) without deciding anything: a restarted responder
// rebuilds its windows from the topic this way.
func (b *Breakers) Note(tenant, id string, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.get(tenant)
	if !t.ids[id] {
		t.insert(id, at)
	}
}

func (t *breaker) insert(id string, at time.Time) {
	i := sort.Search(len(t.admitted), func(i int) bool { return t.admitted[i].at.After(at) })
	t.admitted = append(t.admitted, admission{})
	copy(t.admitted[i+1:], t.admitted[i:])
	t.admitted[i] = admission{id: id, at: at}
	t.ids[id] = true
}

// Open reports whether tenant's breaker is open at now.
func (b *Breakers) Open(tenant string, now time.Time) bool {
	lim := b.limit(tenant)
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tenants[tenant]
	return t != nil && t.open && now.Sub(t.lastDenied) < lim.Window
}

// Reset closes tenant's breaker and forgets its window (an operator's
// decision after looking at the flood).
func (b *Breakers) Reset(tenant string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tenants, tenant)
}
