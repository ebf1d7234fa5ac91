// Package auditrow is the audit_events row: how a canonical event becomes
// one (FromEvent), the row's hash and the chain over rows that make the
// table tamper-evident (Hash, Fold), the columnar batch the sink inserts
// (Columns), and reading rows back (SelectList, Scan, ToEvent) for verify,
// data-subject exports and anyone else who needs the stored event whole.
//
// What the hash covers is exactly what the source said and where it sat
// in Kafka: every canonical field as stored, the ingest time, the Kafka
// partition and offset. Derived columns are not covered (person_key is
// checked by recomputing it; directory attributes and geo filled by
// enrichment can be recomputed and may legitimately differ between two
// deliveries of the same record).
package auditrow
