// Package event defines the canonical CRM activity event, version 1
// (shared/contracts/event.md): its Go type, its JSON Schema, and the
// validating decoder every entry point uses.
package event
