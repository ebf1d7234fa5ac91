package simulate

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Simulation is a planned world, ready to run.
type Simulation struct {
	w *world
}

// New validates the configuration, builds the world and plans it.
func New(cfg Config) (*Simulation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w, err := buildWorld(cfg)
	if err != nil {
		return nil, err
	}
	return &Simulation{w: w}, nil
}

// Stats count what a run produced.
type Stats struct {
	Events   int
	Labels   int
	ByKind   map[string]int // labelled episodes per kind
	Skipped  []string       // planned kinds no subject fitted (live mode)
	Tenants  int
	People   int
	From, To time.Time // event times of the first and last event
}

// Run generates the simulation, calling emit for every event in event-time
// order (ties by id) and label for every episode once all its events have
// been generated. Every event is checked against the contract first; one
// that fails is a bug in the simulator and stops the run with an error.
// Run stops early when ctx ends or emit or label fails.
func (s *Simulation) Run(ctx context.Context, emit func(*event.Event) error, label func(*Label) error) (Stats, error) {
	w := s.w
	st := Stats{ByKind: map[string]int{}, Tenants: len(w.tenants)}
	for _, t := range w.tenants {
		for _, p := range t.people {
			if p.leftDay == math.MaxInt && p.joinDay == math.MinInt {
				st.People++
			}
		}
	}
	planned := map[string]bool{}
	for _, ep := range w.episodes {
		planned[ep.kind.name] = true
	}
	for _, k := range kinds {
		asked := len(w.cfg.Kinds) == 0 || contains(w.cfg.Kinds, k.name)
		if !k.auto && asked && !planned[k.name] && !(w.cfg.Live && k.name == "travel") {
			st.Skipped = append(st.Skipped, k.name)
		}
	}
	opts := event.Options{ResolveTimezone: true}
	var buf []pending
	var last time.Time
	add := func(evs []*event.Event) {
		for _, e := range evs {
			buf = append(buf, pending{e: e, at: w.deliveredAt(e)})
		}
	}
	out := func(upTo time.Time, all bool) error {
		sortPending(buf)
		n := 0
		for _, pe := range buf {
			e := pe.e
			if !all && !pe.at.Before(upTo) {
				break
			}
			if pe.at.Before(last) {
				return fmt.Errorf("simulate: internal error: event %s at %s generated after %s was sent", e.ID, e.Timestamp.Format(timeFormat), last.Format(timeFormat))
			}
			last = pe.at
			o := opts
			o.Now = e.Timestamp
			if w.cfg.Live {
				o.Now = time.Time{} // the wall clock: ingest will check the same
				o.MaxFuture = 24 * time.Hour
			}
			if err := event.Validate(e, o); err != nil {
				return fmt.Errorf("simulate: internal error: event %s breaks the contract: %w", e.ID, err)
			}
			if err := emit(e); err != nil {
				return err
			}
			if st.Events == 0 {
				st.From = e.Timestamp
			}
			st.To = e.Timestamp
			st.Events++
			n++
		}
		buf = append(buf[:0], buf[n:]...)
		return nil
	}
	writeLabel := func(ep *episode) error {
		if ep.written || len(ep.events) == 0 {
			return nil
		}
		ep.written = true
		st.Labels++
		st.ByKind[ep.kind.name]++
		return label(ep.label())
	}
	byDay := map[int][]*episode{}
	for _, ep := range w.episodes {
		byDay[ep.day] = append(byDay[ep.day], ep)
	}
	// Live episodes in zones ahead of UTC may fall on the next local day.
	lastDay := w.days
	for _, ep := range w.episodes {
		lastDay = max(lastDay, ep.day+1)
	}
	for d := -w.histDays - 1; w.days == 0 || d < lastDay; d++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var done []*episode
		for _, t := range w.tenants {
			for _, p := range t.people {
				add(w.personDay(p, d))
			}
			for _, it := range t.integ {
				evs, eps := w.integrationDay(it, d)
				add(evs)
				done = append(done, eps...)
			}
		}
		for _, ep := range byDay[d] {
			r := w.stream("episode", ep.id)
			g := w.newGen(ep.t, ep.id[len(ep.t.id)+1:], r)
			g.fast = ep.fast
			ep.kind.gen(g, ep)
			add(ep.take(g))
			if ep.trip == nil {
				// complete now: label it before its events leave, so a
				// live run stopped at any point has the labels of what
				// it sent
				done = append(done, ep)
			}
		}
		for _, ep := range w.episodes {
			if ep.doneDay <= d {
				done = append(done, ep)
			}
		}
		sort.SliceStable(done, func(i, j int) bool { return done[i].id < done[j].id })
		for _, ep := range done {
			if err := writeLabel(ep); err != nil {
				return st, err
			}
		}
		// Nothing generated for a later day starts before its local
		// midnight, which is at the earliest 14 hours before UTC's.
		if err := out(w.start.AddDate(0, 0, d+1).Add(-16*time.Hour), false); err != nil {
			return st, err
		}
	}
	if err := out(time.Time{}, true); err != nil {
		return st, err
	}
	for _, ep := range w.episodes {
		if err := writeLabel(ep); err != nil {
			return st, err
		}
	}
	return st, nil
}

// pending is an event waiting to leave, and when it leaves: its own time,
// or, for the share that arrives late, a little after.
type pending struct {
	e  *event.Event
	at time.Time
}

func sortPending(ps []pending) {
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].at.Equal(ps[j].at) {
			return ps[i].at.Before(ps[j].at)
		}
		return ps[i].e.ID < ps[j].e.ID
	})
}

// deliveredAt is when an event reaches the pipeline, in event time: most
// arrive in order; a share (Config.Disorder) arrives up to
// Config.MaxDelay after events that happened later, as collectors that
// batch or retry deliver them. Decided by the event id, so it is the same
// for a seed.
func (w *world) deliveredAt(e *event.Event) time.Time {
	if w.cfg.Disorder <= 0 || w.cfg.MaxDelay <= 0 {
		return e.Timestamp
	}
	h := fnv.New64a()
	h.Write([]byte(e.ID))
	x := h.Sum64()
	if float64(x%1_000_000) >= w.cfg.Disorder*1_000_000 {
		return e.Timestamp
	}
	return e.Timestamp.Add(time.Duration((x>>20)%uint64(w.cfg.MaxDelay/time.Millisecond)+1) * time.Millisecond)
}

// thin says whether local day d of loc lies wholly before the main period:
// such days keep only logins.
func (w *world) thin(d int, loc *time.Location) bool {
	return !w.localDate(d+1, loc).After(w.cfg.Start)
}
