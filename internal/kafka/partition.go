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

// PartitionHandler consumes one assigned partition, for stages that keep
// state per partition (the detector).
//
// ConsumePartition is called on its own goroutine each time this member is
// assigned the partition; its start is the assignment and its return the
// revocation. A typical handler, on entry, loads a snapshot or picks a
// replay offset (Claim.Committed, Claim.OffsetForTime, Claim.SetOffset); then
// loops over Claim.Fetch, processing in offset order and calling
// Claim.Commit when what it derived is durable; and when ctx ends (the
// partition is revoked or the consumer is stopping) it may make a last
// commit, drops its state, and returns.
//
// kafka-go's group protocol is eager: every rebalance revokes every
// partition of every member, and the partitions a member keeps are assigned
// again in the next generation, from the committed offset. A handler that
// wants to keep state across that must commit exactly the position its
// state reflects before returning, and check Claim.Committed against it on
// the next assignment.
//
// Work done after ctx ended (flushing alerts, a last commit) needs a
// context of its own: context.WithTimeout(context.WithoutCancel(ctx),
// shutdownTimeout). Claim.Commit takes none.
//
// Returning while ctx is live, with or without an error, stops the whole
// consumer: Run returns the error. Errors returned after ctx ended are
// logged.
type PartitionHandler interface {
	ConsumePartition(ctx context.Context, claim *Claim) error
}

// PartitionHandlerFunc adapts a function to PartitionHandler.
type PartitionHandlerFunc func(ctx context.Context, claim *Claim) error

// ConsumePartition calls f.
func (f PartitionHandlerFunc) ConsumePartition(ctx context.Context, claim *Claim) error {
	return f(ctx, claim)
}

// PartitionOptions says which group and topics a PartitionConsumer
// consumes.
type PartitionOptions struct {
	Group  string   // consumer group id (required)
	Topics []string // topics to consume (required)
}

// PartitionConsumer consumes topics as a consumer group and runs a
// PartitionHandler per assigned partition, each fetching on its own.
type PartitionConsumer struct {
	g       *groupRunner
	handler PartitionHandler
}

// NewPartitionConsumer returns a consumer; Run starts it.
func NewPartitionConsumer(cfg Config, opts PartitionOptions, h PartitionHandler, log zerolog.Logger, reg prometheus.Registerer) (*PartitionConsumer, error) {
	if h == nil {
		return nil, fmt.Errorf("consumer group %q: a handler is required", opts.Group)
	}
	g, err := newGroupRunner(cfg, opts.Group, opts.Topics, "kafka-partition-consumer", log, reg)
	if err != nil {
		return nil, err
	}
	return &PartitionConsumer{g: g, handler: h}, nil
}

// Run consumes until ctx ends or a handler fails. Call it once. On the way out every
// handler's ctx ends; the group waits for the handlers to return (up to
// consumer.shutdown_timeout) before this member leaves. Run returns nil
// after a shutdown asked for by ctx, and the handler's error, naming the
// partition, after a failure.
func (c *PartitionConsumer) Run(ctx context.Context) error {
	return c.g.run(ctx, c.work)
}

// Ready reports nil while the consumer is a member of its group (with or
// without partitions), for a readiness check.
func (c *PartitionConsumer) Ready(ctx context.Context) error { return c.g.ready(ctx) }

func (c *PartitionConsumer) work(ctx context.Context, gen *kafkago.Generation, parts []assignment) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	cm := newCommitter(c.g, gen)
	for _, a := range parts {
		wg.Go(func() {
			if err := c.consume(ctx, gen, cm, a); err != nil {
				once.Do(func() { first = err })
				cancel() // one failed handler stops the others
			}
		})
	}
	wg.Wait()
	return first
}

