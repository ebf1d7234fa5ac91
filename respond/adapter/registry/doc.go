// Package registry builds the named vendor adapters of the responder's
// configuration (kind plus that vendor's settings) into freezers and
// notifiers the executor calls by name.
package registry
