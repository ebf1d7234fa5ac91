package runner

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// partition runs one claim: recover the state, then fetch → evaluate →
// hand the outputs to the emitter → commit what is acknowledged, with
// snapshots at commit points, until the claim is revoked.
type partition struct {
	r      *Runner
	c      *kafka.Claim
	isMain bool
	log    zerolog.Logger
	ps     *partState
	em     *emitter

	// emitFrom is the first offset whose outputs are emitted: the messages
	// before the committed offset already had theirs acknowledged, so
	// re-processing them only rebuilds state.
	emitFrom  int64
	committed int64
	nextStats time.Time
	nextSnap  time.Time
	forceSnap bool
	// tainted: handling a message failed part-way, so the state may hold
	// a message whose outputs never reached the emitter (or miss one that
	// ps.next counts). Such a state is neither kept nor snapshotted.
	tainted bool
	// counting: the first live message was handled, and each unit's rule
	// counters are exported as increments from the baseline taken then
	// (what replay re-counts, or a restored shard carries, was counted by
	// an earlier owner).
	counting   bool
	lastSnap   int64 // position of the last snapshot taken (or restored)
	snapping   atomic.Bool
	snapDone   chan struct{} // closed when the snapshot in flight ends
	snapMu     sync.Mutex
	prevSnap   *manifest // the latest snapshot written or restored
	commitLag  prometheus.Gauge
	ev         event.Event
	outs       []detect.Output
	msgs       []kafka.Message
	opts       event.Options
	rekeyTopic string
	counters   map[string]*streamCounters
	// probes test the filters of the re-keyed streams of probeSet, one
	// shard per signature in set.sigs order (see handleEvent).
	probes   []*detect.Shard
	probeSet *Set
}

func newPartition(r *Runner, c *kafka.Claim) *partition {
	p := &partition{
		r: r, c: c, isMain: c.Topic() == r.kcfg.Topics.Activity.Name,
		log:        r.log.With().Str("partition", partKey(c.Topic(), c.Partition())).Logger(),
		committed:  c.Committed(),
		lastSnap:   -1,
		opts:       event.Options{MaxFuture: r.cfg.MaxFuture, ResolveTimezone: true},
		rekeyTopic: r.kcfg.Topics.Rekeyed.Name,
		commitLag:  r.m.commitLag.WithLabelValues(c.Topic(), strconv.Itoa(c.Partition())),
	}
	return p
}

