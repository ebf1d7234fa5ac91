// Package stream is the responder's Kafka loop: it consumes the actions
// topic (crm.actions) as a consumer group and drives one respond.Executor
// per assigned partition, as docs/RESPONSE.md prescribes. On assignment it
// reads the partition's recent history (Observe) up to the end offset it
// had, finishes what that history leaves open (Resume), then acts on live
// records (Handle), committing an offset only once Handle returned nil for
// it. Records that are not actions go to the dead-letter topic. Recorder is
// the executor's Recorder: a synchronous produce (acks=all) keyed by
// tenant, so every record of a tenant shares one partition and one
// responder owns the tenant's breaker.
package stream
