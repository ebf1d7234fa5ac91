// Package kafka is the Kafka plumbing every stage uses, over
// github.com/segmentio/kafka-go: configuration (brokers, TLS, SASL, topics,
// tuning), topic creation (EnsureTopics), a Producer that returns only after
// all in-sync replicas acknowledged, and two consumer-group shapes:
//
//   - BatchConsumer hands batches (cut by size and time) to a handler and
//     commits only after the handler succeeded; for the sink and the
//     responder.
//   - PartitionConsumer runs a handler per assigned partition, with the
//     committed offset, the partition's bounds, setting the offset for replay, and
//     explicit commits; for the detector, which keeps state per partition.
//
// Both commit through the consumer-group generation that fetched the
// messages, so a commit made late, after a rebalance, is refused by the
// coordinator instead of moving another member's offset (see group.go).
// Metrics are trailwatch_kafka_*, on the registry the caller passes.
package kafka
