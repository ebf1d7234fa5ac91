// Package config loads Trailwatch's configuration into a struct: documented
// defaults, then a YAML file, then TRAILWATCH_* environment variables, then
// command-line flags. The same struct tags (yaml, doc) generate
// docs/CONFIG.md, so the reference cannot drift from the code.
package config
