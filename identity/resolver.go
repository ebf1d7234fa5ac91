package identity

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// SourceSystem is the source.system of the events the directory itself
// produces (joiners, leavers, moves); resolution leaves them as they are.
const SourceSystem = "directory"

// TargetPersonLabel is the label resolution writes the person behind
// target_user into: the contract's target_user has no person id field, and
// labels is where additional facts about an event belong.
const TargetPersonLabel = "target_user.person_id"

// Config configures resolution at ingest.
type Config struct {
	Directory        string        `yaml:"directory" doc:"Directory snapshot file (CSV, JSON or SCIM 2.0 Users export, docs/IDENTITY.md) the ingest roles resolve accounts to people with; reloaded when it changes, the previous one staying in force if the new one is invalid. Empty turns resolution off."`
	Format           string        `yaml:"format" doc:"Format of the directory file: csv, json or scim; empty chooses by the file (.csv is CSV, a JSON array JSON, a JSON object SCIM)."`
	EmailFallback    bool          `yaml:"email_fallback" doc:"When no system account matches, resolve by user.name as an e-mail address (addresses two people share never resolve)."`
	ReloadInterval   time.Duration `yaml:"reload_interval" doc:"How often the ingest roles check the directory file for changes."`
	UnresolvedMemory int           `yaml:"unresolved_memory" doc:"How many distinct unresolved accounts an ingest process remembers (with counts) for diagnosis; the rest are counted only."`
}

// DefaultConfig is resolution off, with the fallback and reload settings
// ready for when a directory is set.
func DefaultConfig() Config {
	return Config{EmailFallback: true, ReloadInterval: 10 * time.Second, UnresolvedMemory: 10000}
}

// Validate reports every problem of the identity section.
func (c Config) Validate() error {
	var errs []error
	if _, err := ParseFormat(c.Format); err != nil {
		errs = append(errs, fmt.Errorf("identity.format: %w", err))
	}
	if c.ReloadInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("identity.reload_interval: at least 100ms (%s)", c.ReloadInterval))
	}
	if c.UnresolvedMemory < 0 {
		errs = append(errs, fmt.Errorf("identity.unresolved_memory: must not be negative (%d)", c.UnresolvedMemory))
	}
	return errors.Join(errs...)
}

// UnresolvedAccount is an account events came from that the directory did
// not know.
type UnresolvedAccount struct {
	Tenant, System, ID string
	Name               string // the last user.name seen with it
	Events             int64
	First, Last        time.Time // event times
}

type unresolvedKey struct{ tenant, system, id string }

// maxSourceLabels bounds the source label of the unresolved counter:
// source.system is an open set, so past this many the rest count as other.
const maxSourceLabels = 64

// Resolver fills in who is behind the accounts of events, from the
// current Index. Swap replaces the index atomically: an event is resolved
// wholly against one snapshot, never half against two. It is safe for
// concurrent use.
type Resolver struct {
	cur           atomic.Pointer[Index]
	emailFallback bool

	unresolvedVec *prometheus.CounterVec
	byAccount     prometheus.Counter
	byEmail       prometheus.Counter

	mu         sync.Mutex
	counters   map[string]prometheus.Counter // source -> child of unresolvedVec
	unresolved map[unresolvedKey]*UnresolvedAccount
	limit      int
	forgotten  int64
}

// NewResolver returns a resolver with no index (every account unresolved)
// until Swap; its metrics go to reg (nil: unregistered).
func NewResolver(cfg Config, reg prometheus.Registerer) (*Resolver, error) {
	r := &Resolver{
		emailFallback: cfg.EmailFallback,
		counters:      map[string]prometheus.Counter{},
		unresolved:    map[unresolvedKey]*UnresolvedAccount{},
		limit:         cfg.UnresolvedMemory,
	}
	var err1, err2 error
	r.unresolvedVec, err1 = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_identity_unresolved_total",
		Help: "Accounts (acting user or target user) of events the directory did not resolve to a person, by source system; the events are published unresolved.",
	}, []string{"source"}))
	resolved, err2 := telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_identity_resolved_total",
		Help: "Accounts of events resolved to a person, by how: the system account id or the e-mail fallback.",
	}, []string{"by"}))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	r.byAccount, r.byEmail = resolved.WithLabelValues("account"), resolved.WithLabelValues("email")
	return r, nil
}

