//go:build nochdb

package chdb

import "fmt"

// openLibrary in a binary built with -tags nochdb: such a binary has no
// dynamic loader (purego needs one), so it is fully static and runs on an
// image without a C library (the production Dockerfile), and the embedded
// engine is unavailable: every role talks to a ClickHouse server instead.
func openLibrary(path string) (*library, error) {
	return nil, fmt.Errorf("%w: this trailwatch was built with -tags nochdb (the static production build), which cannot load %s; point clickhouse.url at a ClickHouse server", ErrLibraryMissing, path)
}
