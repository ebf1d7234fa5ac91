// Package alert defines the alert and action records of
// shared/contracts/alert.md, and the deterministic ids that make every
// consumer's deduplication exact.
package alert
