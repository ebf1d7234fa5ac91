//go:build !nochdb

package chdb

import (
	"fmt"
	"os"

	"github.com/ebitengine/purego"
)

func openLibrary(path string) (*library, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s: run `make deps` (or set TRAILWATCH_CHDB_LIB)", ErrLibraryMissing, path)
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("loading libchdb from %s: %w", path, err)
	}
	l := &library{path: path}
	syms := []struct {
		fn   any
		name string
	}{
		{&l.connect, "chdb_connect"},
		{&l.closeConn, "chdb_close_conn"},
		{&l.queryN, "chdb_query_n"},
		{&l.streamN, "chdb_stream_query_n"},
		{&l.queryParamsN, "chdb_query_with_params_n"},
		{&l.streamParamsN, "chdb_stream_query_with_params_n"},
		{&l.fetch, "chdb_stream_fetch_result"},
		{&l.cancel, "chdb_stream_cancel_query"},
		{&l.destroy, "chdb_destroy_query_result"},
		{&l.buffer, "chdb_result_buffer"},
		{&l.length, "chdb_result_length"},
		{&l.errText, "chdb_result_error"},
		{&l.elapsed, "chdb_result_elapsed"},
		{&l.rowsRead, "chdb_result_rows_read"},
		{&l.bytesRead, "chdb_result_bytes_read"},
		{&l.rowsWritten, "chdb_result_rows_written"},
		{&l.bytesWritten, "chdb_result_bytes_written"},
	}
	for _, s := range syms {
		if _, err := purego.Dlsym(h, s.name); err != nil {
			return nil, fmt.Errorf("libchdb at %s lacks %s (want version %s): %w", path, s.name, LibraryVersion, err)
		}
		purego.RegisterLibFunc(s.fn, h, s.name)
	}
	return l, nil
}
