package runner

import (
	"context"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Recovery. A partition's state is worth using when it is at a position P
// such that every message before P is in the state and everything derived
// from those messages is acknowledged by Kafka: the state kept in memory
// since the last rebalance, or a snapshot (both are taken only at such
// points). Processing resumes at P. Outputs are emitted from the committed
// offset C on: when P < C the messages P..C only rebuild state (their
// outputs were acknowledged before C was committed); when P >= C there is
// nothing to rebuild.
//
// Without either, the state is rebuilt by replaying, without emitting, the
// messages from the one whose timestamp is the longest rule span (plus the
// allowed lateness) before the last processed message. What a rule
// remembers longer than the topic retains (a 30-day first-seen history)
// comes back only from snapshots.

func (p *partition) recover(ctx context.Context) error {
	set := p.r.set.Load()
	topic, part := p.c.Topic(), p.c.Partition()
	b := p.c.Bounds()
	usable := func(ps *partState) bool {
		return ps != nil && ps.next >= b.Start && ps.next <= b.End
	}

	var source string
	ps := p.r.takeCached(topic, part)
	if usable(ps) && (p.committed == kafka.NoOffset || ps.next >= p.committed) {
		source = "cache"
	} else {
		ps = nil
		if p.r.store != nil {
			var err error
			ps, source, err = p.restore(ctx, set)
			if err != nil {
				return err
			}
			if ps != nil && ps.next > b.End {
				p.log.Warn().Int64("snapshot", ps.next).Int64("high_watermark", b.End).Msg("snapshot is past the end of the partition (topic recreated?); not using it")
				ps = nil
			} else if ps != nil && ps.next < b.Start {
				p.log.Warn().Int64("snapshot", ps.next).Int64("log_start", b.Start).Msg("snapshot is older than the partition's log start: the messages between are gone, resuming at the log start")
				ps.next = b.Start
			}
		}
	}

	if ps == nil {
		ps = &partState{topic: topic, partition: part, set: set, units: map[string]*unit{}}
		if p.isMain {
			ps.units[""] = &unit{st: set.Main, sh: set.Main.eng.NewShard()}
		}
		if p.committed == kafka.NoOffset {
			ps.next, source = p.c.Start(), "fresh"
		} else {
			from, err := p.replayStart(ctx, p.horizon(set))
			if err != nil {
				return err
			}
			ps.next, source = from, "replay"
		}
	}
	ps.topic, ps.partition = topic, part
	p.ps = ps
	if ps.set != set {
		p.switchRules(set)
	}
	p.prevSnap = ps.manifest
	if err := p.c.SetOffset(ps.next); err != nil {
		return err
	}
	p.emitFrom = max(ps.next, p.committed)
	p.r.m.recoveries.WithLabelValues(source).Inc()
	p.log.Info().Str("source", source).Int64("resume", ps.next).Int64("committed", p.committed).
		Int64("replay", max(p.emitFrom-ps.next, 0)).Msg("partition state recovered")
	return nil
}

// restore reads the latest snapshot. A snapshot that cannot be read or
// restored is logged and ignored (nil): the partition then replays.
func (p *partition) restore(ctx context.Context, set *Set) (*partState, string, error) {
	m, blob, err := p.r.store.read(ctx, p.c.Topic(), p.c.Partition())
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		p.log.Warn().Err(err).Msg("reading the latest snapshot failed; rebuilding by replay")
		return nil, "", nil
	}
	if m == nil {
		return nil, "", nil
	}
	ps, rep, err := decodeState(blob, set, p.isMain)
	if err != nil {
		p.log.Warn().Err(err).Str("snapshot", m.ID).Msg("snapshot cannot be restored; rebuilding by replay")
		return nil, "", nil
	}
	if ps.next != m.Next {
		p.log.Warn().Str("snapshot", m.ID).Msg("snapshot blob and manifest disagree on the position; rebuilding by replay")
		return nil, "", nil
	}
	source := "snapshot"
	if len(rep.migrated) > 0 {
		source = "migrated"
		p.log.Info().Str("snapshot", m.ID).Str("snapshot_rules", m.Rules).Str("rules", set.Version).Strs("streams", rep.migrated).
			Msg("snapshot taken under other rules: state carried over where what a rule stores is unchanged")
	}
	if p.isMain && ps.units[""] == nil {
		ps.units[""] = &unit{st: set.Main, sh: set.Main.eng.NewShard()}
	}
	ps.manifest = m
	p.lastSnap = ps.next
	return ps, source, nil
}

