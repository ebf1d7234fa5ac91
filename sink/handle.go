package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// batch is one Handle call's work, decoded.
type batch struct {
	alerts  []alertRec
	actions []actionRec
	dead    []deadRow // dead-letter records read, for dead_letters
	rejects []deadletter.Reject
	maskRaw bool                          // mask shadow data in the bytes of rejects (sink.shadow_data)
	ranges  map[string]map[int32][2]int64 // topic → partition → first and last offset
	// stored are the keys of the ids the batch stores for the first
	// time, per partition, in offset order (once.go).
	stored map[partKey][]uint64
	skips  map[string]int // rows marked rollup_skip, by table
}

// Handle stores one batch (a kafka.BatchHandler). In order: it decodes
// every record (dead-lettering what it cannot; a record of the dead-letter
// topic is always a dead_letters row, never dead-lettered again), resumes
// the chains it has not followed, extends them, records their new heads,
// inserts the rows of each table with a token naming the batch's Kafka
// positions, and publishes the dead letters. Only when all of that is acknowledged does
// it adopt the new chain states and return nil. An error leaves nothing
// adopted: the consumer retries the same batch, whose inserts then
// deduplicate by token.
func (s *Sink) Handle(ctx context.Context, msgs []kafka.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.start()
	b := s.newBatch()
	s.evs = s.evs[:0]
	s.refs = s.refs[:0]
	for i := range msgs {
		m := &msgs[i]
		b.note(m)
		switch m.Topic {
		case s.topics.Activity:
			s.decodeEvent(&b, m)
		case s.topics.Alerts:
			s.decodeAlert(&b, m)
		case s.topics.Actions:
			s.decodeAction(&b, m)
		case s.topics.DeadLetter:
			s.decodeDeadLetter(&b, m)
		default:
			b.reject(m, fmt.Sprintf("topic %s is not one the sink consumes", m.Topic), "")
		}
	}

	s.clock.lap(phaseDecode)

	if err := s.reloadStale(ctx, &b); err != nil {
		return err
	}
	work, err := s.chainsFor(ctx, &b)
	if err != nil {
		return err
	}
	clear(s.inBatch)
	heads := s.buildEvents(&b, work)
	s.markAlerts(&b)
	s.clock.lap(phaseBuild)
	if err := integrity.InsertHeads(ctx, s.st, heads, BatchToken("integrity_heads", b.ranges[s.topics.Activity])); err != nil {
		return err
	}
	s.clock.lap(phaseOther)
	if err := s.insertEvents(ctx, BatchToken("audit_events", b.ranges[s.topics.Activity])); err != nil {
		return err
	}
	if err := s.insertAlerts(ctx, b.alerts, BatchToken("alerts", b.ranges[s.topics.Alerts])); err != nil {
		return err
	}
	if err := s.insertActions(ctx, b.actions, BatchToken("actions", b.ranges[s.topics.Actions])); err != nil {
		return err
	}
	if err := s.insertDeadLetters(ctx, b.dead, BatchToken("dead_letters", b.ranges[s.topics.DeadLetter])); err != nil {
		return err
	}
	if err := s.deps.DeadLetter.Write(ctx, b.rejects...); err != nil {
		return err
	}
	for _, r := range b.rejects {
		s.m.rejected.WithLabelValues(r.Origin.Topic).Inc()
	}
	s.adopt(&b, work)
	s.clock.lap(phaseOther)
	return nil
}

func (s *Sink) newBatch() batch {
	return batch{ranges: map[string]map[int32][2]int64{}, stored: map[partKey][]uint64{}, skips: map[string]int{}, maskRaw: s.cfg.ShadowData}
}

// note records m's position in the batch's ranges.
func (b *batch) note(m *kafka.Message) {
	ps := b.ranges[m.Topic]
	if ps == nil {
		ps = map[int32][2]int64{}
		b.ranges[m.Topic] = ps
	}
	p := int32(m.Partition)
	r, ok := ps[p]
	if !ok {
		r = [2]int64{m.Offset, m.Offset}
	}
	r[0], r[1] = min(r[0], m.Offset), max(r[1], m.Offset)
	ps[p] = r
}

// reject dead-letters m. With shadow_data on, its bytes go with the
// personal data in them masked (the length kept), as the row would have
// been; the reason never quotes a value (deadletter.RedactReason).
func (b *batch) reject(m *kafka.Message, reason, field string) {
	raw := m.Value
	if b.maskRaw {
		raw = shadow.MaskRaw(raw)
	}
	b.rejects = append(b.rejects, deadletter.Reject{
		Raw: raw, Key: m.Key, Reason: reason, Field: field,
		Origin: deadletter.FromKafka(m.Topic, m.Partition, m.Offset),
	})
}

