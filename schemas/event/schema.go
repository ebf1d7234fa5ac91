package event

import _ "embed"

// SchemaJSON is the JSON Schema (draft 2020-12) of the canonical event, the
// contents of event.schema.json. It states every rule the decoder enforces
// that JSON Schema can express, provided the validator asserts formats; its
// description lists the rest.
//
//go:embed event.schema.json
var SchemaJSON []byte
