// Package generic normalises records of in-house CRMs: any JSON object,
// mapped to the canonical event by a YAML configuration (field paths,
// constants, value maps, timestamp formats, the id's source and defaults),
// checked when it is loaded, so a new source needs configuration, not code.
// docs/INGEST.md is the configuration reference; testdata/inhouse.yaml an
// example.
package generic
