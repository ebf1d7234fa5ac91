// Package integrity makes audit_events tamper-evident and checks it: the
// Ed25519 keys that sign checkpoints, the checkpoint record and its signed
// payload, and Verify, which recomputes the hash chains from ClickHouse
// and reports every row changed, deleted or inserted out of band.
//
// The chain (per tenant and crm.activity partition, in offset order) is
// defined in sink/auditrow: Hash and Fold. The sink extends it as it
// stores rows and writes a signed checkpoint per chain periodically; a
// checkpoint vouches for the rows in (PrevOffset, Offset] by itself, so
// checkpoints written by two sinks around a rebalance may overlap and
// still each verify.
package integrity
