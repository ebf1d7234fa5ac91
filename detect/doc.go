// Package detect is Trailwatch's pure, stateful rule engine: it loads rules
// written in YAML with expr-lang expressions, compiles and type-checks them
// once against the canonical event, and evaluates them over events in event
// time, per partition ("shard") and group key, returning alerts and action
// requests.
//
// The package does no I/O while processing (Load reads rule files once), never
// reads the wall clock and starts no goroutines: time comes from the events, so
// replaying the same events per partition gives the same alerts with the same
// ids, and a shard restored from a snapshot continues exactly as an
// uninterrupted one. The Kafka loop around it lives in the wiring code.
package detect
