package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"
)

// Both consumers stand on kafka-go's lower-level consumer-group API
// (ConsumerGroup, Generation) rather than on a group Reader, for one
// reason: a commit must carry the generation that owned the partition.
//
// A group Reader commits through whatever generation is current when the
// commit is sent. A batch fetched in generation N and committed after a
// rebalance goes out with generation N+1, which the coordinator accepts, even
// for a partition that now belongs to another member: its offset moves
// back, or past messages the new owner has not processed (kafka-go #1308).
// Our commits send generation N's id (groupRunner.commit); the coordinator refuses
// it (ILLEGAL_GENERATION) once the group has moved on, and accepts it while
// the group is still preparing the rebalance, when this member still owns
// the partition. That is exactly the fencing we need.
//
// Offsets are committed by us, after the work they cover is durable (the
// claims' commits merged into shared requests, see committer); kafka-go's periodic commits (CommitInterval > 0), whose errors
// reach only a logger, are not used. Reader.Stats, which resets its counters
// on each call, is not used either: metrics are counted as messages pass.

// NoOffset is what Claim.Committed returns for a partition on which the
// group has never committed.
const NoOffset int64 = -1

// groupRunner runs a consumer group's membership and calls work once per
// generation with the partitions assigned to this member.
type groupRunner struct {
	cfg    Config
	group  string
	topics []string
	conn   *conn
	client *kafkago.Client
	log    zerolog.Logger
	m      *consumerMetrics
	member atomic.Bool // in a generation now
}

// ready says whether this member is in a generation of its group now.
func (g *groupRunner) ready(context.Context) error {
	if !g.member.Load() {
		return fmt.Errorf("not a member of consumer group %s (joining, rebalancing, or the brokers are unreachable)", g.group)
	}
	return nil
}

// assignment is one partition of a generation, resolved: where the group
// committed, the partition's bounds, and where fetching starts.
type assignment struct {
	topic     string
	partition int
	committed int64 // NoOffset when the group has none
	bounds    Bounds
	start     int64
}

func (a assignment) String() string { return a.topic + "/" + strconv.Itoa(a.partition) }

// generationFunc does a generation's work. ctx ends when the generation
// ends (rebalance) or the consumer stops. A non-nil error returned while ctx
// is live stops the consumer (Run returns it).
type generationFunc func(ctx context.Context, gen *kafkago.Generation, parts []assignment) error

func newGroupRunner(cfg Config, group string, topics []string, component string, log zerolog.Logger, reg prometheus.Registerer) (*groupRunner, error) {
	var errs []error
	if group == "" {
		errs = append(errs, errors.New("consumer group id is required"))
	}
	if len(topics) == 0 {
		errs = append(errs, errors.New("at least one topic is required"))
	}
	for _, t := range topics {
		if err := validTopicName(t); err != nil {
			errs = append(errs, fmt.Errorf("topic: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("consumer group %q: %w", group, err)
	}
	k, err := cfg.connect()
	if err != nil {
		return nil, err
	}
	m, err := newConsumerMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &groupRunner{
		cfg:    cfg,
		group:  group,
		topics: slices.Clone(topics),
		conn:   k,
		client: k.client(cfg),
		log:    log.With().Str("client", component).Str("group", group).Logger(),
		m:      m,
	}, nil
}

// run joins the group and works through its generations until ctx ends or
// work fails. On the way out it leaves the group, giving the generation's
// work consumer.shutdown_timeout to flush and commit: ConsumerGroup.Close
// waits for that work, so it is bounded here rather than trusted.
func (g *groupRunner) run(ctx context.Context, work generationFunc) error {
	start := kafkago.FirstOffset
	if g.cfg.Consumer.StartOffset == StartLatest {
		start = kafkago.LastOffset
	}
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:                     g.group,
		Brokers:                g.cfg.Brokers,
		Dialer:                 g.conn.dialer,
		Topics:                 g.topics,
		HeartbeatInterval:      g.cfg.Consumer.HeartbeatInterval,
		SessionTimeout:         g.cfg.Consumer.SessionTimeout,
		RebalanceTimeout:       g.cfg.Consumer.RebalanceTimeout,
		JoinGroupBackoff:       g.cfg.Consumer.JoinBackoff,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 10 * time.Second,
		StartOffset:            start,
		Timeout:                g.cfg.ReadTimeout,
		Logger:                 debugLogger(g.log),
		ErrorLogger:            errorLogger(g.log, g.m.kgoErrs),
	})
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", g.group, err)
	}
	defer g.conn.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		fatal error
	)
	fail := func(err error) {
		once.Do(func() { fatal = err })
		cancel()
	}

	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				break
			}
			// kafka-go backs off by itself (consumer.join_backoff) before
			// it tries again; a rebalance in progress is the broker's to
			// pace.
			lvl := zerolog.WarnLevel
			if errors.Is(err, kafkago.RebalanceInProgress) {
				lvl = zerolog.DebugLevel
			}
			g.log.WithLevel(lvl).Err(err).Msg("joining consumer group")
			continue
		}
		g.m.generations.WithLabelValues(g.group).Inc()
		gen.Start(func(genCtx context.Context) { g.generation(ctx, genCtx, gen, work, fail) })
	}

	done := make(chan struct{})
	go func() {
		_ = cg.Close() // always nil
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(g.cfg.Consumer.ShutdownTimeout + g.cfg.ReadTimeout):
		g.log.Error().Dur("waited", g.cfg.Consumer.ShutdownTimeout+g.cfg.ReadTimeout).Msg("leaving consumer group timed out; the coordinator will drop this member after session_timeout")
	}
	return fatal
}

