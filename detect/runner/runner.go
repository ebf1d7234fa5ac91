package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Runner runs the detection engine over Kafka: a member of the detectors'
// consumer group on crm.activity and the re-keyed topic, with one shard
// per assigned partition (and, on the re-keyed topic, per group_by
// signature). See the package documentation.
type Runner struct {
	cfg  Config
	kcfg kafka.Config
	log  zerolog.Logger
	reg  prometheus.Registerer
	m    *metrics
	src  ruleSource

	set      atomic.Pointer[Set]
	reloadMu sync.Mutex
	stamp    string // of the rule files last loaded

	enc      encoder
	prod     producer
	dlq      *deadletter.Writer
	store    *store // nil when snapshots are off
	consumer atomic.Pointer[kafka.PartitionConsumer]

	cacheMu sync.Mutex
	cache   map[string]cached

	// runCtx is Run's context: when it has ended, a partition that ends
	// is stopping (it writes a last snapshot) rather than revoked (it keeps
	// its state for the next generation). Its Err is set before the
	// partitions' contexts, derived from it, end.
	runCtx context.Context
	// crash, for tests, makes partitions stop as a killed process would:
	// no flush, no commit, no snapshot.
	crash atomic.Bool
}

// cached is a revoked partition's state, kept for the next generation.
type cached struct {
	ps *partState
	at time.Time
}

// New loads the rules (an error if they do not load: a detector does not
// start without rules) and returns a Runner; Run starts it.
func New(cfg Config, kcfg kafka.Config, log zerolog.Logger, reg prometheus.Registerer) (*Runner, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := kcfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if kcfg.Topics.Alerts.Name == "" || kcfg.Topics.Actions.Name == "" || kcfg.Topics.DeadLetter.Name == "" || kcfg.Topics.Rekeyed.Name == "" {
		errs = append(errs, errors.New("kafka.topics: the detector needs the alerts, actions, dead_letter and rekeyed topics"))
	}
	if cfg.SnapshotInterval > 0 && kcfg.Topics.DetectState.Name == "" {
		errs = append(errs, errors.New("kafka.topics.detect_state.name: required while detect.snapshot_interval is set"))
	}
	if int64(cfg.SnapshotChunk)+4096 > kcfg.Producer.BatchBytes {
		errs = append(errs, fmt.Errorf("detect.snapshot_chunk_bytes: %d does not fit kafka.producer.batch_bytes (%d) with its framing", cfg.SnapshotChunk, kcfg.Producer.BatchBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Runner{
		cfg: cfg, kcfg: kcfg, reg: reg,
		log:   log.With().Str("component", "detect").Logger(),
		src:   ruleSource{dir: cfg.Rules, config: cfg.EngineConfig, local: cfg.LocalGroupBy},
		cache: map[string]cached{},
		enc:   encoder{alerts: kcfg.Topics.Alerts.Name, actions: kcfg.Topics.Actions.Name, maxBytes: int(kcfg.Producer.BatchBytes), now: time.Now},
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	r.m = m
	r.stamp = r.src.stamp()
	set, err := r.src.load()
	if err != nil {
		return nil, err
	}
	r.set.Store(set)
	r.m.setVersion(nil, set)
	r.m.reloadOK.Set(1)
	r.log.Info().Str("version", set.Version).Int("rules", len(set.Full.Rules())).Strs("streams", set.streamNames()).Msg("rules loaded")
	return r, nil
}

// Version is the running rule set's version.
func (r *Runner) Version() string { return r.set.Load().Version }

// Run consumes until ctx ends (then each partition flushes, commits and
// writes a last snapshot) or the consumer fails.
func (r *Runner) Run(ctx context.Context) error {
	r.runCtx = ctx
	if err := kafka.EnsureTopics(ctx, r.kcfg); err != nil {
		return err
	}
	prod, err := kafka.NewProducer(r.kcfg, r.log, r.reg)
	if err != nil {
		return err
	}
	defer func() {
		if err := prod.Close(); err != nil {
			r.log.Warn().Err(err).Msg("closing the producer")
		}
	}()
	r.prod = prod
	if r.dlq, err = deadletter.NewWriter(prod, r.kcfg.Topics.DeadLetter.Name, "detect", r.reg); err != nil {
		return err
	}
	if r.cfg.SnapshotInterval > 0 {
		if r.store, err = newStore(ctx, r.kcfg, r.cfg.Group, r.cfg.SnapshotChunk, prod, r.log); err != nil {
			return err
		}
	}
	c, err := kafka.NewPartitionConsumer(r.kcfg, kafka.PartitionOptions{
		Group:  r.cfg.Group,
		Topics: []string{r.kcfg.Topics.Activity.Name, r.kcfg.Topics.Rekeyed.Name},
	}, r, r.log, r.reg)
	if err != nil {
		return err
	}
	r.consumer.Store(c)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.watch(wctx)
	return c.Run(ctx)
}

// Ready reports nil while the runner is a member of its consumer group.
func (r *Runner) Ready(ctx context.Context) error {
	c := r.consumer.Load()
	if c == nil {
		return errors.New("detector not started")
	}
	return c.Ready(ctx)
}

// ConsumePartition implements kafka.PartitionHandler: it runs one
// assigned partition until it is revoked.
func (r *Runner) ConsumePartition(ctx context.Context, c *kafka.Claim) error {
	p := newPartition(r, c)
	return p.run(ctx)
}

func partKey(topic string, partition int) string { return topic + "/" + strconv.Itoa(partition) }

// takeCached returns (and forgets) the state kept for a partition, and
// forgets states kept longer than CacheTTL (their partitions went to other
// members).
func (r *Runner) takeCached(topic string, partition int) *partState {
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	now := time.Now()
	for k, c := range r.cache {
		if now.Sub(c.at) > r.cfg.CacheTTL {
			delete(r.cache, k)
		}
	}
	k := partKey(topic, partition)
	c, ok := r.cache[k]
	if !ok {
		return nil
	}
	delete(r.cache, k)
	return c.ps
}

func (r *Runner) keep(ps *partState) {
	if r.cfg.CacheTTL <= 0 {
		return
	}
	r.cacheMu.Lock()
	r.cache[partKey(ps.topic, ps.partition)] = cached{ps: ps, at: time.Now()}
	r.cacheMu.Unlock()
}
