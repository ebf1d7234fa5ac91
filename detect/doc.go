// Package detect is the rule engine: it applies windowed, stateful detection
// rules to canonical events in event time and returns alerts and actions.
// It is pure: no I/O, no wall clock, no goroutines; the Kafka loop around it
// lives elsewhere.
package detect
