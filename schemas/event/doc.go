// Package event defines the canonical CRM activity event, version 1
// (shared/contracts/event.md): its Go type, its JSON Schema (SchemaJSON), the
// validating decoder every entry point uses (Decode, DecodeInto), Validate for
// events built in Go, and the canonical encoder (AppendJSON).
//
// Every rejection is a *ValidationError naming the field path and the reason
// (`user.id: required`, `changes[3].old: expected string, got number`,
// `offset 57: invalid character '}' looking for beginning of value`) and a
// bounded Kind to count by; all of them match ErrInvalidEvent.
package event