func (p *partition) run(ctx context.Context) error {
	defer p.r.m.commitLag.DeleteLabelValues(p.c.Topic(), strconv.Itoa(p.c.Partition()))
	if err := p.recover(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// The emitter and snapshots outlive ctx by the shutdown's flush.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	p.em = newEmitter(p.r.prod, p.ps.next, p.r.cfg.MaxPending, p.r.m, p.log)
	go p.em.run(bg)

	now := time.Now()
	p.nextStats = now
	p.nextSnap = now.Add(p.r.cfg.SnapshotInterval)
	err := p.loop(ctx, bg)
	p.shutdown(ctx, bg, cancel)
	return err
}

// loop processes messages until ctx ends, doing the periodic work every
// commit_interval (Fetch waits with that deadline, so an idle partition
// still commits and snapshots).
func (p *partition) loop(ctx, bg context.Context) error {
	for {
		wake, cancel := context.WithTimeout(ctx, p.r.cfg.CommitInterval)
		err := p.until(ctx, wake)
		cancel()
		if err != nil || ctx.Err() != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		p.timed(bg)
	}
}

// until processes messages until wake ends.
func (p *partition) until(ctx, wake context.Context) error {
	for wake.Err() == nil {
		m, err := p.c.Fetch(wake)
		if err != nil {
			return nil
		}
		if err := p.handle(ctx, &m); err != nil {
			return err
		}
	}
	return nil
}

// handle processes one message.
func (p *partition) handle(ctx context.Context, m *kafka.Message) error {
	if set := p.r.set.Load(); set != p.ps.set {
		p.switchRules(set)
	}
	start := time.Now()
	live := m.Offset >= p.emitFrom
	if live && !p.counting {
		p.counting = true
		for _, u := range p.ps.units {
			u.count.base(u.sh.Counters())
		}
	}
	msgs := p.msgs[:0]
	var err error
	if p.isMain {
		msgs, err = p.handleEvent(ctx, m, live, msgs)
	} else {
		msgs, err = p.handleCopy(ctx, m, live, msgs)
	}
	if err != nil {
		p.tainted = true
		return err
	}
	p.ps.next = m.Offset + 1
	p.r.m.process.Observe(time.Since(start).Seconds())
	// The state holds the message now: its outputs are handed in even if
	// ctx ended meanwhile (add does not drop them), or the state is
	// tainted.
	err = p.em.add(ctx, msgs, p.ps.next)
	if err != nil {
		p.tainted = true
	}
	clear(msgs)
	p.msgs = msgs[:0]
	return err
}

func (p *partition) handleEvent(ctx context.Context, m *kafka.Message, live bool, msgs []kafka.Message) ([]kafka.Message, error) {
	u := p.ps.units[""]
	// The event's strings borrow m.Value's bytes (no copy): nothing
	// modifies a fetched message's value, and Process copies what it
	// keeps, so nothing points into m after this message.
	if err := event.DecodeIntoNoCopy(&p.ev, m.Value, p.opts); err != nil {
		return msgs, p.reject(ctx, m, live, "main", err.Error())
	}
	p.countEvent("main", live)
	p.outs = u.sh.Process(&p.ev, p.outs[:0])
	if !live {
		return msgs, nil
	}
	msgs, err := p.emit(ctx, m, "main", msgs)
	if err != nil {
		return msgs, err
	}
	set := p.ps.set
	if len(set.sigs) == 0 {
		return msgs, nil
	}
	if p.probeSet != set {
		// A shard per re-keyed stream, only to test filters (Matches
		// keeps no state): an event goes to a re-keyed stream only when
		// one of its rules' filters takes it, not whenever its routing
		// admits it (the shipped pack: 30,000 copies per 200,000 events
		// instead of 71,000).
		p.probes = p.probes[:0]
		for _, sig := range set.sigs {
			p.probes = append(p.probes, set.Rekeyed[sig].eng.NewShard())
		}
		p.probeSet = set
	}
	floor := p.em.acked.Load()
	for i, sig := range set.sigs {
		st := set.Rekeyed[sig]
		if p.probes[i].Matches(&p.ev) {
			msgs = append(msgs, copyOf(p.rekeyTopic, st, st.copyKey(nil, &p.ev), m, floor))
			p.r.m.rekeyed.Inc()
		}
	}
	return msgs, nil
}

func (p *partition) handleCopy(ctx context.Context, m *kafka.Message, live bool, msgs []kafka.Message) ([]kafka.Message, error) {
	ci, err := parseCopy(m)
	if err != nil {
		return msgs, p.reject(ctx, m, live, "rekeyed", err.Error())
	}
	st := p.ps.set.Rekeyed[ci.sig]
	if st == nil {
		p.r.m.unknownSig.Inc()
		return msgs, nil
	}
	u := p.ps.units[ci.sig]
	if u == nil {
		u = &unit{sig: ci.sig, st: st, sh: st.eng.NewShard()}
		if p.counting {
			u.count.base(u.sh.Counters())
		}
		p.ps.units[ci.sig] = u
	}
	if !u.dedup.admit(ci) {
		p.r.m.duplicates.Inc()
		return msgs, nil
	}
	if err := event.DecodeIntoNoCopy(&p.ev, m.Value, p.opts); err != nil { // see handleEvent
		return msgs, p.reject(ctx, m, live, streamLabel(ci.sig), err.Error())
	}
	p.countEvent(streamLabel(ci.sig), live)
	p.outs = u.sh.Process(&p.ev, p.outs[:0])
	if !live {
		return msgs, nil
	}
	return p.emit(ctx, m, streamLabel(ci.sig), msgs)
}

// countEvent counts an event processed. The counters are looked up once
// per stream and partition: a label lookup per event costs more than the
// increment.
func (p *partition) countEvent(stream string, live bool) {
	c := p.counters[stream]
	if c == nil {
		c = &streamCounters{
			live:     p.r.m.events.WithLabelValues(stream, "live"),
			replay:   p.r.m.events.WithLabelValues(stream, "replay"),
			replayed: p.r.m.replayed.WithLabelValues(stream),
		}
		if p.counters == nil {
			p.counters = map[string]*streamCounters{}
		}
		p.counters[stream] = c
	}
	if live {
		c.live.Inc()
		return
	}
	c.replay.Inc()
	c.replayed.Inc()
}

type streamCounters struct {
	live, replay, replayed prometheus.Counter
}

// emit encodes p.outs, the outputs of m, onto msgs.
func (p *partition) emit(ctx context.Context, m *kafka.Message, stream string, msgs []kafka.Message) ([]kafka.Message, error) {
	for i, o := range p.outs {
		var enc encoded
		var err error
		switch o.Kind {
		case detect.OutputAlert:
			enc, err = p.r.enc.encodeAlert(o.Alert)
			p.r.m.alerts.WithLabelValues(o.Alert.Rule.ID).Inc()
			p.r.m.alertLatency.Observe(o.Alert.DetectedAt.Sub(m.Time).Seconds())
		case detect.OutputAction:
			enc, err = p.r.enc.encodeAction(o.Action)
			p.r.m.actions.WithLabelValues(outputRule(p.outs, i), o.Action.Type).Inc()
		case detect.OutputLate:
			p.r.m.late.WithLabelValues(stream).Inc()
			for _, rule := range o.Late.Rules {
				p.r.m.lateRule.WithLabelValues(rule).Inc()
			}
			p.log.Debug().Str("event", o.Late.EventID).Time("timestamp", o.Late.Timestamp).Time("watermark", o.Late.Watermark).
				Strs("rules", o.Late.Rules).Msg("late event: stateful rules did not take it")
			continue
		}
		if err != nil {
			return msgs, err
		}
		if enc.tooLarge != nil {
			enc.tooLarge.Origin = deadletter.FromKafka(m.Topic, m.Partition, m.Offset)
			if err := p.deadLetter(ctx, *enc.tooLarge); err != nil {
				return msgs, err
			}
			continue
		}
		msgs = append(msgs, enc.msg)
	}
	return msgs, nil
}

// reject sends a message that cannot be processed to the dead-letter
// topic (once: not again while re-processing) and skips it.
func (p *partition) reject(ctx context.Context, m *kafka.Message, live bool, stream, reason string) error {
	if !live {
		return nil
	}
	p.r.m.rejected.WithLabelValues(stream).Inc()
	p.log.Warn().Int64("offset", m.Offset).Str("reason", deadletter.RedactReason(reason)).Msg("message rejected to the dead-letter topic")
	return p.deadLetter(ctx, deadletter.Reject{
		Raw: m.Value, Key: m.Key, Reason: reason,
		Origin: deadletter.FromKafka(m.Topic, m.Partition, m.Offset),
	})
}

// deadLetter writes a reject and waits for its acknowledgement, retrying:
// the offset after it is committed only once it is stored.
func (p *partition) deadLetter(ctx context.Context, rj deadletter.Reject) error {
	wait := 100 * time.Millisecond
	for {
		err := p.r.dlq.Write(ctx, rj)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.log.Warn().Err(err).Msg("writing to the dead-letter topic failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// switchRules moves every shard of the partition to a new rule set, at
// the message boundary where it notices it.
func (p *partition) switchRules(set *Set) {
	for name, u := range p.ps.units {
		st := set.Main
		if !p.isMain {
			st = set.Rekeyed[name]
		}
		if st == nil {
			delete(p.ps.units, name)
			p.r.m.state.drop(p.unitKey(name))
			continue
		}
		p.countRules(u) // what the rules counted before the switch
		rep := u.sh.Reload(st.eng)
		u.st, u.count = st, counted{}
		if p.counting {
			u.count.base(u.sh.Counters()) // reset rules start at zero, kept ones where they were
		}
		p.log.Debug().Str("stream", name).Strs("kept", rep.Kept).Strs("reset", rep.Reset).Strs("added", rep.Added).
			Strs("removed", rep.Removed).Int64("offset", p.ps.next).Msg("shard moved to the reloaded rules")
	}
	p.ps.set = set
	p.forceSnap = true // narrow the window a replay would evaluate under other rules
}

// statsSample bounds the groups per rule whose size a stats tick measures
// (the rest extrapolated): the walk runs on the partition's goroutine, and
// a whole one took 3.5 s over 6 million groups, every stats_interval.
const statsSample = 1024

// countRules exports what a unit's rules counted since the last time.
func (p *partition) countRules(u *unit) {
	if p.counting {
		u.count.add(p.r.m, u.sh.Counters())
	}
}

func (p *partition) unitKey(name string) string {
	return partKey(p.c.Topic(), p.c.Partition()) + "/" + name
}

// timed does the periodic work: commit, metrics, snapshots.
func (p *partition) timed(bg context.Context) {
	if set := p.r.set.Load(); set != p.ps.set {
		p.switchRules(set)
	}
	p.commitAsync()
	now := time.Now()
	if !now.Before(p.nextStats) {
		p.nextStats = now.Add(p.r.cfg.StatsInterval)
		for name, u := range p.ps.units {
			st := u.sh.StatsSampled(statsSample)
			if p.counting {
				u.count.add(p.r.m, st)
			}
			p.r.m.state.set(p.unitKey(name), st)
		}
	}
	if p.r.store != nil && !p.tainted && (p.forceSnap || !now.Before(p.nextSnap)) && p.ps.next > p.lastSnap {
		if p.snapping.Load() {
			p.r.m.snapshots.WithLabelValues("skipped").Inc()
			return
		}
		p.nextSnap = now.Add(p.r.cfg.SnapshotInterval)
		p.forceSnap = false
		p.snapshot(bg)
	}
}

// commit commits the offset up to which every output is acknowledged, and
// waits for the answer: for the last commit of a claim.
func (p *partition) commit() {
	acked := p.em.acked.Load()
	if acked > p.committed {
		if err := p.c.Commit(acked); err != nil {
			p.log.Warn().Err(err).Int64("offset", acked).Msg("commit failed; the next owner re-processes from the last commit")
		}
	}
	p.committed = p.c.Committed()
	p.commitLag.Set(float64(p.ps.next - max(p.committed, 0)))
}

// commitAsync is commit without the wait, for the periodic commits: the
// loop goes on processing while the coordinator answers (a commit's round
// trip would otherwise hold every message behind it).
func (p *partition) commitAsync() {
	if err := p.c.CommitAsync(p.em.acked.Load()); err != nil {
		p.log.Warn().Err(err).Msg("commit refused; the next owner re-processes from the last commit")
	}
	p.committed = p.c.Committed()
	p.commitLag.Set(float64(p.ps.next - max(p.committed, 0)))
}