// decodeEvent decodes an activity record as ingest validated it: against
// the clock of its Kafka timestamp (when ingest published it), any age.
func (s *Sink) decodeEvent(b *batch, m *kafka.Message) {
	i := len(s.evs)
	if i < cap(s.evs) {
		s.evs = s.evs[:i+1]
	} else {
		s.evs = append(s.evs, event.Event{})
	}
	opts := event.Options{Now: m.Time, MaxAge: 0, ResolveTimezone: true}
	if err := event.DecodeInto(&s.evs[i], m.Value, opts); err != nil {
		s.evs = s.evs[:i]
		var ve *event.ValidationError
		field := ""
		if errors.As(err, &ve) {
			field = ve.Path
		}
		b.reject(m, "decoding the event: "+err.Error(), field)
		return
	}
	s.refs = append(s.refs, eventRef{ev: i, partition: int32(m.Partition), offset: m.Offset, ingested: m.Time})
}

// chainsFor returns the chain states the batch's events extend, copied
// from the sink's: resumed from ClickHouse for a chain the sink has not
// followed, or whose partition the batch does not continue where the sink
// left it (another sink had it meanwhile).
func (s *Sink) chainsFor(ctx context.Context, b *batch) (map[chainKey]*integrity.State, error) {
	first := b.ranges[s.topics.Activity]
	for p, r := range first {
		if next, ok := s.next[p]; ok && next != r[0] {
			for k := range s.chains {
				if k.partition == p {
					delete(s.chains, k)
				}
			}
			delete(s.next, p)
		}
	}
	work := map[chainKey]*integrity.State{}
	for _, ref := range s.refs {
		k := chainKey{s.evs[ref.ev].Tenant, ref.partition}
		if _, ok := work[k]; ok {
			continue
		}
		if st, ok := s.chains[k]; ok {
			c := *st
			work[k] = &c
			continue
		}
		st, err := integrity.Resume(ctx, s.st, k.tenant, k.partition, first[k.partition][0])
		if err != nil {
			return nil, err
		}
		s.m.resumes.Inc()
		work[k] = &st
	}
	return work, nil
}

// buildEvents turns the batch's events into rows: enriched, hashed and
// chained in offset order, appended to s.cols. It returns the new state
// of every chain it extended. Events the tracking policy drops are
// counted and skipped; excluded fields are removed and sensitive fields
// masked first. With shadow_data on, personal data found in
// an event is masked before its row is built, so the unmasked value never
// reaches a row, a hash or a log.
func (s *Sink) buildEvents(b *batch, work map[chainKey]*integrity.State) []integrity.State {
	s.cols.Reset()
	r := &s.row
	for _, ref := range s.refs {
		e := &s.evs[ref.ev]
		// What the tracking policy drops is never chained: the next row's
		// chain_gap spans it, as it spans other tenants' positions.
		drop, removed := s.track.Apply(e)
		if removed > 0 {
			s.m.removed.WithLabelValues(tracking.ReasonFieldExcluded).Add(float64(removed))
		}
		if drop != "" {
			s.m.dropped.WithLabelValues(drop).Inc()
			continue
		}
		if s.cfg.ShadowData {
			// The alert is the detector's (rule shadow.pii_in_free_text, on
			// crm.alerts like every other); the sink only masks.
			for _, h := range shadow.MaskEvent(e) {
				s.m.shadow.WithLabelValues(string(h.Kind)).Inc()
			}
		}
		auditrow.FromEvent(r, e, ref.partition, ref.offset, ref.ingested)
		r.RollupSkip = s.seenBefore(b, partKey{s.topics.Activity, ref.partition}, e.Tenant, e.ID)
		s.enrich(r)
		h := s.hasher.Hash(r)
		st := work[chainKey{e.Tenant, ref.partition}]
		r.RowFP = auditrow.Fingerprint(h)
		r.ChainGap = uint64(ref.offset - st.At.Offset)
		st.Add(ref.offset, h, e.Timestamp)
		s.cols.Append(r)
	}
	heads := make([]integrity.State, 0, len(work))
	for _, st := range work {
		heads = append(heads, *st)
	}
	return heads
}

func (s *Sink) enrich(r *auditrow.Row) {
	if g := s.deps.Geo; g != nil && r.GeoCountry == "" && r.GeoRegion == "" && r.GeoCity == "" && !r.HasCoords && r.ClientIP.IsValid() {
		if loc, ok := g.Lookup(r.ClientIP); ok {
			r.GeoCountry, r.GeoRegion, r.GeoCity = loc.Country, loc.Region, loc.City
			r.GeoLat, r.GeoLon, r.HasCoords = loc.Lat, loc.Lon, loc.HasCoords
			r.GeoEnriched = true
			s.m.enriched.WithLabelValues("geo").Inc()
		}
	}
	if d := s.deps.Directory; d != nil {
		if p, ok := d.Lookup(r.UserID, r.PersonID, r.UserName); ok {
			r.DirRole, r.DirDepartment, r.DirManager = p.Role, p.Department, p.Manager
			s.m.enriched.WithLabelValues("directory").Inc()
		}
	}
}