func (c *PartitionConsumer) consume(ctx context.Context, gen *kafkago.Generation, cm *committer, a assignment) error {
	claim := &Claim{
		g:         c.g,
		gen:       gen,
		cm:        cm,
		a:         a,
		next:      a.start,
		committed: a.committed,
		highWater: a.bounds.End,
		gauges:    c.g.gauges(a.topic, a.partition),
	}
	claim.fetched = a.start - 1
	defer claim.close()
	if a.committed != NoOffset {
		claim.gauges.lag.Set(float64(a.bounds.End - a.committed))
	}

	err := c.handler.ConsumePartition(ctx, claim)
	if ctx.Err() != nil {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kafkago.ErrGenerationEnded) {
			c.g.log.Warn().Err(err).Str("partition", a.String()).Msg("partition handler failed while stopping")
		}
		return nil
	}
	if err == nil {
		err = errors.New("handler returned before the partition was revoked")
	}
	return fmt.Errorf("consuming %s: %w", a, err)
}

// Claim is one partition assigned to this member for one generation. Its
// methods are for the goroutine running ConsumePartition; they are not safe
// for concurrent use.
type Claim struct {
	g      *groupRunner
	gen    *kafkago.Generation
	cm     *committer
	a      assignment
	r      *partitionReader
	gauges partitionGauges

	// An asynchronous commit in flight (CommitAsync): its round and
	// offset. Committed takes its outcome once the round is answered.
	async     *commitRound
	asyncNext int64

	next      int64 // offset the reader starts at (until the first Fetch)
	fetched   int64 // offset of the last message Fetch returned
	committed int64 // last committed offset (the next to read), NoOffset if none
	highWater int64 // latest high watermark seen
}

// Topic is the claimed partition's topic.
func (c *Claim) Topic() string { return c.a.topic }

// Partition is the claimed partition.
func (c *Claim) Partition() int { return c.a.partition }

// Generation is the consumer-group generation of this assignment.
func (c *Claim) Generation() int32 { return c.gen.ID }

// Committed is the group's committed offset for the partition: the offset
// of the next message to process. At assignment it is where the previous
// owner (or this member) left off; after Commit it is what was committed.
// NoOffset means the group never committed on this partition. A
// CommitAsync still in flight is not counted until it is answered.
func (c *Claim) Committed() int64 {
	c.reap(false)
	return c.committed
}

// Bounds are the partition's log start and high watermark at assignment.
func (c *Claim) Bounds() Bounds { return c.a.bounds }

// HighWatermark is the latest high watermark seen: at assignment, then as
// messages are fetched.
func (c *Claim) HighWatermark() int64 { return c.highWater }

// Start is where fetching begins unless SetOffset says otherwise: the committed
// offset, or the log start (or end, with consumer.start_offset latest) when
// there is none or it lies outside the log.
func (c *Claim) Start() int64 { return c.a.start }

// SetOffset makes the next Fetch return the message at offset (or the first one
// after it: compaction and transactions leave gaps). Use it on assignment to
// replay from before the committed offset, and as often as needed after.
// Offsets before the log start are refused: those messages are gone.
func (c *Claim) SetOffset(offset int64) error {
	if offset < c.a.bounds.Start {
		return fmt.Errorf("setting the offset of %s to %d: before the log start %d", c.a, offset, c.a.bounds.Start)
	}
	c.next = offset
	c.fetched = offset - 1
	if c.r != nil {
		if err := c.r.SetOffset(offset); err != nil {
			return fmt.Errorf("setting the offset of %s to %d: %w", c.a, offset, err)
		}
	}
	return nil
}

// OffsetForTime returns the offset of the first message of the partition
// whose timestamp is at or after t, or the high watermark when all are
// older: the replay position for "everything since t".
func (c *Claim) OffsetForTime(ctx context.Context, t time.Time) (int64, error) {
	return offsetForTime(ctx, c.g.client, c.a.topic, c.a.partition, t)
}

