package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Scan reads what topic holds now, outside any consumer group, for tools
// that need a look at a topic rather than a share of it (the on-call
// commands reading crm.actions). Every partition is read from the first
// message at or after since (the log start when since is zero) up to the
// high watermark it had when Scan started, partitions in order and each in
// offset order; fn sees each message, and an error from fn stops the scan
// and is returned. Nothing is committed. Messages produced after Scan
// started are not read, so it always ends (or ctx does).
func Scan(ctx context.Context, cfg Config, topic string, since time.Time, fn func(Message) error) error {
	k, err := cfg.connect()
	if err != nil {
		return err
	}
	defer k.close()
	client := k.client(cfg)
	parts, err := partitionsOf(ctx, client, topic)
	if err != nil {
		return err
	}
	bounds, err := listBounds(ctx, client, map[string][]int{topic: parts})
	if err != nil {
		return fmt.Errorf("scanning %s: %w", topic, err)
	}
	for _, p := range parts {
		b := bounds[topicPartition{topic, p}]
		from := b.Start
		if !since.IsZero() {
			at, err := offsetForTime(ctx, client, topic, p, since)
			if err != nil {
				return fmt.Errorf("scanning %s: %w", topic, err)
			}
			from = max(from, at)
		}
		if from >= b.End {
			continue
		}
		if err := scanPartition(ctx, cfg, k, topic, p, from, b.End, fn); err != nil {
			return err
		}
	}
	return nil
}

// partitionsOf lists topic's partitions, sorted.
func partitionsOf(ctx context.Context, client *kafkago.Client, topic string) ([]int, error) {
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", topic, err)
	}
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("reading metadata of %s: %w", topic, t.Error)
		}
		var parts []int
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
		slices.Sort(parts)
		return parts, nil
	}
	return nil, fmt.Errorf("reading metadata of %s: %w", topic, kafkago.UnknownTopicOrPartition)
}

// scanPartition reads [from, end) of one partition.
func scanPartition(ctx context.Context, cfg Config, k *conn, topic string, partition int, from, end int64, fn func(Message) error) error {
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:         cfg.Brokers,
		Topic:           topic,
		Partition:       partition,
		Dialer:          k.dialer,
		MinBytes:        1,
		MaxBytes:        cfg.Consumer.MaxBytes,
		MaxWait:         cfg.Consumer.MaxWait,
		ReadLagInterval: -1,
	})
	// Close waits for the reader's next fetch, which idles up to max_wait
	// once the partition is read: nothing is read after this, so let it
	// finish in the background.
	defer func() { go r.Close() }()
	if err := r.SetOffset(from); err != nil {
		return fmt.Errorf("scanning %s/%d from %d: %w", topic, partition, from, err)
	}
	// Each fetch gets a deadline, so that a log ending in records that are
	// never returned as messages (transaction markers, compacted away) ends
	// the scan instead of waiting for a message that will not come.
	wait := cfg.Consumer.MaxWait + cfg.ReadTimeout
	for {
		fctx, cancel := context.WithTimeout(ctx, wait)
		m, err := r.FetchMessage(fctx)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && r.Offset() >= end:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			continue // the broker is slow; the caller's ctx bounds the wait
		default:
			return fmt.Errorf("scanning %s/%d at %d: %w", topic, partition, r.Offset(), err)
		}
		if m.Offset >= end {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset >= end-1 {
			return nil
		}
	}
}
