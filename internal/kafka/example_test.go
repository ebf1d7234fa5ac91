package kafka_test

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// A sink-shaped stage: insert each batch, and let the consumer commit.
func ExampleBatchConsumer() {
	cfg := kafka.DefaultConfig()
	log, reg := zerolog.Nop(), prometheus.NewRegistry()
	insert := func(ctx context.Context, rows []kafka.Message) error { return nil } // e.g. a ClickHouse batch

	c, err := kafka.NewBatchConsumer(cfg, kafka.BatchOptions{
		Group:       "trailwatch-sink",
		Topics:      []string{cfg.Topics.Activity.Name},
		MaxMessages: 10_000,
		MaxWait:     200 * time.Millisecond,
	}, func(ctx context.Context, msgs []kafka.Message) error {
		return insert(ctx, msgs) // nil commits; an error retries the same batch
	}, log, reg)
	if err != nil {
		panic(err)
	}
	_ = c.Run(context.Background()) // until the context ends
}

// A detector-shaped stage: state per partition, rebuilt on assignment by
// replaying the hour before the committed offset, committed after flushes.
func ExamplePartitionConsumer() {
	cfg := kafka.DefaultConfig()
	log, reg := zerolog.Nop(), prometheus.NewRegistry()
	const longestWindow = time.Hour

	h := kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		committed := c.Committed()
		if committed != kafka.NoOffset && committed > c.Bounds().Start {
			// The time of the last processed event, then the offset a
			// window before it.
			if err := c.SetOffset(committed - 1); err != nil {
				return err
			}
			last, err := c.Fetch(ctx)
			if err != nil {
				return err
			}
			from, err := c.OffsetForTime(ctx, last.Time.Add(-longestWindow))
			if err != nil {
				return err
			}
			if err := c.SetOffset(from); err != nil {
				return err
			}
		}
		next := c.Start() // the offset after the last processed message
		for {
			m, err := c.Fetch(ctx)
			if err != nil {
				// Revoked or stopping: flush alerts with a context of
				// their own, commit their position, drop the state.
				return c.Commit(next)
			}
			replaying := m.Offset < committed // rebuild state, emit nothing
			_ = replaying
			// ... evaluate rules, produce alerts ...
			next = m.Offset + 1
			// Every so often, once the alerts are acknowledged
			// (commits behind the committed offset are skipped):
			if next%1000 == 0 {
				_ = c.Commit(next) // an error is not fatal: the next owner redoes the rest
			}
		}
	})
	c, err := kafka.NewPartitionConsumer(cfg, kafka.PartitionOptions{Group: "trailwatch-detect", Topics: []string{cfg.Topics.Activity.Name}}, h, log, reg)
	if err != nil {
		panic(err)
	}
	_ = c.Run(context.Background())
}
