package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics of cfg.Topics that do not exist yet, with
// their configured partitions, replication factor, retention and cleanup
// policy, and returns once the cluster lists every one of them. Topics that
// exist are left as they are (never altered, never repartitioned: adding
// partitions would move keys, and with them a person's events, to other
// partitions). It is idempotent and safe to run from every process at start.
func EnsureTopics(ctx context.Context, cfg Config) error {
	k, err := cfg.connect()
	if err != nil {
		return err
	}
	defer k.close()
	client := k.client(cfg)

	want := cfg.Topics.All()
	existing, err := topicPartitions(ctx, client, want)
	if err != nil {
		return err
	}
	var create []kafkago.TopicConfig
	for _, t := range want {
		if _, ok := existing[t.Name]; ok {
			continue
		}
		tc := kafkago.TopicConfig{
			Topic:             t.Name,
			NumPartitions:     t.Partitions,
			ReplicationFactor: t.ReplicationFactor,
		}
		if t.Compacted {
			tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: "cleanup.policy", ConfigValue: "compact"})
		}
		if t.Retention > 0 {
			tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(t.Retention.Milliseconds(), 10)})
		}
		create = append(create, tc)
	}
	if len(create) == 0 {
		return nil
	}
	resp, err := client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: create})
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	var errs []error
	for _, tc := range create {
		// Another process may have created it meanwhile: that is success.
		if err := resp.Errors[tc.Topic]; err != nil && !errors.Is(err, kafkago.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s (%d partitions, replication factor %d): %w", tc.Topic, tc.NumPartitions, tc.ReplicationFactor, err))
		}
	}
	// kafka-go's transport waits, after CreateTopics, until the new topics
	// appear in the cluster's metadata: producing right after is safe.
	return errors.Join(errs...)
}

// topicPartitions returns the partition count of each topic in want that
// the cluster has (with a leader for every partition).
func topicPartitions(ctx context.Context, client *kafkago.Client, want []TopicConfig) (map[string]int, error) {
	names := make([]string, len(want))
	for i, t := range want {
		names[i] = t.Name
	}
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("reading topic metadata: %w", err)
	}
	out := make(map[string]int, len(meta.Topics))
	for _, t := range meta.Topics {
		if t.Error != nil {
			if errors.Is(t.Error, kafkago.UnknownTopicOrPartition) {
				continue
			}
			return nil, fmt.Errorf("reading metadata of topic %s: %w", t.Name, t.Error)
		}
		ready := len(t.Partitions) > 0
		for _, p := range t.Partitions {
			if p.Leader.ID < 0 || p.Error != nil {
				ready = false
			}
		}
		if ready {
			out[t.Name] = len(t.Partitions)
		}
	}
	return out, nil
}

// Bounds are a partition's log start offset (the first offset still
// stored) and high watermark (the offset the next message will get).
type Bounds struct {
	Start, End int64
}

type topicPartition struct {
	topic     string
	partition int
}

// listBounds returns the bounds of the given partitions.
func listBounds(ctx context.Context, client *kafkago.Client, parts map[string][]int) (map[topicPartition]Bounds, error) {
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	for topic, ps := range parts {
		for _, p := range ps {
			req.Topics[topic] = append(req.Topics[topic], kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p))
		}
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("listing partition offsets: %w", err)
	}
	out := make(map[topicPartition]Bounds)
	var errs []error
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("listing offsets of %s/%d: %w", topic, p.Partition, p.Error))
				continue
			}
			out[topicPartition{topic, p.Partition}] = Bounds{Start: p.FirstOffset, End: p.LastOffset}
		}
	}
	for topic, ps := range parts {
		for _, p := range ps {
			if _, ok := out[topicPartition{topic, p}]; !ok && len(errs) == 0 {
				errs = append(errs, fmt.Errorf("listing offsets of %s/%d: no answer", topic, p))
			}
		}
	}
	return out, errors.Join(errs...)
}

// offsetForTime returns the first offset of topic/partition whose timestamp
// is at or after t, or the high watermark when every message is older.
func offsetForTime(ctx context.Context, client *kafkago.Client, topic string, partition int, t time.Time) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("finding the offset of %s/%d at %s: %w", topic, partition, t.Format(time.RFC3339Nano), err)
	}
	resp, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{
		topic: {kafkago.TimeOffsetOf(partition, t)},
	}})
	if err != nil {
		return fail(err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Partition != partition {
			continue
		}
		if p.Error != nil {
			return fail(p.Error)
		}
		// kafka-go files a timestamp answer under Offsets, keyed by
		// offset. When no message is at or after t the broker answers
		// offset -1, timestamp -1, which kafka-go files as LastOffset
		// instead: so an empty Offsets means "none", and the answer is
		// the high watermark, asked for on its own below.
		for off := range p.Offsets {
			if off >= 0 {
				return off, nil // one request, one answer
			}
		}
	}
	b, err := listBounds(ctx, client, map[string][]int{topic: {partition}})
	if err != nil {
		return fail(err)
	}
	return b[topicPartition{topic, partition}].End, nil
}
