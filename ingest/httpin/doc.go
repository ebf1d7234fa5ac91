// Package httpin is the authenticated HTTP collector (`trailwatch ingest
// http`): POST /v1/events takes one event, a JSON array of events or an
// NDJSON batch (gzip-compressed or not), canonical or in a vendor format,
// from sources that authenticate with a bearer token, an HMAC-SHA256
// signature, or both.
//
// A request is answered 2xx only once Kafka has acknowledged every event
// it accepted (and the dead letters of the records it refused); anything
// else (a Kafka failure or timeout, a full server) gets a non-2xx answer
// with Retry-After, and the sender sends the batch again: events keep their
// ids, so a batch published twice is deduplicated downstream. The request
// and response shapes, the signing recipe and the limits are in
// docs/INGEST.md.
package httpin
