package sink

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/auditrow"
	"github.com/trailwatch/trailwatch/sink/enrich"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// Topics names the topics the sink consumes.
type Topics struct {
	Activity string
	Alerts   string
	Actions  string
	// DeadLetter is the dead-letter topic: its records are stored in
	// dead_letters (empty: not consumed).
	DeadLetter string
}

// List is the topics to subscribe to (those with a name).
func (t Topics) List() []string {
	var out []string
	for _, n := range []string{t.Activity, t.Alerts, t.Actions, t.DeadLetter} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Deps are what a Sink writes to besides ClickHouse, and its enrichment.
type Deps struct {
	// DeadLetter receives records that cannot be decoded (required).
	DeadLetter *deadletter.Writer
	// Signer signs checkpoints (required).
	Signer *integrity.Signer
	// Geo and Directory enrich events; nil turns each off.
	Geo       *enrich.Geo
	Directory *enrich.Directory
}

// Sink stores the batches a kafka.BatchConsumer hands it: events in
// audit_events (hash-chained), alerts, actions, and dead letters for what
// it cannot decode. Handle is its BatchHandler; it returns nil only once
// ClickHouse acknowledged every row and Kafka every dead letter, so the
// consumer commits nothing that is not stored.
//
// Handle and Checkpoint may be called from different goroutines; they
// exclude each other.
type Sink struct {
	st     *chstore.Store
	cfg    Config
	topics Topics
	deps   Deps
	log    zerolog.Logger
	m      *metrics
	now    func() time.Time
	track  *tracking.Filter

	// mu is held by Handle and Checkpoint for their whole run.
	mu     sync.Mutex
	chains map[chainKey]*integrity.State
	next   map[int32]int64 // per activity partition: the offset after the last one handled
	dirty  map[chainKey]bool
	lastCp time.Time
	clock  phaseClock

	// Per-batch scratch, reused.
	evs    []event.Event
	refs   []eventRef
	row    auditrow.Row
	hasher auditrow.Hasher
	cols   auditrow.Columns

	// recent remembers the ids stored lately, so the roll-ups count each
	// once (once.go); inBatch holds the keys of the batch being built.
	recent  *recentIDs
	inBatch map[uint64]struct{}
}

type chainKey struct {
	tenant    string
	partition int32
}

// eventRef is a decoded event of the batch and where it sat.
type eventRef struct {
	ev        int // index into evs
	partition int32
	offset    int64
	ingested  time.Time
}

// New returns a Sink writing through st.
func New(st *chstore.Store, cfg Config, topics Topics, deps Deps, log zerolog.Logger, reg prometheus.Registerer) (*Sink, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if topics.Activity == "" {
		errs = append(errs, errors.New("sink: the activity topic is required"))
	}
	if deps.DeadLetter == nil {
		errs = append(errs, errors.New("sink: a dead-letter writer is required"))
	}
	if deps.Signer == nil {
		errs = append(errs, errors.New("sink: a checkpoint signer is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	track, err := tracking.New(cfg.Tracking, "sink.tracking")
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Sink{
		st: st, cfg: cfg, topics: topics, deps: deps, m: m, now: time.Now, track: track,
		log:     log.With().Str("component", "sink").Logger(),
		chains:  map[chainKey]*integrity.State{},
		next:    map[int32]int64{},
		dirty:   map[chainKey]bool{},
		lastCp:  time.Now(),
		recent:  newRecentIDs(cfg.RollupDedupIDs),
		inBatch: map[uint64]struct{}{},
		evs:     make([]event.Event, 0, cfg.BatchMessages),
		refs:    make([]eventRef, 0, cfg.BatchMessages),
	}, nil
}

// Options are the batch-consumer options the sink wants.
func (s *Sink) Options() kafka.BatchOptions {
	return kafka.BatchOptions{
		Group:       s.cfg.Group,
		Topics:      s.topics.List(),
		MaxMessages: s.cfg.BatchMessages,
		MaxWait:     s.cfg.BatchWait,
		RetryMin:    s.cfg.RetryMin,
		RetryMax:    s.cfg.RetryMax,
	}
}

// Consumer is the batch consumer that feeds the sink, for Run.
func (s *Sink) Consumer(kcfg kafka.Config, reg prometheus.Registerer) (*kafka.BatchConsumer, error) {
	return kafka.NewBatchConsumer(kcfg, s.Options(), s.Handle, s.log, reg)
}

// Run consumes with c (from Consumer) until ctx ends, writing checkpoints
// every integrity.checkpoint_interval and a last one on the way out.
func (s *Sink) Run(ctx context.Context, c *kafka.BatchConsumer) error {
	tick := time.NewTicker(s.cfg.Integrity.CheckpointInterval)
	defer tick.Stop()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for {
		select {
		case err := <-done:
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if cerr := s.Checkpoint(cctx); cerr != nil {
				s.log.Warn().Err(cerr).Msg("last checkpoint at shutdown failed; the rows are stored and the next start checkpoints them")
			}
			return err
		case <-tick.C:
			if err := s.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("writing checkpoints failed; retrying at the next interval")
			}
		}
	}
}