// generation runs on kafka-go's generation goroutine. It returns only once
// kafka-go ends the generation: returning earlier would end it from our
// side and make kafka-go rejoin, even while we are shutting down.
func (g *groupRunner) generation(runCtx, genCtx context.Context, gen *kafkago.Generation, work generationFunc, fail func(error)) {
	defer func() { <-genCtx.Done() }()
	ctx, cancel := context.WithCancel(runCtx)
	defer cancel()
	stop := context.AfterFunc(genCtx, cancel)
	defer stop()

	parts, err := g.resolve(ctx, gen)
	if err != nil {
		return // ctx ended while the cluster could not be asked
	}
	g.member.Store(true)
	defer g.member.Store(false)
	assigned := g.m.assigned.WithLabelValues(g.group)
	assigned.Set(float64(len(parts)))
	defer assigned.Set(0)
	names := make([]string, len(parts))
	for i, a := range parts {
		names[i] = a.String()
	}
	g.log.Info().Int32("generation", gen.ID).Str("member", gen.MemberID).Strs("partitions", names).Msg("partitions assigned")
	defer g.log.Info().Int32("generation", gen.ID).Msg("partitions revoked")

	if err := work(ctx, gen, parts); err != nil && ctx.Err() == nil {
		g.log.Error().Err(err).Int32("generation", gen.ID).Msg("consumer stopping")
		fail(err)
	}
}