// insertSettings dedupe a retried insert by token, in the table and in
// the roll-ups its materialized views feed. optimize_on_insert is off: it
// makes a Replacing table fold rows of one block that share a sorting key,
// which rows of one batch never do (each holds its own log position, or
// its own alert or status record), and it cost the engine six times the
// rest of the insert (docs/PERFORMANCE.md). The views run in parallel.
func insertSettings(ctx context.Context, token string) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token":                         token,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
		"optimize_on_insert":                                 0,
		"parallel_view_processing":                           1,
	}))
}

func (s *Sink) insertEvents(ctx context.Context, token string) error {
	if s.cols.Len() == 0 {
		return nil
	}
	start := time.Now()
	b, err := s.st.PrepareBatch(auditrow.InsertContext(insertSettings(ctx, token)), auditrow.Insert)
	if err != nil {
		return fmt.Errorf("preparing the audit_events insert: %w", err)
	}
	if err := s.cols.Send(b); err != nil {
		_ = b.Abort()
		return fmt.Errorf("audit_events batch: %w", err)
	}
	s.clock.lap(phaseColumns)
	defer s.clock.lap(phaseInsert)
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d events: %w", s.cols.Len(), err)
	}
	s.m.insertTime.WithLabelValues("audit_events").Observe(time.Since(start).Seconds())
	s.m.rows.WithLabelValues("audit_events").Add(float64(s.cols.Len()))
	return nil
}

// adopt makes the batch's chain states the sink's, once it is stored.
func (s *Sink) adopt(b *batch, work map[chainKey]*integrity.State) {
	for k, st := range work {
		s.chains[k] = st
		s.dirty[k] = true
	}
	for p, r := range b.ranges[s.topics.Activity] {
		s.next[p] = r[1] + 1
	}
	for _, topic := range []string{s.topics.Activity, s.topics.Alerts} {
		for p, r := range b.ranges[topic] {
			k := partKey{topic, p}
			s.recent.adopt(k, b.stored[k], r[1]+1)
		}
	}
	for table, n := range b.skips {
		s.m.skipped.WithLabelValues(table).Add(float64(n))
	}
}

// reloadStale reloads the memory of stored ids of every partition of the
// batch that does not continue where the sink left it (once.go).
func (s *Sink) reloadStale(ctx context.Context, b *batch) error {
	for topic, table := range map[string]string{s.topics.Activity: "audit_events", s.topics.Alerts: "alerts"} {
		for p, r := range b.ranges[topic] {
			k := partKey{topic, p}
			if topic == "" || s.recent.continues(k, r[0]) {
				continue
			}
			if err := s.reload(ctx, s.recent, table, k, r[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// seenBefore reports whether the sink stored tenant's id in p already, by
// an earlier batch or earlier in this one; if not, it notes the id as
// stored by this batch.
func (s *Sink) seenBefore(b *batch, p partKey, tenant, id string) bool {
	k := s.recent.key(tenant, id)
	_, again := s.inBatch[k]
	if again || s.recent.has(p, k) {
		b.skips[tableOf(s, p.topic)]++
		return true
	}
	s.inBatch[k] = struct{}{}
	b.stored[p] = append(b.stored[p], k)
	return false
}

func tableOf(s *Sink, topic string) string {
	if topic == s.topics.Alerts {
		return "alerts"
	}
	return "audit_events"
}

// markAlerts sets skip on the batch's alerts that the sink stored already.
func (s *Sink) markAlerts(b *batch) {
	for i := range b.alerts {
		r := &b.alerts[i]
		r.skip = s.seenBefore(b, partKey{s.topics.Alerts, r.partition}, r.a.Tenant, r.a.ID)
	}
}

// Checkpoint signs and stores a checkpoint of every chain that grew since
// its last one. It excludes Handle meanwhile, so the states it signs are
// the states it then moves on.
func (s *Sink) Checkpoint(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cps []integrity.Checkpoint
	var keys []chainKey
	now := s.now().UTC().Truncate(time.Millisecond)
	for k := range s.dirty {
		st := s.chains[k]
		if st == nil || st.At.Rows == st.Cp.Rows {
			delete(s.dirty, k)
			continue
		}
		c := st.Checkpoint(now)
		c.Sign(s.deps.Signer)
		cps = append(cps, c)
		keys = append(keys, k)
	}
	if len(cps) == 0 {
		return nil
	}
	if err := integrity.InsertCheckpoints(ctx, s.st, cps); err != nil {
		s.m.cpErrors.Inc()
		return err
	}
	s.m.checkpoints.Add(float64(len(cps)))
	for _, k := range keys {
		s.chains[k].Checkpointed()
		delete(s.dirty, k)
	}
	return nil
}

// alertRec and actionRec are decoded records with their positions.
type alertRec struct {
	a         alert.Alert
	partition int32
	offset    int64
	ingested  time.Time
	skip      bool // the roll-ups counted this alert already (once.go)
}

type actionRec struct {
	a         alert.Action
	partition int32
	offset    int64
	ingested  time.Time
}
