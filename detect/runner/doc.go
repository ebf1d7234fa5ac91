// Package runner runs the pure detection engine (package detect) over
// Kafka: `trailwatch detect`. A Runner is a member of the detectors'
// consumer group on crm.activity and on the internal re-keyed topic; each
// assigned partition gets its own shard(s) and goroutine.
//
// Per message: decode (event.DecodeInto; what does not decode goes to the
// dead-letter topic with its partition, offset and reason, and is skipped),
// evaluate, and hand the outputs to the partition's emitter: alerts to
// crm.alerts keyed by tenant and group, actions to crm.actions keyed by
// tenant, copies for rules not grouped by person to the re-keyed topic.
// Alerts get detected_at from the wall clock as they are emitted. An
// offset is committed only once everything derived from the messages
// before it is acknowledged by Kafka.
//
// Recovery (docs/DETECTION-RUNTIME.md): state kept in memory across a
// rebalance, else the latest snapshot on the compacted detect_state topic
// (written at commit points: chunks, then a manifest naming them), else a
// replay of the longest rule span; messages before the committed offset
// only rebuild state, so the alerts emitted are exactly those of an
// uninterrupted run. Rules reload on file change and on Reload (SIGHUP): a
// rule set that fails to load leaves the running one in place.
package runner