// Swap makes x the index later Resolve calls use and returns the previous.
func (r *Resolver) Swap(x *Index) *Index { return r.cur.Swap(x) }

// Index is the index in force (nil before the first Swap).
func (r *Resolver) Index() *Index { return r.cur.Load() }

// Resolve sets e's user.person_id and, where e has none, the directory's
// user.employee_id, role, department, timezone and type: first by the
// system account (source.system, user.id), then, if configured, by
// user.name as an e-mail address. The person behind target_user goes to
// the label TargetPersonLabel. What the directory does not know is counted
// and remembered, and e goes on unresolved.
func (r *Resolver) Resolve(e *event.Event) {
	if e.Source.System == SourceSystem {
		return
	}
	x := r.cur.Load()
	if x == nil {
		r.miss(e, e.User.ID, e.User.Name)
		return
	}
	if i, ok := r.lookup(x, e.Source.System, e.User.ID, e.User.Name); ok {
		a := &x.people[i]
		u := &e.User
		u.PersonID = a.personID
		fill(&u.EmployeeID, a.employeeID)
		fill(&u.Role, a.role)
		fill(&u.Department, a.department)
		fill(&u.Timezone, a.timezone)
		fill(&u.Type, a.userType)
	} else {
		r.miss(e, e.User.ID, e.User.Name)
	}
	if t := &e.TargetUser; t.ID != "" || t.Name != "" {
		if i, ok := r.lookup(x, e.Source.System, t.ID, t.Name); ok {
			if e.Labels == nil {
				e.Labels = make(map[string]string, 1)
			}
			if _, has := e.Labels[TargetPersonLabel]; has || len(e.Labels) < event.DefaultMaxLabels {
				e.Labels[TargetPersonLabel] = x.people[i].personID
			}
		} else {
			r.miss(e, t.ID, t.Name)
		}
	}
}

func (r *Resolver) lookup(x *Index, system, id, name string) (int32, bool) {
	if id != "" {
		if i, ok := x.byAccount(system, id); ok {
			r.byAccount.Inc()
			return i, true
		}
	}
	if r.emailFallback && name != "" {
		if i, ok := x.byEmail(name); ok {
			r.byEmail.Inc()
			return i, true
		}
	}
	return 0, false
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// miss counts and remembers an account the directory did not know.
func (r *Resolver) miss(e *event.Event, id, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.counters[e.Source.System]
	if !ok {
		label := e.Source.System
		if len(r.counters) >= maxSourceLabels {
			label = "other"
		}
		c = r.unresolvedVec.WithLabelValues(label)
		if label != "other" {
			r.counters[strings.Clone(label)] = c
		}
	}
	c.Inc()
	k := unresolvedKey{e.Tenant, e.Source.System, id}
	if u, ok := r.unresolved[k]; ok {
		u.Events++
		u.First = minTime(u.First, e.Timestamp)
		u.Last = maxTime(u.Last, e.Timestamp)
		if name != "" && name != u.Name {
			u.Name = strings.Clone(name)
		}
		return
	}
	if len(r.unresolved) >= r.limit {
		r.forgotten++
		return
	}
	// Clone: a decoded event's strings share memory with its whole input.
	k = unresolvedKey{strings.Clone(k.tenant), strings.Clone(k.system), strings.Clone(k.id)}
	r.unresolved[k] = &UnresolvedAccount{Tenant: k.tenant, System: k.system, ID: k.id,
		Name: strings.Clone(name), Events: 1, First: e.Timestamp, Last: e.Timestamp}
}

// Unresolved lists the unresolved accounts remembered, most events first,
// and how many accounts were past the memory's bound.
func (r *Resolver) Unresolved() ([]UnresolvedAccount, int64) {
	r.mu.Lock()
	out := make([]UnresolvedAccount, 0, len(r.unresolved))
	for _, u := range r.unresolved {
		out = append(out, *u)
	}
	forgotten := r.forgotten
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b UnresolvedAccount) int {
		if c := cmp.Compare(b.Events, a.Events); c != 0 {
			return c
		}
		return cmp.Compare(a.System+"\x00"+a.ID, b.System+"\x00"+b.ID)
	})
	return out, forgotten
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
