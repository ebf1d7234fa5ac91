// Package normalize is the one entry point collectors and `trailwatch
// normalize` share: the registry of vendor formats (Lookup) and the loop that
// reads a stream of records (NDJSON lines or CSV rows), normalises each, and
// hands accepted events and rejected records, with their line numbers, to
// the caller.
package normalize
