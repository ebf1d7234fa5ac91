package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"
)

// BatchHandler makes a batch durable: inserts its rows, executes its
// actions. Messages are in offset order within each partition; one batch may
// span partitions and topics. msgs is reused after the call returns: copy
// what must outlive it. A nil return commits the batch; an error makes the
// consumer retry the same batch with backoff, without committing and without
// fetching further than its bounded buffers. A batch may be delivered again
// after a crash or a rebalance, so handling must be idempotent (ids make
// it so).
type BatchHandler func(ctx context.Context, msgs []Message) error

// BatchOptions says which group and topics a BatchConsumer consumes and how
// it batches. Zero values take the defaults in parentheses.
type BatchOptions struct {
	Group  string   // consumer group id (required)
	Topics []string // topics to consume (required)

	MaxMessages int           // messages per batch (1000)
	MaxWait     time.Duration // longest the first message of a batch waits for the batch to fill (200ms)
	RetryMin    time.Duration // first wait after a failed batch (100ms)
	RetryMax    time.Duration // longest wait between retries (10s)
}

func (o *BatchOptions) defaults() error {
	if o.MaxMessages == 0 {
		o.MaxMessages = 1000
	}
	if o.MaxWait == 0 {
		o.MaxWait = 200 * time.Millisecond
	}
	if o.RetryMin == 0 {
		o.RetryMin = 100 * time.Millisecond
	}
	if o.RetryMax == 0 {
		o.RetryMax = 10 * time.Second
	}
	var errs []error
	if o.MaxMessages < 1 {
		errs = append(errs, fmt.Errorf("batch max messages must be at least 1, got %d", o.MaxMessages))
	}
	if o.MaxWait < 0 || o.RetryMin < 0 || o.RetryMax < o.RetryMin {
		errs = append(errs, fmt.Errorf("batch waits must be positive with retry min ≤ max (max wait %s, retry %s..%s)", o.MaxWait, o.RetryMin, o.RetryMax))
	}
	return errors.Join(errs...)
}

// BatchConsumer consumes topics as a consumer group and hands batches, cut
// by size and by time, to a handler, committing the last offset of each
// partition only after the handler returned nil. It is for stages whose
// work is per batch, not per partition: the sink and the responder.
//
// Memory is bounded: per owned partition, consumer.queue_capacity messages
// and one fetch of consumer.max_bytes; plus one batch and a channel of
// MaxMessages.
type BatchConsumer struct {
	g       *groupRunner
	opts    BatchOptions
	handler BatchHandler
}

// NewBatchConsumer returns a consumer; Run starts it.
func NewBatchConsumer(cfg Config, opts BatchOptions, h BatchHandler, log zerolog.Logger, reg prometheus.Registerer) (*BatchConsumer, error) {
	if err := opts.defaults(); err != nil {
		return nil, fmt.Errorf("consumer group %q: %w", opts.Group, err)
	}
	if h == nil {
		return nil, fmt.Errorf("consumer group %q: a handler is required", opts.Group)
	}
	g, err := newGroupRunner(cfg, opts.Group, opts.Topics, "kafka-batch-consumer", log, reg)
	if err != nil {
		return nil, err
	}
	return &BatchConsumer{g: g, opts: opts, handler: h}, nil
}

// Run consumes until ctx ends (call it once), then stops fetching, hands the batch in hand
// to the handler once more (with consumer.shutdown_timeout to finish),
// commits it if that succeeded, and leaves the group. A rebalance does the
// same for the partitions it takes away. Run returns nil after a shutdown
// asked for by ctx.
func (c *BatchConsumer) Run(ctx context.Context) error {
	return c.g.run(ctx, c.work)
}

// Ready reports nil while the consumer is a member of its group (with or
// without partitions), for a readiness check.
func (c *BatchConsumer) Ready(ctx context.Context) error { return c.g.ready(ctx) }

func (c *BatchConsumer) work(ctx context.Context, gen *kafkago.Generation, parts []assignment) error {
	// The handler's context outlives ctx by the shutdown grace, so a batch
	// being inserted when shutdown or a rebalance begins can finish and be
	// committed rather than be thrown away and redone.
	hctx, hcancel := graceContext(ctx, c.g.cfg.Consumer.ShutdownTimeout)
	defer hcancel()

	gauges := make(map[topicPartition]partitionGauges, len(parts))
	for _, a := range parts {
		gauges[topicPartition{a.topic, a.partition}] = c.g.gauges(a.topic, a.partition)
	}
	defer func() {
		for _, g := range gauges {
			g.del()
		}
	}()

	in := make(chan Message, c.opts.MaxMessages)
	fctx, stopFetching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, a := range parts {
		wg.Go(func() { c.fetch(fctx, a, in, gauges[topicPartition{a.topic, a.partition}]) })
	}
	c.batch(ctx, hctx, gen, in, gauges)
	stopFetching()
	wg.Wait()
	return nil
}

