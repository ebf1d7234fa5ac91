// Package simulate generates realistic, labelled, multi-tenant CRM activity
// as canonical events: tenants in several time zones and working calendars,
// people with roles, departments, homes, devices, working hours, holidays,
// vacations and trips, integration accounts with their nightly jobs, and,
// mixed in, attack episodes for every detection of the rule pack and the
// benign look-alikes each rule is designed not to fire on. Every episode is
// written to a labels file (NDJSON, one Label per line) with the ids of the
// events that make it up, so `trailwatch score` can measure the pack.
//
// Output is deterministic for a seed: the world (tenants, people, plans)
// comes from the seed, and every person-day, job and episode draws from its
// own random stream, so the same configuration gives byte-identical events
// and labels. Events leave in event-time order.
//
// The package is internal: it exists for `trailwatch simulate`, the rule
// pack's quality test and the demo (`make run`), not as a library. Sinks
// (NDJSON writer, HTTP publisher to ingest's POST /v1/events) and pacing
// (events per second, or real time with --live) are separate from
// generation, so the same stream can go to a file or into a running
// pipeline.
package simulate
