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
//
// Use:
//
//	rs, err := detect.Load("rules")             // every error with file:line:col (LoadErrors)
//	eng, err := detect.NewEngine(rs, cfg)       // per-tenant variants, calendars, routing
//	sh := eng.NewShard()                        // one per partition, one goroutine
//	out = sh.Process(ev, out[:0])               // alerts, actions, late-event reports
//	err = sh.Snapshot(w)                        // and detect.RestoreShard(eng, r)
//	rep := sh.Reload(newEng)                    // after a successful Load+NewEngine
//	st := sh.Stats()                            // counters and state size for metrics
//
// Process evaluates eagerly: an alert leaves with the event that completes
// its condition. State is kept in event-time order, so out-of-order events
// within the allowed lateness land in place; later events are reported as
// OutputLate and seen only by single-event rules. Alert ids are version 5
// UUIDs of the rule, tenant, group and triggering evidence; within a shard
// an event that already triggered an alert never triggers it again (windows
// re-evaluated for an out-of-order event skip fired triggers), and
// downstream consumers deduplicate by id.
//
// State carries over a reload (Shard.Reload) when a rule's state key is
// unchanged: thresholds, conditions, outputs, actions and metadata may
// change (a new version tuning a threshold keeps its windows); a change to
// the kind, group_by, window or span, aggregates, steps or kept fields
// starts the rule empty. RestoreShard refuses a snapshot taken under other
// rules or configuration (ErrSnapshotIncompatible); RestoreShardMigrating
// applies the reload policy instead.
package detect