// fetch copies one partition into in until ctx ends.
func (c *BatchConsumer) fetch(ctx context.Context, a assignment, in chan<- Message, g partitionGauges) {
	r, err := c.g.newReader(a.topic, a.partition, a.start)
	if err != nil {
		c.g.log.Error().Err(err).Msg("starting partition reader")
		return
	}
	defer c.g.closeReader(r, a.String())
	if a.committed != NoOffset {
		g.lag.Set(float64(a.bounds.End - a.committed))
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The reader retries by itself; this is a report, not an end.
			c.g.log.Warn().Err(err).Str("partition", a.String()).Msg("fetching")
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		g.messages.Inc()
		g.bytes.Add(float64(len(m.Key) + len(m.Value)))
		g.fetchLag.Set(float64(m.HighWaterMark - m.Offset - 1))
		select {
		case in <- m:
		case <-ctx.Done():
			return
		}
	}
}

// batch cuts batches from in and delivers them until ctx ends, then
// delivers the batch in hand once more.
func (c *BatchConsumer) batch(ctx, hctx context.Context, gen *kafkago.Generation, in <-chan Message, gauges map[topicPartition]partitionGauges) {
	batch := make([]Message, 0, c.opts.MaxMessages)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		// Checked first: select picks among ready cases at random, and
		// messages already fetched must not keep the loop going once
		// shutdown or a rebalance began.
		if ctx.Err() != nil {
			if len(batch) > 0 && c.call(hctx, batch) == nil {
				c.commit(gen, batch, gauges)
			} else if len(batch) > 0 {
				c.g.log.Info().Int("messages", len(batch)).Msg("batch not committed at shutdown or rebalance; it will be delivered again")
			}
			return
		}
		select {
		case m := <-in:
			if len(batch) == 0 {
				timer.Reset(c.opts.MaxWait)
			}
			batch = append(batch, m)
			if len(batch) < c.opts.MaxMessages {
				continue
			}
		case <-timer.C:
		case <-ctx.Done():
			continue
		}
		timer.Stop()
		if len(batch) == 0 {
			continue
		}
		c.deliver(ctx, hctx, gen, batch, gauges)
		clear(batch) // drop references to keys and values
		batch = batch[:0]
	}
}

// deliver hands batch to the handler until it succeeds, then commits. When
// ctx ends first it gives up without committing: the batch is delivered
// again to whoever owns its partitions next.
func (c *BatchConsumer) deliver(ctx, hctx context.Context, gen *kafkago.Generation, batch []Message, gauges map[topicPartition]partitionGauges) {
	wait := c.opts.RetryMin
	for attempt := 1; ; attempt++ {
		err := c.call(hctx, batch)
		if err == nil {
			c.commit(gen, batch, gauges)
			return
		}
		if ctx.Err() != nil {
			c.g.log.Info().Err(err).Int("messages", len(batch)).Msg("batch not committed at shutdown or rebalance; it will be delivered again")
			return
		}
		c.g.m.handlerErrors.WithLabelValues(c.g.group).Inc()
		c.g.log.Warn().Err(err).Int("messages", len(batch)).Int("attempt", attempt).Dur("retry_in", wait).Msg("batch handler failed; retrying")
		if !sleep(ctx, wait) {
			return
		}
		wait = min(wait*2, c.opts.RetryMax)
	}
}

func (c *BatchConsumer) call(ctx context.Context, batch []Message) error {
	start := time.Now()
	err := c.handler(ctx, batch)
	c.g.m.handlerTime.WithLabelValues(c.g.group).Observe(time.Since(start).Seconds())
	c.g.m.batchSize.WithLabelValues(c.g.group).Observe(float64(len(batch)))
	return err
}

// commit commits, per partition, the offset after the batch's last message
// there. A failed commit is not retried: a later batch's commit covers it,
// and if the generation is over the new owner starts from the previous
// commit and delivers the batch again.
func (c *BatchConsumer) commit(gen *kafkago.Generation, batch []Message, gauges map[topicPartition]partitionGauges) {
	next := map[string]map[int]int64{}
	hw := map[topicPartition]int64{}
	for i := range batch {
		m := &batch[i]
		ps := next[m.Topic]
		if ps == nil {
			ps = map[int]int64{}
			next[m.Topic] = ps
		}
		if m.Offset+1 > ps[m.Partition] {
			ps[m.Partition] = m.Offset + 1
		}
		tp := topicPartition{m.Topic, m.Partition}
		hw[tp] = max(hw[tp], m.HighWaterMark)
	}
	if err := c.g.commit(gen, next); err != nil {
		c.g.log.Warn().Err(err).Int("messages", len(batch)).Msg("commit failed; the batch will be delivered again unless a later commit covers it")
		return
	}
	for tp, h := range hw {
		gauges[tp].lag.Set(float64(h - next[tp.topic][tp.partition]))
	}
}

// graceContext returns a context that ends grace after ctx ends (or when
// the returned cancel is called), carrying ctx's values.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return g, func() {
		stop()
		cancel()
	}
}