// Fetch returns the next message of the partition, waiting for one. It
// returns an error only when ctx ends: either the ctx given to
// ConsumePartition (the partition was revoked, or the consumer is stopping)
// or a shorter one the caller made to wake up for timed work. Broker errors
// are retried inside, logged and counted.
func (c *Claim) Fetch(ctx context.Context) (Message, error) {
	if c.r == nil {
		r, err := c.g.newReader(c.a.topic, c.a.partition, c.next)
		if err != nil {
			return Message{}, err
		}
		c.r = r
	}
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Message{}, ctx.Err()
			}
			c.g.log.Warn().Err(err).Str("partition", c.a.String()).Msg("fetching")
			if !sleep(ctx, time.Second) {
				return Message{}, ctx.Err()
			}
			continue
		}
		c.fetched = m.Offset
		c.highWater = m.HighWaterMark
		c.gauges.messages.Inc()
		c.gauges.bytes.Add(float64(len(m.Key) + len(m.Value)))
		c.gauges.fetchLag.Set(float64(m.HighWaterMark - m.Offset - 1))
		if c.committed != NoOffset {
			c.gauges.lag.Set(float64(m.HighWaterMark - c.committed))
		}
		return m, nil
	}
}

// Commit commits next, the offset of the next message to process (the last
// processed offset + 1), for this partition and generation, and returns
// once the coordinator answered. Commit only what is durable: alerts
// acknowledged, state snapshotted. The commits of a generation's claims are
// merged into shared requests, one in flight at a time.
//
// An offset at or below the committed one is skipped (nil): while
// replaying from before the committed offset, committing would move the
// group backwards. An offset past the last fetched message + 1 is refused.
// A CommitAsync in flight is waited for first (an error of its own is
// logged, not returned), so after a nil return the group holds next.
//
// Commit may be called after ctx ended, before ConsumePartition returns:
// while the group is still rebalancing, the coordinator accepts it. A failed
// commit (ILLEGAL_GENERATION once the group moved on, or a broker error) is
// not fatal: the messages after the last successful commit are delivered
// again, to this member or the partition's next owner. It blocks up to
// read_timeout (twice, when a request is already in flight).
func (c *Claim) Commit(next int64) error {
	c.reap(true)
	if next <= c.committed {
		return nil
	}
	if err := c.checkCommit(next); err != nil {
		return err
	}
	r := c.cm.add(c.a.topic, c.a.partition, next)
	<-r.done
	if r.err != nil {
		return fmt.Errorf("%s: %w", c.a, r.err)
	}
	c.committed = next
	c.gauges.lag.Set(float64(c.highWater - next))
	return nil
}

// CommitAsync is Commit without the wait: it queues next and returns, so
// processing goes on while the request is in flight. Committed reports it
// once the coordinator accepted it; a failure is logged and counted
// (trailwatch_kafka_consumer_commit_errors_total), and a later commit
// carries a larger offset anyway. It returns an error only for an offset
// Commit would refuse. Use Commit for the last commit before returning from
// ConsumePartition.
func (c *Claim) CommitAsync(next int64) error {
	c.reap(false)
	if next <= c.committed || (c.async != nil && next <= c.asyncNext) {
		return nil
	}
	if err := c.checkCommit(next); err != nil {
		return err
	}
	c.async = c.cm.add(c.a.topic, c.a.partition, next)
	c.asyncNext = next
	return nil
}

func (c *Claim) checkCommit(next int64) error {
	if limit := max(c.fetched+1, c.a.start); next > limit {
		return fmt.Errorf("committing %s offset %d: past the last fetched message (next is %d)", c.a, next, limit)
	}
	return nil
}

// reap takes the outcome of the CommitAsync in flight once it is answered
// (waiting for it if wait).
func (c *Claim) reap(wait bool) {
	if c.async == nil {
		return
	}
	if wait {
		<-c.async.done
	}
	select {
	case <-c.async.done:
	default:
		return
	}
	if err := c.async.err; err != nil {
		c.g.log.Warn().Err(err).Str("partition", c.a.String()).Int64("offset", c.asyncNext).
			Msg("asynchronous commit failed; a later commit or the next owner covers it")
	} else if c.asyncNext > c.committed {
		c.committed = c.asyncNext
		c.gauges.lag.Set(float64(c.highWater - c.committed))
	}
	c.async = nil
}

func (c *Claim) close() {
	if c.r != nil {
		c.g.closeReader(c.r, c.a.String())
	}
	c.gauges.del()
}