// horizon is how far back a replay must reach for the partition's rules.
func (p *partition) horizon(set *Set) time.Duration {
	if p.isMain {
		return set.Main.horizon
	}
	var h time.Duration
	for _, st := range set.Rekeyed {
		h = max(h, st.horizon)
	}
	return h
}

// replayStart finds the offset whose timestamp is horizon before the last
// processed message (the one before the committed offset).
func (p *partition) replayStart(ctx context.Context, horizon time.Duration) (int64, error) {
	b := p.c.Bounds()
	if p.committed <= b.Start || horizon <= 0 {
		return max(p.committed, b.Start), nil
	}
	if err := p.c.SetOffset(p.committed - 1); err != nil {
		return 0, err
	}
	last, err := p.c.Fetch(ctx)
	if err != nil {
		return 0, err
	}
	from, err := p.c.OffsetForTime(ctx, last.Time.Add(-horizon))
	if err != nil {
		return 0, err
	}
	return min(max(from, b.Start), p.committed), nil
}

// snapshot encodes the state now (processing waits) and writes it in the
// background; the manifest goes out once the outputs of every message
// before the position are acknowledged, so a snapshot is always at a
// commit point.
func (p *partition) snapshot(bg context.Context) {
	t0 := time.Now()
	blob, err := p.ps.encode()
	if err != nil {
		p.r.m.snapshots.WithLabelValues("failed").Inc()
		p.log.Error().Err(err).Msg("encoding a snapshot failed")
		return
	}
	p.r.m.snapSeconds.WithLabelValues("encode").Observe(time.Since(t0).Seconds())
	next, version := p.ps.next, p.ps.set.Version
	p.lastSnap = next
	p.snapping.Store(true)
	done := make(chan struct{})
	p.snapDone = done
	p.snapMu.Lock()
	prev := p.prevSnap
	p.snapMu.Unlock()
	go func() {
		defer close(done)
		defer p.snapping.Store(false)
		t1 := time.Now()
		m, err := p.r.store.write(bg, p.c.Topic(), p.c.Partition(), next, version, blob,
			func(ctx context.Context) bool { return p.em.ackedThrough(ctx, next) }, prev)
		if err != nil {
			p.r.m.snapshots.WithLabelValues("failed").Inc()
			if bg.Err() == nil {
				p.log.Warn().Err(err).Int64("offset", next).Msg("snapshot not written; the previous one stays valid")
			}
			return
		}
		p.snapMu.Lock()
		p.prevSnap = m
		p.snapMu.Unlock()
		p.r.m.snapshots.WithLabelValues("written").Inc()
		p.r.m.snapBytes.Observe(float64(len(blob)))
		p.r.m.snapSeconds.WithLabelValues("write").Observe(time.Since(t1).Seconds())
		p.log.Debug().Int64("offset", next).Int("bytes", len(blob)).Int("chunks", m.Chunks).Msg("snapshot written")
	}()
}

// shutdown ends the claim. A graceful end flushes the outputs, commits the
// position and keeps the state for the next generation (a rebalance), or,
// when the runner stops, writes a last snapshot. A crash (tests) does none
// of it.
func (p *partition) shutdown(ctx, bg context.Context, cancel context.CancelFunc) {
	defer func() {
		for name := range p.ps.units {
			p.r.m.state.drop(p.unitKey(name))
		}
	}()
	if p.r.crash.Load() {
		cancel()
		return
	}
	for _, u := range p.ps.units {
		p.countRules(u)
	}
	sctx, scancel := context.WithTimeout(bg, p.r.kcfg.Consumer.ShutdownTimeout)
	defer scancel()
	defer cancel()
	flushed := p.em.flushed(sctx)
	if flushed {
		p.commit()
	}
	if p.snapDone != nil {
		select {
		case <-p.snapDone:
		case <-sctx.Done():
		}
	}
	if !flushed {
		p.log.Warn().Int64("committed", p.committed).Int64("processed", p.ps.next).
			Msg("outputs not acknowledged before the shutdown timeout; the next owner re-processes from the commit")
		return
	}
	if p.tainted {
		p.log.Warn().Int64("committed", p.committed).Int64("processed", p.ps.next).
			Msg("a message failed part-way; the state is dropped and the next owner rebuilds it")
		return
	}
	if p.r.runCtx.Err() == nil {
		p.snapMu.Lock()
		p.ps.manifest = p.prevSnap
		p.snapMu.Unlock()
		p.r.keep(p.ps)
		return
	}
	if p.r.store != nil && p.ps.next > p.lastSnap && sctx.Err() == nil {
		p.snapshot(sctx)
		<-p.snapDone
	}
}