// resolve turns the generation's assignments into start positions. The
// committed offset is used unless it lies outside the log (retention deleted
// it, or the topic was recreated): then the log start, so nothing still
// stored is skipped. kafka-go's Reader would instead retry an offset below
// the log start forever.
func (g *groupRunner) resolve(ctx context.Context, gen *kafkago.Generation) ([]assignment, error) {
	byTopic := map[string][]int{}
	var parts []assignment
	for topic, as := range gen.Assignments {
		for _, a := range as {
			byTopic[topic] = append(byTopic[topic], a.ID)
			committed := a.Offset
			if committed < 0 { // kafka-go puts StartOffset (-1, -2) where nothing is committed
				committed = NoOffset
			}
			parts = append(parts, assignment{topic: topic, partition: a.ID, committed: committed})
		}
	}
	slices.SortFunc(parts, func(a, b assignment) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return a.partition - b.partition
	})
	if len(parts) == 0 {
		return nil, nil
	}

	var bounds map[topicPartition]Bounds
	err := retry(ctx, 100*time.Millisecond, 5*time.Second, func() error {
		var err error
		bounds, err = listBounds(ctx, g.client, byTopic)
		if err != nil && ctx.Err() == nil {
			g.log.Warn().Err(err).Msg("reading partition offsets of the assignment")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range parts {
		a := &parts[i]
		a.bounds = bounds[topicPartition{a.topic, a.partition}]
		switch {
		case a.committed == NoOffset && g.cfg.Consumer.StartOffset == StartLatest:
			a.start = a.bounds.End
		case a.committed == NoOffset:
			a.start = a.bounds.Start
		case a.committed < a.bounds.Start || a.committed > a.bounds.End:
			g.m.offsetResets.WithLabelValues(g.group, a.topic).Inc()
			g.log.Warn().Str("topic", a.topic).Int("partition", a.partition).
				Int64("committed", a.committed).Int64("log_start", a.bounds.Start).Int64("high_watermark", a.bounds.End).
				Msg("committed offset is outside the log; starting at the log start")
			a.start = a.bounds.Start
		default:
			a.start = a.committed
		}
	}
	return parts, nil
}

// commit commits offsets (the next offset to read, per topic and partition)
// with the generation that fetched them.
//
// The request goes through the client's transport, not through
// Generation.CommitOffsets: that one shares the coordinator connection with
// the heartbeats, and kafka-go's Conn has every goroutine waiting on it take
// turns at peeking at the next response until it finds its own, a spin that
// cost the detector a fifth of its CPU at 20,000 events/s and held its
// commits behind the heartbeats (docs/PERFORMANCE.md "Alert latency"). The
// request carries the same generation and member ids, so the coordinator
// fences it the same way.
func (g *groupRunner) commit(gen *kafkago.Generation, offsets map[string]map[int]int64) error {
	err := g.commitOffsets(gen, offsets)
	if err != nil {
		g.m.commitErrors.WithLabelValues(g.group).Inc()
		return fmt.Errorf("committing offsets of group %s in generation %d: %w", g.group, gen.ID, err)
	}
	g.m.commits.WithLabelValues(g.group).Inc()
	return nil
}

func (g *groupRunner) commitOffsets(gen *kafkago.Generation, offsets map[string]map[int]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	req := &kafkago.OffsetCommitRequest{
		GroupID:      gen.GroupID,
		GenerationID: int(gen.ID),
		MemberID:     gen.MemberID,
		Topics:       make(map[string][]kafkago.OffsetCommit, len(offsets)),
	}
	for topic, parts := range offsets {
		for p, off := range parts {
			req.Topics[topic] = append(req.Topics[topic], kafkago.OffsetCommit{Partition: p, Offset: off})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.ReadTimeout+g.cfg.WriteTimeout)
	defer cancel()
	res, err := g.client.OffsetCommit(ctx, req)
	if err != nil {
		return err
	}
	var errs []error
	for topic, parts := range res.Topics {
		for _, p := range parts {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("%s/%d: %w", topic, p.Partition, p.Error))
			}
		}
	}
	return errors.Join(errs...)
}

// partitionReader reads one partition.
type partitionReader struct {
	*kafkago.Reader
	closing atomic.Bool
}

// newReader returns a reader of one partition, positioned at offset.
func (g *groupRunner) newReader(topic string, partition int, offset int64) (*partitionReader, error) {
	c := g.cfg.Consumer
	pr := &partitionReader{}
	pr.Reader = kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:         g.cfg.Brokers,
		Topic:           topic,
		Partition:       partition,
		Dialer:          g.conn.dialer,
		QueueCapacity:   c.QueueCapacity,
		MinBytes:        c.MinBytes,
		MaxBytes:        c.MaxBytes,
		MaxWait:         c.MaxWait,
		ReadLagInterval: -1,
		Logger:          debugLogger(g.log),
		ErrorLogger:     closingErrorLogger(g.log, g.m.kgoErrs, pr.closing.Load),
	})
	if err := pr.SetOffset(offset); err != nil {
		_ = pr.Close()
		return nil, fmt.Errorf("positioning reader of %s/%d at %d: %w", topic, partition, offset, err)
	}
	return pr, nil
}

// closeReader closes r in the background. Reader.Close waits for the
// reader's fetch to return, and kafka-go's reads do not heed cancellation:
// an idle fetch holds Close for up to max_wait (and a stuck connection for
// longer, kafka-go #1248, #428). Nothing is read from r after this, so a
// revocation need not wait for it.
func (g *groupRunner) closeReader(r *partitionReader, what string) {
	r.closing.Store(true)
	go func() {
		done := make(chan struct{})
		go func() {
			_ = r.Close()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(g.cfg.Consumer.MaxWait + g.cfg.ReadTimeout):
			g.log.Warn().Str("partition", what).Msg("closing partition reader is taking long; abandoning it")
		}
	}()
}

// partitionGauges are the lag series of one owned partition, deleted when
// the partition is revoked so that a member does not report partitions it
// no longer owns.
type partitionGauges struct {
	lag, fetchLag prometheus.Gauge
	messages      prometheus.Counter
	bytes         prometheus.Counter
	del           func()
}

func (g *groupRunner) gauges(topic string, partition int) partitionGauges {
	p := strconv.Itoa(partition)
	return partitionGauges{
		lag:      g.m.lag.WithLabelValues(g.group, topic, p),
		fetchLag: g.m.fetchLag.WithLabelValues(g.group, topic, p),
		messages: g.m.messages.WithLabelValues(g.group, topic),
		bytes:    g.m.bytes.WithLabelValues(g.group, topic),
		del: func() {
			g.m.lag.DeleteLabelValues(g.group, topic, p)
			g.m.fetchLag.DeleteLabelValues(g.group, topic, p)
		},
	}
}

// retry calls fn until it succeeds or ctx ends, waiting from lo
// (doubling) up to hi between attempts. It returns ctx's error if ctx ends first.
func retry(ctx context.Context, lo, hi time.Duration, fn func() error) error {
	wait := lo
	for {
		if err := fn(); err == nil {
			return nil
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(wait*2, hi)
	}
}

// sleep waits d or until ctx ends; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
