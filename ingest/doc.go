// Package ingest brings CRM activity into Trailwatch: collectors that read
// vendor audit trails, normalise them into canonical events and publish them
// to Kafka, sending what cannot be accepted to the dead-letter topic.
package ingest
